"""The user's sound folder: one sub-folder per category, an optional ``labels.csv``.

::

    my_sounds/
        labels.csv            file,category,velocity[0:10]     (optional)
        footstep_gravel/      01.wav  02.flac  take3/04.mp3 ...
        crate_hit/            a.ogg  b.wav ...

A file's category is its top-level sub-folder (deeper folders only organise), or the
``category`` column of ``labels.csv``, which wins. Files are WAV, FLAC, OGG or MP3 at any
sample rate and channel count; each becomes 48 kHz (``sr``) mono, DC-free, silence-trimmed
audio (:mod:`.audio_io`) with derived controls (:mod:`.controls`) and cached log-mel
(:mod:`.features`). Anything unusable is skipped with a line in :attr:`SoundFolder.report`;
nothing in a folder makes the constructor raise except the folder itself being missing.
"""
from __future__ import annotations

import os
import statistics
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import (Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple,
                    Union)

import numpy as np

from . import audio_io, controls as _controls
from .audio_io import AUDIO_EXTENSIONS, AudioError, Preprocess
from .augment import Augmenter
from .controls import ControlSpec
from .features import FeatureCache, FeatureSettings, default_cache_dir, file_digest, settings_key

__all__ = ["SoundFolder", "SoundItem"]

LABELS_FILE = "labels.csv"


@dataclass(frozen=True, eq=False)
class SoundItem:
    """One clip. ``audio`` is ``(samples,)`` float32 at the folder's rate; ``mel`` is
    ``(n_mels, frames)`` float32. Both load on first use (from the cache when there is one).

    controls: raw values (dB LUFS, Hz, s, the user's units); normalized: the same on 0..1 over
    the dataset (see :attr:`SoundFolder.controls`); imputed: user controls this file had no valid
    value for, filled with the dataset median. variant is 0 for the recording itself and
    1..k for augmented copies, whose ``augmentation`` holds the drawn parameters.
    """

    file: str
    category: str
    controls: Mapping[str, float]
    normalized: Mapping[str, float]
    imputed: FrozenSet[str]
    duration: float
    source_sr: int
    source_channels: int
    content_hash: str
    warnings: Tuple[str, ...] = ()
    variant: int = 0
    augmentation: Mapping[str, float] = field(default_factory=dict)
    _audio: Callable[[], np.ndarray] = field(default=None, repr=False)
    _mel: Callable[[], np.ndarray] = field(default=None, repr=False)

    @property
    def audio(self) -> np.ndarray:
        return self._audio()

    @property
    def mel(self) -> np.ndarray:
        return self._mel()


@dataclass
class _Scanned:
    """What the scan learned about one usable file, before dataset-wide controls exist."""

    file: str
    category: str
    key: str
    digest: str
    meta: dict
    labels: Dict[str, float]


class SoundFolder:
    """A folder of recordings as a labelled dataset.

    Args:
        root: the folder.
        sr, n_fft, hop, n_mels, fmin, fmax, log_floor: the model's rate and log-mel settings
            (:func:`foleykit.dsp.log_mel`); invalid settings raise :class:`foleykit.DSPError`.
        cache_dir: where decoded audio and features are kept between runs; ``None`` for the
            default (:func:`~foleykit.data.features.default_cache_dir`), ``False`` for none.
        preprocess: decoding, trimming and checking thresholds (:class:`.audio_io.Preprocess`).
        workers: files decoded at once (threads; libsndfile and soxr release the GIL).
        progress: show a tqdm bar while scanning.

    Attributes:
        report: ``(file, reason)`` for every problem, files relative to ``root``. A reason starts
            with "skipped:" (the file is not in the dataset), "value ignored:" (a labels.csv
            cell; the file stays), "kept:" (usable with a caveat, e.g. mild clipping) or
            "labels.csv" (a row or column of labels.csv that could not be used).
        skipped: file -> reason for each file left out.
        ignored: files that are not audio by their extension (notes, images), not reported.
        controls: name -> :class:`~foleykit.data.controls.ControlSpec` over the usable files.
        stats: counters ("decoded", "audio_cache_hits", "mel_computed", "mel_cache_hits").
    """

    def __init__(self, root: Union[str, os.PathLike], sr: int = 48000, n_fft: int = 1024,
                 hop: int = 256, n_mels: int = 80, fmin: float = 0.0,
                 fmax: Optional[float] = None, log_floor: float = 1e-5,
                 cache_dir: Union[str, os.PathLike, None, bool] = None, *,
                 preprocess: Optional[Preprocess] = None, workers: int = 1,
                 progress: bool = False) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise FileNotFoundError(f"sound folder {str(self.root)!r} does not exist")
        if not self.root.is_dir():
            raise NotADirectoryError(f"sound folder {str(self.root)!r} is not a folder")
        self.sr = int(sr)
        self.feature_settings = FeatureSettings(self.sr, int(n_fft), int(hop), int(n_mels),
                                                float(fmin), None if fmax is None else float(fmax),
                                                float(log_floor))
        self.feature_settings.validate()
        self.preprocess = preprocess or Preprocess()
        if cache_dir is None or cache_dir is True:
            cache_dir = default_cache_dir()
        self.cache_dir: Optional[Path] = None if cache_dir is False else Path(cache_dir)
        self._cache = FeatureCache(self.cache_dir)
        self._memory: Dict[str, np.ndarray] = {}  # audio key -> clip, when there is no cache
        self._lock = threading.Lock()

        self.report: List[Tuple[str, str]] = []
        self.skipped: Dict[str, str] = {}
        self.ignored: List[str] = []
        self.stats = {"decoded": 0, "audio_cache_hits": 0, "mel_computed": 0, "mel_cache_hits": 0}
        self._audio_key_base = (self.sr, self.preprocess.key(), _decoder_versions())
        self._mel_key_base = (asdict(self.feature_settings), _native_version())

        scanned = self._scan(max(int(workers), 1), progress)
        self.controls: Dict[str, ControlSpec] = {}
        self._items = self._build_items(scanned)

    # -- the dataset ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[SoundItem]:
        return iter(self._items)

    def __getitem__(self, i: int) -> SoundItem:
        return self._items[i]

    def __repr__(self) -> str:
        return (f"SoundFolder({str(self.root)!r}: {len(self)} clips in "
                f"{len(self.categories)} categories, {len(self.skipped)} skipped)")

    @property
    def categories(self) -> List[str]:
        return sorted({it.category for it in self._items})

    def by_category(self) -> Dict[str, List[SoundItem]]:
        out: Dict[str, List[SoundItem]] = {c: [] for c in self.categories}
        for it in self._items:
            out[it.category].append(it)
        return out

    def items(self, augment: int = 0, seed: int = 0,
              augmenter: Optional[Augmenter] = None) -> List[SoundItem]:
        """The clips, each followed by ``augment`` seeded variants (:class:`.augment.Augmenter`)
        with the same category and user labels; derived controls are measured on the variant.

        Variants are computed here and held in memory (they are meant for small libraries);
        the same (seed, augmenter, files) give the same variants on every run.
        """
        if augment < 0:
            raise ValueError(f"augment must be >= 0, got {augment}")
        if augment == 0:
            return list(self._items)
        aug = augmenter or Augmenter(seed=seed)
        out: List[SoundItem] = []
        for it in self._items:
            out.append(it)
            for v in range(1, augment + 1):
                out.append(self._variant(it, aug, v))
        return out

    def features(self) -> List[np.ndarray]:
        """Log-mel ``(n_mels, frames)`` of every clip, computing and caching what is missing."""
        return [it.mel for it in self._items]

    # -- scanning -------------------------------------------------------------------------

    def _problem(self, file: str, reason: str, skip: bool = True) -> None:
        self.report.append((file, ("skipped: " if skip else "") + reason))
        if skip:
            self.skipped[file] = reason

    def _scan(self, workers: int, progress: bool) -> List[_Scanned]:
        labels = None
        if (self.root / LABELS_FILE).is_file():
            labels = _controls.read_labels(self.root / LABELS_FILE, LABELS_FILE)
            self.report.extend(labels.problems)
        self._labels = labels

        audio_files, all_files = self._walk()
        if labels is not None:
            lower = {f.lower(): f for f in audio_files}
            for rel, row in labels.rows.items():
                if rel in audio_files:
                    continue
                where = f"{LABELS_FILE} line {row.line}"
                if rel in all_files:
                    self._problem(rel, f"{where}: not a WAV, FLAC, OGG or MP3 file", skip=False)
                elif rel.lower() in lower:
                    self._problem(rel, f"{where}: file not found (did you mean "
                                       f"{lower[rel.lower()]!r}?)", skip=False)
                else:
                    self._problem(rel, f"{where}: file not found", skip=False)

        todo: List[Tuple[str, str, Dict[str, float]]] = []
        for rel in audio_files:
            row = labels.rows.get(rel) if labels is not None else None
            parts = rel.split("/")
            category = (row.category if row is not None and row.category else
                        parts[0] if len(parts) > 1 else None)
            if category is None:
                self._problem(rel, "not in a category folder and labels.csv gives no category")
                continue
            todo.append((rel, category, dict(row.values) if row is not None else {}))

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc="sound folder", unit="file")
        results: List[_Scanned] = []
        first_of: Dict[str, str] = {}  # content hash -> first file with it
        # map() keeps the file order, so the report reads the same with any worker count.
        with ThreadPoolExecutor(workers) if workers > 1 else _Serial() as pool:
            for (rel, _, _), (res, problems) in zip(todo, pool.map(self._scan_one, todo)):
                for reason, skip in problems:
                    self._problem(rel, reason, skip)
                if res is not None:
                    # Kept (it may be deliberate), but a copy weighs a sound twice in training.
                    if res.digest in first_of:
                        self._problem(rel, f"kept: same bytes as {first_of[res.digest]}",
                                      skip=False)
                    first_of.setdefault(res.digest, rel)
                    results.append(res)
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
        return results

    def _walk(self) -> Tuple[List[str], set]:
        audio, every = [], set()

        def onerror(err: OSError) -> None:
            rel = _rel(self.root, Path(err.filename)) if err.filename else "."
            self._problem(rel + "/", f"cannot list folder: {err.strerror or err}")

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=onerror):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                rel = _rel(self.root, Path(dirpath) / name)
                if rel == LABELS_FILE:
                    continue
                every.add(rel)
                if name.lower().endswith(AUDIO_EXTENSIONS):
                    audio.append(rel)
                else:
                    self.ignored.append(rel)
        return audio, every

    def _scan_one(self, job: Tuple[str, str, Dict[str, float]]
                  ) -> Tuple[Optional[_Scanned], List[Tuple[str, bool]]]:
        """Runs on a worker thread: returns the file (or None) and its (reason, skip) lines."""
        rel, category, labels = job
        path = self.root / rel
        try:
            if path.is_symlink() and not path.exists():
                raise AudioError("broken link")
            try:
                if path.stat().st_size == 0:
                    raise AudioError("empty file (0 bytes)")
                digest = file_digest(path)
            except PermissionError:
                raise AudioError("cannot read: permission denied")
            except OSError as err:
                raise AudioError(f"cannot read: {err.strerror or err}")
            key = settings_key("audio", digest, *self._audio_key_base)
            meta = self._cache.get_meta(key)
            if meta is not None and ("error" in meta or self._cache.has_array("audio", key)):
                with self._lock:
                    self.stats["audio_cache_hits"] += 1
            else:
                meta = self._decode(path, key)
            if "error" in meta:
                raise AudioError(meta["error"])
        except AudioError as err:
            return None, [(str(err), True)]
        except Exception as err:  # a decoder bug must cost one file, not the dataset
            return None, [(f"could not decode ({type(err).__name__}: {err})", True)]
        problems = [("kept: " + w, False) for w in meta["warnings"]]
        return _Scanned(rel, category, key, digest, meta, labels), problems

    def _decode(self, path: Path, key: str) -> dict:
        """Decodes and caches; returns the metadata (with "error" when unusable)."""
        with self._lock:
            self.stats["decoded"] += 1
        try:
            d = audio_io.decode(path, self.sr, self.preprocess)
        except AudioError as err:
            meta = {"error": str(err)}
            if not str(err).startswith("cannot read"):  # not a property of the content
                self._cache.put_meta(key, meta)
            return meta
        meta = {"source_sr": d.source_sr, "source_channels": d.source_channels,
                "source_format": d.source_format, "source_seconds": d.source_seconds,
                "samples": int(d.audio.size), "warnings": d.warnings,
                "derived": _controls.derive(d.audio, self.sr)}
        if self.cache_dir is None:
            with self._lock:
                self._memory[key] = d.audio
        else:
            self._cache.put_array("audio", key, d.audio)
        self._cache.put_meta(key, meta)
        return meta

    # -- controls and items ---------------------------------------------------------------

    def _build_items(self, scanned: List[_Scanned]) -> List[SoundItem]:
        label_cols = list(self._labels.columns) if self._labels is not None else []
        # A labels column named like a derived control replaces it (the user knows better).
        derived = [n for n in _controls.DERIVED if n not in label_cols]
        medians: Dict[str, float] = {}
        for name in label_cols:
            vals = [s.labels[name] for s in scanned if name in s.labels]
            if vals:
                medians[name] = float(statistics.median(vals))
            elif scanned:
                self.report.append((LABELS_FILE, f"{LABELS_FILE}: column {name!r} has no valid "
                                    "value for any usable file; column ignored"))
        label_cols = [n for n in label_cols if n in medians]

        raw: List[Dict[str, float]] = []
        imputed: List[FrozenSet[str]] = []
        for s in scanned:
            c = {n: float(s.meta["derived"][n]) for n in derived}
            missing = frozenset(n for n in label_cols if n not in s.labels)
            c.update({n: s.labels.get(n, medians[n]) for n in label_cols})
            raw.append(c)
            imputed.append(missing)
        if not scanned:
            return []
        for n in derived:
            self.controls[n] = ControlSpec.fit(n, (c[n] for c in raw), "derived")
        for n in label_cols:
            self.controls[n] = ControlSpec.fit(n, (c[n] for c in raw), "labels")

        items = []
        for s, c, miss in zip(scanned, raw, imputed):
            items.append(SoundItem(
                file=s.file, category=s.category, controls=c, normalized=self._normalize(c),
                imputed=miss, duration=s.meta["samples"] / self.sr,
                source_sr=int(s.meta["source_sr"]), source_channels=int(s.meta["source_channels"]),
                content_hash=s.digest, warnings=tuple(s.meta["warnings"]),
                _audio=lambda s=s: self._load_audio(s.key, s.file),
                _mel=lambda s=s: self._load_mel(s.key, s.file)))
        return items

    def _normalize(self, c: Mapping[str, float]) -> Dict[str, float]:
        return {n: spec.normalize(c[n]) for n, spec in self.controls.items()}

    def _variant(self, it: SoundItem, aug: Augmenter, v: int) -> SoundItem:
        y, params = aug(it.audio, self.sr, it.content_hash, v)
        measured = _controls.derive(y, self.sr)
        c = {n: (measured[n] if spec.source == "derived" else it.controls[n])
             for n, spec in self.controls.items()}
        fs = self.feature_settings
        return SoundItem(
            file=it.file, category=it.category, controls=c, normalized=self._normalize(c),
            imputed=it.imputed, duration=y.size / self.sr, source_sr=it.source_sr,
            source_channels=it.source_channels, content_hash=it.content_hash,
            warnings=it.warnings, variant=v, augmentation=params,
            _audio=lambda y=y: y, _mel=_Once(lambda y=y: fs.log_mel(y)))

    def _load_audio(self, key: str, rel: str) -> np.ndarray:
        if self.cache_dir is None:
            a = self._memory.get(key)
        else:
            a = self._cache.get_array("audio", key)
            if a is not None:
                with self._lock:
                    self.stats["audio_cache_hits"] += 1
        if a is None:  # the cache was cleared under us: decode again
            meta = self._decode(self.root / rel, key)
            if "error" in meta:
                raise AudioError(f"{rel}: {meta['error']}")
            a = self._memory[key] if self.cache_dir is None else self._cache.get_array("audio", key)
            if a is None:
                raise OSError(f"cannot write the audio cache in {self.cache_dir}")
        return a

    def _load_mel(self, key: str, rel: str) -> np.ndarray:
        mkey = settings_key("mel", key, *self._mel_key_base)
        m = self._memory.get(mkey) if self.cache_dir is None else self._cache.get_array("mel", mkey)
        if m is not None:
            with self._lock:
                self.stats["mel_cache_hits"] += 1
            return m
        m = self.feature_settings.log_mel(self._load_audio(key, rel))
        with self._lock:
            self.stats["mel_computed"] += 1
        self._cache.put_array("mel", mkey, m)
        if self.cache_dir is None:
            with self._lock:
                self._memory[mkey] = m
        return m


class _Once:
    """Calls ``fn`` once and keeps the answer."""

    def __init__(self, fn: Callable[[], np.ndarray]) -> None:
        self._fn, self._value = fn, None

    def __call__(self) -> np.ndarray:
        if self._value is None:
            self._value = self._fn()
        return self._value


class _Serial:
    def __enter__(self) -> "_Serial":
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(fn, jobs):
        return map(fn, jobs)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _decoder_versions() -> Tuple[str, str]:
    import soundfile

    try:
        import soxr  # only needed when a file's rate differs from the model's

        soxr_version = str(getattr(soxr, "__version__", "?"))
    except ImportError:
        soxr_version = "absent"
    return str(getattr(soundfile, "__libsndfile_version__", "?")), soxr_version


def _native_version() -> str:
    from .. import native_version

    return native_version()
