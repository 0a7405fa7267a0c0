using System;

namespace FoleyKit
{
    /// <summary>
    /// One-call synthesis (fk_synth_*): a whole spectrogram to a waveform. Immutable after
    /// creation and safe to share between threads; Render allocates scratch natively, so call
    /// it from a worker thread, not the audio callback.
    /// </summary>
    public sealed class Synth : IDisposable
    {
        private readonly SynthHandle _handle;
        private readonly SynthConfig _config;

        /// <summary>A synthesizer with fk_synth_config_default().</summary>
        public Synth() : this(SynthConfig.Default) { }

        public Synth(SynthConfig config)
        {
            IntPtr p;
            FoleyKitException.Check(Native.fk_synth_create(ref config, out p), "fk_synth_create");
            _handle = new SynthHandle(p);
            _config = config;
        }

        public SynthConfig Config
        {
            get { return _config; }
        }

        public SynthHandle Handle
        {
            get { return _handle; }
        }

        /// <summary>Rows a frame of this kind has: n_fft/2+1 for Linear, n_mels otherwise.</summary>
        public int RowsFor(SpecKind kind)
        {
            return kind == SpecKind.Linear ? _config.NFft / 2 + 1 : _config.NMels;
        }

        /// <summary>Samples Render returns for nFrames frames: hop * (nFrames - 1).</summary>
        public long OutputLength(int nFrames)
        {
            return Native.fk_synth_output_length(_handle, nFrames);
        }

        /// <summary>
        /// Renders nFrames frames of spec (frame-major: spec[t * rows + r]) to a new array.
        /// Same input and seed give the same samples, bit for bit.
        /// </summary>
        public float[] Render(float[] spec, int nFrames, SpecKind kind = SpecKind.LogMel,
            PhaseMethod method = PhaseMethod.Pghi, int iterations = 0, ulong seed = 0)
        {
            var output = new float[Math.Max(0L, OutputLength(nFrames))];
            int n = Render(spec, nFrames, kind, method, iterations, seed, output);
            if (n != output.Length) Array.Resize(ref output, n);
            return output;
        }

        /// <summary>Renders into output (at least OutputLength(nFrames) samples); returns samples written.</summary>
        public int Render(float[] spec, int nFrames, SpecKind kind, PhaseMethod method, int iterations,
            ulong seed, float[] output)
        {
            if (spec == null) throw new ArgumentNullException("spec");
            if (output == null) throw new ArgumentNullException("output");
            int rows = RowsFor(kind);
            if (nFrames < 0 || (long)nFrames * rows > spec.Length)
                throw new ArgumentException(string.Format(
                    "spec holds {0} values, fewer than {1} frames x {2} rows", spec.Length, nFrames, rows), "spec");
            long written;
            FoleyKitException.Check(Native.fk_synth_render(_handle, spec, rows, nFrames, kind, method,
                iterations, seed, output, output.Length, out written), "fk_synth_render");
            return (int)written;
        }

        public void Dispose()
        {
            _handle.Dispose();
        }
    }
}
