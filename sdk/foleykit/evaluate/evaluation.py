"""``foleykit evaluate``: how an exported model's sounds compare with real sounds it was not
trained on, per category.

For each category the model knows and the sound folder holds, the model generates
``per_category`` control settings x ``seeds`` seeds of clips (one-shots with
:meth:`Runtime.render_mel`; ambiences by streaming ``frames`` frames after ``warmup``) and
:func:`evaluate` measures, on per-clip log-mel statistics (:func:`.metrics.clip_features`):

1. ``frechet``: Fréchet distance between generated and real clips, next to the distance
   between two random halves of the real clips (what sampling noise alone gives);
2. ``classifier``: how often a logistic regression trained on the real clips (a held-out
   quarter measures its own accuracy) names the generated clips' category;
3. ``diversity``: mean distance between clips of one control setting with different seeds,
   relative to the mean distance between real clips of the category;
4. ``nearest``: each generated clip's distance to its nearest reference clip (the training
   folder when given, else the real folder). A clip closer to a reference clip than any
   real clip comes to a different recording (without ``train_data``), or than any held-out
   real clip comes to the training folder (with it), is flagged as a possible copy.

Control settings follow the real clips: a control whose name (and unit) a real clip carries
(derived intensity / brightness / duration, labels.csv columns) takes the clip's value,
clamped to the model's range; for a procedural-corpus category the rest are drawn as the
corpus draws them (:func:`foleykit.data.procedural.sample_controls`); anything else keeps
the schema default.
"""
from __future__ import annotations

import importlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import metrics as M

__all__ = ["EvaluationError", "evaluate", "format_table", "REPORT_VERSION"]

REPORT_VERSION = 1
MAX_WINDOWS_PER_CLIP = 8     # ambience recordings are cut into at most this many windows
MAX_FLAGGED_LISTED = 20      # flagged clips listed per category in the JSON
HOLDOUT = 0.25


class EvaluationError(ValueError):
    """Input that cannot be evaluated: a missing or damaged model, an unusable sound folder,
    no category in common."""


@dataclass
class _Clip:
    """One real (or reference) example: ``group`` is its recording (ambience windows of one
    recording share it)."""

    name: str
    category: str        # the model's choice name (or the folder name when unmapped)
    group: int
    mel: np.ndarray
    feature: np.ndarray


@dataclass
class _Generated:
    setting: int
    seed: int
    mel: np.ndarray
    feature: np.ndarray


@dataclass
class _Category:
    choice: str
    folder_name: str
    real: List[_Clip] = field(default_factory=list)
    settings: List[Dict[str, Any]] = field(default_factory=list)
    generated: List[_Generated] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _load_model(path):
    from ..export.metadata import ModelFileError
    from ..runtime import Runtime

    try:
        return Runtime(path)
    except ModelFileError as e:
        raise EvaluationError(str(e)) from None
    except Exception as e:  # metadata fine, but ONNX Runtime refuses the graph
        raise EvaluationError(f"{str(path)!r} could not be loaded: {type(e).__name__}: "
                              f"{e}") from None


def category_control(schema, folder_categories: Sequence[str]):
    """The schema's categorical control that names categories: ``category`` when there is
    one, else the categorical control sharing most choices with the folder's categories."""
    cats = [c for c in schema.controls if c.kind == "categorical"]
    if not cats:
        raise EvaluationError("the model has no categorical control to map categories to "
                              f"(controls: {', '.join(schema.names) or 'none'})")
    for c in cats:
        if c.name == "category":
            return c
    wanted = {_norm(f) for f in folder_categories}
    return max(cats, key=lambda c: len(wanted & {_norm(x) for x in c.choices}))


def map_categories(folder_categories: Sequence[str], choices: Sequence[str]
                   ) -> Tuple[Dict[str, str], List[str]]:
    """``({folder category: model choice}, [folder categories the model does not know])``;
    names match exactly, else ignoring case, spaces and hyphens vs underscores."""
    exact = {c: c for c in choices}
    loose = {}
    for c in choices:
        loose.setdefault(_norm(c), c)
    mapping, unknown = {}, []
    for f in folder_categories:
        m = exact.get(f) or loose.get(_norm(f))
        if m is None or m in mapping.values():
            unknown.append(f)
        else:
            mapping[f] = m
    return mapping, unknown


def _open_folder(path, meta, cache_dir, workers: int, what: str):
    from ..data.folder import SoundFolder

    try:
        folder = SoundFolder(path, sr=int(meta["sample_rate"]), n_fft=int(meta["n_fft"]),
                             hop=int(meta["hop"]), n_mels=int(meta["n_mels"]),
                             fmin=float(meta["fmin"]),
                             fmax=None if meta["fmax"] is None else float(meta["fmax"]),
                             log_floor=float(meta["log_floor"]), cache_dir=cache_dir,
                             workers=workers)
    except (FileNotFoundError, NotADirectoryError) as e:
        prefix = "" if what == "sound folder" else "--train-data: "
        raise EvaluationError(f"{prefix}{e}") from None
    if len(folder) == 0:
        reasons = sorted(folder.skipped.items())[:3]
        detail = "; ".join(f"{f}: {r}" for f, r in reasons)
        raise EvaluationError(
            f"{what} {str(path)!r} has no usable sound files ({len(folder.skipped)} skipped"
            + (f", e.g. {detail}" if detail else "; expected one sub-folder per category of "
               "WAV, FLAC, OGG or MP3 files") + ")")
    return folder


def _windows(mel: np.ndarray, mode: str, max_frames: Optional[int], frames: int
             ) -> List[np.ndarray]:
    """A real clip as the model would make it: one-shots cut to the model's length;
    ambiences cut into windows of ``frames`` frames (the whole clip when shorter)."""
    if mode == "one_shot":
        return [mel[:, :max_frames] if max_frames else mel]
    n = mel.shape[1] // frames
    if n == 0:
        return [mel]
    return [mel[:, k * frames:(k + 1) * frames] for k in range(min(n, MAX_WINDOWS_PER_CLIP))]


def _clips(folder, mapping: Mapping[str, str], mode, max_frames, frames,
           only_mapped: bool) -> List[_Clip]:
    out: List[_Clip] = []
    for g, it in enumerate(folder):
        if only_mapped and it.category not in mapping:
            continue
        cat = mapping.get(it.category, it.category)
        ws = _windows(it.mel, mode, max_frames, frames)
        for k, w in enumerate(ws):
            name = it.file if len(ws) == 1 else f"{it.file}@{k * frames}"
            out.append(_Clip(name, cat, g, w, M.clip_features(w)))
    return out


# -- control settings ---------------------------------------------------------------------

def _units_agree(model_unit: str, data_unit: str, value: float, low: float, high: float
                 ) -> bool:
    a, b = model_unit.strip().lower(), data_unit.strip().lower()
    if a == b:
        return True
    return (not a or not b) and low <= value <= high


def _from_clip(ctrl, item, specs) -> Optional[float]:
    if ctrl.kind != "continuous":
        return None
    names = {_norm(k): k for k in item.controls}
    key = ctrl.name if ctrl.name in item.controls else names.get(_norm(ctrl.name))
    if key is None:
        return None
    v = float(item.controls[key])
    spec = specs.get(key)
    if not math.isfinite(v) or not _units_agree(ctrl.unit, getattr(spec, "unit", "") or "",
                                                v, ctrl.low, ctrl.high):
        return None
    return min(max(v, ctrl.low), ctrl.high)


def _corpus_draw(choice: str, schema, rng: np.random.Generator) -> Dict[str, Any]:
    """The corpus's own control draw for a procedural category, under the schema's names
    (a name two categories define differently is ``"<category>.<name>"``, as in training)."""
    P = importlib.import_module("foleykit.data.procedural")
    if choice not in P.CATEGORIES:
        return {}
    out = {}
    for k, v in P.sample_controls(choice, rng).items():
        name = k if k in schema.names else f"{choice}.{k}"
        if name not in schema.names:
            continue
        try:
            schema[name].encode(v)
        except ValueError:
            continue
        out[name] = v
    return out


def control_settings(schema, cat_ctrl, choice: str, items: Sequence[Any], specs: Mapping,
                     n: int, rng: np.random.Generator) -> List[Dict[str, Any]]:
    """``n`` settings ``{"controls", "clip", "from_clip", "drawn"}`` for one category, cycling
    through the real ``items`` (SoundFolder items) in a shuffled order."""
    order = rng.permutation(len(items)) if len(items) else np.zeros(0, int)
    out = []
    for i in range(n):
        item = items[int(order[i % len(order)])] if len(order) else None
        drawn = _corpus_draw(choice, schema, rng)
        values: Dict[str, Any] = {cat_ctrl.name: choice}
        from_clip, from_draw = [], []
        for c in schema.controls:
            if c.name == cat_ctrl.name:
                continue
            v = _from_clip(c, item, specs) if item is not None else None
            if v is not None:
                values[c.name] = v
                from_clip.append(c.name)
            elif c.name in drawn:
                values[c.name] = drawn[c.name]
                from_draw.append(c.name)
            else:
                values[c.name] = c.default
        schema.encode(values)  # everything valid by construction; fail loudly if not
        out.append({"controls": {k: (float(v) if not isinstance(v, str) else v)
                                 for k, v in values.items()},
                    "clip": item.file if item is not None else None,
                    "from_clip": from_clip, "drawn": from_draw})
    return out


# -- generation ---------------------------------------------------------------------------

def _generate(rt, controls, seed: int, frames: int, warmup: int, resynth: bool) -> np.ndarray:
    m = rt.meta
    if m["mode"] == "one_shot":
        if not resynth:
            return rt.render_mel(controls, seed)
        y = rt.render(controls, seed)
        return _log_mel(y, m)
    total = warmup + frames
    s = rt.stream(controls, seed=seed)
    if not resynth:
        return s.frames(total)[:, warmup:]
    block = 16
    audio = np.concatenate([next(s) for _ in range(-(-total // block))])
    mel = _log_mel(audio, m)
    return mel[:, warmup:total] if mel.shape[1] > warmup else mel


def _log_mel(y: np.ndarray, m: Mapping[str, Any]) -> np.ndarray:
    from .. import dsp

    y = np.asarray(y, np.float32)
    if y.size <= m["n_fft"] // 2:
        y = np.pad(y, (0, m["n_fft"] // 2 + 1 - y.size))
    return dsp.log_mel(y, float(m["sample_rate"]), m["n_fft"], m["hop"], m["n_mels"],
                       float(m["fmin"]), m["fmax"], float(m["log_floor"]))


# -- the evaluation -----------------------------------------------------------------------

def evaluate(model: Union[str, Path], data: Union[str, Path], out: Union[str, Path, None] = None,
             per_category: int = 8, seeds: int = 4, seed: int = 0, frames: int = 256,
             warmup: int = 32, resynth: bool = False, train_data: Union[str, Path, None] = None,
             cache_dir: Union[str, Path, None, bool] = None, workers: int = 1,
             plot: bool = True) -> Dict[str, Any]:
    """Runs the evaluation; returns the report (see :mod:`foleykit.evaluate`) and, when
    ``out`` is given, writes ``evaluation.json`` and ``evaluation.png`` there.

    Raises :class:`EvaluationError` for a missing or damaged model, a folder with nothing
    usable, or no category shared by the model and the folder."""
    for name, v in (("per_category", per_category), ("seeds", seeds), ("frames", frames)):
        if int(v) < 1:
            raise EvaluationError(f"{name} must be >= 1, got {v}")
    if int(warmup) < 0:
        raise EvaluationError(f"warmup must be >= 0, got {warmup}")
    model = Path(model)
    if not model.exists():
        raise EvaluationError(f"model file {str(model)!r} does not exist")
    rt = _load_model(model)
    meta, schema = rt.meta, rt.schema
    mode = meta["mode"]
    max_frames = meta.get("max_frames")

    folder = _open_folder(data, meta, cache_dir, workers, "sound folder")
    cat_ctrl = category_control(schema, folder.categories)
    mapping, unknown = map_categories(folder.categories, cat_ctrl.choices)
    if not mapping:
        raise EvaluationError(
            f"no category in common: the sound folder has {', '.join(folder.categories)}; the "
            f"model's {cat_ctrl.name!r} control knows {', '.join(cat_ctrl.choices)}")
    ref_folder = (_open_folder(train_data, meta, cache_dir, workers, "training folder")
                  if train_data is not None else None)

    rng = np.random.default_rng(seed)
    by_cat = folder.by_category()
    cats: Dict[str, _Category] = {}
    real = _clips(folder, mapping, mode, max_frames, frames, only_mapped=True)
    for folder_name, choice in mapping.items():
        cats[choice] = _Category(choice, folder_name,
                                 real=[c for c in real if c.category == choice])
    seeds, per_category = int(seeds), int(per_category)
    for choice, cat in cats.items():
        items = by_cat[cat.folder_name]
        if len(items) < 2:
            cat.warnings.append("only 1 real clip: its statistics are unreliable")
        cat.settings = control_settings(schema, cat_ctrl, choice, items, folder.controls,
                                        per_category, rng)
        for i, st in enumerate(cat.settings):
            st["seeds"] = [int(seed) * 1_000_003 + i * seeds + j for j in range(seeds)]
            for s in st["seeds"]:
                mel = np.asarray(_generate(rt, st["controls"], s, frames, warmup, resynth),
                                 np.float32)
                if mel.ndim != 2 or mel.shape[1] < 1 or not np.all(np.isfinite(mel)):
                    raise EvaluationError(
                        f"the model produced an unusable clip for {choice!r} (seed {s}): "
                        f"shape {mel.shape}, finite: {bool(np.all(np.isfinite(mel)))}")
                cat.generated.append(_Generated(i, s, mel, M.clip_features(mel)))

    if ref_folder is not None:
        ref_map, _ = map_categories(ref_folder.categories, cat_ctrl.choices)
        reference = _clips(ref_folder, ref_map, mode, max_frames, frames, only_mapped=False)
    else:
        reference = real
    report = _report(rt, model, folder, data, train_data, cat_ctrl, mapping, unknown, cats,
                     reference, dict(per_category=per_category, seeds=seeds, seed=int(seed),
                                     frames=int(frames), warmup=int(warmup),
                                     resynth=bool(resynth)))
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        report["outputs"] = {"json": str(out / "evaluation.json"),
                             "png": str(out / "evaluation.png") if plot else None}
        if plot:
            from .plot import plot_report

            plot_report(report, cats, out / "evaluation.png", float(meta["log_floor"]))
        tmp = out / "evaluation.json.tmp"
        tmp.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
        tmp.replace(out / "evaluation.json")
    return report


def _stats(x: np.ndarray) -> Dict[str, Optional[float]]:
    return {"min": float(np.min(x)) if x.size else None,
            "median": float(np.median(x)) if x.size else None}


def _nan_none(v: Optional[float]) -> Optional[float]:
    return None if v is None or not math.isfinite(v) else float(v)


def _report(rt, model, folder, data, train_data, cat_ctrl, mapping, unknown, cats, reference,
            settings) -> Dict[str, Any]:
    meta = rt.meta
    choices = list(cats)
    model_only = [c for c in cat_ctrl.choices if c not in cats]

    # 2. the classifier, trained on the real clips of the evaluated categories
    real = [c for cat in cats.values() for c in cat.real]
    xr = np.stack([c.feature for c in real])
    yr = np.array([c.category for c in real])
    gr = np.array([c.group for c in real])
    clf_report: Dict[str, Any] = {"classes": choices, "real_train": None,
                                  "real_heldout": None, "real_heldout_accuracy": None,
                                  "generated_accuracy": None, "confusion": None, "note": None}
    clf = None
    if len(choices) >= 2:
        tr, te = M.stratified_split(yr, HOLDOUT, settings["seed"], groups=gr)
        clf = M.LogisticClassifier().fit(xr[tr], yr[tr])
        clf_report["real_train"], clf_report["real_heldout"] = int(tr.size), int(te.size)
        if te.size:
            clf_report["real_heldout_accuracy"] = clf.score(xr[te], yr[te])
        xg = np.stack([g.feature for cat in cats.values() for g in cat.generated])
        yg = np.array([cat.choice for cat in cats.values() for _ in cat.generated])
        pg = clf.predict(xg)
        clf_report["generated_accuracy"] = float(np.mean(pg == yg))
        clf_report["confusion"] = M.confusion(yg, pg, choices)
    else:
        clf_report["note"] = "one category in common: category accuracy needs at least two"

    # 4. nearest neighbours among the reference clips, and how close real clips come
    xref = np.stack([c.feature for c in reference])
    same = train_data is None
    gref = np.array([c.group for c in reference])
    real_nn = _real_nearest(xr, gr, xref, gref, same)
    finite = real_nn[np.isfinite(real_nn) & (real_nn > 0)]
    leaked = int(np.sum(real_nn == 0.0)) if not same else 0
    notes = []
    rule = ("the smallest distance from a real clip to a different real recording" if same
            else "the smallest distance from a real (held-out) clip to its nearest training "
            "clip")
    if not same and not finite.size:  # every real clip is in the training folder too
        own = _real_nearest(xref, gref, xref, gref, True)
        finite = own[np.isfinite(own)]
        rule = "the smallest distance between two different training recordings"
    threshold = float(finite.min()) if finite.size else 0.0
    if not finite.size:
        notes.append("no two distinct real clips: copies cannot be flagged")
    if leaked:
        notes.append(f"{leaked} real clip(s) of --data also appear in the training folder")
    reference_threshold = {
        "threshold": threshold if finite.size else None,
        "rule": rule,
        "notes": notes}

    rng = np.random.default_rng(settings["seed"])
    per_cat: Dict[str, Any] = {}
    for choice, cat in cats.items():
        xg = np.stack([g.feature for g in cat.generated])
        xc = np.stack([c.feature for c in cat.real])
        # 1. Fréchet distance, and two halves of the real clips for scale
        fd = M.frechet_distance(xg, xc)
        groups = np.unique([c.group for c in cat.real])
        fd_split = None
        if groups.size >= 4:
            half = rng.permutation(groups)[: groups.size // 2]
            inside = np.isin([c.group for c in cat.real], half)
            fd_split = M.frechet_distance(xc[inside], xc[~inside])
        # 3. diversity across seeds
        per_setting = [M.mean_pairwise_distance(np.stack([g.feature for g in cat.generated
                                                          if g.setting == i]))
                       for i in range(len(cat.settings))]
        per_setting = [d for d in per_setting if d is not None]
        gen_div = float(np.mean(per_setting)) if per_setting else None
        real_div = M.mean_pairwise_distance(xc)
        ratio = (gen_div / real_div if gen_div is not None and real_div else None)
        # 4. nearest reference clip
        nn = M.nearest_neighbours(xg, xref, threshold=threshold)
        own = real_nn[yr == choice]
        own = own[np.isfinite(own)]
        flagged = [{"setting": g.setting, "seed": g.seed, "distance": float(d),
                    "nearest": reference[int(k)].name}
                   for g, d, k, f in zip(cat.generated, nn.distance, nn.index, nn.flagged) if f]
        flagged.sort(key=lambda r: r["distance"])
        acc = None
        predicted = None
        if clf is not None:
            p = clf.predict(xg)
            acc = float(np.mean(p == choice))
            predicted = {c: int(np.sum(p == c)) for c in choices}
        per_cat[choice] = {
            "folder_name": cat.folder_name,
            "real_clips": len({c.group for c in cat.real}),
            "real_examples": len(cat.real),
            "generated_clips": len(cat.generated),
            "frechet": {"distance": fd, "real_split": _nan_none(fd_split)},
            "classifier": {"accuracy": acc, "predicted": predicted},
            "diversity": {"generated": gen_div, "real": real_div, "ratio": ratio},
            "nearest": {**_stats(nn.distance),
                        "real_median": float(np.median(own)) if own.size else None,
                        "threshold": reference_threshold["threshold"],
                        "flagged": len(flagged),
                        "flagged_clips": flagged[:MAX_FLAGGED_LISTED]},
            "settings": cat.settings,
            "warnings": cat.warnings,
        }

    fds = [v["frechet"]["distance"] for v in per_cat.values()]
    ratios = [v["diversity"]["ratio"] for v in per_cat.values() if v["diversity"]["ratio"]
              is not None]
    return {
        "foleykit_evaluation": REPORT_VERSION,
        "model": {"path": str(model), "family": meta["model_family"], "mode": meta["mode"],
                  "content_hash": meta["content_hash"], "category_control": cat_ctrl.name,
                  "categories": list(cat_ctrl.choices)},
        "data": {"path": str(data), "clips": len(folder), "skipped_files": len(folder.skipped),
                 "categories": folder.categories},
        "reference": {"kind": "train_data" if train_data is not None else "data",
                      "path": str(train_data if train_data is not None else data),
                      "examples": len(reference), **reference_threshold},
        "settings": {**settings, "holdout": HOLDOUT,
                     "feature": f"mean and std over time of each of {meta['n_mels']} log-mel "
                                f"bands ({2 * meta['n_mels']}-d)",
                     "distance": "RMS over feature dimensions"},
        "categories_evaluated": choices,
        "skipped_categories": {"not_in_model": list(unknown), "not_in_data": model_only},
        "overall": {
            "generated_clips": sum(v["generated_clips"] for v in per_cat.values()),
            "frechet_mean": float(np.mean(fds)),
            "classifier": clf_report,
            "diversity_ratio_mean": float(np.mean(ratios)) if ratios else None,
            "flagged": sum(v["nearest"]["flagged"] for v in per_cat.values()),
        },
        "categories": per_cat,
    }


def _real_nearest(xr: np.ndarray, gr: np.ndarray, xref: np.ndarray, gref: np.ndarray,
                  same: bool) -> np.ndarray:
    """Each real example's distance to its nearest reference example: another recording
    when the reference is the real set itself (``same``), else any training example other
    than an identical one. ``inf`` where there is none; 0 marks a real clip that is also in
    a separate training folder."""
    d = M.pairwise_distances(xr, xref)
    if same:
        d[gr[:, None] == gref[None, :]] = np.inf
        d[d <= M.DUPLICATE_TOL] = np.inf
        return d.min(axis=1)
    dup = (d <= M.DUPLICATE_TOL).any(axis=1)
    d[d <= M.DUPLICATE_TOL] = np.inf
    out = d.min(axis=1)
    out[dup] = 0.0
    return out


def _fmt(v: Optional[float], spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def format_table(report: Mapping[str, Any]) -> str:
    """The per-category table printed by ``foleykit evaluate``."""
    rows = [("category", "real", "gen", "Frechet", "real split", "accuracy", "diversity",
             "NN min", "NN median", "NN thresh", "flagged")]
    for name, c in report["categories"].items():
        d = c["diversity"]
        rows.append((name, str(c["real_clips"]), str(c["generated_clips"]),
                     _fmt(c["frechet"]["distance"]), _fmt(c["frechet"]["real_split"]),
                     _fmt(c["classifier"]["accuracy"], ".0%"),
                     _fmt(d["ratio"]) + (f" ({_fmt(d['generated'])}/{_fmt(d['real'])})"
                                         if d["ratio"] is not None else ""),
                     _fmt(c["nearest"]["min"], ".3f"), _fmt(c["nearest"]["median"], ".3f"),
                     _fmt(c["nearest"]["threshold"], ".3f"), str(c["nearest"]["flagged"])))
    o = report["overall"]
    clf = o["classifier"]
    rows.append(("all", str(sum(c["real_clips"] for c in report["categories"].values())),
                 str(o["generated_clips"]), _fmt(o["frechet_mean"]), "-",
                 _fmt(clf["generated_accuracy"], ".0%"), _fmt(o["diversity_ratio_mean"]),
                 "-", "-", "-", str(o["flagged"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(s.ljust(w) if i == 0 else s.rjust(w)
                               for i, (s, w) in enumerate(zip(r, widths))))
        if k == 0 or k == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
