// Compile-only stand-ins for the few UnityEngine types the thin Unity layer and the samples use,
// so .ci/test-unity can at least type-check them with mcs (-define:UNITY_5_3_OR_NEWER) where
// UnityEngine is not available. Signatures follow UnityEngine's public API (2019.4 .. 6); the
// bodies do nothing and nothing here is ever run. Passing this check says the code is
// consistent with these declarations, not that Unity accepts it: a real Unity compile is still
// the final word (see Documentation~/index.md).
#pragma warning disable 67, 169, 414, 649
using System;

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type) { }
    }
}

namespace UnityEngine
{
    public class Object
    {
        public string name { get; set; }
        public static implicit operator bool(Object o) { return !ReferenceEquals(o, null); }
    }

    public class Component : Object
    {
        public Transform transform { get { return null; } }
        public GameObject gameObject { get { return null; } }
        public string tag { get; set; }
        public bool CompareTag(string tag) { return false; }
        public T GetComponent<T>() { return default(T); }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class MonoBehaviour : Behaviour { }

    public class ScriptableObject : Object { }

    public sealed class GameObject : Object { }

    public class Transform : Component
    {
        public Vector3 position { get; set; }
    }

    public sealed class TextAsset : Object
    {
        public byte[] bytes { get { return null; } }
    }

    public sealed class AudioListener : Behaviour { }

    public enum FFTWindow { Rectangular }

    public sealed class AudioSettings
    {
        public static int outputSampleRate { get { return 48000; } }
        public static void GetDSPBufferSize(out int bufferLength, out int numBuffers) { bufferLength = 1024; numBuffers = 4; }
        public static AudioSpeakerMode speakerMode { get { return AudioSpeakerMode.Stereo; } }
    }

    public enum AudioSpeakerMode { Mono = 1, Stereo = 2, Quad = 3, Surround = 4, Mode5point1 = 5, Mode7point1 = 6, Prologic = 7 }

    public static class Debug
    {
        public static void Log(object message) { }
        public static void LogWarning(object message, Object context) { }
        public static void LogException(Exception exception, Object context) { }
        public static void LogError(object message, Object context) { }
    }

    public static class Mathf
    {
        public static float Max(float a, float b) { return Math.Max(a, b); }
        public static int Max(int a, int b) { return Math.Max(a, b); }
        public static float Abs(float f) { return Math.Abs(f); }
        public static float Clamp01(float v) { return v; }
        public static float Clamp(float v, float a, float b) { return v; }
        public static float Exp(float p) { return p; }
        public static float Lerp(float a, float b, float t) { return a; }
    }

    public static class Time
    {
        public static float time { get { return 0f; } }
        public static float deltaTime { get { return 0f; } }
        public static float fixedDeltaTime { get { return 0f; } }
    }

    public static class Random
    {
        public static int Range(int minInclusive, int maxExclusive) { return 0; }
        public static float Range(float minInclusive, float maxInclusive) { return 0f; }
    }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public float magnitude { get { return 0f; } }
        public static Vector3 up { get { return new Vector3(0, 1, 0); } }
        public static Vector3 down { get { return new Vector3(0, -1, 0); } }
        public static float Distance(Vector3 a, Vector3 b) { return 0f; }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return a; }
        public static Vector3 operator -(Vector3 a, Vector3 b) { return a; }
        public static Vector3 operator *(Vector3 a, float d) { return a; }
        public static Vector3 operator /(Vector3 a, float d) { return a; }
    }

    public struct Color
    {
        public Color(float r, float g, float b, float a) { }
    }

    public static class Gizmos
    {
        public static Color color { get; set; }
        public static void DrawWireSphere(Vector3 center, float radius) { }
    }

    [Serializable]
    public class AnimationCurve
    {
        public float Evaluate(float time) { return 0f; }
    }

    public struct LayerMask
    {
        public static implicit operator int(LayerMask mask) { return 0; }
        public static implicit operator LayerMask(int intVal) { return new LayerMask(); }
    }

    public enum QueryTriggerInteraction { UseGlobal, Ignore, Collide }

    public class PhysicMaterial : Object { }

    public class PhysicsMaterial : Object { }

    public class Collider : Component
    {
        public PhysicMaterial sharedMaterial { get; set; }
        public Rigidbody attachedRigidbody { get { return null; } }
    }

    public sealed class Rigidbody : Component
    {
        public bool isKinematic { get; set; }
        public Vector3 velocity { get; set; }
    }

    public struct JointLimits
    {
        public float min { get; set; }
        public float max { get; set; }
    }

    public class Joint : Component { }

    public sealed class HingeJoint : Joint
    {
        public float angle { get { return 0f; } }
        public JointLimits limits { get; set; }
    }

    public struct ContactPoint
    {
        public Vector3 point { get { return new Vector3(); } }
        public Collider thisCollider { get { return null; } }
        public Collider otherCollider { get { return null; } }
    }

    public class Collision
    {
        public Vector3 relativeVelocity { get { return new Vector3(); } }
        public Collider collider { get { return null; } }
        public int contactCount { get { return 0; } }
        public ContactPoint GetContact(int index) { return new ContactPoint(); }
    }

    public struct RaycastHit
    {
        public Collider collider { get { return null; } }
    }

    public static class Physics
    {
        public static bool Raycast(Vector3 origin, Vector3 direction, out RaycastHit hitInfo, float maxDistance,
            int layerMask, QueryTriggerInteraction queryTriggerInteraction)
        {
            hitInfo = new RaycastHit();
            return false;
        }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class HideInInspector : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class RangeAttribute : Attribute
    {
        public RangeAttribute(float min, float max) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName) { }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public sealed class RequireComponent : Attribute
    {
        public RequireComponent(Type requiredComponent) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute { }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CreateAssetMenuAttribute : Attribute
    {
        public string fileName { get; set; }
        public string menuName { get; set; }
    }
}
