"""The DSP demo: what the runtime does with a model's output, before any model exists.

Three test sounds (an impact, a noise bed, a voiced tone) are reduced to the default feature,
an 80-band log-mel, and rebuilt from it with every phase method the runtime offers: one-call
``foleykit.dsp.synthesize`` with PGHI, fast Griffin-Lim (32 iterations), PGHI followed by 8
Griffin-Lim iterations, random phase, and frame-by-frame ``StreamingSynth`` (RTPGHI) as an
ambience or a streaming model would drive it. ``run(out_dir)`` writes:

- ``wav/<sound>_<method>.wav`` (and ``<sound>_original.wav``), 48 kHz;
- ``spectrograms.png``: original vs every reconstruction, one row per sound;
- ``report.md`` and ``report.json``: spectral convergence and speed per sound and method,
  with the resolved settings.

Spectral convergence (dB, lower is better) is measured against two references: the linear
magnitude the log-mel implies (``mel_to_linear(exp(log_mel))``, what a phase method is
actually given) and the original signal's ``|STFT|`` (which the 80-band reduction has
already blurred, so no method can reach it).
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from . import dsp, testsignals

__all__ = ["SOUNDS", "METHODS", "run"]

SR = 48000
N_FFT = 1024
HOP = 256
N_MELS = 80
REPEATS = 3

# (name, generator, seconds)
SOUNDS: Tuple[Tuple[str, Callable[..., np.ndarray], float], ...] = (
    ("impact", testsignals.impact, 1.0),
    ("noise", testsignals.noise_bed, 2.0),
    ("voiced", testsignals.voiced, 1.5),
)
# (label, synthesize method, n_iter); "stream_rtpghi" is StreamingSynth, one frame per push.
METHODS: Tuple[Tuple[str, str, int], ...] = (
    ("pghi", "pghi", 0),
    ("griffin_lim", "griffin_lim", 32),
    ("pghi_griffin_lim", "pghi_griffin_lim", 8),
    ("random", "random", 0),
    ("stream_rtpghi", "rtpghi", 0),
)
TITLES = {
    "original": "original",
    "target": "log-mel -> linear (given)",
    "pghi": "PGHI",
    "griffin_lim": "Griffin-Lim x32",
    "pghi_griffin_lim": "PGHI + Griffin-Lim x8",
    "random": "random phase",
    "stream_rtpghi": "streaming RTPGHI",
}


def _log(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def _timed(fn: Callable[[], np.ndarray], repeats: int = REPEATS) -> Tuple[np.ndarray, float]:
    """The output of ``fn`` and its median time in seconds over ``repeats`` runs."""
    times: List[float] = []
    y = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        y = fn()
        times.append(time.perf_counter() - t0)
    return y, float(np.median(times))


def _stream(log_mel: np.ndarray, fb: np.ndarray, length: int) -> np.ndarray:
    """Mel -> linear for the clip, then one frame per push as a streaming model would feed
    it, then flush. (``mel_to_linear`` is converted once: each call builds the filterbank's
    pseudo-inverse afresh.) The stream's output starts at the first frame's centre, like a
    centred iSTFT."""
    synth = dsp.StreamingSynth(N_FFT, HOP, method="rtpghi", seed=0)
    lin = dsp.mel_to_linear(np.exp(log_mel).astype(np.float32), fb)
    parts = [synth.push(np.ascontiguousarray(lin[:, t])) for t in range(lin.shape[1])]
    parts.append(synth.flush())
    return _fit(np.concatenate(parts), length)


def _fit(y: np.ndarray, length: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if len(y) >= length:
        return y[:length]
    return np.pad(y, (0, length - len(y)))


def _db(mag: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(mag, 1e-5))


def _write_wav(path: str, y: np.ndarray) -> None:
    import soundfile as sf

    sf.write(path, np.clip(y, -1.0, 1.0), SR, subtype="PCM_16")


def _picture(path: str, spectra: Dict[str, Dict[str, np.ndarray]],
             scores: Dict[str, Dict[str, float]]) -> bool:
    try:
        import matplotlib
    except ImportError:
        _log("matplotlib is not installed (pip install 'foleykit[dev]'): no picture")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = ["original", "target"] + [m[0] for m in METHODS]
    rows = list(spectra)
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.9 * len(columns),
                                                               2.5 * len(rows) + 0.8),
                             sharey=True, squeeze=False, constrained_layout=True)
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    image = None
    for r, sound in enumerate(rows):
        # Each row in dB relative to its original's peak, so one colour bar reads all rows.
        ref = float(_db(spectra[sound]["original"]).max())
        for c, col in enumerate(columns):
            ax = axes[r][c]
            mag = spectra[sound][col]
            times = np.arange(mag.shape[1]) * HOP / SR
            image = ax.pcolormesh(times, freqs, _db(mag) - ref, shading="nearest",
                                  cmap="magma", vmin=-80.0, vmax=0.0, rasterized=True)
            # librosa's "log" frequency axis: linear below 1 kHz, logarithmic above.
            ax.set_yscale("symlog", linthresh=1000.0, base=2)
            ax.set_ylim(0.0, SR / 2)
            ax.set_yticks([0, 500, 1000, 2000, 4000, 8000, 16000])
            ax.set_yticklabels(["0", "0.5", "1", "2", "4", "8", "16"])
            title = TITLES[col]
            if col in scores[sound]:
                title += f"\nSC {scores[sound][col]:.1f} dB"
            elif col == "original":
                title += f" {sound}\n{mag.shape[1] * HOP / SR:.1f} s"
            else:
                title += "\n"
            ax.set_title(title, fontsize=10)
            if c == 0:
                ax.set_ylabel(f"{sound}\nkHz", fontsize=10)
            if r == len(rows) - 1:
                ax.set_xlabel("s", fontsize=9)
            ax.tick_params(labelsize=8)
    fig.suptitle("FoleyKit DSP demo: |STFT| of the original and of each reconstruction from "
                 "the 80-band log-mel. SC = spectral convergence against the magnitude the "
                 "log-mel implies (lower is better)", fontsize=11)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="dB re. the original's peak")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _markdown(rows: List[Dict[str, Any]], settings: Dict[str, Any]) -> str:
    lines = [
        "# FoleyKit DSP demo",
        "",
        f"Each sound is reduced to an {settings['n_mels']}-band log-mel ({settings['sr']} Hz, "
        f"n_fft {settings['n_fft']}, hop {settings['hop']}) and rebuilt from it. Spectral "
        "convergence (SC, dB, lower is better) against the linear magnitude the log-mel "
        "implies (`mel_to_linear(exp(log_mel))`) and against the original |STFT|. Time is the "
        f"median of {settings['repeats']} runs on one thread; RTF = audio seconds / compute "
        "seconds. The `original` row scores the original signal itself: the floor the mel "
        "reduction leaves.",
        "",
        "| sound | method | SC vs log-mel implied (dB) | SC vs original (dB) | ms | RTF |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ms = "—" if r["ms"] is None else f"{r['ms']:.2f}"
        rtf = "—" if r["rtf"] is None else f"{r['rtf']:.0f}x"
        lines.append(f"| {r['sound']} | {r['method']} | {r['sc_mel_db']:.2f} | "
                     f"{r['sc_original_db']:.2f} | {ms} | {rtf} |")
    return "\n".join(lines)


def run(out_dir: str = "demo_out") -> Dict[str, Any]:
    """Runs the demo and writes its files under ``out_dir``; returns the report's content."""
    out_dir = os.path.abspath(out_dir)
    wav_dir = os.path.join(out_dir, "wav")
    os.makedirs(wav_dir, exist_ok=True)
    settings = {"sr": SR, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "fmin": 0.0,
                "fmax": SR / 2, "log_floor": 1e-5, "repeats": REPEATS,
                "sounds": {name: seconds for name, _, seconds in SOUNDS},
                "methods": {label: {"method": m, "n_iter": n} for label, m, n in METHODS},
                "seed": 0}
    _log(f"writing to {out_dir}")
    fb = dsp.mel_filterbank(SR, N_FFT, N_MELS)
    rows: List[Dict[str, Any]] = []
    spectra: Dict[str, Dict[str, np.ndarray]] = {}
    scores: Dict[str, Dict[str, float]] = {}

    for sound, make, seconds in SOUNDS:
        x = make(sr=SR, duration=seconds)
        n = len(x)
        _log(f"{sound}: {seconds:g} s -> {N_MELS}-band log-mel")
        original = np.abs(dsp.stft(x, N_FFT, HOP))
        lm = dsp.log_mel(x, SR, N_FFT, HOP, N_MELS)
        target = dsp.mel_to_linear(np.exp(lm).astype(np.float32), fb)
        spectra[sound] = {"original": original, "target": target}
        scores[sound] = {}
        _write_wav(os.path.join(wav_dir, f"{sound}_original.wav"), x)
        rows.append({"sound": sound, "method": "original",
                     "sc_mel_db": dsp.spectral_convergence(target, x, N_FFT, HOP),
                     "sc_original_db": dsp.spectral_convergence(original, x, N_FFT, HOP),
                     "ms": None, "rtf": None})

        for label, method, n_iter in METHODS:
            if label == "stream_rtpghi":
                y, sec = _timed(lambda: _stream(lm, fb, n))
            else:
                y, sec = _timed(lambda: dsp.synthesize(
                    lm, kind="log_mel", method=method, sr=SR, n_fft=N_FFT, hop=HOP,
                    n_mels=N_MELS, n_iter=n_iter, seed=0, length=n))
                y = _fit(y, n)
            sc_mel = dsp.spectral_convergence(target, y, N_FFT, HOP)
            sc_orig = dsp.spectral_convergence(original, y, N_FFT, HOP)
            _write_wav(os.path.join(wav_dir, f"{sound}_{label}.wav"), y)
            spectra[sound][label] = np.abs(dsp.stft(y, N_FFT, HOP))
            scores[sound][label] = sc_mel
            rows.append({"sound": sound, "method": label, "sc_mel_db": sc_mel,
                         "sc_original_db": sc_orig, "ms": 1e3 * sec, "rtf": seconds / sec,
                         "peak": float(np.abs(y).max())})
            _log(f"{sound}: {label:<17} SC {sc_mel:7.2f} dB (vs log-mel implied), "
                 f"{sc_orig:7.2f} dB (vs original), {1e3 * sec:8.2f} ms, "
                 f"{seconds / sec:6.0f}x real time")

    png = os.path.join(out_dir, "spectrograms.png")
    _log("drawing spectrograms.png")
    drew = _picture(png, spectra, scores)
    table = _markdown(rows, settings)
    report = {"settings": settings, "results": rows,
              "files": {"wav": sorted(os.listdir(wav_dir)),
                        "picture": "spectrograms.png" if drew else None}}
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(table + "\n")
        if drew:
            f.write("\n![spectrograms](spectrograms.png)\n")
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print()
    print(table)
    print()
    _log(f"wrote {len(report['files']['wav'])} WAVs, "
         f"{'spectrograms.png, ' if drew else ''}report.md and report.json in {out_dir}")
    return report
