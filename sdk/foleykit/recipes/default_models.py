"""Recipe: train and export the default models that ship in ``foleykit/models/default/``.

    python -m foleykit.recipes.default_models [--out DIR] [--quick] [--install]

Two models, both on the built-in procedural corpus (generated on the fly, deterministic for
the seed), each trained by ``foleykit.train`` from a settings file kept next to this module:

- ``oneshots``: a conditional VAE over every one-shot category (``oneshots.json``);
- ``ambiences``: a causal Transformer over every ambience category (``ambiences.json``).

Equivalent command lines (what this module runs, in-process)::

    foleykit train --config <recipes>/oneshots.json  --out DIR/oneshots
    foleykit export DIR/oneshots  --out DIR/oneshots.onnx
    foleykit train --config <recipes>/ambiences.json --out DIR/ambiences
    foleykit export DIR/ambiences --out DIR/ambiences.onnx

Each model is sized to train in under ten minutes on a 2-core CPU: the shipped files took
439 s (one-shots, 12000 steps) and 385 s (ambiences, 8000 steps) of training on one thread
of a shared 2-core AMD EPYC VM, 850 s for the whole recipe (see
``foleykit/models/default/default_models.json`` and ``README.txt`` there). Progress is the training bar on stderr; each stage is announced on stdout. After
export the recipe checks the size budget (file < 1 MB, parameters < 1 M), measures levels
against the procedural sounds (:mod:`foleykit.recipes.listen`) and writes
``DIR/default_models.json``. ``--install`` then copies the two ``.onnx`` files and that
JSON into the package's ``models/default`` folder, each with the native ``.fkm`` file the
export writes beside it.

``--quick`` runs the same pipeline with a few steps on a few clips (seconds): a smoke test
of the recipe, not a usable model.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

__all__ = ["RECIPE_DIR", "MODELS", "MAX_BYTES", "MAX_PARAMS", "QUICK", "build", "main",
           "onnx_parameter_count"]

RECIPE_DIR = Path(__file__).resolve().parent
MODELS = {"oneshots": RECIPE_DIR / "oneshots.json", "ambiences": RECIPE_DIR / "ambiences.json"}
MAX_BYTES = 1_000_000       # exported file, bytes
MAX_PARAMS = 1_000_000      # exported graph, weights

# What --quick changes (on top of the settings file).
QUICK = {"steps": 20, "batch_size": 8, "clips_per_category": 3, "ambience_seconds": 1.0,
         "log_every": 5, "preview_every": 20, "checkpoint_every": 20}


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def onnx_parameter_count(path) -> int:
    """Number of weights stored in an ONNX file's initializers."""
    import numpy as np
    import onnx

    proto = onnx.load(str(path))
    return int(sum(int(np.prod(t.dims)) if len(t.dims) else 1 for t in proto.graph.initializer))


def _machine() -> Dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(), "python": platform.python_version(),
            "torch": str(torch.__version__)}


def _config(name: str, quick: bool, steps: Optional[int], family: Optional[str],
            config_file: Optional[Path] = None):
    from ..train.config import load_config_file, resolve_config

    base = load_config_file(str(config_file or MODELS[name]))
    if family and family != base["model"]:
        base = {k: v for k, v in base.items() if k != "model_config"}  # settings per family
        base["model"] = family
    over: Dict[str, Any] = dict(QUICK) if quick else {}
    if steps is not None:
        over["steps"] = steps
    return resolve_config(base, over)


def build(name: str, out: Path, quick: bool = False, steps: Optional[int] = None,
          family: Optional[str] = None, report: bool = True, progress: bool = True,
          config_file: Optional[Path] = None) -> Dict[str, Any]:
    """Trains, exports and checks one default model; returns its build record."""
    from ..export import export_run
    from ..train.loop import train

    config_file = Path(config_file) if config_file else MODELS[name]
    cfg = _config(name, quick, steps, family, config_file)
    run = out / name
    onnx_path = out / f"{name}.onnx"
    cats = ", ".join(cfg.categories) if cfg.categories else "all of its kind"
    _say(f"{name}: training a {cfg.model} for {cfg.steps} steps (batch {cfg.batch_size}, "
         f"{cfg.clips_per_category} clips per category, categories: {cats}) -> {run}")
    t0 = time.perf_counter()
    train(cfg, run, progress=progress)
    t_train = time.perf_counter() - t0
    _say(f"{name}: trained in {t_train:.0f} s; exporting -> {onnx_path}")
    t1 = time.perf_counter()
    export_run(run, onnx_path)
    t_export = time.perf_counter() - t1
    size, params = onnx_path.stat().st_size, onnx_parameter_count(onnx_path)
    _say(f"{name}: {size / 1e6:.3f} MB, {params:,} parameters in the exported graph")
    if size >= MAX_BYTES or params >= MAX_PARAMS:
        raise RuntimeError(f"{name}: over budget ({size} bytes, {params} parameters; limits "
                           f"{MAX_BYTES} bytes, {MAX_PARAMS} parameters)")
    history = json.loads((run / "history.json").read_text())
    from ..export import load_metadata

    meta = load_metadata(onnx_path)
    cat_ctl = meta["control_schema"]["controls"][0]
    rec: Dict[str, Any] = {
        "file": onnx_path.name, "family": cfg.model, "mode": meta["mode"],
        "categories": list(cat_ctl.get("choices", [])),
        "config_file": (f"foleykit/recipes/{config_file.name}" if config_file == MODELS[name]
                        else str(config_file)),
        "command": f"foleykit train --config {config_file.name} --out RUN/{name}"
                   + (f" --steps {cfg.steps}" if steps is not None else "")
                   + f" && foleykit export RUN/{name} --out {name}.onnx",
        "steps": cfg.steps, "batch_size": cfg.batch_size,
        "clips_per_category": cfg.clips_per_category, "seed": cfg.seed,
        "train_wall_s": round(t_train, 1), "export_wall_s": round(t_export, 1),
        "bytes": size, "parameters": params, "sha256": meta["content_hash"],
        "final_losses": history[-1] if history else {},
        "config": cfg.to_dict(),
    }
    if report:
        from . import listen

        t2 = time.perf_counter()
        if meta["mode"] == "one_shot":
            res = listen.measure_one_shots(onnx_path, seeds=3 if quick else 8)
        else:
            res = listen.measure_ambiences(onnx_path, seeds=2 if quick else 3)
        print(listen.format_report(res, f"{name}: levels vs the procedural sounds"),
              flush=True)
        rec["listen_summary"] = listen.summary(res)
        rec["listen"] = res
        rec["listen_wall_s"] = round(time.perf_counter() - t2, 1)
    return rec


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m foleykit.recipes.default_models",
        description="Train and export FoleyKit's default models (one-shots: conditional VAE; "
                    "ambiences: causal Transformer) on the procedural corpus.")
    p.add_argument("--out", default="default_models", help="work folder (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="a few steps on a few clips: a smoke test of the recipe")
    p.add_argument("--only", choices=sorted(MODELS), action="append",
                   help="build only this model (repeatable; default: both)")
    p.add_argument("--steps", type=int, default=None, help="override the steps of every model")
    p.add_argument("--oneshot-family", choices=("vae", "gan"), default=None,
                   help="train the one-shot model as this family (default: the settings file's)")
    p.add_argument("--config", action="append", default=[], metavar="NAME=FILE",
                   help="train model NAME from another settings file (repeatable)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: %(default)s; these models are small, and "
                        "one thread is the fastest on a busy machine)")
    p.add_argument("--no-report", action="store_true", help="skip the level measurements")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--install", action="store_true",
                   help="copy the exported files into the package's models/default folder")
    a = p.parse_args(argv)

    configs: Dict[str, Path] = {}
    for item in a.config:
        k, sep, v = item.partition("=")
        if not sep or k not in MODELS:
            p.error(f"--config wants NAME=FILE with NAME one of {', '.join(MODELS)}; got {item!r}")
        configs[k] = Path(v)

    import torch

    if a.threads < 1:
        p.error("--threads must be >= 1")
    if a.install and a.quick:
        p.error("--install with --quick would ship an untrained model")
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    names = a.only or list(MODELS)
    info_path = out / "default_models.json"
    info: Dict[str, Any] = {}
    if info_path.is_file():  # keep the record of a model not rebuilt this time
        info = json.loads(info_path.read_text())
    info.setdefault("models", {})
    info.update({"recipe": "python -m foleykit.recipes.default_models" +
                 (" --quick" if a.quick else ""),
                 "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                 "machine": _machine(), "quick": a.quick})
    t0 = time.perf_counter()
    try:
        for name in names:
            fam = a.oneshot_family if name == "oneshots" else None
            info["models"][name] = build(name, out, a.quick, a.steps, fam,
                                         report=not a.no_report, progress=not a.no_progress,
                                         config_file=configs.get(name))
            info_path.write_text(json.dumps(info, indent=2) + "\n")
    except (ValueError, RuntimeError) as e:
        print(f"default_models: {e}", file=sys.stderr)
        return 2
    _say(f"done in {time.perf_counter() - t0:.0f} s; record: {info_path}")
    if a.install:
        from ..models import default as shipped

        dest = Path(shipped.__file__).resolve().parent
        for name in names:
            shutil.copy2(out / f"{name}.onnx", dest / f"{name}.onnx")
            shutil.copy2(out / f"{name}.fkm", dest / f"{name}.fkm")  # written by the export
        shipped_info = dest / "default_models.json"
        old = json.loads(shipped_info.read_text()) if shipped_info.is_file() else {}
        merged = {**old, **{k: v for k, v in info.items() if k != "models"}}
        merged["models"] = {**old.get("models", {}),
                            **{n: info["models"][n] for n in names}}
        shipped_info.write_text(json.dumps(merged, indent=2) + "\n")
        _say(f"installed {', '.join(names)} into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
