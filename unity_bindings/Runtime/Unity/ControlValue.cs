#if UNITY_5_3_OR_NEWER
using System;
using UnityEngine;
#if UNITY_6000_0_OR_NEWER
using PhysicsMaterialType = UnityEngine.PhysicsMaterial;
#else
using PhysicsMaterialType = UnityEngine.PhysicMaterial;
#endif

namespace FoleyKit.Unity
{
    /// <summary>A fixed control setting in the Inspector: a number, or a choice name when choice is set.</summary>
    [Serializable]
    public struct ControlValue
    {
        public string control;
        public float value;
        [Tooltip("For categorical controls: the choice name (overrides value).")]
        public string choice;

        /// <summary>Applies to set when the model has the control (clamped; unknown choices ignored).</summary>
        public void ApplyTo(ControlSet set)
        {
            if (string.IsNullOrEmpty(control)) return;
            if (!string.IsNullOrEmpty(choice)) set.TrySet(control, choice);
            else set.TrySetClamped(control, value);
        }
    }

    /// <summary>A physic material (or its name) mapped to a categorical choice.</summary>
    [Serializable]
    public struct MaterialChoice
    {
        public PhysicsMaterialType material;
        [Tooltip("Used when material is empty: matches the collider's PhysicMaterial name or the GameObject's tag.")]
        public string nameOrTag;
        public string choice;

        public bool Matches(Collider collider)
        {
            if (collider == null) return false;
            var m = collider.sharedMaterial;
            if (material != null) return m == material;
            if (string.IsNullOrEmpty(nameOrTag)) return false;
            if (m != null && m.name.Replace(" (Instance)", "") == nameOrTag) return true;
            return collider.CompareTag(nameOrTag);
        }

        public static string Find(MaterialChoice[] table, Collider collider)
        {
            if (table == null) return null;
            for (int i = 0; i < table.Length; i++)
                if (table[i].Matches(collider)) return table[i].choice;
            return null;
        }
    }
}
#endif
