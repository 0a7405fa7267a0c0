using System;
using System.Collections.Generic;

namespace FoleyKit
{
    /// <summary>
    /// A one-shot model's sound for (controls, seed) as audio: fk_model_generate, then
    /// fk_synth_render with the model's own feature settings. Owns a session and a synth;
    /// one thread at a time (the session). The model must stay loaded while it is used (its
    /// native memory is kept alive by the session in any case).
    /// </summary>
    public sealed class OneShot : IDisposable
    {
        private readonly Model _model;
        private readonly ModelSession _session;
        private readonly Synth _synth;
        private readonly float[] _logMel;
        private readonly PhaseMethod _method;
        private readonly int _iterations;

        public OneShot(Model model, PhaseMethod method = PhaseMethod.Pghi, int iterations = 0)
        {
            if (model == null) throw new ArgumentNullException("model");
            if (model.Mode != ModelMode.OneShot)
                throw new ArgumentException("OneShot needs a one-shot model; this one streams (use AmbienceStream)", "model");
            _model = model;
            _method = method;
            _iterations = iterations;
            var info = model.Info;
            _session = model.CreateSession();
            try
            {
                _synth = new Synth(info.Spectrogram);
            }
            catch
            {
                _session.Dispose();
                throw;
            }
            _logMel = new float[Math.Max(1, info.MaxFrames) * info.Spectrogram.NMels];
        }

        public Model Model { get { return _model; } }
        public int SampleRate { get { return _model.SampleRate; } }
        /// <summary>The most samples one Render returns.</summary>
        public long MaxSamples { get { return _synth.OutputLength(Math.Max(1, _model.Info.MaxFrames)); } }

        /// <summary>The sound for controls by name (others at their defaults) and a seed.</summary>
        public float[] Render(IEnumerable<KeyValuePair<string, object>> controls, ulong seed)
        {
            return Render(_model.EncodeControls(controls), seed);
        }

        /// <summary>The sound for a values array (schema order; null: defaults) and a seed.</summary>
        public float[] Render(float[] values, ulong seed)
        {
            int frames = _session.Generate(values, seed, _logMel);
            if (frames < 2) return new float[0];  // one frame or none: no overlap-add support
            return _synth.Render(_logMel, frames, SpecKind.LogMel, _method, _iterations, seed);
        }

        public void Dispose()
        {
            _session.Dispose();
            _synth.Dispose();
        }
    }
}
