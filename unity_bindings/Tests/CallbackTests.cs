using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>
    /// Callbacks raised on a native thread reach C# through the static [MonoPInvokeCallback]
    /// trampoline and a GCHandle, the only way that works under IL2CPP and full AOT. The calls
    /// come from Tests/Native~/foleykit_testhelper.c; the engine's log and event callbacks will
    /// use the same plumbing.
    /// </summary>
    [TestFixture]
    public class CallbackTests
    {
        [SetUp]
        public void NeedHelper()
        {
            NativeHelper.Require();
        }

        [Test]
        public void CallbackFromANativeThreadReachesTheHandler()
        {
            var codes = new List<int>();
            var messages = new List<string>();
            var threads = new List<int>();
            int testThread = Thread.CurrentThread.ManagedThreadId;
            using (var target = new CallbackTarget((code, message) =>
            {
                lock (codes)
                {
                    codes.Add(code);
                    messages.Add(message);
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                }
            }))
            {
                int r = NativeHelper.fkt_call_from_native_thread(NativeCallbacks.Message, target.UserData, 5);
                Assert.That(r, Is.EqualTo(0));
                Assert.That(target.Received, Is.EqualTo(5L));
                Assert.That(target.Failures, Is.EqualTo(0L));
            }
            Assert.That(codes, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
            Assert.That(messages[3], Is.EqualTo("message 3 from a native thread (événement)"), "UTF-8 decoded");
            foreach (int t in threads)
                Assert.That(t, Is.Not.EqualTo(testThread), "the callback must run on the native thread");
        }

        [Test]
        public void RawFunctionPointerWorksToo()
        {
            int sum = 0;
            using (var target = new CallbackTarget((code, message) => Interlocked.Add(ref sum, code)))
            {
                Assert.That(NativeCallbacks.MessageFunctionPointer, Is.Not.EqualTo(IntPtr.Zero));
                int r = NativeHelper.fkt_call_from_native_thread_ptr(NativeCallbacks.MessageFunctionPointer, target.UserData, 10);
                Assert.That(r, Is.EqualTo(0));
            }
            Assert.That(sum, Is.EqualTo(45));
        }

        [Test]
        public void ManyNativeThreadsAtOnce()
        {
            long calls = 0;
            using (var target = new CallbackTarget((code, message) => Interlocked.Increment(ref calls)))
            {
                int r = NativeHelper.fkt_call_from_native_threads(NativeCallbacks.Message, target.UserData, 8, 250);
                Assert.That(r, Is.EqualTo(0));
                Assert.That(target.Received, Is.EqualTo(2000L));
            }
            Assert.That(Interlocked.Read(ref calls), Is.EqualTo(2000L));
        }

        [Test]
        public void HandlerExceptionsStayOnTheManagedSide()
        {
            using (var target = new CallbackTarget((code, message) =>
            {
                if (code == 1) throw new InvalidOperationException("handler failed on " + message);
            }))
            {
                int r = NativeHelper.fkt_call_from_native_thread(NativeCallbacks.Message, target.UserData, 3);
                Assert.That(r, Is.EqualTo(0), "the native thread ran to the end");
                Assert.That(target.Received, Is.EqualTo(2L));
                Assert.That(target.Failures, Is.EqualTo(1L));
                Assert.That(target.LastFailure, Is.InstanceOf<InvalidOperationException>());
            }
        }

        [Test]
        public void NullOrForeignUserDataIsDropped()
        {
            Assert.That(NativeHelper.fkt_call_from_native_thread(NativeCallbacks.Message, IntPtr.Zero, 2), Is.EqualTo(0));
            var other = GCHandle.Alloc("not a CallbackTarget");
            try
            {
                Assert.That(NativeHelper.fkt_call_from_native_thread(NativeCallbacks.Message, GCHandle.ToIntPtr(other), 2),
                    Is.EqualTo(0));
            }
            finally
            {
                other.Free();
            }
        }

        [Test]
        public void DisposedTargetRefusesUserData()
        {
            var target = new CallbackTarget((code, message) => { });
            target.Dispose();
            Assert.DoesNotThrow(() => target.Dispose());
            Assert.Throws<ObjectDisposedException>(() => { var p = target.UserData; });
        }
    }

    /// <summary>The C# structs against the C compiler's layout of foleykit.h.</summary>
    [TestFixture]
    public class AbiLayoutTests
    {
        [SetUp]
        public void NeedHelper()
        {
            NativeHelper.Require();
        }

        private static void Same(string c, long csharp)
        {
            long native = NativeHelper.Layout(c);
            Assert.That(native, Is.Not.EqualTo(-1L), "the helper does not know " + c);
            Assert.That(csharp, Is.EqualTo(native), c);
        }

        private static long Off<T>(string field)
        {
            return Marshal.OffsetOf(typeof(T), field).ToInt64();
        }

        [Test]
        public void SynthConfigMatches()
        {
            Same("fk_synth_config", Marshal.SizeOf(typeof(SynthConfig)));
            Same("fk_synth_config.sample_rate", Off<SynthConfig>("SampleRate"));
            Same("fk_synth_config.n_fft", Off<SynthConfig>("NFft"));
            Same("fk_synth_config.hop", Off<SynthConfig>("Hop"));
            Same("fk_synth_config.n_mels", Off<SynthConfig>("NMels"));
            Same("fk_synth_config.fmin", Off<SynthConfig>("FMin"));
            Same("fk_synth_config.fmax", Off<SynthConfig>("FMax"));
            Same("fk_synth_config.log_floor", Off<SynthConfig>("LogFloor"));
        }

        [Test]
        public void StreamConfigMatches()
        {
            Same("fk_stream_config", Marshal.SizeOf(typeof(StreamConfig)));
            Same("fk_stream_config.spectrogram", Off<StreamConfig>("Spectrogram"));
            Same("fk_stream_config.input", Off<StreamConfig>("Input"));
            Same("fk_stream_config.method", Off<StreamConfig>("Method"));
            Same("fk_stream_config.seed", Off<StreamConfig>("Seed"));
        }

        [Test]
        public void ModelInfoMatches()
        {
            Same("fk_model_info", Marshal.SizeOf(typeof(ModelInfo)));
            Same("fk_model_info.mode", Off<ModelInfo>("Mode"));
            Same("fk_model_info.spectrogram", Off<ModelInfo>("Spectrogram"));
            Same("fk_model_info.max_frames", Off<ModelInfo>("MaxFrames"));
            Same("fk_model_info.window_frames", Off<ModelInfo>("WindowFrames"));
            Same("fk_model_info.control_count", Off<ModelInfo>("ControlCount"));
            Same("fk_model_info.control_vector_size", Off<ModelInfo>("ControlVectorSize"));
            Same("fk_model_info.z_dim", Off<ModelInfo>("ZDim"));
        }

        [Test]
        public void ControlInfoMatches()
        {
            Same("fk_control_info", Marshal.SizeOf(typeof(NativeControlInfo)));
            Same("fk_control_info.categorical", Off<NativeControlInfo>("Categorical"));
            Same("fk_control_info.choice_count", Off<NativeControlInfo>("ChoiceCount"));
            Same("fk_control_info.low", Off<NativeControlInfo>("Low"));
            Same("fk_control_info.high", Off<NativeControlInfo>("High"));
            Same("fk_control_info.log_scale", Off<NativeControlInfo>("LogScale"));
            Same("fk_control_info.default_value", Off<NativeControlInfo>("DefaultValue"));
            Same("fk_control_info.unit", Off<NativeControlInfo>("Unit"));
        }

        [Test]
        public void EngineConfigMatches()
        {
            Same("fk_engine_tier", Marshal.SizeOf(typeof(EngineTier)));
            Same("fk_engine_tier.oneshot_method", Off<EngineTier>("OneShotMethod"));
            Same("fk_engine_tier.gl_iterations", Off<EngineTier>("GriffinLimIterations"));
            Same("fk_engine_tier.ambience_method", Off<EngineTier>("AmbienceMethod"));
            Same("fk_engine_config", Marshal.SizeOf(typeof(EngineConfig)));
            Same("fk_engine_config.sample_rate", Off<EngineConfig>("SampleRate"));
            Same("fk_engine_config.channels", Off<EngineConfig>("Channels"));
            Same("fk_engine_config.max_block_frames", Off<EngineConfig>("MaxBlockFrames"));
            Same("fk_engine_config.max_voices", Off<EngineConfig>("MaxVoices"));
            Same("fk_engine_config.worker_threads", Off<EngineConfig>("WorkerThreads"));
            Same("fk_engine_config.max_clip_seconds", Off<EngineConfig>("MaxClipSeconds"));
            Same("fk_engine_config.ambience_buffer_samples", Off<EngineConfig>("AmbienceBufferSamples"));
            Same("fk_engine_config.command_capacity", Off<EngineConfig>("CommandCapacity"));
            Same("fk_engine_config.event_capacity", Off<EngineConfig>("EventCapacity"));
            Same("fk_engine_config.max_models", Off<EngineConfig>("MaxModels"));
            Same("fk_engine_config.control_smoothing_ms", Off<EngineConfig>("ControlSmoothingMs"));
            Same("fk_engine_config.quiet_gain", Off<EngineConfig>("QuietGain"));
            Same("fk_engine_config.overload_backlog", Off<EngineConfig>("OverloadBacklog"));
            Same("fk_engine_config.default_quality", Off<EngineConfig>("DefaultQuality"));
            Same("fk_engine_config.tiers", Off<EngineConfig>("TierLow"));
            Same("fk_engine_config.tiers[1]", Off<EngineConfig>("TierMedium"));
            Same("fk_engine_config.tiers[2]", Off<EngineConfig>("TierHigh"));
        }

        [Test]
        public void EngineEventAndStatsMatch()
        {
            Same("fk_engine_event", Marshal.SizeOf(typeof(EngineEvent)));
            Same("fk_engine_event.type", Off<EngineEvent>("Type"));
            Same("fk_engine_event.model", Off<EngineEvent>("Model"));
            Same("fk_engine_event.voice", Off<EngineEvent>("Voice"));
            Same("fk_engine_event.frame", Off<EngineEvent>("Frame"));
            Same("fk_engine_event.value", Off<EngineEvent>("Value"));
            Same("fk_engine_stats", Marshal.SizeOf(typeof(EngineStats)));
            Same("fk_engine_stats.voices_playing", Off<EngineStats>("VoicesPlaying"));
            Same("fk_engine_stats.voices_ready", Off<EngineStats>("VoicesReady"));
            Same("fk_engine_stats.models", Off<EngineStats>("Models"));
            Same("fk_engine_stats.jobs_pending", Off<EngineStats>("JobsPending"));
            Same("fk_engine_stats.voices_started", Off<EngineStats>("VoicesStarted"));
            Same("fk_engine_stats.voices_ended", Off<EngineStats>("VoicesEnded"));
            Same("fk_engine_stats.voices_stolen", Off<EngineStats>("VoicesStolen"));
            Same("fk_engine_stats.underruns", Off<EngineStats>("Underruns"));
            Same("fk_engine_stats.overloads", Off<EngineStats>("Overloads"));
            Same("fk_engine_stats.events_dropped", Off<EngineStats>("EventsDropped"));
            Same("fk_engine_stats.frames_rendered", Off<EngineStats>("FramesRendered"));
            Same("fk_engine_stats.oneshots_rendered", Off<EngineStats>("OneShotsRendered"));
            Same("fk_engine_stats.ambience_frames", Off<EngineStats>("AmbienceFrames"));
            Same("fk_engine_stats.worker_busy_ns", Off<EngineStats>("WorkerBusyNs"));
            Same("fk_engine_stats.ready_latency_ns", Off<EngineStats>("ReadyLatencyNs"));
            Same("fk_engine_stats.oneshots_early", Off<EngineStats>("OneShotsEarly"));
            Same("fk_voice_id", 8);
        }

        [Test]
        public void EnumsAre32Bit()
        {
            foreach (var e in new[] { "fk_result", "fk_spec_kind", "fk_phase_method", "fk_stream_method", "fk_model_family", "fk_model_mode", "fk_engine_quality", "fk_engine_event_type" })
                Same(e, 4);
            Assert.That(Marshal.SizeOf(Enum.GetUnderlyingType(typeof(FkResult))), Is.EqualTo(4));
        }
    }
}
