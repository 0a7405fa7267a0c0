// Every P/Invoke declaration of the FoleyKit C ABI (native/include/foleykit/foleykit.h), and
// nothing else. Keep it in the header's order; a new header section becomes a new region here,
// a SafeHandle in Handles.cs and a thin wrapper class.
//
// Rules that keep this IL2CPP/AOT-safe and portable:
//  - Handles are returned as IntPtr and wrapped in their SafeHandle at once by the wrapper; they
//    are passed back in as the SafeHandle (the marshaller holds a reference for the call).
//  - Strings go in as NUL-terminated UTF-8 byte[] (Utf8.ToNative) and come out as IntPtr decoded
//    by Utf8.FromNative: the default string marshalling is ANSI on Windows .NET and differs
//    between Mono and IL2CPP.
//  - Only blittable arguments: primitives, enums over int, float[] (pinned for the call) and
//    the config/info structs below, whose layout matches the C header on 64-bit targets
//    (checked against the C compiler's sizeof/offsetof by the test suite).
//  - Callbacks: static methods marked [MonoPInvokeCallback], user state through a GCHandle
//    (see NativeCallbacks.cs). Never a delegate to an instance method.
using System;
using System.Runtime.InteropServices;

namespace FoleyKit
{
    internal static class Native
    {
#if (UNITY_IOS || UNITY_WEBGL) && !UNITY_EDITOR
        // Statically linked into the player: iOS (libfoleykit.a) and WebGL.
        internal const string Library = "__Internal";
#else
        // libfoleykit.so (Linux, Android), foleykit.dll (Windows), libfoleykit.dylib (macOS).
        internal const string Library = "foleykit";
#endif
        internal const CallingConvention Call = CallingConvention.Cdecl;

        // ---- library -------------------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern IntPtr fk_version();

        [DllImport(Library, CallingConvention = Call)]
        internal static extern IntPtr fk_result_string(FkResult result);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern IntPtr fk_last_error();

        // ---- spectrogram settings ------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern SynthConfig fk_synth_config_default();

        // ---- one-call synthesis --------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_synth_create(ref SynthConfig config, out IntPtr synth);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_synth_destroy(IntPtr synth);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern long fk_synth_output_length(SynthHandle synth, int nFrames);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_synth_render(SynthHandle synth, float[] spec, int rows,
            int nFrames, SpecKind kind, PhaseMethod method, int nIter, ulong seed,
            float[] output, long capacity, out long outLen);

        // ---- streaming synthesis -------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern StreamConfig fk_stream_config_default();

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_stream_create(ref StreamConfig config, out IntPtr stream);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_stream_destroy(IntPtr stream);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_stream_frame_rows(StreamHandle stream);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_stream_latency_samples(StreamHandle stream);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_stream_push(StreamHandle stream, float[] frames, int nFrames,
            float[] output, int capacity, out int outWritten);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_stream_flush(StreamHandle stream, float[] output, int capacity,
            out int outWritten);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_stream_reset(StreamHandle stream);

        // ---- models --------------------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_load(byte[] utf8Path, out IntPtr model);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_load_memory(byte[] data, UIntPtr size, out IntPtr model);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_model_destroy(IntPtr model);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_get_info(ModelHandle model, out ModelInfo info);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_get_control(ModelHandle model, int index, out NativeControlInfo info);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern IntPtr fk_model_control_choice(ModelHandle model, int control, int choice);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_model_find_control(ModelHandle model, byte[] utf8Name);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_model_find_choice(ModelHandle model, int control, byte[] utf8Choice);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_default_controls(ModelHandle model, float[] values, int capacity);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_session_create(ModelHandle model, out IntPtr session);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_model_session_destroy(IntPtr session);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_generate(ModelSessionHandle session, float[] values, int nValues,
            ulong seed, float[] logMel, int capacityFrames, out int outFrames);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_stream_reset(ModelSessionHandle session, float[] values, int nValues,
            ulong seed);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_stream_set_controls(ModelSessionHandle session, float[] values,
            int nValues);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_model_stream_next(ModelSessionHandle session, float[] logMel, int nFrames);

        // ---- engine --------------------------------------------------------------------
        [DllImport(Library, CallingConvention = Call)]
        internal static extern EngineConfig fk_engine_config_default();

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_create(ref EngineConfig config, out IntPtr engine);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern void fk_engine_destroy(IntPtr engine);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_add_model(EngineHandle engine, ModelHandle model, out int modelId);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_trigger(EngineHandle engine, int modelId, float[] values, int nValues,
            ulong seed, float gain, float pan, EngineQuality quality, out ulong voice);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_start(EngineHandle engine, int modelId, float[] values, int nValues,
            ulong seed, float gain, float pan, EngineQuality quality, out ulong voice);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_set_controls(EngineHandle engine, ulong voice, float[] values, int nValues);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_set_voice_gain(EngineHandle engine, ulong voice, float gain, float pan);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_stop(EngineHandle engine, ulong voice, float fadeMs);

        // float[] is blittable: pinned for the call, never copied, no allocation.
        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_render(EngineHandle engine, float[] output, int frames);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_engine_poll_event(EngineHandle engine, out EngineEvent evt);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_set_event_callback(EngineHandle engine, IntPtr callback, IntPtr user);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern FkResult fk_engine_get_stats(EngineHandle engine, out EngineStats stats);

        [DllImport(Library, CallingConvention = Call)]
        internal static extern int fk_engine_sync(EngineHandle engine, int timeoutMs);
    }

    /// <summary>fk_control_info as the C ABI lays it out; Model turns it into ControlInfo.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeControlInfo
    {
        public IntPtr Name;
        public int Categorical;
        public int ChoiceCount;
        public float Low;
        public float High;
        public int LogScale;
        public float DefaultValue;
        public IntPtr Unit;
    }
}
