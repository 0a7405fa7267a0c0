// A small C# mixer so the Unity layer can play sounds before the native engine exists. It is
// the stand-in for fk_engine_render: when the engine lands, AudioPump renders through it and
// VoiceMixer goes away; the ring buffer and the listener stay.
using System;
using System.Collections.Generic;
using System.Threading;

namespace FoleyKit
{
    /// <summary>A mono sample source at its own rate. Read returns fewer than count when it ends.</summary>
    public interface ISampleProducer
    {
        int Read(float[] buffer, int offset, int count);
    }

    /// <summary>Plays a rendered clip once.</summary>
    public sealed class ClipProducer : ISampleProducer
    {
        private readonly float[] _clip;
        private int _position;

        public ClipProducer(float[] clip)
        {
            if (clip == null) throw new ArgumentNullException("clip");
            _clip = clip;
        }

        public int Read(float[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _clip.Length - _position);
            if (n <= 0) return 0;
            Array.Copy(_clip, _position, buffer, offset, n);
            _position += n;
            return n;
        }
    }

    /// <summary>
    /// A playing voice as the game sees it: gain and stop are plain fields the mixer reads
    /// every block, so the main thread changes them without messages or locks.
    /// </summary>
    public sealed class VoiceHandle
    {
        private volatile float _gain;
        private volatile bool _stopRequested;
        private volatile bool _finished;

        internal VoiceHandle(float gain) { _gain = gain; }

        public float Gain { get { return _gain; } set { _gain = value; } }
        /// <summary>Ends the voice at the next block (its producer is disposed if IDisposable).</summary>
        public void Stop() { _stopRequested = true; }
        public bool StopRequested { get { return _stopRequested; } }
        /// <summary>True once the mixer has dropped the voice.</summary>
        public bool Finished { get { return _finished; } internal set { _finished = value; } }
    }

    /// <summary>
    /// Sums voices into a mono block at the output rate, resampling each voice linearly from
    /// its own rate. Single-threaded: used by the pump thread only.
    /// </summary>
    public sealed class VoiceMixer
    {
        private sealed class Voice
        {
            public ISampleProducer Producer;
            public VoiceHandle Handle;
            public double Step;         // source samples per output sample
            public double Position;     // read position within Buffer
            public float[] Buffer = new float[1024];
            public int Length;          // valid samples in Buffer
            public bool SourceEnded;
        }

        private readonly int _outputRate;
        private readonly List<Voice> _voices = new List<Voice>();

        public VoiceMixer(int outputSampleRate)
        {
            if (outputSampleRate <= 0) throw new ArgumentOutOfRangeException("outputSampleRate");
            _outputRate = outputSampleRate;
        }

        public int OutputSampleRate { get { return _outputRate; } }
        public int VoiceCount { get { return _voices.Count; } }

        public VoiceHandle Add(ISampleProducer producer, int sourceSampleRate, float gain)
        {
            var handle = new VoiceHandle(gain);
            Add(producer, sourceSampleRate, handle);
            return handle;
        }

        internal void Add(ISampleProducer producer, int sourceSampleRate, VoiceHandle handle)
        {
            if (producer == null) throw new ArgumentNullException("producer");
            if (sourceSampleRate <= 0) throw new ArgumentOutOfRangeException("sourceSampleRate");
            _voices.Add(new Voice { Producer = producer, Handle = handle, Step = (double)sourceSampleRate / _outputRate });
        }

        /// <summary>Writes (not adds) count mixed samples to output[offset..].</summary>
        public void Render(float[] output, int offset, int count)
        {
            Array.Clear(output, offset, count);
            for (int v = _voices.Count - 1; v >= 0; v--)
            {
                var voice = _voices[v];
                bool done = voice.Handle.StopRequested || !Mix(voice, output, offset, count, voice.Handle.Gain);
                if (done)
                {
                    _voices.RemoveAt(v);
                    var d = voice.Producer as IDisposable;
                    if (d != null) d.Dispose();
                    voice.Handle.Finished = true;
                }
            }
        }

        /// <summary>Drops every voice (disposing producers).</summary>
        public void Clear()
        {
            foreach (var voice in _voices)
            {
                var d = voice.Producer as IDisposable;
                if (d != null) d.Dispose();
                voice.Handle.Finished = true;
            }
            _voices.Clear();
        }

        // Adds the voice into output; false once it has ended.
        private static bool Mix(Voice voice, float[] output, int offset, int count, float gain)
        {
            for (int i = 0; i < count; i++)
            {
                int i0 = (int)voice.Position;
                if (i0 + 1 >= voice.Length)
                {
                    Refill(voice);
                    i0 = (int)voice.Position;
                    if (i0 >= voice.Length) return false;
                }
                float a = voice.Buffer[i0];
                float b = i0 + 1 < voice.Length ? voice.Buffer[i0 + 1] : 0f;
                float frac = (float)(voice.Position - i0);
                output[offset + i] += gain * (a + (b - a) * frac);
                voice.Position += voice.Step;
            }
            return true;
        }

        // Keeps the samples from the read position on, then tops the buffer up from the producer.
        private static void Refill(Voice voice)
        {
            int keep = (int)voice.Position;
            if (keep > voice.Length) keep = voice.Length;
            int remaining = voice.Length - keep;
            if (remaining > 0) Array.Copy(voice.Buffer, keep, voice.Buffer, 0, remaining);
            voice.Length = remaining;
            voice.Position -= keep;
            if (voice.SourceEnded) return;
            int want = voice.Buffer.Length - voice.Length;
            int got = voice.Producer.Read(voice.Buffer, voice.Length, want);
            voice.Length += got;
            if (got < want) voice.SourceEnded = true;
        }
    }

    /// <summary>
    /// Keeps a SampleRing filled from a VoiceMixer on its own thread, and runs the jobs the
    /// game posts (rendering one-shots, starting ambiences) on that thread, so native sessions
    /// have one owner. The audio callback only calls Read: no locks, no allocation.
    /// </summary>
    public sealed class AudioPump : IDisposable
    {
        private readonly VoiceMixer _mixer;
        private readonly SampleRing _ring;
        private readonly float[] _block;
        private readonly int _targetLatency;
        private readonly System.Collections.Concurrent.ConcurrentQueue<Action> _jobs =
            new System.Collections.Concurrent.ConcurrentQueue<Action>();
        private readonly System.Collections.Concurrent.ConcurrentQueue<Exception> _errors =
            new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        private Thread _thread;
        private volatile bool _running;
        private long _underruns;

        /// <param name="outputSampleRate">The audio device's rate.</param>
        /// <param name="targetLatency">Samples kept ready in the ring (the added latency).</param>
        /// <param name="blockSize">Samples mixed per step.</param>
        public AudioPump(int outputSampleRate, int targetLatency = 2048, int blockSize = 256)
        {
            if (targetLatency < blockSize || blockSize < 1) throw new ArgumentOutOfRangeException("targetLatency");
            _mixer = new VoiceMixer(outputSampleRate);
            _ring = new SampleRing(targetLatency * 2);
            _block = new float[blockSize];
            _targetLatency = targetLatency;
        }

        public int OutputSampleRate { get { return _mixer.OutputSampleRate; } }
        public SampleRing Ring { get { return _ring; } }
        /// <summary>Audio callbacks that found the ring short (the gap was filled with silence).</summary>
        public long Underruns { get { return Interlocked.Read(ref _underruns); } }
        public bool IsRunning { get { return _running; } }

        /// <summary>Starts the pump thread.</summary>
        public void Start()
        {
            if (_thread != null) return;
            _running = true;
            _thread = new Thread(Loop) { IsBackground = true, Name = "FoleyKit audio pump" };
            _thread.Start();
        }

        private void Loop()
        {
            while (_running)
            {
                Pump();
                Thread.Sleep(1);
            }
        }

        /// <summary>
        /// One step of the pump thread: runs posted jobs, then mixes blocks until the ring holds
        /// targetLatency samples. Returns samples mixed. Call it yourself when not Start()ed.
        /// </summary>
        public int Pump()
        {
            Action job;
            while (_jobs.TryDequeue(out job))
            {
                try { job(); }
                catch (Exception e) { _errors.Enqueue(e); }
            }
            int mixed = 0;
            while (_ring.Available < _targetLatency && _ring.Free >= _block.Length)
            {
                _mixer.Render(_block, 0, _block.Length);
                _ring.Write(_block, 0, _block.Length);
                mixed += _block.Length;
            }
            return mixed;
        }

        /// <summary>Runs job on the pump thread (in order). Any thread.</summary>
        public void Post(Action job)
        {
            if (job == null) throw new ArgumentNullException("job");
            _jobs.Enqueue(job);
        }

        /// <summary>An exception a posted job threw, for the main thread to report.</summary>
        public bool TryTakeError(out Exception error)
        {
            return _errors.TryDequeue(out error);
        }

        /// <summary>
        /// Renders oneShot's sound for (values, seed) on the pump thread and plays it. The
        /// OneShot must be used by the pump thread only from then on. Any thread.
        /// </summary>
        public VoiceHandle PlayOneShot(OneShot oneShot, float[] values, ulong seed, float gain)
        {
            if (oneShot == null) throw new ArgumentNullException("oneShot");
            var handle = new VoiceHandle(gain);
            var copy = values == null ? null : (float[])values.Clone();
            Post(() =>
            {
                try
                {
                    var clip = oneShot.Render(copy, seed);
                    _mixer.Add(new ClipProducer(clip), oneShot.SampleRate, handle);
                }
                catch
                {
                    handle.Finished = true;
                    throw;
                }
            });
            return handle;
        }

        /// <summary>Plays any producer (an AmbienceStream, a ClipProducer) from the pump thread. Any thread.</summary>
        public VoiceHandle Play(ISampleProducer producer, int sourceSampleRate, float gain)
        {
            if (producer == null) throw new ArgumentNullException("producer");
            var handle = new VoiceHandle(gain);
            Post(() => _mixer.Add(producer, sourceSampleRate, handle));
            return handle;
        }

        /// <summary>
        /// The audio callback: count mono samples into output (silence where the ring is short).
        /// Lock-free, no allocation.
        /// </summary>
        public int Read(float[] output, int count)
        {
            int n = _ring.Read(output, 0, count);
            if (n < count)
            {
                Array.Clear(output, n, count - n);
                Interlocked.Increment(ref _underruns);
            }
            return n;
        }

        /// <summary>Stops the pump thread and drops every voice.</summary>
        public void Dispose()
        {
            _running = false;
            var t = _thread;
            _thread = null;
            if (t != null) t.Join();
            Action job;
            while (_jobs.TryDequeue(out job)) { }
            _mixer.Clear();
        }
    }

    /// <summary>Distance attenuation the components use until the engine does spatialization.</summary>
    public static class Attenuation
    {
        /// <summary>1 within minDistance, minDistance/d beyond, 0 past maxDistance.</summary>
        public static float InverseDistance(float distance, float minDistance, float maxDistance)
        {
            if (distance >= maxDistance) return 0f;
            if (distance <= minDistance || minDistance <= 0f) return 1f;
            return minDistance / distance;
        }
    }
}
