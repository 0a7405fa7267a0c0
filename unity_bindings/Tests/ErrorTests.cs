using System;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>Result codes become FoleyKitException with the native fk_last_error() message.</summary>
    [TestFixture]
    public class ErrorTests
    {
        [Test]
        public void BadSynthConfigCarriesTheNativeMessage()
        {
            var c = SynthConfig.Default;
            c.NFft = 1023;  // n_fft must be even
            var e = Assert.Throws<FoleyKitException>(() => new Synth(c));
            Assert.That(e.Result, Is.EqualTo(FkResult.InvalidArgument));
            Assert.That(e.Function, Is.EqualTo("fk_synth_create"));
            Assert.That(e.NativeMessage, Is.Not.Empty, "fk_last_error() should explain the failure");
            StringAssert.Contains("n_fft", e.NativeMessage);
            StringAssert.Contains(e.NativeMessage, e.Message);
            StringAssert.Contains(FoleyKitLibrary.ResultString(FkResult.InvalidArgument), e.Message);
            StringAssert.Contains("fk_synth_create", e.Message);
        }

        [Test]
        public void WrongConfigVersionIsVersionMismatch()
        {
            var c = SynthConfig.Default;
            c.Version = 99;
            var e = Assert.Throws<FoleyKitException>(() => new Synth(c));
            Assert.That(e.Result, Is.EqualTo(FkResult.VersionMismatch));
            StringAssert.Contains("FK_CONFIG_VERSION", e.NativeMessage);

            var s = StreamConfig.Default;
            s.Version = 0;
            var e2 = Assert.Throws<FoleyKitException>(() => new SynthStream(s));
            Assert.That(e2.Result, Is.EqualTo(FkResult.VersionMismatch));
            Assert.That(e2.Function, Is.EqualTo("fk_stream_create"));
        }

        [Test]
        public void NonFiniteInputIsNonFinite()
        {
            using (var synth = new Synth())
            {
                var spec = TestSupport.KnownLogMel(8, 80);
                spec[3 * 80 + 5] = float.NaN;
                var e = Assert.Throws<FoleyKitException>(() => synth.Render(spec, 8));
                Assert.That(e.Result, Is.EqualTo(FkResult.NonFinite));
                Assert.That(e.NativeMessage, Is.Not.Empty);
            }
        }

        [Test]
        public void NegativeMagnitudeIsReported()
        {
            using (var synth = new Synth())
            {
                var spec = new float[4 * 80];
                for (int i = 0; i < spec.Length; i++) spec[i] = 0.5f;
                spec[100] = -1f;
                var e = Assert.Throws<FoleyKitException>(() => synth.Render(spec, 4, SpecKind.Mel));
                Assert.That(e.Result, Is.EqualTo(FkResult.NegativeMagnitude));
            }
        }

        [Test]
        public void EachFailureReportsItsOwnMessage()
        {
            // fk_last_error is per call: the second exception must not repeat the first message.
            var a = SynthConfig.Default;
            a.NFft = 1023;
            var b = SynthConfig.Default;
            b.Version = 5;
            var ea = Assert.Throws<FoleyKitException>(() => new Synth(a));
            var eb = Assert.Throws<FoleyKitException>(() => new Synth(b));
            Assert.That(eb.NativeMessage, Is.Not.EqualTo(ea.NativeMessage));
        }

        [Test]
        public void TooSmallOutputIsCaughtNatively()
        {
            using (var synth = new Synth())
            {
                var spec = TestSupport.KnownLogMel(10, 80);
                var output = new float[10];
                var e = Assert.Throws<FoleyKitException>(() =>
                    synth.Render(spec, 10, SpecKind.LogMel, PhaseMethod.Pghi, 0, 0, output));
                Assert.That(e.Result, Is.EqualTo(FkResult.BufferTooSmall));
            }
        }

        [Test]
        public void ShortInputIsAnArgumentErrorBeforeNative()
        {
            using (var synth = new Synth())
            {
                Assert.Throws<ArgumentException>(() => synth.Render(new float[79], 1));
                Assert.Throws<ArgumentNullException>(() => synth.Render(null, 1));
            }
        }
    }
}
