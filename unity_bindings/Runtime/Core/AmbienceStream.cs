using System;
using System.Threading;

namespace FoleyKit
{
    /// <summary>A mono sample source at its own rate. Read returns fewer than count when it ends.</summary>
    public interface ISampleProducer
    {
        int Read(float[] buffer, int offset, int count);
    }

    /// <summary>
    /// An endless ambience from a step model: fk_model_stream_next frame by frame into a
    /// streaming synthesizer (fk_stream_*). Read and everything else belong to one thread (the
    /// one producing audio); QueueControls may be called from any thread and takes effect at
    /// the next frame. Allocates nothing after construction except in QueueControls.
    /// </summary>
    public sealed class AmbienceStream : ISampleProducer, IDisposable
    {
        private readonly Model _model;
        private readonly ModelSession _session;
        private readonly SynthStream _synth;
        private readonly float[] _frame;
        private readonly float[] _pending;   // synthesized samples not yet read
        private int _pendingStart, _pendingCount;
        private float[] _queuedControls;     // swapped in from other threads

        public AmbienceStream(Model model, float[] values, ulong seed, StreamMethod method = StreamMethod.RtPghi)
        {
            if (model == null) throw new ArgumentNullException("model");
            if (model.Mode != ModelMode.Step)
                throw new ArgumentException("AmbienceStream needs a step (ambience) model; this one is one-shot (use OneShot)", "model");
            _model = model;
            var info = model.Info;
            _session = model.CreateSession();
            try
            {
                _synth = new SynthStream(info.Spectrogram, SpecKind.LogMel, method, seed);
                _session.StreamReset(values, seed);
            }
            catch
            {
                _session.Dispose();
                if (_synth != null) _synth.Dispose();
                throw;
            }
            _frame = new float[info.Spectrogram.NMels];
            _pending = new float[Math.Max(info.Spectrogram.Hop, 1)];
        }

        public Model Model { get { return _model; } }
        public int SampleRate { get { return _model.SampleRate; } }
        public int LatencySamples { get { return _synth.LatencySamples; } }

        /// <summary>New control values (schema order) from the next frame on. Any thread.</summary>
        public void QueueControls(float[] values)
        {
            if (values == null) throw new ArgumentNullException("values");
            if (values.Length != _model.Info.ControlCount)
                throw new ArgumentException(string.Format("the model has {0} controls; got {1} values",
                    _model.Info.ControlCount, values.Length), "values");
            Interlocked.Exchange(ref _queuedControls, (float[])values.Clone());
        }

        /// <summary>New control values now (the reading thread only).</summary>
        public void SetControls(float[] values)
        {
            _session.StreamSetControls(values);
        }

        /// <summary>Restarts the stream (the reading thread only).</summary>
        public void Reset(float[] values, ulong seed)
        {
            _session.StreamReset(values, seed);
            _synth.Reset();
            _pendingStart = _pendingCount = 0;
        }

        /// <summary>Fills buffer[offset .. offset+count) with the next samples; always returns count.</summary>
        public int Read(float[] buffer, int offset, int count)
        {
            int done = 0;
            while (done < count)
            {
                if (_pendingCount == 0) NextFrame();
                int n = Math.Min(_pendingCount, count - done);
                Array.Copy(_pending, _pendingStart, buffer, offset + done, n);
                _pendingStart += n;
                _pendingCount -= n;
                done += n;
            }
            return done;
        }

        private void NextFrame()
        {
            var queued = Interlocked.Exchange(ref _queuedControls, null);
            if (queued != null) _session.StreamSetControls(queued);
            _session.StreamNext(_frame, 1);
            _pendingStart = 0;
            _pendingCount = _synth.Push(_frame, 1, _pending);
        }

        public void Dispose()
        {
            _session.Dispose();
            _synth.Dispose();
        }
    }
}
