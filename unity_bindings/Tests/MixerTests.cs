using System;
using System.Threading;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>The data path behind FoleyKitListener: mixer → ring → audio callback.</summary>
    [TestFixture]
    public class MixerTests
    {
        [Test]
        public void RingWrapsAroundAndKeepsOrder()
        {
            var ring = new SampleRing(100);
            Assert.That(ring.Capacity, Is.EqualTo(128));
            var src = new float[90];
            var dst = new float[90];
            float next = 0, expect = 0;
            for (int round = 0; round < 20; round++)
            {
                for (int i = 0; i < src.Length; i++) src[i] = next++;
                Assert.That(ring.Write(src, 0, 90), Is.EqualTo(90));
                Assert.That(ring.Available, Is.EqualTo(90));
                Assert.That(ring.Read(dst, 0, 90), Is.EqualTo(90));
                for (int i = 0; i < dst.Length; i++) Assert.That(dst[i], Is.EqualTo(expect++));
            }
            Assert.That(ring.Write(new float[200], 0, 200), Is.EqualTo(128), "a full ring takes no more");
            Assert.That(ring.Read(new float[300], 0, 300), Is.EqualTo(128));
            Assert.That(ring.Read(dst, 0, 1), Is.EqualTo(0));
        }

        [Test]
        public void RingAcrossThreads()
        {
            var ring = new SampleRing(256);
            const int total = 200000;
            var producer = new Thread(() =>
            {
                var block = new float[61];
                int n = 0;
                while (n < total)
                {
                    int count = Math.Min(block.Length, total - n);
                    for (int i = 0; i < count; i++) block[i] = n + i;
                    int w = 0;
                    while (w < count)
                    {
                        int k = ring.Write(block, w, count - w);
                        if (k == 0) Thread.Sleep(0);
                        w += k;
                    }
                    n += count;
                }
            });
            producer.Start();
            var buf = new float[47];
            int got = 0;
            bool ordered = true;
            while (got < total)
            {
                int k = ring.Read(buf, 0, buf.Length);
                for (int i = 0; i < k; i++) ordered &= buf[i] == got + i;
                got += k;
                if (k == 0) Thread.Sleep(0);
            }
            producer.Join();
            Assert.That(ordered, Is.True, "samples arrive in order, none lost or repeated");
        }

        [Test]
        public void ClipPlaysExactlyAtTheSameRate()
        {
            var clip = new float[3000];
            for (int i = 0; i < clip.Length; i++) clip[i] = (float)Math.Sin(i * 0.05);
            var pump = new AudioPump(48000, 1024, 256);
            var voice = pump.Play(new ClipProducer(clip), 48000, 0.5f);
            var heard = new float[4096];
            int done = 0;
            while (done < heard.Length)
            {
                pump.Pump();
                var part = new float[512];
                pump.Read(part, part.Length);
                Array.Copy(part, 0, heard, done, part.Length);
                done += part.Length;
            }
            for (int i = 0; i < clip.Length; i++)
                Assert.That(heard[i], Is.EqualTo(0.5f * clip[i]), "sample " + i);
            for (int i = clip.Length; i < heard.Length; i++)
                Assert.That(heard[i], Is.EqualTo(0f));
            Assert.That(voice.Finished, Is.True);
            pump.Dispose();
        }

        [Test]
        public void ResamplingKeepsTheDuration()
        {
            var clip = new float[4800];
            for (int i = 0; i < clip.Length; i++) clip[i] = 1f;
            var mixer = new VoiceMixer(44100);
            var voice = mixer.Add(new ClipProducer(clip), 48000, 1f);
            var block = new float[441];
            int audible = 0;
            for (int b = 0; b < 20 && !voice.Finished; b++)
            {
                mixer.Render(block, 0, block.Length);
                foreach (var s in block) if (s > 0.5f) audible++;
            }
            Assert.That(voice.Finished, Is.True);
            Assert.That(audible, Is.InRange(4410 - 2, 4410 + 2), "0.1 s at 48 kHz is 4410 samples at 44.1 kHz");
        }

        [Test]
        public void StopAndGainAreSeenByTheMixer()
        {
            var mixer = new VoiceMixer(48000);
            var clip = new float[48000];
            for (int i = 0; i < clip.Length; i++) clip[i] = 1f;
            var voice = mixer.Add(new ClipProducer(clip), 48000, 1f);
            var block = new float[64];
            mixer.Render(block, 0, 64);
            Assert.That(block[10], Is.EqualTo(1f));
            voice.Gain = 0.25f;
            mixer.Render(block, 0, 64);
            Assert.That(block[10], Is.EqualTo(0.25f));
            voice.Stop();
            mixer.Render(block, 0, 64);
            Assert.That(block[10], Is.EqualTo(0f));
            Assert.That(voice.Finished, Is.True);
            Assert.That(mixer.VoiceCount, Is.EqualTo(0));
        }

        [Test]
        public void UnderrunIsSilenceAndCounted()
        {
            var pump = new AudioPump(48000, 512, 256);
            var output = new float[128];
            for (int i = 0; i < output.Length; i++) output[i] = 9f;
            Assert.That(pump.Read(output, output.Length), Is.EqualTo(0));
            Assert.That(output[0], Is.EqualTo(0f));
            Assert.That(pump.Underruns, Is.EqualTo(1L));
            pump.Dispose();
        }

        [Test]
        public void PostedJobErrorsReachTheMainThread()
        {
            var pump = new AudioPump(48000, 512, 256);
            pump.Post(() => { throw new InvalidOperationException("render failed"); });
            pump.Pump();
            Exception e;
            Assert.That(pump.TryTakeError(out e), Is.True);
            Assert.That(e.Message, Is.EqualTo("render failed"));
            pump.Dispose();
        }

        [Test]
        public void PumpThreadPlaysAOneShotModel()
        {
            using (var model = Model.Load(TestSupport.RequireModelFile("oneshots.fkm")))
            using (var shot = new OneShot(model))
            {
                var values = model.CreateControls().Set("category", "impact").Set("velocity", 8f).ToArray();
                var expected = shot.Render(values, 42);
                var pump = new AudioPump(48000, 2048, 256);
                pump.Start();
                try
                {
                    var voice = pump.PlayOneShot(shot, values, 42, 1f);
                    var heard = new float[expected.Length + 48000];
                    int done = 0;
                    var block = new float[480];
                    var deadline = DateTime.UtcNow.AddSeconds(20);
                    // Read like an audio callback would, skipping the silence before the voice starts.
                    bool started = false;
                    while (done < expected.Length && DateTime.UtcNow < deadline)
                    {
                        if (pump.Ring.Available < block.Length) { Thread.Sleep(1); continue; }
                        pump.Read(block, block.Length);
                        int from = 0;
                        if (!started)
                        {
                            while (from < block.Length && block[from] == 0f) from++;
                            if (from == block.Length) continue;
                            started = true;
                        }
                        int n = Math.Min(block.Length - from, heard.Length - done);
                        Array.Copy(block, from, heard, done, n);
                        done += n;
                    }
                    Exception error;
                    if (pump.TryTakeError(out error)) Assert.Fail("pump job failed: " + error);
                    Assert.That(done, Is.GreaterThanOrEqualTo(expected.Length), "timed out waiting for the sound");
                    int first = 0;
                    while (expected[first] == 0f) first++;
                    for (int i = 0; i + first < expected.Length; i += 97)
                        Assert.That(heard[i], Is.EqualTo(expected[i + first]), "sample " + i);
                    Assert.That(voice.Finished || done >= expected.Length, Is.True);
                }
                finally
                {
                    pump.Dispose();
                }
            }
        }
    }
}
