using FoleyKit.Unity;
using UnityEngine;

namespace FoleyKit.Samples.VRInteraction
{
    /// <summary>
    /// Impacts for an object the player holds. A grabbed object is usually kinematic and moved
    /// by the hand, so Collision.relativeVelocity says little: this tracks the object's own
    /// velocity from its motion and plays the impact through the CollisionSound on it.
    /// </summary>
    [RequireComponent(typeof(CollisionSound))]
    public sealed class GrabbableImpactAudio : MonoBehaviour
    {
        [Tooltip("Scale of tracked hand speed into impact speed (hands feel faster than they move).")]
        public float speedScale = 1.5f;
        public float minSpeed = 0.15f;

        private CollisionSound _sound;
        private Rigidbody _body;
        private Vector3 _lastPosition;
        private Vector3 _velocity;

        private void Awake()
        {
            _sound = GetComponent<CollisionSound>();
            _body = GetComponent<Rigidbody>();
            _lastPosition = transform.position;
        }

        private void FixedUpdate()
        {
            var p = transform.position;
            _velocity = (p - _lastPosition) / Mathf.Max(Time.fixedDeltaTime, 1e-4f);
            _lastPosition = p;
        }

        private bool Held { get { return _body != null && _body.isKinematic; } }

        private void OnEnable()
        {
            // While held, this script plays the impacts; CollisionSound handles free flight.
            if (_sound != null) _sound.enabled = !Held;
        }

        private void Update()
        {
            if (_sound != null) _sound.enabled = !Held;
        }

        private void OnCollisionEnter(Collision collision)
        {
            if (!Held || _sound == null || collision.contactCount == 0) return;
            float speed = _velocity.magnitude * speedScale;
            if (speed < minSpeed) return;
            var contact = collision.GetContact(0);
            string material = MaterialChoice.Find(_sound.materials, collision.collider) ?? _sound.defaultMaterial;
            _sound.Play(speed, material, contact.point);
        }
    }
}
