using System;
using System.Runtime.InteropServices;
using System.Text;

namespace FoleyKit
{
    /// <summary>UTF-8 strings across the C ABI, the same on Mono, IL2CPP and .NET.</summary>
    internal static class Utf8
    {
        /// <summary>A NUL-terminated UTF-8 copy of s.</summary>
        internal static byte[] ToNative(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            int n = Encoding.UTF8.GetByteCount(s);
            var bytes = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string; null for a null pointer.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            if (n == 0) return string.Empty;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
