"""On-disk cache of decoded audio and log-mel features, keyed by content.

Layout under the cache folder::

    audio/<key>.json   what decoding found: metadata, derived controls, warnings, or the
                       reason the file is unusable (so a broken file is not decoded twice)
    audio/<key>.npy    the decoded clip, float32 (samples,), when usable
    mel/<key>.npy      log-mel, float32 (n_mels, frames)

An audio key hashes the file's bytes with everything decoding depends on (model rate,
:class:`~foleykit.data.audio_io.Preprocess`, libsndfile and soxr versions); a mel key adds the
feature settings and the native core's version. Renaming or moving a file keeps its entries;
changing one byte or one setting misses. Entries are written to a temporary name and renamed,
so concurrent runs (one per DDP rank) never read half a file; an unreadable entry is a miss.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

__all__ = ["FeatureSettings", "FeatureCache", "default_cache_dir", "file_digest", "settings_key"]


@dataclass(frozen=True)
class FeatureSettings:
    """The log-mel settings of :func:`foleykit.dsp.log_mel` (DESIGN.md defaults)."""

    sr: int = 48000
    n_fft: int = 1024
    hop: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: Optional[float] = None
    log_floor: float = 1e-5

    def validate(self) -> None:
        """Raises :class:`foleykit.DSPError` for settings the native core refuses."""
        from .. import dsp

        if not float(self.log_floor) > 0:
            raise dsp.DSPError(f"log_floor must be positive, got {self.log_floor}")
        dsp.mel_filterbank(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax)
        dsp.stft(np.zeros(self.n_fft, np.float32), self.n_fft, self.hop)

    def log_mel(self, x: np.ndarray) -> np.ndarray:
        """``(samples,)`` -> ``(n_mels, frames)``. Clips shorter than half a window are padded
        with zeros at the end (the centred STFT cannot reflect-pad them)."""
        from .. import dsp

        if x.size <= self.n_fft // 2:
            x = np.pad(x, (0, self.n_fft // 2 + 1 - x.size))
        return dsp.log_mel(x, self.sr, self.n_fft, self.hop, self.n_mels, self.fmin,
                           self.fmax, self.log_floor)


def default_cache_dir() -> Path:
    """``$FOLEYKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/foleykit``, else ``~/.cache/foleykit``."""
    env = os.environ.get("FOLEYKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "foleykit"


def file_digest(path: Union[str, Path]) -> str:
    """BLAKE2b-128 of the file's bytes, hex. Raises OSError (PermissionError included)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def settings_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


class FeatureCache:
    """Get/put for the three entry kinds. ``root=None`` keeps nothing (every get misses)."""

    def __init__(self, root: Optional[Union[str, Path]]) -> None:
        self.root = None if root is None else Path(root)

    def get_meta(self, key: str) -> Optional[dict]:
        p = self._path("audio", key, ".json")
        if p is None or not p.is_file():
            return None
        try:
            with open(p, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def put_meta(self, key: str, meta: dict) -> None:
        self._write(self._path("audio", key, ".json"),
                    lambda f: f.write(json.dumps(meta).encode()))

    def get_array(self, kind: str, key: str) -> Optional[np.ndarray]:
        p = self._path(kind, key, ".npy")
        if p is None or not p.is_file():
            return None
        try:
            return np.load(p, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def has_array(self, kind: str, key: str) -> bool:
        p = self._path(kind, key, ".npy")
        return p is not None and p.is_file()

    def put_array(self, kind: str, key: str, a: np.ndarray) -> None:
        self._write(self._path(kind, key, ".npy"),
                    lambda f: np.save(f, np.ascontiguousarray(a), allow_pickle=False))

    def _path(self, kind: str, key: str, ext: str) -> Optional[Path]:
        return None if self.root is None else self.root / kind / f"{key}{ext}"

    @staticmethod
    def _write(path: Optional[Path], write) -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    write(f)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written is a slower run, not a failed one
