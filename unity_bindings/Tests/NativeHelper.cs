using System;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>P/Invokes into the test-only helper library built from Tests/Native~/foleykit_testhelper.c.</summary>
    internal static class NativeHelper
    {
        private const string Library = "foleykit_testhelper";

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int fkt_call_from_native_thread(NativeMessageCallback callback, IntPtr user, int count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, EntryPoint = "fkt_call_from_native_thread")]
        public static extern int fkt_call_from_native_thread_ptr(IntPtr callback, IntPtr user, int count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int fkt_call_from_native_threads(NativeMessageCallback callback, IntPtr user, int threads, int count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern long fkt_layout(byte[] utf8What);

        public static long Layout(string what)
        {
            return fkt_layout(Utf8.ToNative(what));
        }

        /// <summary>Ignores the test where the helper cannot exist (inside Unity); elsewhere it must load.</summary>
        public static void Require()
        {
#if UNITY_5_3_OR_NEWER
            Assert.Ignore("needs the test-only native helper (Tests/Native~), built by .ci/test-unity, not in Unity");
#else
            try
            {
                Layout("fk_result");
            }
            catch (DllNotFoundException e)
            {
                Assert.Fail("libfoleykit_testhelper is not on the library path (.ci/test-unity builds it into build/unity): " + e.Message);
            }
#endif
        }
    }
}
