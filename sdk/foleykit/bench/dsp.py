"""DSP benchmark: FoleyKit's native core against torch and librosa in the same run.

    foleykit bench dsp [--json FILE] [--repeats N] [--quick]
    python -m foleykit.bench.dsp [--json FILE] [--repeats N] [--quick]

Everything runs on one thread (``torch.set_num_threads(1)``; OMP/MKL/OpenBLAS pinned to one
thread before numpy and torch load) at 48 kHz, n_fft 1024, hop 256, on
``testsignals.impact`` clips of 0.25 s, 1 s and 10 s. Each timing is the median of repeated
runs. It reports real-time factors (audio seconds / compute seconds), ratios (peer time /
ours) and the foundation issue's targets; a missed target is reported, never raised.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

SR = 48000
N_FFT = 1024
HOP = 256
GL_ITERS = 32
GL_MOMENTUM = 0.99
DURATIONS = (0.25, 1.0, 10.0)
QUICK_DURATIONS = (0.25, 1.0)
# Griffin-Lim from random phase lands anywhere in a band several dB wide depending on the draw
# (0.25 s impact, 32 iterations: -25.5 to -35.3 dB over 21 draws). Quality is therefore the
# median over many draws for every implementation: 101 for short clips (25 with --quick), 5 at
# 10 s where the spread is small. Medians of 25 wander by more than half a dB (draws 0..24 at
# 0.25 s: FoleyKit -30.02, librosa -30.87; draws 0..200: -30.03 and -30.17), so a median
# within SC_TOLERANCE_DB of the peer's is "equal".
SC_TOLERANCE_DB = 0.5
SC_SEEDS_SHORT = tuple(range(101))
SC_SEEDS_SHORT_QUICK = tuple(range(25))
SC_SEEDS_LONG = tuple(range(5))

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_CHILD_MARK = "_FOLEYKIT_BENCH_CHILD"


# --- timing --------------------------------------------------------------------------------

def _measure(fn: Callable[[], Any], repeats: int, budget_s: float,
             max_repeats: int = 1000) -> Dict[str, Any]:
    """Runs ``fn`` once to warm up, then at least ``repeats`` times and, for fast functions,
    more until ``budget_s`` has passed. Returns the median and every time, in seconds."""
    import numpy as np

    fn()
    times: List[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        while len(times) < repeats or (time.perf_counter() - start < budget_s
                                       and len(times) < max_repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {"median_s": float(np.median(times)), "min_s": float(min(times)),
            "max_s": float(max(times)), "repeats": len(times), "times_s": times}


# --- the peers -----------------------------------------------------------------------------

def _torch_fgla(mag, n_iter: int, momentum: float, length: int, seed: int = 0):
    """Fast Griffin-Lim written with torch.stft/torch.istft, in librosa's momentum form:
    ``angles = rebuilt - (m / (1 + m)) * tprev``, normalised, from seeded random phase."""
    import torch

    window = torch.hann_window(N_FFT)
    gen = torch.Generator().manual_seed(seed)
    phase = 2.0 * torch.pi * torch.rand(mag.shape, generator=gen)
    angles = torch.polar(mag, phase)
    eps = torch.finfo(torch.float32).tiny
    k = momentum / (1.0 + momentum)
    tprev = None
    for _ in range(n_iter):
        inverse = torch.istft(angles, N_FFT, HOP, window=window, center=True, length=length)
        rebuilt = torch.stft(inverse, N_FFT, HOP, window=window, center=True,
                             pad_mode="reflect", return_complex=True)
        angles = rebuilt if tprev is None else rebuilt - k * tprev
        angles = angles / (angles.abs() + eps) * mag
        tprev = rebuilt
    return torch.istft(angles, N_FFT, HOP, window=window, center=True, length=length)


# --- one clip ------------------------------------------------------------------------------

def _bench_clip(duration: float, repeats: int, budget_s: float,
                quick: bool = False) -> Dict[str, Any]:
    import librosa
    import numpy as np
    import torch

    from .. import dsp, testsignals

    x = testsignals.impact(sr=SR, duration=duration)
    n = len(x)
    xt = torch.from_numpy(x)
    window = torch.hann_window(N_FFT)
    S = dsp.stft(x, N_FFT, HOP)
    St = torch.from_numpy(S)
    mag = np.abs(S).astype(np.float32)
    magt = torch.from_numpy(mag)
    out: Dict[str, Any] = {"duration_s": duration, "samples": n, "frames": int(S.shape[1])}

    out["stft"] = {
        "foleykit": _measure(lambda: dsp.stft(x, N_FFT, HOP), repeats, budget_s),
        "torch": _measure(lambda: torch.stft(xt, N_FFT, HOP, window=window, center=True,
                                             pad_mode="reflect", return_complex=True),
                          repeats, budget_s),
        "librosa": _measure(lambda: librosa.stft(x, n_fft=N_FFT, hop_length=HOP,
                                                 window="hann", center=True, pad_mode="reflect"),
                            repeats, budget_s),
    }
    out["istft"] = {
        "foleykit": _measure(lambda: dsp.istft(S, N_FFT, HOP, length=n), repeats, budget_s),
        "torch": _measure(lambda: torch.istft(St, N_FFT, HOP, window=window, center=True,
                                              length=n), repeats, budget_s),
        "librosa": _measure(lambda: librosa.istft(S, n_fft=N_FFT, hop_length=HOP,
                                                  window="hann", center=True, length=n),
                            repeats, budget_s),
    }

    seeds = ((SC_SEEDS_SHORT_QUICK if quick else SC_SEEDS_SHORT) if duration <= 1.0
             else SC_SEEDS_LONG)

    def ours_gl():
        return dsp.griffin_lim(mag, n_iter=GL_ITERS, momentum=GL_MOMENTUM, n_fft=N_FFT,
                               hop=HOP, length=n, init="random", seed=0)

    def torch_gl():
        return _torch_fgla(magt, GL_ITERS, GL_MOMENTUM, n, seed=0)

    def librosa_gl():
        return librosa.griffinlim(mag, n_iter=GL_ITERS, hop_length=HOP, n_fft=N_FFT,
                                  window="hann", center=True, length=n, pad_mode="reflect",
                                  momentum=GL_MOMENTUM, init="random", random_state=0)

    def ours_pghi():
        return dsp.pghi(mag, N_FFT, HOP, length=n)

    def sc(y) -> float:
        y = np.asarray(y, dtype=np.float32)
        return dsp.spectral_convergence(mag, y, N_FFT, HOP)

    out["griffin_lim"] = {
        "n_iter": GL_ITERS,
        "momentum": GL_MOMENTUM,
        "foleykit": _measure(ours_gl, repeats, budget_s),
        "torch": _measure(torch_gl, repeats, budget_s),
        "librosa": _measure(librosa_gl, repeats, budget_s),
        # Quality: the median over many random-phase draws (see SC_TOLERANCE_DB).
        "sc_db": {
            "foleykit": float(np.median([sc(dsp.griffin_lim(
                mag, n_iter=GL_ITERS, momentum=GL_MOMENTUM, n_fft=N_FFT, hop=HOP, length=n,
                init="random", seed=s)) for s in seeds])),
            "torch": float(np.median([sc(_torch_fgla(magt, GL_ITERS, GL_MOMENTUM, n,
                                                     seed=s).numpy()) for s in seeds])),
            "librosa": float(np.median([sc(librosa.griffinlim(
                mag, n_iter=GL_ITERS, hop_length=HOP, n_fft=N_FFT, window="hann", center=True,
                length=n, pad_mode="reflect", momentum=GL_MOMENTUM, init="random",
                random_state=s)) for s in seeds])),
        },
        "sc_seeds": list(seeds),
    }
    out["pghi"] = {
        "foleykit": _measure(ours_pghi, repeats, budget_s),
        "sc_db": {"foleykit": sc(ours_pghi())},
    }
    return out


def _bench_streaming(duration: float, repeats: int, budget_s: float) -> Dict[str, Any]:
    import numpy as np

    from .. import dsp, testsignals

    x = testsignals.impact(sr=SR, duration=duration)
    mag = np.abs(dsp.stft(x, N_FFT, HOP)).astype(np.float32)
    n_frames = mag.shape[1]
    out: Dict[str, Any] = {"duration_s": duration, "frames": n_frames,
                           "frame_budget_us": 1e6 * HOP / SR}
    for method in ("rtpghi", "random"):
        for per_call in (1, 16):
            # Slices are made contiguous up front so the timing holds only the pushes.
            chunks = [np.ascontiguousarray(mag[:, i:i + per_call])
                      for i in range(0, n_frames, per_call)]
            synth = dsp.StreamingSynth(N_FFT, HOP, method=method, seed=0)

            def run(chunks=chunks, synth=synth):
                synth.reset()
                for c in chunks:
                    synth.push(c)

            stat = _measure(run, repeats, budget_s)
            stat["us_per_frame"] = 1e6 * stat["median_s"] / n_frames
            out[f"{method}_{per_call}"] = stat
    return out


# --- report --------------------------------------------------------------------------------

def _meta() -> Dict[str, Any]:
    import librosa
    import torch

    meta = _meta_light()
    meta.update({"machine": platform.machine(), "torch": torch.__version__,
                 "torch_threads": torch.get_num_threads(), "librosa": librosa.__version__,
                 "thread_env": {v: os.environ.get(v) for v in _THREAD_VARS}})
    return meta


def _meta_light() -> Dict[str, Any]:
    """Machine and version facts without importing torch or librosa."""
    import numpy as np

    import foleykit

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit or None, "load_average_at_start": load, "cpu": cpu,
            "logical_cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "foleykit": foleykit.__version__, "foleykit_native": foleykit.native_version()}


def _ratio(peer: Dict[str, Any], ours: Dict[str, Any]) -> float:
    return peer["median_s"] / ours["median_s"]


def _targets(clips: Dict[str, Dict[str, Any]], stream: Dict[str, Any]) -> List[Dict[str, Any]]:
    t: List[Dict[str, Any]] = []

    def add(name: str, goal: str, measured: str, met: bool, value: float) -> None:
        t.append({"target": name, "goal": goal, "measured": measured, "value": value,
                  "met": bool(met)})

    for key, c in clips.items():
        label = f"{key} s"
        r = _ratio(c["istft"]["torch"], c["istft"]["foleykit"])
        add(f"istft vs torch.istft, {label}", ">= 5x faster", f"{r:.2f}x", r >= 5.0, r)
        r = _ratio(c["istft"]["librosa"], c["istft"]["foleykit"])
        add(f"istft vs librosa.istft, {label}", ">= 7x faster", f"{r:.2f}x", r >= 7.0, r)
        r = _ratio(c["stft"]["torch"], c["stft"]["foleykit"])
        add(f"stft vs torch.stft, {label}", ">= 1x (at least as fast)", f"{r:.2f}x", r >= 1.0, r)
        gl, sc = c["griffin_lim"], c["griffin_lim"]["sc_db"]
        for peer, goal in (("torch", 4.0), ("librosa", 7.0)):
            r = _ratio(gl[peer], gl["foleykit"])
            ok_sc = sc["foleykit"] <= sc[peer] + SC_TOLERANCE_DB
            add(f"FGLA {GL_ITERS} iter vs {peer}, {label}",
                f">= {goal:g}x faster, SC <= {peer}'s + {SC_TOLERANCE_DB} dB",
                f"{r:.2f}x, SC {sc['foleykit']:.2f} vs {sc[peer]:.2f} dB",
                r >= goal and ok_sc, r)
        if key in ("1", "10"):
            r = _ratio(c["griffin_lim"]["librosa"], c["pghi"]["foleykit"])
            add(f"pghi vs librosa {GL_ITERS}-iter GL, {label}", ">= 25x cheaper", f"{r:.1f}x",
                r >= 25.0, r)
    if "1" in clips and "10" in clips:
        g = clips["10"]["pghi"]["foleykit"]["median_s"] / clips["1"]["pghi"]["foleykit"]["median_s"]
        add("pghi cost growth, time(10 s) / time(1 s)", "linear: <= 12.5 (10 is linear)",
            f"{g:.2f}", g <= 12.5, g)
    us = stream["rtpghi_1"]["us_per_frame"]
    add("streaming rtpghi, 1 frame per call", "<= 20 us per frame", f"{us:.1f} us", us <= 20.0, us)
    us = stream["rtpghi_16"]["us_per_frame"]
    add("streaming rtpghi, 16 frames per call", "<= 20 us per frame", f"{us:.1f} us", us <= 20.0,
        us)
    return t


def _ms(stat: Dict[str, Any]) -> str:
    v = 1e3 * stat["median_s"]
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def _markdown(results: Dict[str, Any]) -> str:
    clips, stream, meta = results["clips"], results["streaming"], results["meta"]
    lines = [
        f"Single thread, {meta['cpu']} ({meta['logical_cores']} logical cores), "
        f"{meta['date_utc'][:10]}"
        + (f", commit {meta['git_commit']}" if meta.get("git_commit") else "")
        + f"; torch {meta['torch']}, librosa {meta['librosa']}, "
        f"numpy {meta['numpy']}. 48 kHz, n_fft 1024, hop 256; medians. RTF = audio seconds / "
        "compute seconds; ratio = peer time / FoleyKit time.",
        "",
        "| operation | audio | FoleyKit ms | torch ms | librosa ms | torch / FoleyKit "
        "| librosa / FoleyKit | FoleyKit RTF |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, c in clips.items():
        dur = c["duration_s"]
        for op, name in (("stft", "stft"), ("istft", "istft"),
                         ("griffin_lim", f"Griffin-Lim, {GL_ITERS} iter (fast, momentum 0.99)")):
            d = c[op]
            lines.append(
                f"| {name} | {key} s | {_ms(d['foleykit'])} | {_ms(d['torch'])} | "
                f"{_ms(d['librosa'])} | {_ratio(d['torch'], d['foleykit']):.2f}x | "
                f"{_ratio(d['librosa'], d['foleykit']):.2f}x | "
                f"{dur / d['foleykit']['median_s']:.0f}x |")
        p, g = c["pghi"]["foleykit"], c["griffin_lim"]
        lines.append(
            f"| PGHI (peers: their {GL_ITERS}-iter Griffin-Lim) | {key} s | {_ms(p)} | "
            f"{_ms(g['torch'])} | {_ms(g['librosa'])} | {_ratio(g['torch'], p):.1f}x | "
            f"{_ratio(g['librosa'], p):.1f}x | {dur / p['median_s']:.0f}x |")
    budget = stream["frame_budget_us"]
    for method in ("rtpghi", "random"):
        for per_call in (1, 16):
            s = stream[f"{method}_{per_call}"]
            lines.append(
                f"| streaming {method}, {per_call} frame{'s' if per_call > 1 else ''}/call "
                f"| per frame | {s['us_per_frame'] / 1e3:.4f} ({s['us_per_frame']:.1f} us) "
                f"| — | — | — | — | {budget / s['us_per_frame']:.0f}x |")
    lines += ["", "Spectral convergence of the reconstructions, dB (lower is better):", "",
              "| audio | FoleyKit FGLA | torch FGLA loop | librosa.griffinlim | FoleyKit PGHI |",
              "|---:|---:|---:|---:|---:|"]
    for key, c in clips.items():
        sc = c["griffin_lim"]["sc_db"]
        lines.append(f"| {key} s | {sc['foleykit']:.2f} | {sc['torch']:.2f} | "
                     f"{sc['librosa']:.2f} | {c['pghi']['sc_db']['foleykit']:.2f} |")
    lines += ["", "Targets of the foundation issue:", "", "| target | goal | measured | met |",
              "|---|---|---|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | "
                     f"{'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines)


def _warm_up(budget_s: float) -> None:
    """Keeps the core busy with every implementation's STFT for a moment before the first
    measurement: the first numbers of a run (FoleyKit's stft at 0.25 s) otherwise varied by
    40% between runs with the CPU coming out of idle."""
    import librosa
    import torch

    from .. import dsp, testsignals

    x = testsignals.impact(sr=SR, duration=0.25)
    xt = torch.from_numpy(x)
    window = torch.hann_window(N_FFT)
    end = time.perf_counter() + budget_s
    while time.perf_counter() < end:
        dsp.stft(x, N_FFT, HOP)
        torch.stft(xt, N_FFT, HOP, window=window, center=True, return_complex=True)
        librosa.stft(x, n_fft=N_FFT, hop_length=HOP)


def run(quick: bool = False, repeats: Optional[int] = None,
        log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Runs the whole benchmark and returns every number (see the module docstring)."""
    import torch

    torch.set_num_threads(1)
    if repeats is None:
        repeats = 3 if quick else 15
    repeats = max(1, int(repeats))
    budget_s = 0.05 if quick else 0.5
    durations = QUICK_DURATIONS if quick else DURATIONS
    results: Dict[str, Any] = {
        "meta": _meta(),
        "settings": {"sr": SR, "n_fft": N_FFT, "hop": HOP, "durations_s": list(durations),
                     "signal": "foleykit.testsignals.impact", "min_repeats": repeats,
                     "time_budget_s_per_measurement": budget_s, "quick": quick,
                     "gl_iters": GL_ITERS, "gl_momentum": GL_MOMENTUM,
                     "sc_tolerance_db": SC_TOLERANCE_DB},
        "clips": {},
    }
    _warm_up(budget_s=0.2 if quick else 1.0)
    for dur in durations:
        key = f"{dur:g}"
        log(f"[bench] {key} s clip: stft, istft, Griffin-Lim x{GL_ITERS}, PGHI ...")
        t0 = time.perf_counter()
        results["clips"][key] = _bench_clip(dur, repeats, budget_s, quick)
        log(f"[bench] {key} s clip done in {time.perf_counter() - t0:.1f} s")
    log("[bench] streaming synthesis ...")
    results["streaming"] = _bench_streaming(durations[-1], repeats, budget_s)
    results["targets"] = _targets(results["clips"], results["streaming"])
    results["table_markdown"] = _markdown(results)
    return results


# --- command line --------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", help="write every number to FILE")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="minimum timed runs per measurement (default 15; 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: fewer repeats, no 10 s clip")


def argv_from(args: argparse.Namespace) -> List[str]:
    """The command-line options that reproduce ``args``."""
    argv: List[str] = []
    if args.json:
        argv += ["--json", str(args.json)]
    if args.repeats is not None:
        argv += ["--repeats", str(args.repeats)]
    if args.quick:
        argv.append("--quick")
    return argv


def _threads_pinned() -> bool:
    return all(os.environ.get(v) == "1" for v in _THREAD_VARS)


def run_cli(args: argparse.Namespace) -> int:
    # numpy has already loaded its BLAS by now (``import foleykit`` loads numpy), so when the
    # thread variables are not set we run the benchmark in a fresh interpreter that has them.
    if not _threads_pinned() and not os.environ.get(_CHILD_MARK):
        env = dict(os.environ, **{v: "1" for v in _THREAD_VARS}, **{_CHILD_MARK: "1"})
        sys.stdout.flush()
        # Without site (-S) here, the child must not load it either, or an editable install
        # could hand it another foleykit than this process imported.
        flags = ["-S"] if sys.flags.no_site else []
        return subprocess.call([sys.executable, *flags, "-m", "foleykit.bench.dsp",
                                *argv_from(args)], env=env)
    return report(run(quick=args.quick, repeats=args.repeats), args.json)


def report(results: Dict[str, Any], json_path: Optional[str] = None) -> int:
    """Prints a benchmark's table and which of its targets are met (a miss is reported, never
    raised), writes every number to ``json_path`` when given; exit status 0."""
    print()
    print(results["table_markdown"])
    missed = [t["target"] for t in results["targets"] if not t["met"]]
    print()
    print(f"[bench] targets met: {len(results['targets']) - len(missed)} of "
          f"{len(results['targets'])}" + (f"; missed: {', '.join(missed)}" if missed else ""))
    if json_path:
        path = os.path.abspath(json_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(results, f, indent=2)
        print(f"[bench] wrote {path}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foleykit.bench.dsp",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
