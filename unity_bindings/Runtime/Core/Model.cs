using System;
using System.Collections.Generic;
using System.Text;

namespace FoleyKit
{
    /// <summary>One control of a model's schema (fk_control_info), decoded once at load.</summary>
    public sealed class ControlInfo
    {
        internal ControlInfo(int index, string name, bool categorical, string[] choices, float low, float high,
            bool logScale, float defaultValue, string unit)
        {
            Index = index;
            Name = name;
            IsCategorical = categorical;
            _choices = choices;
            Low = low;
            High = high;
            LogScale = logScale;
            DefaultValue = defaultValue;
            Unit = unit ?? string.Empty;
        }

        private readonly string[] _choices;

        /// <summary>Position in the schema: the index of this control's float in a values array.</summary>
        public int Index { get; private set; }
        public string Name { get; private set; }
        public bool IsCategorical { get; private set; }
        /// <summary>Categorical: the choice names, in index order. Empty for continuous controls.</summary>
        public IList<string> Choices { get { return Array.AsReadOnly(_choices); } }
        /// <summary>Continuous: the allowed range, inclusive.</summary>
        public float Low { get; private set; }
        public float High { get; private set; }
        public bool LogScale { get; private set; }
        /// <summary>The default value, or the default choice's index.</summary>
        public float DefaultValue { get; private set; }
        public string Unit { get; private set; }

        /// <summary>Index of a choice by name, or -1.</summary>
        public int ChoiceIndex(string choice)
        {
            return Array.IndexOf(_choices, choice);
        }

        /// <summary>"one of wood, metal" or "a value in [0.2, 10] m/s".</summary>
        public string Allowed()
        {
            if (IsCategorical) return "one of " + string.Join(", ", _choices);
            string unit = Unit.Length > 0 ? " " + Unit : string.Empty;
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, "a value in [{0}, {1}]{2}", Low, High, unit);
        }

        /// <summary>The nearest allowed value: clamps continuous values, rounds and clamps choice indices.</summary>
        public float Clamp(float value)
        {
            if (float.IsNaN(value)) return DefaultValue;
            if (IsCategorical)
                return Math.Max(0, Math.Min(_choices.Length - 1, (int)Math.Round(value)));
            return Math.Max(Low, Math.Min(High, value));
        }

        /// <summary>Throws ArgumentOutOfRangeException naming this control when value is not allowed.</summary>
        public void Validate(float value)
        {
            if (IsCategorical)
            {
                if (float.IsNaN(value) || value != Math.Floor(value) || value < 0 || value >= _choices.Length)
                    throw new ArgumentOutOfRangeException(Name, value, string.Format(
                        "control '{0}' takes a choice index 0..{1} ({2}); got {3}", Name, _choices.Length - 1,
                        Allowed(), value));
            }
            else if (float.IsNaN(value) || float.IsInfinity(value) || value < Low || value > High)
            {
                throw new ArgumentOutOfRangeException(Name, value, string.Format(
                    System.Globalization.CultureInfo.InvariantCulture,
                    "control '{0}' takes {1}; got {2}", Name, Allowed(), value));
            }
        }

        public override string ToString()
        {
            return Name + ": " + Allowed();
        }
    }

    /// <summary>
    /// A loaded model file (.fkm, fk_model_*): immutable, shareable between threads. Its
    /// sessions keep its native memory alive, so disposing the Model while a session is in
    /// use is safe (the native model is freed with the last session).
    /// </summary>
    public sealed class Model : IDisposable
    {
        private readonly ModelHandle _handle;
        private readonly ModelInfo _info;
        private readonly ControlInfo[] _controls;
        private readonly Dictionary<string, ControlInfo> _byName;

        private Model(IntPtr handle)
        {
            _handle = new ModelHandle(handle);
            try
            {
                ModelInfo info;
                FoleyKitException.Check(Native.fk_model_get_info(_handle, out info), "fk_model_get_info");
                _info = info;
                _controls = new ControlInfo[info.ControlCount];
                _byName = new Dictionary<string, ControlInfo>(StringComparer.Ordinal);
                for (int i = 0; i < info.ControlCount; i++)
                {
                    NativeControlInfo c;
                    FoleyKitException.Check(Native.fk_model_get_control(_handle, i, out c), "fk_model_get_control");
                    var choices = new string[c.Categorical != 0 ? c.ChoiceCount : 0];
                    for (int k = 0; k < choices.Length; k++)
                        choices[k] = Utf8.FromNative(Native.fk_model_control_choice(_handle, i, k)) ?? string.Empty;
                    var ci = new ControlInfo(i, Utf8.FromNative(c.Name) ?? string.Empty, c.Categorical != 0, choices,
                        c.Low, c.High, c.LogScale != 0, c.DefaultValue, Utf8.FromNative(c.Unit));
                    _controls[i] = ci;
                    _byName[ci.Name] = ci;
                }
            }
            catch
            {
                _handle.Dispose();
                throw;
            }
        }

        /// <summary>Loads and checks a .fkm file (fk_model_load).</summary>
        public static Model Load(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            IntPtr p;
            FoleyKitException.Check(Native.fk_model_load(Utf8.ToNative(path), out p), "fk_model_load");
            return new Model(p);
        }

        /// <summary>Loads a .fkm file's bytes (fk_model_load_memory; the bytes are copied).</summary>
        public static Model LoadFromMemory(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            if (data.Length == 0) throw new ArgumentException("model data is empty", "data");
            IntPtr p;
            FoleyKitException.Check(Native.fk_model_load_memory(data, new UIntPtr((ulong)data.Length), out p),
                "fk_model_load_memory");
            return new Model(p);
        }

        public ModelHandle Handle { get { return _handle; } }
        public ModelInfo Info { get { return _info; } }
        public ModelMode Mode { get { return _info.Mode; } }
        public int SampleRate { get { return (int)_info.Spectrogram.SampleRate; } }
        public IList<ControlInfo> Controls { get { return Array.AsReadOnly(_controls); } }

        public bool TryGetControl(string name, out ControlInfo control)
        {
            if (name == null) { control = null; return false; }
            return _byName.TryGetValue(name, out control);
        }

        /// <summary>The control called name; ArgumentException naming it (and the known ones) if none.</summary>
        public ControlInfo GetControl(string name)
        {
            ControlInfo c;
            if (!TryGetControl(name, out c))
                throw new ArgumentException(string.Format("model has no control '{0}'; its controls are: {1}",
                    name, ControlNames()), "name");
            return c;
        }

        private string ControlNames()
        {
            var sb = new StringBuilder();
            for (int i = 0; i < _controls.Length; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(_controls[i].Name);
            }
            return sb.ToString();
        }

        /// <summary>Every control's default (fk_model_default_controls), in schema order.</summary>
        public float[] DefaultValues()
        {
            var values = new float[_controls.Length];
            FoleyKitException.Check(Native.fk_model_default_controls(_handle, values, values.Length),
                "fk_model_default_controls");
            return values;
        }

        /// <summary>A control set at the defaults, to fill by name.</summary>
        public ControlSet CreateControls()
        {
            return new ControlSet(this);
        }

        /// <summary>
        /// The values array for controls by name (the rest at their defaults). A value is a
        /// number (continuous value, or a categorical choice's index) or a string (a
        /// categorical choice's name). Unknown names and values out of range throw, naming the
        /// control and what it allows.
        /// </summary>
        public float[] EncodeControls(IEnumerable<KeyValuePair<string, object>> controls)
        {
            var set = CreateControls();
            if (controls != null)
                foreach (var kv in controls)
                    set.Set(kv.Key, kv.Value);
            return set.ToArray();
        }

        public ModelSession CreateSession()
        {
            return new ModelSession(this);
        }

        public void Dispose()
        {
            _handle.Dispose();
        }
    }

    /// <summary>Control values by name for one model, checked as they are set.</summary>
    public sealed class ControlSet
    {
        private readonly Model _model;
        private readonly float[] _values;

        internal ControlSet(Model model)
        {
            _model = model;
            _values = model.DefaultValues();
        }

        public Model Model { get { return _model; } }

        /// <summary>The values in schema order (live: later Set calls change it).</summary>
        public float[] Values { get { return _values; } }

        public float[] ToArray()
        {
            return (float[])_values.Clone();
        }

        public float this[string name]
        {
            get { return _values[_model.GetControl(name).Index]; }
            set { Set(name, value); }
        }

        /// <summary>Sets a continuous value, or a categorical choice by index.</summary>
        public ControlSet Set(string name, float value)
        {
            var c = _model.GetControl(name);
            c.Validate(value);
            _values[c.Index] = value;
            return this;
        }

        /// <summary>Sets a categorical control's choice by name.</summary>
        public ControlSet Set(string name, string choice)
        {
            var c = _model.GetControl(name);
            if (!c.IsCategorical)
                throw new ArgumentException(string.Format(
                    "control '{0}' is continuous ({1}); got the choice name '{2}'", name, c.Allowed(), choice), name);
            int k = c.ChoiceIndex(choice);
            if (k < 0)
                throw new ArgumentException(string.Format(
                    "control '{0}' has no choice '{1}'; it takes {2}", name, choice, c.Allowed()), name);
            _values[c.Index] = k;
            return this;
        }

        /// <summary>Sets from a boxed number or string (dictionary input).</summary>
        public ControlSet Set(string name, object value)
        {
            if (value == null) throw new ArgumentNullException(name, "control '" + name + "' has a null value");
            var s = value as string;
            if (s != null) return Set(name, s);
            if (value is IConvertible && !(value is bool) && !(value is char))
                return Set(name, Convert.ToSingle(value, System.Globalization.CultureInfo.InvariantCulture));
            throw new ArgumentException(string.Format(
                "control '{0}' needs a number or a choice name; got a {1}", name, value.GetType().Name), name);
        }

        /// <summary>Sets the nearest allowed value (continuous: clamped). For gameplay input.</summary>
        public ControlSet SetClamped(string name, float value)
        {
            var c = _model.GetControl(name);
            _values[c.Index] = c.Clamp(value);
            return this;
        }

        /// <summary>Sets only when the model has this control (and this choice); returns whether it did.</summary>
        public bool TrySet(string name, string choice)
        {
            ControlInfo c;
            if (!_model.TryGetControl(name, out c) || !c.IsCategorical) return false;
            int k = c.ChoiceIndex(choice);
            if (k < 0) return false;
            _values[c.Index] = k;
            return true;
        }

        public bool TrySetClamped(string name, float value)
        {
            ControlInfo c;
            if (!_model.TryGetControl(name, out c)) return false;
            _values[c.Index] = c.Clamp(value);
            return true;
        }
    }

    /// <summary>A clip of log-mel frames: Data[t * Mels + r] for t &lt; Frames.</summary>
    public sealed class LogMelClip
    {
        public LogMelClip(float[] data, int frames, int mels)
        {
            Data = data;
            Frames = frames;
            Mels = mels;
        }

        public float[] Data { get; private set; }
        public int Frames { get; private set; }
        public int Mels { get; private set; }
    }

    /// <summary>
    /// Everything one inference needs (fk_model_session): generating allocates nothing
    /// natively. One thread at a time.
    /// </summary>
    public sealed class ModelSession : IDisposable
    {
        private readonly Model _model;
        private readonly ModelSessionHandle _handle;

        internal ModelSession(Model model)
        {
            _model = model;
            var h = new ModelSessionHandle(model.Handle);
            IntPtr p;
            FkResult r;
            try
            {
                r = Native.fk_model_session_create(model.Handle, out p);
            }
            catch
            {
                h.AbandonUnattached();
                throw;
            }
            if (r != FkResult.Ok)
            {
                string message = FoleyKitLibrary.LastError;
                h.AbandonUnattached();
                throw new FoleyKitException(r, "fk_model_session_create", message);
            }
            h.Attach(p);
            _handle = h;
        }

        public Model Model { get { return _model; } }
        public ModelSessionHandle Handle { get { return _handle; } }

        private int CheckValues(float[] values)
        {
            if (values == null) return 0;
            if (values.Length != _model.Info.ControlCount)
                throw new ArgumentException(string.Format("the model has {0} controls; got {1} values",
                    _model.Info.ControlCount, values.Length), "values");
            return values.Length;
        }

        /// <summary>
        /// One-shot models: the log-mel clip for (values, seed) into logMel (at least
        /// MaxFrames * n_mels floats); returns the frames written. values null: defaults.
        /// </summary>
        public int Generate(float[] values, ulong seed, float[] logMel)
        {
            if (logMel == null) throw new ArgumentNullException("logMel");
            int mels = _model.Info.Spectrogram.NMels;
            int n = CheckValues(values);
            int frames;
            FoleyKitException.Check(Native.fk_model_generate(_handle, values, n, seed, logMel,
                mels > 0 ? logMel.Length / mels : 0, out frames), "fk_model_generate");
            return frames;
        }

        /// <summary>One-shot models: a new clip for (values, seed).</summary>
        public LogMelClip Generate(float[] values, ulong seed)
        {
            var info = _model.Info;
            var buffer = new float[Math.Max(1, info.MaxFrames) * info.Spectrogram.NMels];
            int frames = Generate(values, seed, buffer);
            Array.Resize(ref buffer, frames * info.Spectrogram.NMels);
            return new LogMelClip(buffer, frames, info.Spectrogram.NMels);
        }

        /// <summary>Step models: starts a stream (silence as context) for (values, seed).</summary>
        public void StreamReset(float[] values, ulong seed)
        {
            int n = CheckValues(values);
            FoleyKitException.Check(Native.fk_model_stream_reset(_handle, values, n, seed), "fk_model_stream_reset");
        }

        /// <summary>Step models: new control values from the next frame on.</summary>
        public void StreamSetControls(float[] values)
        {
            if (values == null) throw new ArgumentNullException("values");
            int n = CheckValues(values);
            FoleyKitException.Check(Native.fk_model_stream_set_controls(_handle, values, n),
                "fk_model_stream_set_controls");
        }

        /// <summary>Step models: the next nFrames log-mel frames into logMel (frame-major).</summary>
        public void StreamNext(float[] logMel, int nFrames)
        {
            if (logMel == null) throw new ArgumentNullException("logMel");
            if (nFrames < 0 || (long)nFrames * _model.Info.Spectrogram.NMels > logMel.Length)
                throw new ArgumentException("logMel is smaller than nFrames x n_mels", "logMel");
            FoleyKitException.Check(Native.fk_model_stream_next(_handle, logMel, nFrames), "fk_model_stream_next");
        }

        public void Dispose()
        {
            if (_handle != null) _handle.Dispose();
        }
    }
}
