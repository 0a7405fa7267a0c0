using System;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    [TestFixture]
    public class LibraryTests
    {
        [Test]
        public void VersionIsSemverAndCompatible()
        {
            string v = FoleyKitLibrary.Version;
            Assert.That(v, Is.Not.Null.And.Not.Empty);
            Assert.That(v.Split('.').Length, Is.EqualTo(3), "fk_version() should be major.minor.patch, got " + v);
            Assert.That(FoleyKitLibrary.IsCompatible(v), Is.True, "binding 0.1 against native " + v);
        }

        [Test]
        public void ResultStringsComeFromTheLibrary()
        {
            Assert.That(FoleyKitLibrary.ResultString(FkResult.Ok), Is.EqualTo("success"));
            foreach (FkResult r in Enum.GetValues(typeof(FkResult)))
            {
                string s = FoleyKitLibrary.ResultString(r);
                Assert.That(s, Is.Not.Null.And.Not.Empty, r.ToString());
                if (r != FkResult.Ok)
                    Assert.That(s, Is.Not.EqualTo("unknown result code"), r + " is not known to the library");
            }
            Assert.That(FoleyKitLibrary.ResultString((FkResult)(-1000)), Is.EqualTo("unknown result code"));
        }

        [Test]
        public void DefaultConfigsMatchTheHeader()
        {
            var c = SynthConfig.Default;
            Assert.That(c.Version, Is.EqualTo(FoleyKitLibrary.ConfigVersion));
            Assert.That(c.SampleRate, Is.EqualTo(48000f));
            Assert.That(c.NFft, Is.EqualTo(1024));
            Assert.That(c.Hop, Is.EqualTo(256));
            Assert.That(c.NMels, Is.EqualTo(80));
            Assert.That(c.LogFloor, Is.EqualTo(1e-5f));

            var s = StreamConfig.Default;
            Assert.That(s.Version, Is.EqualTo(FoleyKitLibrary.ConfigVersion));
            Assert.That(s.Spectrogram.NFft, Is.EqualTo(1024));
            Assert.That(s.Spectrogram.NMels, Is.EqualTo(80));
            Assert.That(s.Input, Is.EqualTo(SpecKind.LogMel));
            Assert.That(s.Method, Is.EqualTo(StreamMethod.RtPghi));
            Assert.That(s.Seed, Is.EqualTo(0UL));
        }

        [Test]
        public void IsCompatibleParsesVersions()
        {
            Assert.That(FoleyKitLibrary.IsCompatible("0.1.7"), Is.True);
            Assert.That(FoleyKitLibrary.IsCompatible("0.2.0"), Is.False);
            Assert.That(FoleyKitLibrary.IsCompatible("1.1.0"), Is.False);
            Assert.That(FoleyKitLibrary.IsCompatible("garbage"), Is.False);
            Assert.That(FoleyKitLibrary.IsCompatible(null), Is.False);
        }
    }
}
