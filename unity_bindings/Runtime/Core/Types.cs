// The C ABI's enums and plain structs, as public C# types. The structs are blittable and laid
// out exactly as in foleykit.h (64-bit targets; the test suite checks sizeof/offsetof against
// the C compiler), so they are passed to the native library as they are.
using System.Runtime.InteropServices;

namespace FoleyKit
{
    /// <summary>fk_result: 0 is success, errors are negative.</summary>
    public enum FkResult
    {
        Ok = 0,
        InvalidArgument = -1,
        NonFinite = -2,
        NegativeMagnitude = -3,
        ShapeMismatch = -4,
        Empty = -5,
        BufferTooSmall = -6,
        OutOfMemory = -7,
        Internal = -8,
        VersionMismatch = -9,
        ModelInvalid = -10,
        Io = -11,
        Unsupported = -12,
        /// <summary>An engine queue is full (the worker is behind or Render is not called); nothing was queued.</summary>
        Busy = -13,
    }

    /// <summary>What a spectrogram holds (fk_spec_kind).</summary>
    public enum SpecKind
    {
        /// <summary>Linear STFT magnitude, n_fft/2+1 rows.</summary>
        Linear = 0,
        /// <summary>Mel magnitude, n_mels rows.</summary>
        Mel = 1,
        /// <summary>Natural log of mel magnitude, n_mels rows (what models emit).</summary>
        LogMel = 2,
    }

    /// <summary>Phase reconstruction for one-call synthesis (fk_phase_method).</summary>
    public enum PhaseMethod
    {
        Pghi = 0,
        GriffinLim = 1,
        PghiGriffinLim = 2,
        Random = 3,
    }

    /// <summary>Frame-by-frame phase for streaming synthesis (fk_stream_method).</summary>
    public enum StreamMethod
    {
        /// <summary>Real-time PGHI, one frame of look-ahead.</summary>
        RtPghi = 0,
        /// <summary>Seeded random phase, no look-ahead (noise beds).</summary>
        Random = 1,
    }

    public enum ModelFamily
    {
        Vae = 0,
        Gan = 1,
        Transformer = 2,
    }

    public enum ModelMode
    {
        /// <summary>A whole clip per call (effects): Model.CreateSession().Generate, OneShot.</summary>
        OneShot = 0,
        /// <summary>One frame per call, forever (ambiences): AmbienceStream.</summary>
        Step = 1,
    }

    /// <summary>fk_synth_config: the feature settings every model carries.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SynthConfig
    {
        /// <summary>Must be FoleyKitLibrary.ConfigVersion; Default sets it.</summary>
        public int Version;
        public float SampleRate;
        public int NFft;
        public int Hop;
        public int NMels;
        public float FMin;
        /// <summary>0 means SampleRate/2.</summary>
        public float FMax;
        public float LogFloor;

        /// <summary>fk_synth_config_default(): 48 kHz, n_fft 1024, hop 256, 80 mels.</summary>
        public static SynthConfig Default
        {
            get { return Native.fk_synth_config_default(); }
        }

        public override string ToString()
        {
            return string.Format("SynthConfig(sr={0}, n_fft={1}, hop={2}, n_mels={3}, fmin={4}, fmax={5})",
                SampleRate, NFft, Hop, NMels, FMin, FMax);
        }
    }

    /// <summary>fk_stream_config. Explicit offsets: the uint64 seed is 8-aligned in C.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 56)]
    public struct StreamConfig
    {
        [FieldOffset(0)] public int Version;
        [FieldOffset(4)] public SynthConfig Spectrogram;
        [FieldOffset(36)] public SpecKind Input;
        [FieldOffset(40)] public StreamMethod Method;
        [FieldOffset(48)] public ulong Seed;

        /// <summary>fk_stream_config_default(): default spectrogram, log-mel input, RTPGHI, seed 0.</summary>
        public static StreamConfig Default
        {
            get { return Native.fk_stream_config_default(); }
        }
    }

    /// <summary>fk_model_info: what a loaded model is and needs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ModelInfo
    {
        public ModelFamily Family;
        public ModelMode Mode;
        /// <summary>The model's feature settings (fmax resolved).</summary>
        public SynthConfig Spectrogram;
        /// <summary>One-shot: frames per clip (the most Generate writes).</summary>
        public int MaxFrames;
        /// <summary>Step: frames of context a step depends on (relative-position Transformer: layers * (window - 1) + 1).</summary>
        public int WindowFrames;
        public int ControlCount;
        public int ControlVectorSize;
        /// <summary>One-shot: latent size.</summary>
        public int ZDim;
    }
}
