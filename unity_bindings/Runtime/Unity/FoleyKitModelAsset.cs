#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// A model file's bytes as an asset. Rename model.fkm to model.fkm.bytes so Unity imports it
    /// as a TextAsset, drop it on Source, and the bytes are kept here (and in builds); the
    /// model is loaded with fk_model_load_memory on first use.
    /// </summary>
    [CreateAssetMenu(fileName = "FoleyKitModel", menuName = "FoleyKit/Model Asset")]
    public sealed class FoleyKitModelAsset : ScriptableObject
    {
        [Tooltip("A .fkm model file imported as a TextAsset (rename it to *.fkm.bytes).")]
        public TextAsset source;

        [SerializeField, HideInInspector] private byte[] bytes = new byte[0];

        private Model _model;

        public byte[] Bytes { get { return bytes; } }

        /// <summary>The loaded model (loaded once; throws FoleyKitException for a bad file).</summary>
        public Model GetModel()
        {
            if (_model == null)
            {
                if (bytes == null || bytes.Length == 0)
                    throw new System.InvalidOperationException("FoleyKit: model asset '" + name + "' holds no model file");
                _model = Model.LoadFromMemory(bytes);
            }
            return _model;
        }

        /// <summary>Replaces the bytes (an editor importer or a download); the next GetModel reloads.</summary>
        public void SetBytes(byte[] data)
        {
            bytes = data ?? new byte[0];
            ReleaseModel();
        }

        private void OnValidate()
        {
            if (source != null)
            {
                var b = source.bytes;
                if (b != null && !Same(b, bytes)) SetBytes(b);
            }
        }

        private static bool Same(byte[] a, byte[] b)
        {
            if (a == null || b == null || a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
                if (a[i] != b[i]) return false;
            return true;
        }

        private void OnDisable()
        {
            ReleaseModel();
        }

        private void ReleaseModel()
        {
            // Sessions in use keep the native model alive (ModelSessionHandle), so this is safe
            // while the pump thread still plays from it.
            if (_model != null) _model.Dispose();
            _model = null;
        }
    }
}
#endif
