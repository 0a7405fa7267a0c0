#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// Footsteps: call Step() from an animation event named "Footstep", or let it step by
    /// distance travelled. The ground under the character picks the surface control; the
    /// step rate drives pace.
    /// </summary>
    [AddComponentMenu("FoleyKit/Footstep Sound")]
    public sealed class FootstepSound : MonoBehaviour
    {
        public FoleyKitModelAsset model;
        public string category = "footstep";
        public string surfaceControl = "surface";
        public string forceControl = "force";
        public string paceControl = "pace";
        public string defaultSurface = "concrete";
        [Tooltip("Ground colliders' physic materials or tags → choices of the surface control.")]
        public MaterialChoice[] surfaces = new MaterialChoice[0];
        public ControlValue[] extraControls = new ControlValue[0];

        [Range(0f, 1f)] public float force = 0.5f;
        [Tooltip("Step every this many metres travelled; 0 to step only from Step()/animation events.")]
        public float stepLength = 0.75f;
        public float groundRayLength = 1.5f;
        public LayerMask groundMask = ~0;
        [Range(0f, 4f)] public float gain = 1f;
        public float minDistance = 1f;
        public float maxDistance = 30f;

        private Vector3 _lastPosition;
        private float _travelled;
        private float _lastStepTime = -1f;

        private void OnEnable()
        {
            _lastPosition = transform.position;
            _travelled = 0f;
        }

        private void Update()
        {
            if (stepLength <= 0f) return;
            var p = transform.position;
            var d = p - _lastPosition;
            d.y = 0f;
            _travelled += d.magnitude;
            _lastPosition = p;
            if (_travelled >= stepLength)
            {
                _travelled = 0f;
                Step();
            }
        }

        /// <summary>Animation event hook.</summary>
        public void Footstep()
        {
            Step();
        }

        /// <summary>Plays one step now; the engine voice id (0: nothing plays).</summary>
        public ulong Step()
        {
            var listener = FoleyKitListener.Instance;
            if (listener == null || model == null) return 0;
            float now = Time.time;
            float pace = _lastStepTime >= 0f ? 1f / Mathf.Max(now - _lastStepTime, 0.05f) : 1.8f;
            _lastStepTime = now;

            string surface = defaultSurface;
            RaycastHit hit;
            if (Physics.Raycast(transform.position + Vector3.up * 0.1f, Vector3.down, out hit, groundRayLength,
                    groundMask, QueryTriggerInteraction.Ignore))
                surface = MaterialChoice.Find(surfaces, hit.collider) ?? defaultSurface;

            var controls = model.GetModel().CreateControls();
            controls.TrySet("category", category);
            controls.TrySet(surfaceControl, surface);
            controls.TrySetClamped(forceControl, force);
            controls.TrySetClamped(paceControl, pace);
            for (int i = 0; i < extraControls.Length; i++) extraControls[i].ApplyTo(controls);
            float g = gain * listener.DistanceGain(transform.position, minDistance, maxDistance);
            if (g <= 0f) return 0;
            return listener.PlayOneShot(model, controls.Values, FoleyKitListener.NextSeed(), g);
        }
    }
}
#endif
