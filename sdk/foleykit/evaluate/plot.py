"""The picture of ``foleykit evaluate``: four bar charts per category (Fréchet distance,
category accuracy, diversity, nearest-neighbour distance), then for a few categories one
real log-mel next to generated ones."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["plot_report"]

MAX_SPECTROGRAM_ROWS = 4
GENERATED_PER_ROW = 3


def plot_report(report: Mapping[str, Any], cats: Mapping[str, Any], path,
                log_floor: float = 1e-5) -> Path:
    """Writes the PNG (matplotlib, Agg backend); returns its path. ``cats`` are the
    evaluation's per-category clips (real and generated mels)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    names = list(report["categories"])
    per = report["categories"]
    x = np.arange(len(names))
    spec_cats = names[:MAX_SPECTROGRAM_ROWS]
    n_rows = 1 + len(spec_cats)
    fig = plt.figure(figsize=(16, 3.6 + 2.4 * len(spec_cats)))
    gs = fig.add_gridspec(n_rows, 4 * (1 + GENERATED_PER_ROW),
                          height_ratios=[1.4] + [1.0] * len(spec_cats), hspace=0.55,
                          wspace=0.6)
    span = 1 + GENERATED_PER_ROW

    def bars(col, title, values, ref=None, ref_label=None, ylim=None, fmt="{:.2f}"):
        ax = fig.add_subplot(gs[0, col * span:(col + 1) * span])
        v = np.array([np.nan if a is None else a for a in values], float)
        ax.bar(x, np.nan_to_num(v), color="C0", label="generated")
        top = np.nanmax(v) if np.isfinite(v).any() else 1.0
        if ref is not None:
            r = np.array([np.nan if a is None else a for a in ref], float)
            ax.scatter(x, r, color="C3", marker="_", s=400, linewidths=2.5, zorder=3,
                       label=ref_label)
            if np.isfinite(r).any():
                top = max(top, np.nanmax(r))
            ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
        for xi, vi in zip(x, v):
            ax.text(xi, 0 if np.isnan(vi) else vi, "n/a" if np.isnan(vi) else fmt.format(vi),
                    ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylim(*(ylim or (0, 1.35 * top if top > 0 else 1.0)))
        return ax

    bars(0, "Fréchet distance to real (lower is better)",
         [per[n]["frechet"]["distance"] for n in names],
         [per[n]["frechet"]["real_split"] for n in names], "real vs real (halves)")
    clf = report["overall"]["classifier"]
    ax = bars(1, "recognised as its category", [per[n]["classifier"]["accuracy"] for n in names],
              ylim=(0, 1.35), fmt="{:.0%}")
    if clf.get("real_heldout_accuracy") is not None:
        ax.axhline(clf["real_heldout_accuracy"], color="C3", ls="--", lw=1)
        ax.text(-0.45, clf["real_heldout_accuracy"] + 0.02,
                f"real held-out {clf['real_heldout_accuracy']:.0%}", color="C3", fontsize=7,
                ha="left", va="bottom")
    ax = bars(2, "diversity across seeds / real spread",
              [per[n]["diversity"]["ratio"] for n in names])
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    bars(3, "nearest reference clip (median)",
         [per[n]["nearest"]["median"] for n in names],
         [per[n]["nearest"]["threshold"] for n in names], "copy threshold", fmt="{:.3f}")

    lo = float(np.log(log_floor))
    for r, name in enumerate(spec_cats, start=1):
        cat = cats[name]
        panels = [("real: " + cat.real[0].name, cat.real[0].mel)] if cat.real else []
        picks = _spread(len(cat.generated), GENERATED_PER_ROW)
        panels += [(f"generated: setting {cat.generated[i].setting}, seed "
                    f"{cat.generated[i].seed}", cat.generated[i].mel) for i in picks]
        hi = max([float(mel.max()) for _, mel in panels] + [lo + 1.0])  # one scale a row
        for j, (title, mel) in enumerate(panels):
            ax = fig.add_subplot(gs[r, j * 4:(j + 1) * 4])
            ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=lo, vmax=hi,
                      interpolation="nearest")
            ax.set_title(f"{name} — {title}", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_xlabel("frame", fontsize=7)
            if j == 0:
                ax.set_ylabel("mel band", fontsize=7)
    m = report["model"]
    fig.suptitle(f"foleykit evaluate: {Path(m['path']).name} ({m['family']}) vs "
                 f"{report['data']['path']}", fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _spread(n: int, k: int):
    """Up to ``k`` indices spread over ``range(n)``."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(i * (n - 1) / (k - 1))) for i in range(k)}) if k > 1 else [0]
