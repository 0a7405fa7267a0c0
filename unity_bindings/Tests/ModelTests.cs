using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace FoleyKit.Tests
{
    /// <summary>The default one-shot model (oneshots.fkm) through the C# core.</summary>
    [TestFixture]
    public class OneShotModelTests
    {
        private Model _model;

        [SetUp]
        public void Load()
        {
            _model = Model.Load(TestSupport.RequireModelFile("oneshots.fkm"));
        }

        [TearDown]
        public void Unload()
        {
            if (_model != null) _model.Dispose();
            _model = null;
        }

        private static Dictionary<string, object> Impact(string material, float velocity)
        {
            var d = new Dictionary<string, object>();
            d["category"] = "impact";
            d["material"] = material;
            d["velocity"] = velocity;
            return d;
        }

        [Test]
        public void InfoDescribesAOneShotVae()
        {
            var info = _model.Info;
            Assert.That(info.Mode, Is.EqualTo(ModelMode.OneShot));
            Assert.That(info.Family, Is.EqualTo(ModelFamily.Vae));
            Assert.That(info.Spectrogram.SampleRate, Is.EqualTo(48000f));
            Assert.That(info.Spectrogram.NMels, Is.EqualTo(80));
            Assert.That(info.Spectrogram.FMax, Is.GreaterThan(0f), "fmax resolved");
            Assert.That(info.MaxFrames, Is.EqualTo(128));
            Assert.That(info.ZDim, Is.GreaterThan(0));
            Assert.That(info.ControlCount, Is.EqualTo(_model.Controls.Count));
            Assert.That(info.ControlVectorSize, Is.GreaterThanOrEqualTo(info.ControlCount));
        }

        [Test]
        public void ControlsByName()
        {
            var category = _model.GetControl("category");
            Assert.That(category.Index, Is.EqualTo(0));
            Assert.That(category.IsCategorical, Is.True);
            CollectionAssert.Contains(category.Choices, "impact");
            CollectionAssert.Contains(category.Choices, "footstep");
            var velocity = _model.GetControl("velocity");
            Assert.That(velocity.IsCategorical, Is.False);
            Assert.That(velocity.Low, Is.EqualTo(0.2f).Within(1e-6));
            Assert.That(velocity.High, Is.EqualTo(10f).Within(1e-6));
            Assert.That(velocity.LogScale, Is.True);
            Assert.That(velocity.Unit, Is.EqualTo("m/s"));
            var material = _model.GetControl("material");
            Assert.That(material.ChoiceIndex("metal"), Is.EqualTo(1));

            var values = _model.EncodeControls(Impact("metal", 6f));
            Assert.That(values.Length, Is.EqualTo(_model.Info.ControlCount));
            Assert.That(values[category.Index], Is.EqualTo(0f));
            Assert.That(values[material.Index], Is.EqualTo(1f));
            Assert.That(values[velocity.Index], Is.EqualTo(6f));
            // Everything not named keeps its default.
            var defaults = _model.DefaultValues();
            var size = _model.GetControl("impact.size");
            Assert.That(values[size.Index], Is.EqualTo(defaults[size.Index]));
            Assert.That(defaults[velocity.Index], Is.EqualTo(velocity.DefaultValue));
        }

        [Test]
        public void UnknownControlIsNamedInTheError()
        {
            var d = Impact("wood", 3f);
            d["velocty"] = 2f;
            var e = Assert.Throws<ArgumentException>(() => _model.EncodeControls(d));
            StringAssert.Contains("'velocty'", e.Message);
            StringAssert.Contains("velocity", e.Message, "the message lists the real controls");
        }

        [Test]
        public void OutOfRangeAndUnknownChoicesAreNamed()
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => _model.EncodeControls(Impact("wood", 100f)));
            StringAssert.Contains("velocity", e.Message);
            StringAssert.Contains("[0.2, 10]", e.Message);
            var e2 = Assert.Throws<ArgumentException>(() => _model.EncodeControls(Impact("rubber", 3f)));
            StringAssert.Contains("rubber", e2.Message);
            StringAssert.Contains("metal", e2.Message, "the message lists the choices");
            var set = _model.CreateControls();
            Assert.Throws<ArgumentOutOfRangeException>(() => set.Set("material", 99f));
            Assert.Throws<ArgumentOutOfRangeException>(() => set.Set("velocity", float.NaN));
            Assert.Throws<ArgumentException>(() => set.Set("velocity", "fast"));
            set.SetClamped("velocity", 100f);
            Assert.That(set["velocity"], Is.EqualTo(10f));
        }

        [Test]
        public void NativeRangeCheckNamesTheControl()
        {
            // Bypass the C# checks: the native library refuses too, naming the control.
            var values = _model.DefaultValues();
            values[_model.GetControl("velocity").Index] = 1000f;
            using (var session = _model.CreateSession())
            {
                var e = Assert.Throws<FoleyKitException>(() => session.Generate(values, 1));
                Assert.That(e.Result, Is.EqualTo(FkResult.InvalidArgument));
                StringAssert.Contains("velocity", e.NativeMessage);
            }
        }

        [Test]
        public void GenerateIsDeterministicPerSeedAndDiffersBetweenSeeds()
        {
            var values = _model.EncodeControls(Impact("metal", 6f));
            using (var s1 = _model.CreateSession())
            using (var s2 = _model.CreateSession())
            {
                var a = s1.Generate(values, 3);
                var b = s2.Generate(values, 3);
                var c = s1.Generate(values, 4);
                Assert.That(a.Frames, Is.GreaterThan(1).And.LessThanOrEqualTo(128));
                Assert.That(a.Mels, Is.EqualTo(80));
                TestSupport.AssertFinite(a.Data, "log-mel");
                Assert.That(TestSupport.BitEqual(a.Data, b.Data), Is.True, "same seed, another session");
                Assert.That(TestSupport.BitEqual(a.Data, c.Data), Is.False, "seeds 3 and 4");
            }
        }

        [Test]
        public void OneShotRendersAudibleDeterministicAudio()
        {
            using (var shot = new OneShot(_model))
            {
                Assert.That(shot.SampleRate, Is.EqualTo(48000));
                var a = shot.Render(Impact("metal", 6f), 3);
                var b = shot.Render(Impact("metal", 6f), 3);
                var c = shot.Render(Impact("metal", 6f), 4);
                Assert.That(a.Length, Is.GreaterThan(0).And.LessThanOrEqualTo(shot.MaxSamples));
                TestSupport.AssertFinite(a, "one-shot");
                Assert.That(TestSupport.Rms(a), Is.GreaterThan(1e-4), "the impact should be audible");
                Assert.That(TestSupport.Peak(a), Is.LessThan(10f));
                Assert.That(TestSupport.BitEqual(a, b), Is.True);
                Assert.That(TestSupport.BitEqual(a, c), Is.False);
            }
        }

        [Test]
        public void VelocityMakesItLouder()
        {
            using (var shot = new OneShot(_model))
            {
                double soft = 0, hard = 0;
                for (ulong seed = 1; seed <= 4; seed++)
                {
                    soft += TestSupport.Rms(shot.Render(Impact("wood", 0.4f), seed));
                    hard += TestSupport.Rms(shot.Render(Impact("wood", 9f), seed));
                }
                Assert.That(hard, Is.GreaterThan(soft * 1.5), "README: +12.9 dB from low to high velocity");
            }
        }

        [Test]
        public void LoadFromMemoryMatchesLoadFromFile()
        {
            var bytes = File.ReadAllBytes(TestSupport.ModelPath("oneshots.fkm"));
            using (var m2 = Model.LoadFromMemory(bytes))
            using (var a = new OneShot(_model))
            using (var b = new OneShot(m2))
            {
                Assert.That(m2.Controls.Count, Is.EqualTo(_model.Controls.Count));
                var x = a.Render(Impact("glass", 2f), 9);
                var y = b.Render(Impact("glass", 2f), 9);
                Assert.That(TestSupport.BitEqual(x, y), Is.True);
            }
        }

        [Test]
        public void StreamingCallsOnAOneShotModelAreUnsupported()
        {
            using (var s = _model.CreateSession())
            {
                var e = Assert.Throws<FoleyKitException>(() => s.StreamReset(null, 1));
                Assert.That(e.Result, Is.EqualTo(FkResult.Unsupported));
                StringAssert.Contains("fk_model_generate", e.NativeMessage);
            }
            Assert.Throws<ArgumentException>(() => new AmbienceStream(_model, null, 1));
        }
    }

    [TestFixture]
    public class ModelLoadErrorTests
    {
        [Test]
        public void MissingFileIsIo()
        {
            TestSupport.RequireModelApi();
            var e = Assert.Throws<FoleyKitException>(() => Model.Load(Path.Combine(TestSupport.ModelsDir, "no-such-model.fkm")));
            Assert.That(e.Result, Is.EqualTo(FkResult.Io));
            Assert.That(e.NativeMessage, Is.Not.Empty);
        }

        [Test]
        public void OnnxFileIsUnsupportedAndPointsAtTheFkm()
        {
            TestSupport.RequireModelApi();
            string onnx = TestSupport.ModelPath("oneshots.onnx");
            Assume.That(File.Exists(onnx), "needs " + onnx);
            var e = Assert.Throws<FoleyKitException>(() => Model.Load(onnx));
            Assert.That(e.Result, Is.EqualTo(FkResult.Unsupported));
            StringAssert.Contains(".fkm", e.NativeMessage);
        }

        [Test]
        public void GarbageBytesAreModelInvalid()
        {
            TestSupport.RequireModelApi();
            var junk = new byte[4096];
            new Random(5).NextBytes(junk);
            var e = Assert.Throws<FoleyKitException>(() => Model.LoadFromMemory(junk));
            Assert.That(e.Result, Is.EqualTo(FkResult.ModelInvalid));
            Assert.That(e.Function, Is.EqualTo("fk_model_load_memory"));
            Assert.That(e.NativeMessage, Is.Not.Empty);
        }

        [Test]
        public void TruncatedModelIsModelInvalid()
        {
            var bytes = File.ReadAllBytes(TestSupport.RequireModelFile("oneshots.fkm"));
            Array.Resize(ref bytes, bytes.Length / 2);
            var e = Assert.Throws<FoleyKitException>(() => Model.LoadFromMemory(bytes));
            Assert.That(e.Result, Is.EqualTo(FkResult.ModelInvalid));
        }

        [Test]
        public void NonAsciiPathsReachTheLibraryAsUtf8()
        {
            string src = TestSupport.RequireModelFile("oneshots.fkm");
            string dir = Path.Combine(Path.GetTempPath(), "foleykit-tëst-模型-" + System.Diagnostics.Process.GetCurrentProcess().Id);
            Directory.CreateDirectory(dir);
            string dst = Path.Combine(dir, "oneshots-ü.fkm");
            try
            {
                File.Copy(src, dst, true);
                using (var m = Model.Load(dst))
                    Assert.That(m.Mode, Is.EqualTo(ModelMode.OneShot));
            }
            finally
            {
                File.Delete(dst);
                Directory.Delete(dir);
            }
        }
    }

    /// <summary>The default ambience model (ambiences.fkm): streaming.</summary>
    [TestFixture]
    public class AmbienceModelTests
    {
        private Model _model;

        [SetUp]
        public void Load()
        {
            _model = Model.Load(TestSupport.RequireModelFile("ambiences.fkm"));
        }

        [TearDown]
        public void Unload()
        {
            if (_model != null) _model.Dispose();
            _model = null;
        }

        private float[] Rain(float intensity)
        {
            var set = _model.CreateControls();
            set.Set("category", "rain");
            set.Set("intensity", intensity);
            return set.ToArray();
        }

        [Test]
        public void InfoDescribesAStepTransformer()
        {
            Assert.That(_model.Mode, Is.EqualTo(ModelMode.Step));
            Assert.That(_model.Info.Family, Is.EqualTo(ModelFamily.Transformer));
            // The shipped model uses relative positions: two layers of 32-row attention bands,
            // so a step depends on 2 * (32 - 1) + 1 frames.
            Assert.That(_model.Info.WindowFrames, Is.EqualTo(63));
            CollectionAssert.Contains(_model.GetControl("category").Choices, "wind");
        }

        [Test]
        public void StreamProducesFrames()
        {
            using (var s = _model.CreateSession())
            {
                s.StreamReset(Rain(0.8f), 5);
                var frames = new float[10 * 80];
                s.StreamNext(frames, 10);
                TestSupport.AssertFinite(frames, "ambience log-mel");
                float lo = float.MaxValue, hi = float.MinValue;
                foreach (var v in frames) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
                Assert.That(hi - lo, Is.GreaterThan(0.1f), "frames should not be constant");
                var e = Assert.Throws<FoleyKitException>(() => s.Generate(null, 1));
                Assert.That(e.Result, Is.EqualTo(FkResult.Unsupported));
            }
        }

        [Test]
        public void AmbienceStreamIsAudibleAndDeterministic()
        {
            var a = new float[48000];
            var b = new float[48000];
            var c = new float[48000];
            using (var s = new AmbienceStream(_model, Rain(0.8f), 5))
                Assert.That(s.Read(a, 0, a.Length), Is.EqualTo(a.Length));
            using (var s = new AmbienceStream(_model, Rain(0.8f), 5))
            {
                // Odd read sizes give the same samples.
                int done = 0, k = 1;
                while (done < b.Length)
                {
                    int n = Math.Min(b.Length - done, 37 * k++);
                    s.Read(b, done, n);
                    done += n;
                }
            }
            using (var s = new AmbienceStream(_model, Rain(0.8f), 6))
                s.Read(c, 0, c.Length);
            TestSupport.AssertFinite(a, "ambience");
            Assert.That(TestSupport.Rms(a), Is.GreaterThan(1e-4));
            Assert.That(TestSupport.BitEqual(a, b), Is.True);
            Assert.That(TestSupport.BitEqual(a, c), Is.False);
        }

        [Test]
        public void QueuedControlsChangeTheSound()
        {
            var quiet = new float[24000];
            var loud = new float[24000];
            using (var s = new AmbienceStream(_model, Rain(0.05f), 2))
            {
                s.Read(quiet, 0, quiet.Length);
                s.Read(quiet, 0, quiet.Length);
                s.QueueControls(Rain(1f));
                s.Read(loud, 0, loud.Length);
                s.Read(loud, 0, loud.Length);
            }
            Assert.That(TestSupport.Rms(loud), Is.GreaterThan(TestSupport.Rms(quiet) * 1.5),
                "README: rain intensity low → high is about +23 dB");
            Assert.Throws<ArgumentException>(() => new AmbienceStream(_model, new float[2], 1));
        }
    }
}
