// One SafeHandle per native handle type. The wrappers create them from the IntPtr a
// fk_*_create call returns; the runtime calls ReleaseHandle exactly once (Dispose or the
// finalizer), so disposing twice is safe and a leaked wrapper is still freed.
using System;
using System.Runtime.InteropServices;

namespace FoleyKit
{
    /// <summary>Base of every FoleyKit handle: owns one native object; zero is invalid.</summary>
    public abstract class FoleyKitHandle : SafeHandle
    {
        protected FoleyKitHandle() : base(IntPtr.Zero, true) { }

        protected FoleyKitHandle(IntPtr existing) : base(IntPtr.Zero, true)
        {
            SetHandle(existing);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }
    }

    /// <summary>fk_synth (immutable, shareable between threads).</summary>
    public sealed class SynthHandle : FoleyKitHandle
    {
        private SynthHandle() { }
        internal SynthHandle(IntPtr existing) : base(existing) { }

        protected override bool ReleaseHandle()
        {
            Native.fk_synth_destroy(handle);
            return true;
        }
    }

    /// <summary>fk_stream (one thread at a time).</summary>
    public sealed class StreamHandle : FoleyKitHandle
    {
        private StreamHandle() { }
        internal StreamHandle(IntPtr existing) : base(existing) { }

        protected override bool ReleaseHandle()
        {
            Native.fk_stream_destroy(handle);
            return true;
        }
    }

    /// <summary>fk_model (immutable, shareable). Freed only once its sessions are freed.</summary>
    public sealed class ModelHandle : FoleyKitHandle
    {
        private ModelHandle() { }
        internal ModelHandle(IntPtr existing) : base(existing) { }

        protected override bool ReleaseHandle()
        {
            Native.fk_model_destroy(handle);
            return true;
        }
    }

    /// <summary>
    /// fk_model_session. Holds a reference on its model's handle (DangerousAddRef), so the
    /// C ABI's rule "destroy the model only after its sessions" holds whatever order the
    /// host disposes or finalizes them in.
    /// </summary>
    public sealed class ModelSessionHandle : FoleyKitHandle
    {
        private readonly ModelHandle _model;
        private readonly bool _modelRefAdded;

        private ModelSessionHandle() { }

        /// <summary>Takes a reference on model first; call before creating the native session.</summary>
        internal ModelSessionHandle(ModelHandle model)
        {
            _model = model;
            bool added = false;
            model.DangerousAddRef(ref added);
            _modelRefAdded = added;
        }

        internal void Attach(IntPtr session)
        {
            SetHandle(session);
        }

        protected override bool ReleaseHandle()
        {
            Native.fk_model_session_destroy(handle);
            if (_modelRefAdded)
                _model.DangerousRelease();
            return true;
        }

        /// <summary>Releases the model reference when the native session was never created.</summary>
        internal void AbandonUnattached()
        {
            if (IsInvalid && _modelRefAdded)
                _model.DangerousRelease();
            SetHandleAsInvalid();
        }
    }

    /// <summary>fk_engine (thread rules in foleykit.h; Engine wraps it).</summary>
    public sealed class EngineHandle : FoleyKitHandle
    {
        private EngineHandle() { }
        internal EngineHandle(IntPtr existing) : base(existing) { }

        protected override bool ReleaseHandle()
        {
            Native.fk_engine_destroy(handle);
            return true;
        }
    }
}
