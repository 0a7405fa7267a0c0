using System;

namespace FoleyKit
{
    /// <summary>
    /// Frame-by-frame streaming synthesis (fk_stream_*). Owned by one thread at a time; Push,
    /// Flush and Reset are real-time safe natively and allocate nothing here when given
    /// preallocated arrays.
    /// </summary>
    public sealed class SynthStream : IDisposable
    {
        private readonly StreamHandle _handle;
        private readonly StreamConfig _config;
        private readonly int _rows;
        private readonly int _latency;

        public SynthStream() : this(StreamConfig.Default) { }

        public SynthStream(SynthConfig spectrogram, SpecKind input = SpecKind.LogMel,
            StreamMethod method = StreamMethod.RtPghi, ulong seed = 0)
            : this(MakeConfig(spectrogram, input, method, seed)) { }

        public SynthStream(StreamConfig config)
        {
            IntPtr p;
            FoleyKitException.Check(Native.fk_stream_create(ref config, out p), "fk_stream_create");
            _handle = new StreamHandle(p);
            _config = config;
            _rows = Native.fk_stream_frame_rows(_handle);
            _latency = Native.fk_stream_latency_samples(_handle);
        }

        private static StreamConfig MakeConfig(SynthConfig spectrogram, SpecKind input, StreamMethod method, ulong seed)
        {
            var c = StreamConfig.Default;
            c.Spectrogram = spectrogram;
            c.Input = input;
            c.Method = method;
            c.Seed = seed;
            return c;
        }

        public StreamConfig Config { get { return _config; } }
        public StreamHandle Handle { get { return _handle; } }
        /// <summary>Values each pushed frame must have (n_fft/2+1 or n_mels).</summary>
        public int FrameRows { get { return _rows; } }
        /// <summary>Latency from pushing a frame to hearing its centre, in samples.</summary>
        public int LatencySamples { get { return _latency; } }
        public int Hop { get { return _config.Spectrogram.Hop; } }
        /// <summary>Output capacity Flush needs: n_fft + hop.</summary>
        public int FlushCapacity { get { return _config.Spectrogram.NFft + _config.Spectrogram.Hop; } }

        /// <summary>
        /// Pushes nFrames frames (frame-major, FrameRows values each) and writes the samples
        /// they complete (at most nFrames * Hop) to output; returns how many.
        /// On error the stream is unchanged.
        /// </summary>
        public int Push(float[] frames, int nFrames, float[] output)
        {
            if (frames == null) throw new ArgumentNullException("frames");
            if (output == null) throw new ArgumentNullException("output");
            if (nFrames < 0 || (long)nFrames * _rows > frames.Length)
                throw new ArgumentException(string.Format(
                    "frames holds {0} values, fewer than {1} frames x {2} rows", frames.Length, nFrames, _rows), "frames");
            int written;
            FoleyKitException.Check(Native.fk_stream_push(_handle, frames, nFrames, output, output.Length, out written),
                "fk_stream_push");
            return written;
        }

        /// <summary>Writes the tail of the sound (output: at least FlushCapacity) and resets.</summary>
        public int Flush(float[] output)
        {
            if (output == null) throw new ArgumentNullException("output");
            int written;
            FoleyKitException.Check(Native.fk_stream_flush(_handle, output, output.Length, out written), "fk_stream_flush");
            return written;
        }

        /// <summary>Drops all state (no output).</summary>
        public void Reset()
        {
            Native.fk_stream_reset(_handle);
        }

        public void Dispose()
        {
            _handle.Dispose();
        }
    }
}
