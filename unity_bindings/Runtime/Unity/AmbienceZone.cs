#if UNITY_5_3_OR_NEWER
using System;
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// An endless ambience (a step model) around this object. One gameplay parameter (0..1:
    /// storm strength, time of day, crowd size) drives any number of controls through curves;
    /// the level follows the listener's distance to the zone.
    /// </summary>
    [AddComponentMenu("FoleyKit/Ambience Zone")]
    public sealed class AmbienceZone : MonoBehaviour
    {
        [Serializable]
        public struct ParameterBinding
        {
            public string control;
            [Tooltip("parameter (0..1) → control value; clamped to the control's range.")]
            public AnimationCurve curve;
        }

        public FoleyKitModelAsset model;
        public string category = "rain";
        [Range(0f, 1f)] public float parameter = 0.5f;
        public ParameterBinding[] bindings = new ParameterBinding[0];
        public ControlValue[] extraControls = new ControlValue[0];

        [Tooltip("Full level within this radius (m).")]
        public float radius = 10f;
        [Tooltip("Fades to silence over this distance beyond the radius (m).")]
        public float fade = 10f;
        [Range(0f, 4f)] public float gain = 1f;
        [Tooltip("Changes of the parameter smaller than this are not sent.")]
        public float parameterEpsilon = 0.005f;

        private AmbienceStream _stream;
        private VoiceHandle _voice;
        private float _sentParameter = float.NaN;

        private void OnEnable()
        {
            var listener = FoleyKitListener.Instance;
            if (listener == null || model == null) return;
            try
            {
                _stream = new AmbienceStream(model.GetModel(), Controls(), FoleyKitListener.NextSeed());
            }
            catch (Exception e)
            {
                Debug.LogException(e, this);
                enabled = false;
                return;
            }
            _sentParameter = parameter;
            _voice = listener.Play(_stream, _stream.SampleRate, 0f);
        }

        private void Update()
        {
            if (_voice == null) { OnEnable(); return; }
            if (Mathf.Abs(parameter - _sentParameter) > parameterEpsilon)
            {
                _sentParameter = parameter;
                _stream.QueueControls(Controls());
            }
            var listener = FoleyKitListener.Instance;
            float d = listener != null ? Vector3.Distance(listener.transform.position, transform.position) : float.MaxValue;
            float level = d <= radius ? 1f : fade > 0f ? Mathf.Clamp01(1f - (d - radius) / fade) : 0f;
            _voice.Gain = gain * level;
        }

        private void OnDisable()
        {
            // The pump disposes the stream on its own thread once the voice ends.
            if (_voice != null) _voice.Stop();
            _voice = null;
            _stream = null;
        }

        private float[] Controls()
        {
            var set = model.GetModel().CreateControls();
            set.TrySet("category", category);
            for (int i = 0; i < extraControls.Length; i++) extraControls[i].ApplyTo(set);
            for (int i = 0; i < bindings.Length; i++)
                if (bindings[i].curve != null && !string.IsNullOrEmpty(bindings[i].control))
                    set.TrySetClamped(bindings[i].control, bindings[i].curve.Evaluate(parameter));
            return set.ToArray();
        }

        private void OnDrawGizmosSelected()
        {
            Gizmos.color = new Color(0.3f, 0.7f, 1f, 0.5f);
            Gizmos.DrawWireSphere(transform.position, radius);
            Gizmos.DrawWireSphere(transform.position, radius + fade);
        }
    }
}
#endif
