// The native engine (fk_engine_*): voices of loaded models mixed into the host's audio callback.
// Game threads call Trigger/Start/SetControls/SetVoiceGain/Stop (each validates, queues and
// returns); engine worker threads make the sound and deliver events; one audio thread calls
// Render. See the engine section of foleykit.h for the full thread rules.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace FoleyKit
{
    /// <summary>Receives engine events on the engine's worker thread 0 (never the audio thread).</summary>
    public delegate void EngineEventHandler(EngineEvent evt);

    /// <summary>void (*)(const fk_engine_event* event, void* user_data).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void NativeEngineEventCallback(IntPtr evt, IntPtr user);

    /// <summary>
    /// A FoleyKit engine. Thread rules: Trigger/Start/SetControls/SetVoiceGain/Stop/PollEvent/
    /// AddModel/Sync from any thread but the audio thread; Render from one audio thread only.
    /// Dispose only when no other thread is inside a call (Render included); disposing twice
    /// is safe.
    /// </summary>
    public sealed class Engine : IDisposable
    {
        private readonly EngineHandle _handle;
        private readonly EngineConfig _config;
        private readonly List<Model> _models = new List<Model>();
        private readonly object _gate = new object();
        private EngineEventHandler _handler;
        private GCHandle _self;
        private long _callbackFailures;
        private Exception _lastCallbackFailure;
        private int _disposed;

        /// <summary>An engine with fk_engine_config_default() (48 kHz stereo).</summary>
        public Engine() : this(EngineConfig.Default) { }

        /// <summary>Creates the engine and starts its worker threads. Throws with the native message (the bad field).</summary>
        public Engine(EngineConfig config)
        {
            IntPtr p;
            var r = Native.fk_engine_create(ref config, out p);
            if (r != FkResult.Ok || p == IntPtr.Zero)
            {
                if (p != IntPtr.Zero) Native.fk_engine_destroy(p);
                FoleyKitException.Check(r == FkResult.Ok ? FkResult.Internal : r, "fk_engine_create");
            }
            _handle = new EngineHandle(p);
            _config = config;
        }

        public EngineHandle Handle { get { return _handle; } }
        /// <summary>The configuration the engine was created with.</summary>
        public EngineConfig Config { get { return _config; } }
        public int SampleRate { get { return _config.SampleRate; } }
        public int Channels { get { return _config.Channels; } }

        /// <summary>
        /// Registers a model and returns its id (0, 1, ... in order). The engine keeps the model
        /// (natively and this object) alive. Refuses a model whose sample rate differs from the
        /// engine's ("wrong sample rate"), an over-long one-shot, or more than MaxModels.
        /// </summary>
        public int AddModel(Model model)
        {
            if (model == null) throw new ArgumentNullException("model");
            int id;
            FoleyKitException.Check(Native.fk_engine_add_model(_handle, model.Handle, out id), "fk_engine_add_model");
            lock (_models)
            {
                while (_models.Count <= id) _models.Add(null);
                _models[id] = model;
            }
            return id;
        }

        /// <summary>The model registered under id, or null.</summary>
        public Model GetModel(int modelId)
        {
            lock (_models)
                return modelId >= 0 && modelId < _models.Count ? _models[modelId] : null;
        }

        /// <summary>The voice's model id (the low 16 bits of a voice id).</summary>
        public static int ModelOf(ulong voice)
        {
            return (int)(voice & 0xffff);
        }

        // ---- voices ---------------------------------------------------------------------

        /// <summary>
        /// Plays a one-shot model's sound. values: control_count floats in schema order, or
        /// null for the defaults. gain in [0, 16]; pan in [-1, 1]. Returns the voice id.
        /// </summary>
        public ulong Trigger(int modelId, float[] values, ulong seed, float gain = 1f, float pan = 0f,
            EngineQuality quality = EngineQuality.Auto)
        {
            ulong voice;
            FoleyKitException.Check(Native.fk_engine_trigger(_handle, modelId, values, values == null ? 0 : values.Length,
                seed, gain, pan, quality, out voice), "fk_engine_trigger");
            return voice;
        }

        public ulong Trigger(int modelId, ControlSet controls, ulong seed, float gain = 1f, float pan = 0f,
            EngineQuality quality = EngineQuality.Auto)
        {
            return Trigger(modelId, controls == null ? null : controls.Values, seed, gain, pan, quality);
        }

        /// <summary>Controls by name (the rest at their defaults); see Model.EncodeControls.</summary>
        public ulong Trigger(int modelId, IDictionary<string, object> controls, ulong seed, float gain = 1f,
            float pan = 0f, EngineQuality quality = EngineQuality.Auto)
        {
            return Trigger(modelId, Encode(modelId, controls), seed, gain, pan, quality);
        }

        /// <summary>Starts an ambience (step) model's endless stream; otherwise as Trigger.</summary>
        public ulong Start(int modelId, float[] values, ulong seed, float gain = 1f, float pan = 0f,
            EngineQuality quality = EngineQuality.Auto)
        {
            ulong voice;
            FoleyKitException.Check(Native.fk_engine_start(_handle, modelId, values, values == null ? 0 : values.Length,
                seed, gain, pan, quality, out voice), "fk_engine_start");
            return voice;
        }

        public ulong Start(int modelId, ControlSet controls, ulong seed, float gain = 1f, float pan = 0f,
            EngineQuality quality = EngineQuality.Auto)
        {
            return Start(modelId, controls == null ? null : controls.Values, seed, gain, pan, quality);
        }

        public ulong Start(int modelId, IDictionary<string, object> controls, ulong seed, float gain = 1f,
            float pan = 0f, EngineQuality quality = EngineQuality.Auto)
        {
            return Start(modelId, Encode(modelId, controls), seed, gain, pan, quality);
        }

        /// <summary>New control values for a playing ambience (control_count floats in schema order).</summary>
        public void SetControls(ulong voice, float[] values)
        {
            FoleyKitException.Check(Native.fk_engine_set_controls(_handle, voice, values, values == null ? 0 : values.Length),
                "fk_engine_set_controls");
        }

        public void SetControls(ulong voice, ControlSet controls)
        {
            SetControls(voice, controls == null ? null : controls.Values);
        }

        public void SetControls(ulong voice, IDictionary<string, object> controls)
        {
            SetControls(voice, Encode(ModelOf(voice), controls));
        }

        /// <summary>New gain and pan for any voice, glided over 5 ms.</summary>
        public void SetVoiceGain(ulong voice, float gain, float pan = 0f)
        {
            FoleyKitException.Check(Native.fk_engine_set_voice_gain(_handle, voice, gain, pan), "fk_engine_set_voice_gain");
        }

        /// <summary>Fades a voice out over fadeMs (0..60000; at least 1 ms) and ends it.</summary>
        public void Stop(ulong voice, float fadeMs = 10f)
        {
            FoleyKitException.Check(Native.fk_engine_stop(_handle, voice, fadeMs), "fk_engine_stop");
        }

        private float[] Encode(int modelId, IDictionary<string, object> controls)
        {
            if (controls == null) return null;
            var model = GetModel(modelId);
            // An unknown id goes to the native call, which names it.
            return model == null ? null : model.EncodeControls(controls);
        }

        // ---- audio thread -----------------------------------------------------------------

        /// <summary>
        /// Mixes frames frames of every voice into interleaved (frames * Channels floats),
        /// overwriting them. The audio thread, one at a time. No allocation: the array is pinned
        /// for the call. Throws only for bad arguments.
        /// </summary>
        public void Render(float[] interleaved, int frames)
        {
            var r = TryRender(interleaved, frames);
            if (r != FkResult.Ok) throw new FoleyKitException(r, "fk_engine_render", string.Empty);
        }

        /// <summary>Render without exceptions, for audio callbacks: returns the fk_result.</summary>
        public FkResult TryRender(float[] interleaved, int frames)
        {
            if (interleaved == null || frames < 0 || (long)frames * _config.Channels > interleaved.Length)
                return FkResult.InvalidArgument;
            if (Volatile.Read(ref _disposed) != 0) return FkResult.InvalidArgument;
            try
            {
                return Native.fk_engine_render(_handle, interleaved, frames);
            }
            catch (ObjectDisposedException)
            {
                // Disposed by another thread since the check: the SafeHandle refused the call.
                return FkResult.InvalidArgument;
            }
        }

        // ---- events, stats, sync ------------------------------------------------------------

        /// <summary>Takes the oldest event; false when none is waiting (or a handler is set, which takes them).</summary>
        public bool TryPollEvent(out EngineEvent evt)
        {
            return Native.fk_engine_poll_event(_handle, out evt) != 0;
        }

        /// <summary>Drains waiting events into the list; returns how many were added.</summary>
        public int PollEvents(List<EngineEvent> into)
        {
            if (into == null) throw new ArgumentNullException("into");
            int n = 0;
            EngineEvent e;
            while (TryPollEvent(out e)) { into.Add(e); n++; }
            return n;
        }

        public EngineStats Stats
        {
            get
            {
                EngineStats s;
                FoleyKitException.Check(Native.fk_engine_get_stats(_handle, out s), "fk_engine_get_stats");
                return s;
            }
        }

        /// <summary>
        /// Blocks until every voice asked for so far is prepared and every ambience ring is
        /// full: true when so, false after timeoutMs. Offline rendering and tests; not on the
        /// audio thread.
        /// </summary>
        public bool Sync(int timeoutMs)
        {
            return Native.fk_engine_sync(_handle, timeoutMs) != 0;
        }

        /// <summary>Handler exceptions caught at the native boundary (never thrown into native code).</summary>
        public long CallbackFailures { get { return Interlocked.Read(ref _callbackFailures); } }
        public Exception LastCallbackFailure { get { return Volatile.Read(ref _lastCallbackFailure); } }

        /// <summary>
        /// Events go to handler, on the engine's worker thread 0, instead of TryPollEvent; null
        /// goes back to polling. Returns once no call to the previous handler is in progress.
        /// The handler must not call SetEventHandler or Dispose. While a handler is set the
        /// engine holds a GCHandle to this object: Dispose (or SetEventHandler(null)) it, the
        /// finalizer cannot run before.
        /// </summary>
        public void SetEventHandler(EngineEventHandler handler)
        {
            lock (_gate)
            {
                if (handler != null)
                {
                    if (!_self.IsAllocated) _self = GCHandle.Alloc(this, GCHandleType.Normal);
                    _handler = handler;
                    FoleyKitException.Check(Native.fk_engine_set_event_callback(_handle,
                        NativeCallbacks.EngineEventFunctionPointer, GCHandle.ToIntPtr(_self)), "fk_engine_set_event_callback");
                }
                else
                {
                    var r = Native.fk_engine_set_event_callback(_handle, IntPtr.Zero, IntPtr.Zero);
                    _handler = null;
                    if (_self.IsAllocated) _self.Free();
                    FoleyKitException.Check(r, "fk_engine_set_event_callback");
                }
            }
        }

        internal void DeliverEvent(IntPtr evt)
        {
            var handler = _handler;
            if (handler == null || evt == IntPtr.Zero) return;
            try
            {
                handler((EngineEvent)Marshal.PtrToStructure(evt, typeof(EngineEvent)));
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _callbackFailures);
                Volatile.Write(ref _lastCallbackFailure, e);
            }
        }

        /// <summary>Stops the workers and frees the engine; safe twice.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (_gate)
            {
                if (_self.IsAllocated)
                {
                    if (!_handle.IsClosed) Native.fk_engine_set_event_callback(_handle, IntPtr.Zero, IntPtr.Zero);
                    _handler = null;
                    _self.Free();
                }
            }
            _handle.Dispose();
            lock (_models) _models.Clear();
        }
    }
}
