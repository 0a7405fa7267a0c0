using System;
using System.Threading;

namespace FoleyKit
{
    /// <summary>
    /// Lock-free single-producer single-consumer ring of float samples: one thread writes
    /// (the pump), one thread reads (the audio callback). Neither side allocates or locks.
    /// </summary>
    public sealed class SampleRing
    {
        private readonly float[] _buffer;
        private readonly int _mask;
        private long _written;  // total samples written (producer owns)
        private long _read;     // total samples read (consumer owns)

        /// <summary>capacity is rounded up to a power of two.</summary>
        public SampleRing(int capacity)
        {
            if (capacity < 1) throw new ArgumentOutOfRangeException("capacity");
            int size = 1;
            while (size < capacity) size <<= 1;
            _buffer = new float[size];
            _mask = size - 1;
        }

        public int Capacity { get { return _buffer.Length; } }

        /// <summary>Samples ready to read.</summary>
        public int Available
        {
            get { return (int)(Volatile.Read(ref _written) - Volatile.Read(ref _read)); }
        }

        /// <summary>Room to write.</summary>
        public int Free { get { return _buffer.Length - Available; } }

        /// <summary>Producer: writes up to count samples; returns how many fitted.</summary>
        public int Write(float[] source, int offset, int count)
        {
            long w = _written;
            long r = Volatile.Read(ref _read);
            int n = Math.Min(count, _buffer.Length - (int)(w - r));
            if (n <= 0) return 0;
            int start = (int)(w & _mask);
            int first = Math.Min(n, _buffer.Length - start);
            Array.Copy(source, offset, _buffer, start, first);
            if (n > first) Array.Copy(source, offset + first, _buffer, 0, n - first);
            Volatile.Write(ref _written, w + n);  // publish after the data
            return n;
        }

        /// <summary>Consumer: reads up to count samples; returns how many there were.</summary>
        public int Read(float[] destination, int offset, int count)
        {
            long r = _read;
            long w = Volatile.Read(ref _written);
            int n = Math.Min(count, (int)(w - r));
            if (n <= 0) return 0;
            int start = (int)(r & _mask);
            int first = Math.Min(n, _buffer.Length - start);
            Array.Copy(_buffer, start, destination, offset, first);
            if (n > first) Array.Copy(_buffer, 0, destination, offset + first, n - first);
            Volatile.Write(ref _read, r + n);  // release the space after copying out
            return n;
        }
    }
}
