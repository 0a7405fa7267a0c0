"""Decode one sound file into the model's audio: mono float32 at the model rate, DC removed,
leading and trailing silence trimmed.

Everything that makes a file unusable raises :class:`AudioError` with a reason a sound designer
can act on ("sample rate 100 Hz is outside 4000..768000 Hz"); problems that leave the file
usable (mild clipping) come back as warnings on the :class:`Decoded` result.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np

__all__ = ["AUDIO_EXTENSIONS", "AudioError", "Preprocess", "Decoded", "decode"]

# libsndfile decodes all four; the extension decides which files are looked at, the content
# decides what they are (a .wav holding FLAC data still decodes).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

# Bumped whenever decode() changes its output, so cached audio from an older pipeline is not
# reused.
PIPELINE_VERSION = 1


class AudioError(Exception):
    """The file cannot be used; ``str(err)`` is the reason, written for the report."""


@dataclass(frozen=True)
class Preprocess:
    """How a file becomes training audio. Every field is part of the audio cache key.

    trim_db: leading/trailing audio quieter than this, relative to the file's peak, is cut.
    margin_ms: kept on either side of the first and last sample above the trim threshold.
    silence_dbfs: a file whose peak (after DC removal) is below this is silent, not quiet.
    min_rate, max_rate: header sample rates outside this range are refused.
    min_seconds, max_seconds: trimmed clips outside this range are refused.
    clip_warn, clip_fail: share of the active samples sitting at full scale (in runs of three
        or more) that gets a warning, and that makes a file unusable.
    quality: soxr quality, "HQ" or "VHQ".
    """

    trim_db: float = -60.0
    margin_ms: float = 5.0
    silence_dbfs: float = -80.0
    min_rate: int = 4000
    max_rate: int = 768000
    min_seconds: float = 0.01
    max_seconds: float = 3600.0
    clip_warn: float = 1e-4
    clip_fail: float = 0.25
    quality: str = "HQ"

    def __post_init__(self) -> None:
        if self.quality not in ("HQ", "VHQ"):
            raise ValueError(f"quality must be 'HQ' or 'VHQ', got {self.quality!r}")
        if not self.trim_db < 0:
            raise ValueError(f"trim_db must be negative, got {self.trim_db}")

    def key(self) -> dict:
        return {"pipeline": PIPELINE_VERSION, **dataclasses.asdict(self)}


@dataclass
class Decoded:
    """One usable file. ``audio`` is ``(samples,)`` float32 at ``sr``."""

    audio: np.ndarray
    sr: int
    source_sr: int
    source_channels: int
    source_format: str
    source_seconds: float
    warnings: List[str]


def decode(path: Path, sr: int, pre: Preprocess = Preprocess()) -> Decoded:
    """Reads ``path`` and returns it as model audio; raises :class:`AudioError` if unusable.

    Steps: decode (libsndfile) -> checks on the source samples -> downmix (channel mean) ->
    subtract the mean -> resample (soxr) -> trim silence.
    """
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
            fmt = f"{f.format}/{f.subtype}"
            _check_header(rate, channels, frames, pre)
            x = f.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except PermissionError:
        raise AudioError("cannot read: permission denied")
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as err:
        raise AudioError(f"not a readable audio file ({_short(err)})")
    except MemoryError:
        raise AudioError("too large to decode in memory")

    # libsndfile takes MP3 lengths from the Xing header; a big shortfall means the stream is
    # cut or damaged, and training on half a sound teaches the wrong sound.
    if x.shape[0] < 0.9 * frames:
        raise AudioError(f"truncated or corrupt: decoded {x.shape[0]} of {frames} frames")
    if x.shape[0] == 0:
        raise AudioError("no audio frames")
    if not np.isfinite(x).all():
        raise AudioError("contains NaN or infinite samples")

    warnings: List[str] = []
    peak_src = float(np.max(np.abs(x)))
    if peak_src < _db(pre.silence_dbfs):
        raise AudioError(f"silent (peak {_dbfs(peak_src)})")
    clipped = _clipped_share(x, peak_src, pre)
    if clipped >= pre.clip_fail:
        raise AudioError(f"severely clipped ({clipped:.0%} of the sound is at full scale)")
    if clipped >= pre.clip_warn:
        warnings.append(f"clipped ({clipped:.2%} of the sound is at full scale)")
    if peak_src > 1.0:
        warnings.append(f"peaks above full scale ({_dbfs(peak_src)}); will clip on playback")

    mono = x.mean(axis=1) if channels > 1 else x[:, 0]
    # DC goes before resampling: an offset is a step at both ends of the file, and the
    # resampler's ringing on that step would survive the silence trim.
    mono = np.ascontiguousarray(mono - mono.mean(dtype=np.float64), dtype=np.float32)
    if rate != sr:
        import soxr

        mono = soxr.resample(mono, rate, sr, quality=pre.quality).astype(np.float32, copy=False)

    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak < _db(pre.silence_dbfs):
        if channels > 1:
            raise AudioError(f"silent after downmix to mono (channels cancel; peak {_dbfs(peak)})")
        raise AudioError(f"silent after DC removal (peak {_dbfs(peak)})")
    mono = _trim(mono, sr, peak, pre)
    seconds = mono.size / sr
    if seconds < pre.min_seconds:
        raise AudioError(f"too short after trimming silence ({seconds * 1000:.1f} ms)")
    if seconds > pre.max_seconds:
        raise AudioError(f"too long ({seconds:.0f} s > {pre.max_seconds:.0f} s); split it")
    return Decoded(np.ascontiguousarray(mono, dtype=np.float32), sr, rate, channels, fmt,
                   frames / rate, warnings)


def _check_header(rate: int, channels: int, frames: int, pre: Preprocess) -> None:
    if not pre.min_rate <= rate <= pre.max_rate:
        raise AudioError(f"sample rate {rate} Hz is outside {pre.min_rate}..{pre.max_rate} Hz")
    if channels < 1:
        raise AudioError(f"{channels} channels")
    if frames <= 0:
        raise AudioError("no audio frames")
    if frames / rate > 4 * pre.max_seconds:
        raise AudioError(f"too long ({frames / rate:.0f} s); split it")


def _clipped_share(x: np.ndarray, peak: float, pre: Preprocess) -> float:
    """Share of the non-silent samples that sit at full scale in runs of three or more: a flat
    top is what clipping leaves, a single full-scale sample is not clipping."""
    if peak < 0.999:
        return 0.0
    at_fs = np.abs(x) >= 0.999
    # Runs of >= 3 along time, per channel.
    run = at_fs[2:] & at_fs[1:-1] & at_fs[:-2]
    in_run = np.zeros_like(at_fs)
    in_run[2:] |= run
    in_run[1:-1] |= run
    in_run[:-2] |= run
    active = np.abs(x) >= peak * _db(pre.trim_db)
    n_active = int(active.sum())
    return float(in_run.sum()) / n_active if n_active else 0.0


def _trim(x: np.ndarray, sr: int, peak: float, pre: Preprocess) -> np.ndarray:
    above = np.flatnonzero(np.abs(x) >= peak * _db(pre.trim_db))
    margin = int(round(pre.margin_ms * 1e-3 * sr))
    start = max(int(above[0]) - margin, 0)
    stop = min(int(above[-1]) + 1 + margin, x.size)
    return x[start:stop]


def _db(db: float) -> float:
    return 10.0 ** (db / 20.0)


def _dbfs(a: float) -> str:
    return "-inf dBFS" if a <= 0 else f"{20 * math.log10(a):.1f} dBFS"


def _short(err: BaseException) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    # libsndfile repeats the path: "Error opening '/long/path.wav': Format not recognised."
    if ": " in msg and msg.startswith("Error opening"):
        msg = msg.rsplit(": ", 1)[1]
    if msg.startswith("Error : "):
        msg = msg[len("Error : "):]
    return msg.rstrip(".")

