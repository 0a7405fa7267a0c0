#if UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// Feeds FoleyKit's native engine into Unity's mix: put it next to the AudioListener. The
    /// engine runs at Unity's output sample rate (AudioSettings.outputSampleRate), stereo (mono
    /// when Unity's speaker mode is mono); its worker threads make the sound, and
    /// OnAudioFilterRead (Unity's audio thread) only calls Engine.Render and adds the block to
    /// Unity's mix, without allocating. One per scene; components find it through Instance.
    /// The engine plays only models whose sample rate equals the output rate: a model made at
    /// 48 kHz is refused (logged, with the fix) while Unity outputs 44.1 kHz.
    /// </summary>
    [AddComponentMenu("FoleyKit/FoleyKit Listener")]
    [RequireComponent(typeof(AudioListener))]
    [DisallowMultipleComponent]
    public sealed class FoleyKitListener : MonoBehaviour
    {
        [Tooltip("Gain applied to everything FoleyKit plays.")]
        [Range(0f, 4f)] public float masterGain = 1f;

        [Tooltip("Voices heard at once; one more steals the quietest one-shot.")]
        [Range(1, 256)] public int maxVoices = 32;

        [Tooltip("Engine worker threads (model inference).")]
        [Range(1, 8)] public int workerThreads = 1;

        [Tooltip("Quality for voices that ask for Auto.")]
        public EngineQuality defaultQuality = EngineQuality.Medium;

        public static FoleyKitListener Instance { get; private set; }

        /// <summary>Engine events (voice started/ended, underruns, ...), raised on the main thread in Update.</summary>
        public event Action<EngineEvent> VoiceEvent;

        private Engine _engine;
        private float[] _scratch = new float[0];
        private volatile float _gain = 1f;
        private readonly Dictionary<FoleyKitModelAsset, int> _modelIds = new Dictionary<FoleyKitModelAsset, int>();
        private readonly List<EngineEvent> _events = new List<EngineEvent>(64);

        /// <summary>The native engine (null before Awake or after OnDestroy).</summary>
        public Engine Engine { get { return _engine; } }
        public int OutputSampleRate { get { return _engine != null ? _engine.SampleRate : AudioSettings.outputSampleRate; } }

        private void Awake()
        {
            if (Instance != null && Instance != this)
            {
                Debug.LogWarning("FoleyKit: a second FoleyKitListener is ignored", this);
                enabled = false;
                return;
            }
            Instance = this;
            _gain = masterGain;
            var config = EngineConfig.Default;
            config.SampleRate = AudioSettings.outputSampleRate;
            config.Channels = AudioSettings.speakerMode == AudioSpeakerMode.Mono ? 1 : 2;
            config.MaxVoices = Math.Max(1, maxVoices);
            config.WorkerThreads = Math.Min(Math.Max(workerThreads, 1), 16);
            config.DefaultQuality = defaultQuality == EngineQuality.Auto ? EngineQuality.Medium : defaultQuality;
            try
            {
                _engine = new Engine(config);
            }
            catch (Exception e)
            {
                Debug.LogException(e, this);
                enabled = false;
                return;
            }
            // Sized once here: OnAudioFilterRead never allocates (larger blocks render in passes).
            int bufferLength, numBuffers;
            AudioSettings.GetDSPBufferSize(out bufferLength, out numBuffers);
            _scratch = new float[Math.Max(bufferLength, 1024) * config.Channels];
        }

        private void Update()
        {
            _gain = masterGain;
            var engine = _engine;
            if (engine == null) return;
            _events.Clear();
            engine.PollEvents(_events);
            var handler = VoiceEvent;
            for (int i = 0; i < _events.Count; i++)
            {
                if (_events[i].Type == EngineEventType.VoiceFailed)
                    Debug.LogWarning("FoleyKit: " + _events[i], this);
                if (handler != null) handler(_events[i]);
            }
        }

        /// <summary>
        /// The engine's id for a model asset, adding it on first use; -1 (logged once) when the
        /// engine refuses it, e.g. a sample rate other than Unity's output rate.
        /// </summary>
        public int ModelId(FoleyKitModelAsset asset)
        {
            if (_engine == null || asset == null) return -1;
            int id;
            if (_modelIds.TryGetValue(asset, out id)) return id;
            id = -1;
            try
            {
                var model = asset.GetModel();
                if (model.SampleRate != _engine.SampleRate)
                    Debug.LogError(string.Format(
                        "FoleyKit: model '{0}' is made at {1} Hz but Unity outputs {2} Hz; the engine only plays " +
                        "models at the output rate. Set Project Settings > Audio > System Sample Rate to {1}.",
                        asset.name, model.SampleRate, _engine.SampleRate), this);
                else
                    id = _engine.AddModel(model);
            }
            catch (Exception e)
            {
                Debug.LogException(e, this);
            }
            _modelIds.Add(asset, id);
            return id;
        }

        /// <summary>Plays a one-shot model's sound; the voice id, or 0 when nothing plays.</summary>
        public ulong PlayOneShot(FoleyKitModelAsset asset, float[] values, ulong seed, float gain, float pan = 0f)
        {
            int id = ModelId(asset);
            if (id < 0) return 0;
            try
            {
                return _engine.Trigger(id, values, seed, gain, pan, EngineQuality.Auto);
            }
            catch (FoleyKitException e)
            {
                Debug.LogException(e, this);
                return 0;
            }
        }

        /// <summary>Starts an ambience (step) model's endless stream; the voice id, or 0.</summary>
        public ulong StartAmbience(FoleyKitModelAsset asset, float[] values, ulong seed, float gain, float pan = 0f)
        {
            int id = ModelId(asset);
            if (id < 0) return 0;
            try
            {
                return _engine.Start(id, values, seed, gain, pan, EngineQuality.Auto);
            }
            catch (FoleyKitException e)
            {
                Debug.LogException(e, this);
                return 0;
            }
        }

        /// <summary>New control values for a playing ambience voice.</summary>
        public void SetControls(ulong voice, float[] values)
        {
            if (_engine == null || voice == 0) return;
            try { _engine.SetControls(voice, values); }
            catch (FoleyKitException e) { Debug.LogException(e, this); }
        }

        /// <summary>New gain and pan for a voice (glided over 5 ms).</summary>
        public void SetVoiceGain(ulong voice, float gain, float pan = 0f)
        {
            if (_engine == null || voice == 0) return;
            try { _engine.SetVoiceGain(voice, Mathf.Clamp(gain, 0f, 16f), Mathf.Clamp(pan, -1f, 1f)); }
            catch (FoleyKitException e) { Debug.LogException(e, this); }
        }

        /// <summary>Fades a voice out and ends it.</summary>
        public void Stop(ulong voice, float fadeMs = 50f)
        {
            if (_engine == null || voice == 0) return;
            try { _engine.Stop(voice, fadeMs); }
            catch (FoleyKitException e) { Debug.LogException(e, this); }
        }

        // Unity's audio thread: Engine.Render into the preallocated block, added to Unity's mix
        // (the listener's buffer holds every other source; Render overwrites, so it cannot
        // render into it directly). Mono engine: every channel; stereo: the first two.
        private void OnAudioFilterRead(float[] data, int channels)
        {
            var engine = _engine;
            if (engine == null || channels <= 0) return;
            int ec = engine.Channels;
            float g = _gain;
            int frames = data.Length / channels;
            int passFrames = _scratch.Length / ec;
            int done = 0;
            while (done < frames)
            {
                int n = Math.Min(frames - done, passFrames);
                if (engine.TryRender(_scratch, n) != FkResult.Ok) return;
                int o = done * channels;
                if (ec == 1)
                {
                    for (int i = 0; i < n; i++, o += channels)
                    {
                        float s = _scratch[i] * g;
                        for (int c = 0; c < channels; c++) data[o + c] += s;
                    }
                }
                else if (channels == 1)
                {
                    for (int i = 0; i < n; i++) data[o + i] += 0.5f * g * (_scratch[2 * i] + _scratch[2 * i + 1]);
                }
                else
                {
                    for (int i = 0; i < n; i++, o += channels)
                    {
                        data[o] += _scratch[2 * i] * g;
                        data[o + 1] += _scratch[2 * i + 1] * g;
                    }
                }
                done += n;
            }
        }

        private void OnDestroy()
        {
            if (Instance == this) Instance = null;
            var engine = _engine;
            _engine = null;  // the audio thread stops rendering; TryRender after Dispose fails safely
            if (engine != null) engine.Dispose();
            _modelIds.Clear();
        }

        /// <summary>A seed for a new sound (different every call).</summary>
        public static ulong NextSeed()
        {
            unchecked
            {
                ulong a = (uint)UnityEngine.Random.Range(int.MinValue, int.MaxValue);
                ulong b = (uint)UnityEngine.Random.Range(int.MinValue, int.MaxValue);
                return (a << 32) | b;
            }
        }

        /// <summary>Distance gain from position to this listener.</summary>
        public float DistanceGain(Vector3 position, float minDistance, float maxDistance)
        {
            return Attenuation.InverseDistance(Vector3.Distance(position, transform.position), minDistance, maxDistance);
        }
    }
}
#endif
