#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// Plays an impact on collisions: impact speed → the velocity control (clamped to its
    /// range), the colliders' physic materials → the material control. Needs a Rigidbody on
    /// this object or the other one (Unity only sends OnCollisionEnter then).
    /// </summary>
    [AddComponentMenu("FoleyKit/Collision Sound")]
    public sealed class CollisionSound : MonoBehaviour
    {
        public FoleyKitModelAsset model;
        [Tooltip("Choice of the model's 'category' control, if it has one.")]
        public string category = "impact";
        public string velocityControl = "velocity";
        public string materialControl = "material";
        [Tooltip("This object's material when no entry below matches its collider.")]
        public string defaultMaterial = "wood";
        [Tooltip("Colliders' physic materials → choices of the material control.")]
        public MaterialChoice[] materials = new MaterialChoice[0];
        [Tooltip("Use the material of what was hit instead of this object's own.")]
        public bool useOtherMaterial;
        public ControlValue[] extraControls = new ControlValue[0];

        [Tooltip("Impact speed (m/s) below which nothing plays.")]
        public float minVelocity = 0.3f;
        [Tooltip("Multiplies the impact speed before it becomes the velocity control.")]
        public float velocityScale = 1f;
        [Tooltip("Seconds between two sounds from this object.")]
        public float cooldown = 0.05f;
        [Range(0f, 4f)] public float gain = 1f;
        public float minDistance = 1f;
        public float maxDistance = 40f;

        private float _lastTime = -1f;

        private void OnCollisionEnter(Collision collision)
        {
            float speed = collision.relativeVelocity.magnitude;
            if (speed < minVelocity || Time.time - _lastTime < cooldown || collision.contactCount == 0) return;
            var contact = collision.GetContact(0);
            var own = contact.thisCollider;
            var other = collision.collider;
            string material = MaterialChoice.Find(materials, useOtherMaterial ? other : own)
                              ?? MaterialChoice.Find(materials, useOtherMaterial ? own : other)
                              ?? defaultMaterial;
            Play(speed, material, contact.point);
        }

        /// <summary>Plays an impact of speed (m/s) on material at position; the engine voice id (0: nothing plays). Call it from your own code too.</summary>
        public ulong Play(float speed, string material, Vector3 position)
        {
            var listener = FoleyKitListener.Instance;
            if (listener == null || model == null) return 0;
            _lastTime = Time.time;
            var controls = model.GetModel().CreateControls();
            controls.TrySet("category", category);
            controls.TrySetClamped(velocityControl, speed * velocityScale);
            if (!string.IsNullOrEmpty(material)) controls.TrySet(materialControl, material);
            for (int i = 0; i < extraControls.Length; i++) extraControls[i].ApplyTo(controls);
            float g = gain * listener.DistanceGain(position, minDistance, maxDistance);
            if (g <= 0f) return 0;
            return listener.PlayOneShot(model, controls.Values, FoleyKitListener.NextSeed(), g);
        }
    }
}
#endif
