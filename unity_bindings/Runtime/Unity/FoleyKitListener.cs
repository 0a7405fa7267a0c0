#if UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using UnityEngine;

namespace FoleyKit.Unity
{
    /// <summary>
    /// Feeds FoleyKit's audio into Unity's mix: put it next to the AudioListener. A pump thread
    /// renders into a lock-free ring; OnAudioFilterRead (Unity's audio thread) only copies out
    /// of it. One per scene; components find it through Instance.
    /// </summary>
    [AddComponentMenu("FoleyKit/FoleyKit Listener")]
    [RequireComponent(typeof(AudioListener))]
    [DisallowMultipleComponent]
    public sealed class FoleyKitListener : MonoBehaviour
    {
        [Tooltip("Gain applied to everything FoleyKit plays.")]
        [Range(0f, 4f)] public float masterGain = 1f;

        [Tooltip("Samples rendered ahead of the audio thread (latency against underruns).")]
        [Range(256, 16384)] public int latencySamples = 2048;

        public static FoleyKitListener Instance { get; private set; }

        private AudioPump _pump;
        private float[] _mono = new float[0];
        private volatile float _gain = 1f;
        private readonly Dictionary<FoleyKitModelAsset, OneShot> _oneShots = new Dictionary<FoleyKitModelAsset, OneShot>();

        public AudioPump Pump { get { return _pump; } }
        public int OutputSampleRate { get { return _pump != null ? _pump.OutputSampleRate : AudioSettings.outputSampleRate; } }

        private void Awake()
        {
            if (Instance != null && Instance != this)
            {
                Debug.LogWarning("FoleyKit: a second FoleyKitListener is ignored", this);
                enabled = false;
                return;
            }
            Instance = this;
            _mono = new float[8192];
            _gain = masterGain;
            _pump = new AudioPump(AudioSettings.outputSampleRate, Mathf.Max(latencySamples, 256));
            _pump.Start();
        }

        private void Update()
        {
            _gain = masterGain;
            if (_pump == null) return;
            Exception e;
            while (_pump.TryTakeError(out e)) Debug.LogException(e, this);
        }

        /// <summary>Plays a one-shot model's sound for (values, seed); rendering happens on the pump thread.</summary>
        public VoiceHandle PlayOneShot(FoleyKitModelAsset asset, float[] values, ulong seed, float gain)
        {
            if (_pump == null || asset == null) return null;
            OneShot shot;
            if (!_oneShots.TryGetValue(asset, out shot))
            {
                shot = new OneShot(asset.GetModel());
                _oneShots.Add(asset, shot);
            }
            return _pump.PlayOneShot(shot, values, seed, gain);
        }

        /// <summary>Plays a producer (an AmbienceStream) until its handle is stopped.</summary>
        public VoiceHandle Play(ISampleProducer producer, int sourceSampleRate, float gain)
        {
            return _pump == null ? null : _pump.Play(producer, sourceSampleRate, gain);
        }

        // Unity's audio thread. Adds FoleyKit's mono mix to every channel; no allocation.
        private void OnAudioFilterRead(float[] data, int channels)
        {
            var pump = _pump;
            if (pump == null || channels <= 0) return;
            float g = _gain;
            int frames = data.Length / channels;
            int done = 0;
            while (done < frames)
            {
                int n = Math.Min(frames - done, _mono.Length);
                pump.Read(_mono, n);
                int o = done * channels;
                for (int i = 0; i < n; i++)
                {
                    float s = _mono[i] * g;
                    for (int c = 0; c < channels; c++) data[o++] += s;
                }
                done += n;
            }
        }

        private void OnDestroy()
        {
            if (Instance == this) Instance = null;
            if (_pump != null) _pump.Dispose();  // joins the pump thread first
            _pump = null;
            foreach (var shot in _oneShots.Values) shot.Dispose();
            _oneShots.Clear();
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
