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

        [Tooltip("Fade-out when the zone is disabled (ms).")]
        public float stopFadeMs = 250f;

        private ulong _voice;
        private float _sentParameter = float.NaN;
        private float _sentGain = -1f;

        /// <summary>The engine voice playing this zone (0 when none).</summary>
        public ulong Voice { get { return _voice; } }

        private void OnEnable()
        {
            var listener = FoleyKitListener.Instance;
            if (listener == null || model == null) return;
            float[] controls;
            try
            {
                controls = Controls();
            }
            catch (Exception e)
            {
                Debug.LogException(e, this);
                enabled = false;
                return;
            }
            _sentParameter = parameter;
            _sentGain = 0f;
            // Starts silent; Update sets the distance gain (glided by the engine).
            _voice = listener.StartAmbience(model, controls, FoleyKitListener.NextSeed(), 0f);
            if (_voice == 0) enabled = false;  // refused (logged by the listener)
        }

        private void Update()
        {
            var listener = FoleyKitListener.Instance;
            if (_voice == 0) { OnEnable(); return; }
            if (listener == null) return;
            if (Mathf.Abs(parameter - _sentParameter) > parameterEpsilon)
            {
                _sentParameter = parameter;
                listener.SetControls(_voice, Controls());
            }
            float d = Vector3.Distance(listener.transform.position, transform.position);
            float level = d <= radius ? 1f : fade > 0f ? Mathf.Clamp01(1f - (d - radius) / fade) : 0f;
            float g = gain * level;
            if (Mathf.Abs(g - _sentGain) > 1e-3f)
            {
                _sentGain = g;
                listener.SetVoiceGain(_voice, g);
            }
        }

        private void OnDisable()
        {
            var listener = FoleyKitListener.Instance;
            if (_voice != 0 && listener != null) listener.Stop(_voice, stopFadeMs);
            _voice = 0;
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
