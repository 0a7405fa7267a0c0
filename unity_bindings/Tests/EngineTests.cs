using System;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>The native engine (fk_engine_*) through Engine, with the real default models.</summary>
    [TestFixture]
    public class EngineTests
    {
        private const int Rate = 48000;
        private const int SyncMs = 20000;
        private Model _oneShots;
        private Model _ambiences;

        [TestFixtureSetUp]
        public void LoadModels()
        {
            _oneShots = Model.Load(TestSupport.RequireModelFile("oneshots.fkm"));
            _ambiences = Model.Load(TestSupport.RequireModelFile("ambiences.fkm"));
        }

        [TestFixtureTearDown]
        public void UnloadModels()
        {
            if (_oneShots != null) _oneShots.Dispose();
            if (_ambiences != null) _ambiences.Dispose();
        }

        private static Engine NewEngine()
        {
            var config = EngineConfig.Default;
            config.SampleRate = Rate;
            config.Channels = 2;
            config.WorkerThreads = 1;
            return new Engine(config);
        }

        // Offline rendering: sync before each block, as engine_demo.c does.
        private static float[] RenderSynced(Engine engine, int frames, int block = 1024)
        {
            var all = new float[frames * engine.Channels];
            var buf = new float[block * engine.Channels];
            for (int done = 0; done < frames; done += block)
            {
                int n = Math.Min(block, frames - done);
                Assert.That(engine.Sync(SyncMs), Is.True, "fk_engine_sync timed out");
                engine.Render(buf, n);
                Array.Copy(buf, 0, all, done * engine.Channels, n * engine.Channels);
            }
            return all;
        }

        private float[] Rain(float intensity)
        {
            var set = _ambiences.CreateControls();
            set.Set("category", "rain");
            set.Set("intensity", intensity);
            return set.ToArray();
        }

        private static float[] Tail(float[] x, int samples)
        {
            var t = new float[samples];
            Array.Copy(x, x.Length - samples, t, 0, samples);
            return t;
        }

        [Test]
        public void DefaultConfigIsTheHeaders()
        {
            var c = EngineConfig.Default;
            Assert.That(c.Version, Is.EqualTo(FoleyKitLibrary.ConfigVersion));
            Assert.That(c.SampleRate, Is.EqualTo(48000));
            Assert.That(c.Channels, Is.EqualTo(2));
            Assert.That(c.MaxVoices, Is.EqualTo(32));
            Assert.That(c.DefaultQuality, Is.EqualTo(EngineQuality.Medium));
            Assert.That(c.TierHigh.OneShotMethod, Is.EqualTo(PhaseMethod.PghiGriffinLim));
            Assert.That(c.TierHigh.GriffinLimIterations, Is.EqualTo(16));
            Assert.That(c.TierLow.AmbienceMethod, Is.EqualTo(StreamMethod.Random));
        }

        [Test]
        public void TriggerSyncRenderIsAudibleAndFinite()
        {
            using (var engine = NewEngine())
            {
                int id = engine.AddModel(_oneShots);
                Assert.That(id, Is.EqualTo(0));
                var controls = new Dictionary<string, object> { { "velocity", 0.9f } };
                ulong voice = engine.Trigger(id, controls, 7UL, 1f, 0f, EngineQuality.Auto);
                Assert.That(voice, Is.Not.EqualTo(0UL));
                Assert.That(Engine.ModelOf(voice), Is.EqualTo(id));
                var x = RenderSynced(engine, Rate / 2);
                TestSupport.AssertFinite(x, "engine mix");
                Assert.That(TestSupport.Peak(x), Is.GreaterThan(1e-4f), "a triggered one-shot renders silence");
                var s = engine.Stats;
                Assert.That(s.Models, Is.EqualTo(1));
                Assert.That(s.FramesRendered, Is.EqualTo((ulong)(Rate / 2)));
                Assert.That(s.VoicesStarted, Is.GreaterThanOrEqualTo(1UL));
            }
        }

        [Test]
        public void SameSeedGivesTheSameSamples()
        {
            float[] a, b;
            using (var e1 = NewEngine())
            {
                int id = e1.AddModel(_oneShots);
                e1.Trigger(id, _oneShots.CreateControls(), 1234UL, 0.8f, -0.3f);
                a = RenderSynced(e1, 12000, 1024);
            }
            using (var e2 = NewEngine())
            {
                int id = e2.AddModel(_oneShots);
                e2.Trigger(id, _oneShots.CreateControls(), 1234UL, 0.8f, -0.3f);
                b = RenderSynced(e2, 12000, 700);  // another block size: same samples
            }
            Assert.That(TestSupport.Peak(a), Is.GreaterThan(1e-4f));
            Assert.That(TestSupport.BitEqual(a, b), Is.True, "same (model, controls, seed) gave different samples");
        }

        [Test]
        public void AmbienceControlsChangeTheSound()
        {
            float[] calm, changed;
            using (var e1 = NewEngine())
            using (var e2 = NewEngine())
            {
                int i1 = e1.AddModel(_ambiences);
                int i2 = e2.AddModel(_ambiences);
                ulong v1 = e1.Start(i1, Rain(0.1f), 99UL);
                ulong v2 = e2.Start(i2, Rain(0.1f), 99UL);
                var a = RenderSynced(e1, 4800);
                var b = RenderSynced(e2, 4800);
                Assert.That(TestSupport.BitEqual(a, b), Is.True, "same ambience, same seed, different start");
                Assert.That(TestSupport.Rms(a), Is.GreaterThan(1e-5), "ambience renders silence");
                e1.SetControls(v1, Rain(0.1f));
                e2.SetControls(v2, Rain(1f));
                // Past what was streamed ahead (ambience_buffer_samples) and the glide.
                int frames = 3 * Rate / 2;
                calm = RenderSynced(e1, frames);
                changed = RenderSynced(e2, frames);
            }
            TestSupport.AssertFinite(changed, "ambience");
            var ct = Tail(calm, Rate);
            var ch = Tail(changed, Rate);
            Assert.That(TestSupport.BitEqual(ct, ch), Is.False, "SetControls did not change the sound");
            Assert.That(Math.Abs(TestSupport.Rms(ct) - TestSupport.Rms(ch)), Is.GreaterThan(0.0),
                "rain intensity 0.1 and 1.0 sound alike");
        }

        [Test]
        public void StopFadesToSilence()
        {
            using (var engine = NewEngine())
            {
                int id = engine.AddModel(_ambiences);
                ulong voice = engine.Start(id, Rain(0.8f), 5UL);
                var before = RenderSynced(engine, 4800);
                Assert.That(TestSupport.Rms(before), Is.GreaterThan(1e-5));
                engine.Stop(voice, 20f);
                RenderSynced(engine, 4800);  // the 20 ms fade, and more
                var after = RenderSynced(engine, 4800);
                Assert.That(TestSupport.Peak(after), Is.EqualTo(0f), "a stopped voice still sounds");
                engine.Stop(voice, 20f);  // an ended voice is ignored
                var events = new List<EngineEvent>();
                engine.PollEvents(events);
                Assert.That(events.Exists(e => e.Type == EngineEventType.VoiceEnded && e.Voice == voice), Is.True,
                    "no VoiceEnded for the stopped voice: " + string.Join(", ", events.ConvertAll(e => e.ToString()).ToArray()));
            }
        }

        [Test]
        public void BadInputsThrowWithTheNativeMessage()
        {
            using (var engine = NewEngine())
            {
                int shot = engine.AddModel(_oneShots);
                int amb = engine.AddModel(_ambiences);

                var e = Assert.Throws<FoleyKitException>(() => engine.Trigger(42, (float[])null, 1UL));
                Assert.That(e.Result, Is.EqualTo(FkResult.InvalidArgument));
                Assert.That(e.NativeMessage, Is.Not.Empty);
                Assert.That(e.Message, Is.StringContaining(e.NativeMessage));

                var values = _oneShots.DefaultValues();
                int c = _oneShots.GetControl("velocity").Index;
                values[c] = 1000f;
                e = Assert.Throws<FoleyKitException>(() => engine.Trigger(shot, values, 1UL));
                Assert.That(e.Result, Is.EqualTo(FkResult.InvalidArgument));
                Assert.That(e.NativeMessage, Is.Not.Empty);

                e = Assert.Throws<FoleyKitException>(() => engine.Trigger(amb, (float[])null, 1UL));
                Assert.That(e.Result, Is.EqualTo(FkResult.Unsupported));
                Assert.That(e.Function, Is.EqualTo("fk_engine_trigger"));
            }

            var config = EngineConfig.Default;
            config.SampleRate = 44100;
            using (var wrongRate = new Engine(config))
            {
                var e = Assert.Throws<FoleyKitException>(() => wrongRate.AddModel(_oneShots));
                Assert.That(e.Result, Is.EqualTo(FkResult.Unsupported));
                Assert.That(e.NativeMessage, Is.StringContaining("sample rate"));
            }

            config = EngineConfig.Default;
            config.Channels = 5;
            var ce = Assert.Throws<FoleyKitException>(() => new Engine(config).Dispose());
            Assert.That(ce.Result, Is.EqualTo(FkResult.InvalidArgument));
            Assert.That(ce.NativeMessage, Is.Not.Empty);
        }

        [Test]
        public void EventHandlerRunsOnANativeWorkerThread()
        {
            int testThread = Thread.CurrentThread.ManagedThreadId;
            var seen = new List<EngineEvent>();
            var threads = new List<int>();
            using (var engine = NewEngine())
            {
                int id = engine.AddModel(_oneShots);
                engine.SetEventHandler(evt =>
                {
                    lock (seen)
                    {
                        seen.Add(evt);
                        threads.Add(Thread.CurrentThread.ManagedThreadId);
                    }
                });
                ulong voice = engine.Trigger(id, (float[])null, 3UL);
                bool ended = false;
                var block = new float[1024 * engine.Channels];
                for (int i = 0; i < 200 && !ended; i++)  // up to ~4 s of audio; the clip is at most 2 s
                {
                    Assert.That(engine.Sync(SyncMs), Is.True);
                    engine.Render(block, 1024);
                    for (int w = 0; w < 100 && !ended; w++)
                    {
                        lock (seen) ended = seen.Exists(e => e.Type == EngineEventType.VoiceEnded && e.Voice == voice);
                        if (!ended && i > 100) Thread.Sleep(5);
                        else break;
                    }
                }
                for (int w = 0; w < 400 && !ended; w++)
                {
                    Thread.Sleep(5);
                    lock (seen) ended = seen.Exists(e => e.Type == EngineEventType.VoiceEnded && e.Voice == voice);
                }
                engine.SetEventHandler(null);
                Assert.That(engine.CallbackFailures, Is.EqualTo(0L), "handler threw: " + engine.LastCallbackFailure);
                lock (seen)
                {
                    var text = string.Join(", ", seen.ConvertAll(e => e.ToString()).ToArray());
                    Assert.That(seen.Exists(e => e.Type == EngineEventType.VoiceStarted && e.Voice == voice), Is.True,
                        "no VoiceStarted: " + text);
                    Assert.That(ended, Is.True, "no VoiceEnded: " + text);
                    foreach (int t in threads)
                        Assert.That(t, Is.Not.EqualTo(testThread), "an event was delivered on the test thread");
                }
                // Back to polling after the handler is removed.
                engine.Trigger(id, (float[])null, 4UL);
                RenderSynced(engine, 2048);
                Thread.Sleep(50);
                EngineEvent polled;
                Assert.That(engine.TryPollEvent(out polled), Is.True, "no event to poll after SetEventHandler(null)");
            }
        }

        [Test]
        public void TheDocumentedControlsWork()
        {
            // The README / Documentation~ examples' controls.
            using (var engine = NewEngine())
            {
                int id = engine.AddModel(_oneShots);
                var wood = _oneShots.CreateControls().Set("category", "impact").Set("material", "wood").Set("velocity", 4f);
                Assert.That(engine.Trigger(id, wood, 1UL), Is.Not.EqualTo(0UL));
                var metal = new Dictionary<string, object> { { "category", "impact" }, { "material", "metal" }, { "velocity", 6f } };
                Assert.That(engine.Trigger(id, metal, 3UL), Is.Not.EqualTo(0UL));
                TestSupport.AssertFinite(RenderSynced(engine, 2048), "documented example");
            }
        }

        [Test]
        public void RenderDoesNotAllocate()
        {
#if UNITY_5_3_OR_NEWER
            Assert.Ignore("measured with GC.GetAllocatedBytesForCurrentThread outside Unity");
#else
            using (var engine = NewEngine())
            {
                int id = engine.AddModel(_oneShots);
                engine.Trigger(id, (float[])null, 11UL);
                Assert.That(engine.Sync(SyncMs), Is.True);
                var block = new float[256 * engine.Channels];
                engine.Render(block, 256);  // warm-up (first-call marshalling stubs)
                engine.TryRender(block, 256);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 50; i++)
                {
                    engine.Render(block, 256);
                    engine.TryRender(block, 256);
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.That(allocated, Is.EqualTo(0L), "Engine.Render allocated on the audio thread");
            }
#endif
        }

        [Test]
        public void DisposeTwiceIsSafe()
        {
            var engine = NewEngine();
            engine.AddModel(_oneShots);
            engine.SetEventHandler(evt => { });
            engine.Trigger(0, (float[])null, 1UL);
            engine.Dispose();
            Assert.DoesNotThrow(() => engine.Dispose());
            Assert.That(engine.TryRender(new float[64], 32), Is.Not.EqualTo(FkResult.Ok));
            Assert.Throws<ObjectDisposedException>(() => engine.Trigger(0, (float[])null, 1UL));
        }

        [Test]
        public void RenderChecksTheBuffer()
        {
            using (var engine = NewEngine())
            {
                Assert.That(engine.TryRender(new float[10], 10), Is.EqualTo(FkResult.InvalidArgument));
                Assert.That(engine.TryRender(null, 1), Is.EqualTo(FkResult.InvalidArgument));
                var silent = new float[256];
                for (int i = 0; i < silent.Length; i++) silent[i] = 1f;
                engine.Render(silent, 128);
                Assert.That(TestSupport.Peak(silent), Is.EqualTo(0f), "Render must overwrite the buffer");
            }
        }
    }
}
