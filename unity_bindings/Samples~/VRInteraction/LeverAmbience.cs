using FoleyKit.Unity;
using UnityEngine;

namespace FoleyKit.Samples.VRInteraction
{
    /// <summary>
    /// A lever the player pulls (a HingeJoint with limits) that drives an AmbienceZone's
    /// parameter: pull it to turn the rain (or wind) up.
    /// </summary>
    [RequireComponent(typeof(HingeJoint))]
    public sealed class LeverAmbience : MonoBehaviour
    {
        public AmbienceZone zone;
        [Tooltip("Smoothing of the parameter, in seconds.")]
        public float smoothing = 0.2f;

        private HingeJoint _hinge;

        private void Awake()
        {
            _hinge = GetComponent<HingeJoint>();
        }

        private void Update()
        {
            if (zone == null || _hinge == null) return;
            var limits = _hinge.limits;
            float range = limits.max - limits.min;
            float target = range > 0f ? Mathf.Clamp01((_hinge.angle - limits.min) / range) : 0f;
            float k = smoothing > 0f ? 1f - Mathf.Exp(-Time.deltaTime / smoothing) : 1f;
            zone.parameter = Mathf.Lerp(zone.parameter, target, k);
        }
    }
}
