using System;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    [TestFixture]
    public class SynthTests
    {
        private const int Frames = 40;

        [Test]
        public void RendersAKnownLogMelToAFiniteAudibleWaveform()
        {
            using (var synth = new Synth())
            {
                var spec = TestSupport.KnownLogMel(Frames, synth.Config.NMels);
                Assert.That(synth.OutputLength(Frames), Is.EqualTo(256L * (Frames - 1)));
                var audio = synth.Render(spec, Frames);
                Assert.That(audio.Length, Is.EqualTo(256 * (Frames - 1)));
                TestSupport.AssertFinite(audio, "PGHI render");
                double rms = TestSupport.Rms(audio);
                Assert.That(rms, Is.GreaterThan(1e-4), "the render should not be silent");
                Assert.That(TestSupport.Peak(audio), Is.LessThan(100f));
                // The envelope decays: the first quarter is louder than the last.
                int q = audio.Length / 4;
                var head = new float[q];
                var tail = new float[q];
                Array.Copy(audio, 0, head, 0, q);
                Array.Copy(audio, audio.Length - q, tail, 0, q);
                Assert.That(TestSupport.Rms(head), Is.GreaterThan(TestSupport.Rms(tail) * 4));
            }
        }

        [Test]
        public void RenderingIsDeterministicAcrossCallsAndInstances()
        {
            var spec = TestSupport.KnownLogMel(Frames, 80);
            float[] a, b, c;
            using (var s1 = new Synth())
            {
                a = s1.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.PghiGriffinLim, 4, 7);
                b = s1.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.PghiGriffinLim, 4, 7);
            }
            using (var s2 = new Synth())
                c = s2.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.PghiGriffinLim, 4, 7);
            Assert.That(TestSupport.BitEqual(a, b), Is.True, "same synth, same input and seed");
            Assert.That(TestSupport.BitEqual(a, c), Is.True, "another synth, same input and seed");
        }

        [Test]
        public void RandomPhaseDependsOnTheSeed()
        {
            var spec = TestSupport.KnownLogMel(Frames, 80);
            using (var synth = new Synth())
            {
                var a = synth.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.Random, 0, 1);
                var a2 = synth.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.Random, 0, 1);
                var b = synth.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.Random, 0, 2);
                Assert.That(TestSupport.BitEqual(a, a2), Is.True);
                Assert.That(TestSupport.BitEqual(a, b), Is.False, "seeds 1 and 2 should differ");
                TestSupport.AssertFinite(b, "random phase");
            }
        }

        [Test]
        public void RenderIntoACallerBufferReturnsTheLength()
        {
            using (var synth = new Synth())
            {
                var spec = TestSupport.KnownLogMel(Frames, 80);
                var buffer = new float[20000];
                int n = synth.Render(spec, Frames, SpecKind.LogMel, PhaseMethod.Pghi, 0, 0, buffer);
                Assert.That(n, Is.EqualTo(256 * (Frames - 1)));
                var fresh = synth.Render(spec, Frames);
                var head = new float[n];
                Array.Copy(buffer, head, n);
                Assert.That(TestSupport.BitEqual(head, fresh), Is.True);
            }
        }

        [Test]
        public void CustomConfigIsUsed()
        {
            var c = SynthConfig.Default;
            c.SampleRate = 24000f;
            c.NFft = 512;
            c.Hop = 128;
            c.NMels = 64;
            using (var synth = new Synth(c))
            {
                Assert.That(synth.RowsFor(SpecKind.Linear), Is.EqualTo(257));
                Assert.That(synth.RowsFor(SpecKind.LogMel), Is.EqualTo(64));
                var audio = synth.Render(TestSupport.KnownLogMel(10, 64), 10);
                Assert.That(audio.Length, Is.EqualTo(128 * 9));
                TestSupport.AssertFinite(audio, "24 kHz render");
            }
        }
    }

    [TestFixture]
    public class StreamTests
    {
        private const int Frames = 30;

        private static float[] StreamAll(SynthStream stream, float[] spec, int frames)
        {
            var all = new float[stream.Hop * frames + stream.FlushCapacity];
            var frame = new float[stream.FrameRows];
            var output = new float[stream.Hop];
            int total = 0;
            for (int t = 0; t < frames; t++)
            {
                Array.Copy(spec, t * stream.FrameRows, frame, 0, stream.FrameRows);
                int n = stream.Push(frame, 1, output);
                Assert.That(n, Is.LessThanOrEqualTo(stream.Hop));
                Array.Copy(output, 0, all, total, n);
                total += n;
            }
            var tail = new float[stream.FlushCapacity];
            int m = stream.Flush(tail);
            Array.Copy(tail, 0, all, total, m);
            total += m;
            Array.Resize(ref all, total);
            return all;
        }

        [Test]
        public void StreamsFrameByFrame()
        {
            using (var stream = new SynthStream())
            {
                Assert.That(stream.FrameRows, Is.EqualTo(80));
                Assert.That(stream.LatencySamples, Is.GreaterThan(0));
                var spec = TestSupport.KnownLogMel(Frames, 80);
                var audio = StreamAll(stream, spec, Frames);
                Assert.That(audio.Length, Is.EqualTo(256 * (Frames - 1) + 1024 / 2));
                TestSupport.AssertFinite(audio, "stream");
                Assert.That(TestSupport.Rms(audio), Is.GreaterThan(1e-4));

                // Flush reset the stream: the same sound again gives the same samples.
                var again = StreamAll(stream, spec, Frames);
                Assert.That(TestSupport.BitEqual(audio, again), Is.True);
            }
        }

        [Test]
        public void PushingManyFramesAtOnceEqualsOneByOne()
        {
            var spec = TestSupport.KnownLogMel(Frames, 80);
            float[] one;
            using (var a = new SynthStream())
                one = StreamAll(a, spec, Frames);
            using (var b = new SynthStream())
            {
                var output = new float[256 * Frames];
                int n = b.Push(spec, Frames, output);
                var tail = new float[b.FlushCapacity];
                int m = b.Flush(tail);
                var all = new float[n + m];
                Array.Copy(output, all, n);
                Array.Copy(tail, 0, all, n, m);
                Assert.That(TestSupport.BitEqual(one, all), Is.True);
            }
        }

        [Test]
        public void BadFrameLeavesTheStreamUnchanged()
        {
            var spec = TestSupport.KnownLogMel(Frames, 80);
            float[] clean;
            using (var a = new SynthStream())
                clean = StreamAll(a, spec, Frames);
            using (var b = new SynthStream())
            {
                var bad = new float[80];
                bad[7] = float.PositiveInfinity;
                var e = Assert.Throws<FoleyKitException>(() => b.Push(bad, 1, new float[256]));
                Assert.That(e.Result, Is.EqualTo(FkResult.NonFinite));
                Assert.That(e.Function, Is.EqualTo("fk_stream_push"));
                var after = StreamAll(b, spec, Frames);
                Assert.That(TestSupport.BitEqual(clean, after), Is.True, "a refused push must not change the stream");
            }
        }

        [Test]
        public void RandomStreamMethodUsesTheSeed()
        {
            var spec = TestSupport.KnownLogMel(Frames, 80);
            float[] a, b;
            using (var s = new SynthStream(SynthConfig.Default, SpecKind.LogMel, StreamMethod.Random, 11))
                a = StreamAll(s, spec, Frames);
            using (var s = new SynthStream(SynthConfig.Default, SpecKind.LogMel, StreamMethod.Random, 12))
                b = StreamAll(s, spec, Frames);
            TestSupport.AssertFinite(a, "random stream");
            Assert.That(TestSupport.BitEqual(a, b), Is.False);
        }
    }
}
