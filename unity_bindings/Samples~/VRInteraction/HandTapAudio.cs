using FoleyKit.Unity;
using UnityEngine;

namespace FoleyKit.Samples.VRInteraction
{
    /// <summary>
    /// Taps and knocks: put it on a hand (a trigger collider that follows the controller). Touching
    /// a surface plays an impact whose velocity is the hand's speed and whose material is the
    /// surface's.
    /// </summary>
    public sealed class HandTapAudio : MonoBehaviour
    {
        public FoleyKitModelAsset model;
        public MaterialChoice[] materials = new MaterialChoice[0];
        public string defaultMaterial = "wood";
        [Tooltip("Knuckles are small: the impact.size control, in metres.")]
        public float size = 0.08f;
        public float minSpeed = 0.2f;
        public float cooldown = 0.08f;
        [Range(0f, 2f)] public float gain = 0.8f;

        private Vector3 _lastPosition;
        private Vector3 _velocity;
        private float _lastTime = -1f;

        private void OnEnable()
        {
            _lastPosition = transform.position;
        }

        private void Update()
        {
            var p = transform.position;
            _velocity = (p - _lastPosition) / Mathf.Max(Time.deltaTime, 1e-4f);
            _lastPosition = p;
        }

        private void OnTriggerEnter(Collider other)
        {
            var listener = FoleyKitListener.Instance;
            float speed = _velocity.magnitude;
            if (listener == null || model == null || speed < minSpeed || Time.time - _lastTime < cooldown) return;
            _lastTime = Time.time;
            var controls = model.GetModel().CreateControls();
            controls.TrySet("category", "impact");
            controls.TrySet("material", MaterialChoice.Find(materials, other) ?? defaultMaterial);
            controls.TrySetClamped("velocity", speed);
            controls.TrySetClamped("impact.size", size);
            listener.PlayOneShot(model, controls.Values, FoleyKitListener.NextSeed(), gain);
        }
    }
}
