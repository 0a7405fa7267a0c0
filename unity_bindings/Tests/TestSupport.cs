using System;
using System.IO;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>Where the test inputs are, and what the loaded native library can do.</summary>
    internal static class TestSupport
    {
        private static string s_repoRoot;

        /// <summary>
        /// The repository root: $FOLEYKIT_REPO_ROOT, else the first folder above the current
        /// directory or this assembly that holds native/include/foleykit/foleykit.h.
        /// </summary>
        public static string RepoRoot
        {
            get
            {
                if (s_repoRoot != null) return s_repoRoot;
                string env = Environment.GetEnvironmentVariable("FOLEYKIT_REPO_ROOT");
                if (!string.IsNullOrEmpty(env)) return s_repoRoot = env;
                foreach (var start in new[] { Environment.CurrentDirectory, AssemblyFolder() })
                {
                    for (var d = start; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
                        if (File.Exists(Path.Combine(d, Path.Combine("native", Path.Combine("include", Path.Combine("foleykit", "foleykit.h"))))))
                            return s_repoRoot = d;
                }
                return s_repoRoot = Environment.CurrentDirectory;
            }
        }

        private static string AssemblyFolder()
        {
            try { return Path.GetDirectoryName(typeof(TestSupport).Assembly.Location); }
            catch (Exception) { return null; }
        }

        /// <summary>The default models folder ($FOLEYKIT_MODELS_DIR overrides).</summary>
        public static string ModelsDir
        {
            get
            {
                string env = Environment.GetEnvironmentVariable("FOLEYKIT_MODELS_DIR");
                if (!string.IsNullOrEmpty(env)) return env;
                return Path.Combine(RepoRoot, Path.Combine("sdk", Path.Combine("foleykit", Path.Combine("models", "default"))));
            }
        }

        public static string ModelPath(string file)
        {
            return Path.Combine(ModelsDir, file);
        }

        private static int s_modelApi = -1;

        /// <summary>
        /// True when libfoleykit exports fk_model_load. Probed with a NULL path, which the C ABI
        /// refuses with FK_RESULT_INVALID_ARGUMENT.
        /// </summary>
        public static bool HasModelApi
        {
            get
            {
                if (s_modelApi < 0)
                {
                    try
                    {
                        IntPtr p;
                        Native.fk_model_load(null, out p);
                        s_modelApi = 1;
                    }
                    catch (EntryPointNotFoundException)
                    {
                        s_modelApi = 0;
                    }
                }
                return s_modelApi == 1;
            }
        }

        /// <summary>Ignores the calling test while the library lacks the fk_model_* functions.</summary>
        public static void RequireModelApi()
        {
            if (!HasModelApi)
                Assert.Ignore("libfoleykit in this build has no fk_model_load: the fk_model_* implementation " +
                              "has not landed yet. These tests run (and must pass) once it exports the symbol.");
        }

        /// <summary>The path of a default model file; fails (not ignores) when it is missing.</summary>
        public static string RequireModelFile(string file)
        {
            RequireModelApi();
            string path = ModelPath(file);
#if UNITY_5_3_OR_NEWER
            if (!File.Exists(path))
                Assert.Ignore("set FOLEYKIT_MODELS_DIR to the folder holding " + file + " to run this test in Unity");
#endif
            Assert.That(File.Exists(path), Is.True,
                "missing " + path + ": the default models' .fkm files (foleykit export writes them next to the .onnx) " +
                "must be in " + ModelsDir + " (or set FOLEYKIT_MODELS_DIR)");
            return path;
        }

        public static void AssertFinite(float[] x, string what)
        {
            for (int i = 0; i < x.Length; i++)
                if (float.IsNaN(x[i]) || float.IsInfinity(x[i]))
                    Assert.Fail("{0}: sample {1} is {2}", what, i, x[i]);
        }

        public static double Rms(float[] x)
        {
            if (x.Length == 0) return 0;
            double s = 0;
            for (int i = 0; i < x.Length; i++) s += (double)x[i] * x[i];
            return Math.Sqrt(s / x.Length);
        }

        public static float Peak(float[] x)
        {
            float p = 0;
            for (int i = 0; i < x.Length; i++) p = Math.Max(p, Math.Abs(x[i]));
            return p;
        }

        public static bool BitEqual(float[] a, float[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
                if (BitConverter.DoubleToInt64Bits(a[i]) != BitConverter.DoubleToInt64Bits(b[i])) return false;
            return true;
        }

        /// <summary>
        /// A known log-mel spectrogram: a few partials with a decaying envelope over nFrames
        /// frames (frame-major), like an impact a model would emit.
        /// </summary>
        public static float[] KnownLogMel(int nFrames, int nMels)
        {
            var spec = new float[nFrames * nMels];
            for (int t = 0; t < nFrames; t++)
            {
                double env = Math.Exp(-t / 12.0);
                for (int r = 0; r < nMels; r++)
                {
                    double mag = 1e-4;
                    foreach (int centre in new[] { 18, 27, 34, 41 })
                        mag += env * Math.Exp(-0.5 * (r - centre) * (r - centre));
                    spec[t * nMels + r] = (float)Math.Log(mag);
                }
            }
            return spec;
        }
    }
}
