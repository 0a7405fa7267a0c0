// Callbacks from native code, done the IL2CPP way: the native side gets a pointer to a
// *static* method marked [MonoPInvokeCallback] plus a void* user pointer that is a GCHandle to
// the managed receiver. Full AOT (IL2CPP, Mono --full-aot) cannot marshal a delegate to an
// instance method or a lambda: there is no native-to-managed thunk for it at run time.
//
// The engine's log and event callbacks (fk_engine_*, later) take this shape:
//   typedef void (*fk_message_callback)(void* user, int32_t code, const char* message);
// and are registered with (NativeCallbacks.MessageFunctionPointer, target.UserData).
using System;
using System.Runtime.InteropServices;
using System.Threading;

#if !UNITY_5_3_OR_NEWER
namespace AOT
{
    /// <summary>
    /// Outside Unity (Mono, .NET): the attribute Mono's AOT compiler looks for by name to
    /// generate a native-to-managed wrapper. In Unity, UnityEngine's AOT.MonoPInvokeCallbackAttribute
    /// is used instead.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type) { Type = type; }
        public Type Type { get; private set; }
    }
}
#endif

namespace FoleyKit
{
    /// <summary>void (*)(void* user, int32_t code, const char* message) — may be called on any native thread.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void NativeMessageCallback(IntPtr user, int code, IntPtr message);

    /// <summary>What receives a native message, on the native thread that raised it.</summary>
    public delegate void MessageHandler(int code, string message);

    /// <summary>
    /// A managed receiver for native callbacks. UserData is the void* to register alongside
    /// NativeCallbacks.MessageFunctionPointer. Dispose only after the native side can no longer
    /// call (unregister first); a call that still arrives after Dispose is dropped, not a crash,
    /// as long as the GCHandle slot was not reused.
    /// </summary>
    public sealed class CallbackTarget : IDisposable
    {
        private readonly MessageHandler _handler;
        private GCHandle _self;
        private int _disposed;
        private long _received;
        private long _failures;
        private Exception _lastFailure;

        public CallbackTarget(MessageHandler handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            _handler = handler;
            _self = GCHandle.Alloc(this, GCHandleType.Normal);
        }

        /// <summary>The void* user pointer for the native registration.</summary>
        public IntPtr UserData
        {
            get
            {
                if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException("CallbackTarget");
                return GCHandle.ToIntPtr(_self);
            }
        }

        /// <summary>Callbacks delivered to the handler.</summary>
        public long Received { get { return Interlocked.Read(ref _received); } }
        /// <summary>Handler exceptions caught at the native boundary (never thrown into native code).</summary>
        public long Failures { get { return Interlocked.Read(ref _failures); } }
        public Exception LastFailure { get { return Volatile.Read(ref _lastFailure); } }

        internal void Deliver(int code, IntPtr message)
        {
            if (Volatile.Read(ref _disposed) != 0) return;
            try
            {
                _handler(code, Utf8.FromNative(message));
                Interlocked.Increment(ref _received);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _failures);
                Volatile.Write(ref _lastFailure, e);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (_self.IsAllocated) _self.Free();
        }
    }

    /// <summary>The static trampolines handed to native code.</summary>
    public static class NativeCallbacks
    {
        // Kept in a static field: the delegate (and the thunk behind the pointer) lives as long
        // as the domain, so native code may keep the pointer.
        private static readonly NativeMessageCallback s_message = OnMessage;
        private static readonly IntPtr s_messagePointer = Marshal.GetFunctionPointerForDelegate(s_message);

        /// <summary>The delegate to pass where a P/Invoke takes a NativeMessageCallback.</summary>
        public static NativeMessageCallback Message { get { return s_message; } }

        /// <summary>The same as a raw function pointer (for structs of callbacks).</summary>
        public static IntPtr MessageFunctionPointer { get { return s_messagePointer; } }

        private static readonly NativeEngineEventCallback s_engineEvent = OnEngineEvent;
        private static readonly IntPtr s_engineEventPointer = Marshal.GetFunctionPointerForDelegate(s_engineEvent);

        /// <summary>fk_engine_event_callback: the user pointer is a GCHandle to the Engine.</summary>
        public static IntPtr EngineEventFunctionPointer { get { return s_engineEventPointer; } }

        [AOT.MonoPInvokeCallback(typeof(NativeEngineEventCallback))]
        private static void OnEngineEvent(IntPtr evt, IntPtr user)
        {
            try
            {
                if (user == IntPtr.Zero) return;
                var engine = GCHandle.FromIntPtr(user).Target as Engine;
                if (engine != null) engine.DeliverEvent(evt);
            }
            catch (Exception)
            {
                // A freed or foreign user pointer; dropped.
            }
        }

        [AOT.MonoPInvokeCallback(typeof(NativeMessageCallback))]
        private static void OnMessage(IntPtr user, int code, IntPtr message)
        {
            // Nothing may escape into native code: an exception here would unwind C frames.
            try
            {
                if (user == IntPtr.Zero) return;
                var target = GCHandle.FromIntPtr(user).Target as CallbackTarget;
                if (target != null) target.Deliver(code, message);
            }
            catch (Exception)
            {
                // A freed or foreign user pointer; dropped.
            }
        }
    }
}
