// The engine section of the C ABI (fk_engine_* in foleykit.h): its enums and blittable structs,
// laid out exactly as in C on 64-bit targets (the test suite checks sizeof/offsetof against
// the C compiler).
using System.Runtime.InteropServices;

namespace FoleyKit
{
    /// <summary>fk_engine_quality: how a voice's sound is made (see EngineTier).</summary>
    public enum EngineQuality
    {
        /// <summary>config.DefaultQuality, or Low when the voice's gain is below config.QuietGain.</summary>
        Auto = 0,
        Low = 1,
        Medium = 2,
        High = 3,
    }

    /// <summary>fk_engine_event_type.</summary>
    public enum EngineEventType
    {
        /// <summary>First rendered; Value: microseconds since trigger/start.</summary>
        VoiceStarted = 0,
        /// <summary>Every voice ends exactly once: played out, faded out, stolen, or never played.</summary>
        VoiceEnded = 1,
        /// <summary>The voice limit took it (VoiceEnded follows).</summary>
        VoiceStolen = 2,
        /// <summary>A voice ran dry (an ambience, or a one-shot still being made after a long worker stall); Value: its underruns so far.</summary>
        Underrun = 3,
        /// <summary>A worker fell behind and lowered quality; Voice 0; Value: one-shots waiting.</summary>
        Overload = 4,
        /// <summary>The worker could not make the voice (VoiceEnded follows).</summary>
        VoiceFailed = 5,
    }

    /// <summary>fk_engine_tier: what a quality tier costs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EngineTier
    {
        /// <summary>One-shots: phase reconstruction of the whole clip.</summary>
        public PhaseMethod OneShotMethod;
        /// <summary>Griffin-Lim rounds for the GriffinLim methods, 0..1000.</summary>
        public int GriffinLimIterations;
        /// <summary>Ambiences: frame-by-frame phase.</summary>
        public StreamMethod AmbienceMethod;
    }

    /// <summary>
    /// fk_engine_config. Every buffer the audio thread uses is sized from it at creation.
    /// Start from Default (fk_engine_config_default) and change fields. C's
    /// tiers[FK_ENGINE_TIER_COUNT] array is the three fields TierLow, TierMedium, TierHigh (same
    /// layout, and blittable without unsafe code).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EngineConfig
    {
        /// <summary>Must be FoleyKitLibrary.ConfigVersion; Default sets it.</summary>
        public int Version;
        /// <summary>Hz; default 48000 (the default models'). Models must have this rate.</summary>
        public int SampleRate;
        /// <summary>1, or 2 (interleaved, constant-power pan); default 2.</summary>
        public int Channels;
        public int MaxBlockFrames;
        public int MaxVoices;
        public int WorkerThreads;
        public float MaxClipSeconds;
        public int AmbienceBufferSamples;
        public int CommandCapacity;
        public int EventCapacity;
        public int MaxModels;
        public float ControlSmoothingMs;
        public float QuietGain;
        public int OverloadBacklog;
        public EngineQuality DefaultQuality;
        public EngineTier TierLow;
        public EngineTier TierMedium;
        public EngineTier TierHigh;

        /// <summary>fk_engine_config_default(): 48 kHz stereo, 32 voices, 1 worker, ...</summary>
        public static EngineConfig Default
        {
            get { return Native.fk_engine_config_default(); }
        }

        public override string ToString()
        {
            return string.Format("EngineConfig(sr={0}, channels={1}, voices={2}, workers={3})",
                SampleRate, Channels, MaxVoices, WorkerThreads);
        }
    }

    /// <summary>fk_engine_event.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EngineEvent
    {
        public EngineEventType Type;
        /// <summary>The voice's model id; -1 for Overload.</summary>
        public int Model;
        /// <summary>0 for Overload.</summary>
        public ulong Voice;
        /// <summary>The engine's clock (frames rendered so far) when it happened.</summary>
        public long Frame;
        /// <summary>See Type.</summary>
        public long Value;

        public override string ToString()
        {
            return string.Format("{0}(model={1}, voice={2}, frame={3}, value={4})", Type, Model, Voice, Frame, Value);
        }
    }

    /// <summary>fk_engine_stats: counters and gauges, each read atomically.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EngineStats
    {
        public int VoicesPlaying;
        public int VoicesReady;
        public int Models;
        public int Reserved;
        public long JobsPending;
        public ulong VoicesStarted;
        public ulong VoicesEnded;
        public ulong VoicesStolen;
        public ulong Underruns;
        public ulong Overloads;
        public ulong EventsDropped;
        public ulong FramesRendered;
        public ulong OneShotsRendered;
        public ulong AmbienceFrames;
        public ulong WorkerBusyNs;
        public ulong ReadyLatencyNs;
        public ulong OneShotsEarly;
    }
}
