using System;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>SafeHandles: dispose twice is safe, use after dispose throws, finalizers free leaks.</summary>
    [TestFixture]
    public class HandleTests
    {
        [Test]
        public void SynthDisposeTwiceIsSafe()
        {
            var synth = new Synth();
            Assert.That(synth.Handle.IsInvalid, Is.False);
            synth.Dispose();
            Assert.That(synth.Handle.IsClosed, Is.True);
            Assert.DoesNotThrow(() => synth.Dispose());
            Assert.Throws<ObjectDisposedException>(() => synth.OutputLength(10));
            Assert.Throws<ObjectDisposedException>(() => synth.Render(TestSupport.KnownLogMel(4, 80), 4));
        }

        [Test]
        public void StreamDisposeTwiceIsSafe()
        {
            var stream = new SynthStream();
            stream.Dispose();
            Assert.DoesNotThrow(() => stream.Dispose());
            Assert.Throws<ObjectDisposedException>(() => stream.Push(new float[80], 1, new float[256]));
            Assert.Throws<ObjectDisposedException>(() => stream.Reset());
        }

        [Test]
        public void LeakedHandlesAreFreedByTheFinalizer()
        {
            // Nothing to observe natively but a crash; run it under the same process as the rest.
            for (int i = 0; i < 20; i++)
            {
                new Synth();
                new SynthStream();
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using (var s = new Synth())
                Assert.That(s.OutputLength(2), Is.EqualTo(256L));
        }

        [Test]
        public void ModelAndSessionDisposeTwiceInAnyOrder()
        {
            string path = TestSupport.RequireModelFile("oneshots.fkm");
            var model = Model.Load(path);
            var session = model.CreateSession();
            // The model first: the session keeps the native model alive.
            model.Dispose();
            Assert.DoesNotThrow(() => model.Dispose());
            var clip = session.Generate(null, 1);
            Assert.That(clip.Frames, Is.GreaterThan(0));
            session.Dispose();
            Assert.DoesNotThrow(() => session.Dispose());
            Assert.Throws<ObjectDisposedException>(() => session.Generate(null, 1));
            Assert.Throws<ObjectDisposedException>(() => model.CreateSession());
        }
    }
}
