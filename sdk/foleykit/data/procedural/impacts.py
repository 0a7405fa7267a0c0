"""Struck solids by modal synthesis: ``impact`` (one object of a given material, speed and
size) and ``glass_break`` (a pane cracking, then shards showering and bouncing).

The model is the classic one (van den Doel & Pai; Aramaki et al.): an object is a bank of
damped modes. The material sets the mode frequency ratios, the loss factor (a mode's decay
rate is pi * f * eta, so metal and glass ring long and wood and stone die fast; high modes
always die first) and the contact stiffness. The contact is a Hertzian half-sine force
whose duration shortens with impact speed, so a faster hit excites more high modes and adds
sharper contact noise: louder and brighter. Size scales every mode frequency by 1 / size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from .noise import band, colored_noise
from .schema import Category, Control
from .synth import (LN1000, contact_spectrum, damped_sines, db, finish, log_uniform, modal,
                    scatter, spawn_rngs)

__all__ = ["MATERIALS", "Material", "render_impact", "render_glass_break", "impact_level",
           "CATEGORIES"]

ONSET = 0.005  # s of silence before the contact, the same for every one-shot hit
V_REF = 4.0    # m/s: the speed at which Material.contact and Material.noise are given


@dataclass(frozen=True)
class Material:
    """Modal and contact parameters of a material (SI units)."""

    f_size: float      # Hz * m: fundamental = f_size / size
    eta: float         # loss factor: mode decay rate = pi * f * eta + air
    air: float         # 1/s: decay floor (radiation, supports)
    contact: float     # s: contact duration at V_REF
    # Mode families (first ratio r, exponent p, count): ratios r * k^p / 1, k = 1..count;
    # p = 2 stands for the free bar's ((2k+1)/3)^2.
    families: Tuple[Tuple[float, float, int], ...]
    spread: float      # relative random detuning of each mode, per object (seed)
    noise: float       # contact noise peak relative to the modes' peak at V_REF
    noise_band: Tuple[float, float]
    level: float       # dB offset of the peak level
    crest: float       # dB, peak over the modes' first-50-ms RMS at V_REF (calibration)


MATERIALS: Dict[str, Material] = {
    # Beams and boards: strong damping growing with frequency, soft contact.
    "wood": Material(120.0, 0.020, 3.0, 0.50e-3, ((1.0, 1.7, 8), (1.45, 1.3, 6)), 0.04,
                     0.35, (800.0, 6000.0), 0.0, 11.4),
    # Free bar, ((2k+1)/3)^2 ~ 1, 2.78, 5.44, 9.0, plus a plate-like family; rings for seconds.
    "metal": Material(160.0, 0.0015, 0.8, 0.12e-3, ((1.0, 2.0, 7), (1.31, 1.25, 8)), 0.02,
                      0.15, (2000.0, 12000.0), 0.0, 9.9),
    "glass": Material(300.0, 0.0012, 1.5, 0.10e-3, ((1.0, 1.8, 6), (2.32, 1.4, 5)), 0.02,
                      0.20, (3000.0, 14000.0), -1.0, 10.1),
    # Dense, rough and heavily damped: mostly a click over a thick cluster of short modes.
    "stone": Material(260.0, 0.030, 6.0, 0.20e-3, ((1.0, 1.3, 10), (1.2, 1.2, 10)), 0.06,
                      0.40, (1500.0, 10000.0), -1.0, 17.6),
    "plastic": Material(110.0, 0.045, 5.0, 0.45e-3, ((1.0, 1.5, 7), (1.6, 1.2, 5)), 0.05,
                        0.30, (1000.0, 7000.0), -2.0, 14.5),
}


def _mode_ratios(mat: Material, rng: np.random.Generator) -> np.ndarray:
    ratios = []
    for first, p, count in mat.families:
        k = np.arange(1, count + 1, dtype=np.float64)
        base = ((2 * k + 1) / 3.0) ** 2 if p == 2.0 else k ** p
        ratios.append(first * base / base[0])
    r = np.concatenate(ratios)
    r = r * (1.0 + mat.spread * rng.uniform(-1.0, 1.0, r.size))
    r[0] = 1.0
    return r


def impact_level(velocity: float) -> float:
    """Peak dBFS of an impact's modes at ``velocity`` m/s (before the material offset):
    -1 dB at 10 m/s, 14 dB per decade slower."""
    return -1.0 + 14.0 * np.log10(velocity / 10.0)


def render_impact(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    mat = MATERIALS[c["material"]]
    v, size = c["velocity"], c["size"]
    r_modes, r_noise = spawn_rngs(seq, 2)

    freqs = mat.f_size / size * _mode_ratios(mat, r_modes)
    freqs = freqs[freqs < min(0.45 * sr, 18000.0)]
    t60 = LN1000 / (np.pi * freqs * mat.eta + mat.air)
    # Strike position sets which modes the hit reaches (nodes are missed), the rest is the
    # object's own variation; higher modes radiate a little less.
    pos = r_modes.uniform(0.08, 0.5)
    k = np.arange(1, freqs.size + 1)
    amps = (np.abs(np.sin(np.pi * k * pos)) + 0.15) * r_modes.lognormal(0.0, 0.35, freqs.size)
    amps *= (freqs / freqs[0]) ** -0.3
    # Hertz: contact time ~ v^-1/5; harder hits also bend the object past the linear regime,
    # which the extra tilt stands in for.
    tau = mat.contact * (v / V_REF) ** -0.25
    amps *= contact_spectrum(freqs, tau) * (freqs / 1000.0) ** (1.3 * np.log10(v / V_REF))
    phases = r_modes.uniform(-0.3, 0.3, freqs.size)  # near-sine start: the force is a pulse

    n0 = int(ONSET * sr)
    y = np.zeros(n)
    peak = 0.0
    if n > n0:
        y[n0:] = modal(n - n0, sr, freqs, t60, amps, phases)
        peak = float(np.max(np.abs(y)))
        # Loudness follows the energy of the first 50 ms, not the peak: a harder hit adds
        # fast-dying high modes that raise the peak more than what one hears.
        body = np.sqrt(np.mean(y[n0:n0 + max(1, int(0.05 * sr))] ** 2)) * db(mat.crest)
        m = min(n - n0, int(0.02 * sr))
        t = np.arange(m) / sr
        lo, hi = mat.noise_band
        burst = colored_noise(r_noise, m, sr, lambda f: band(f, lo, hi, 1.0))
        burst *= np.exp(-t / (2.0 * tau + 0.0008))
        burst *= mat.noise * (v / V_REF) ** 1.2 * peak / (np.max(np.abs(burst)) or 1.0)
        y[n0:n0 + m] += burst
    # The level follows the modes; the contact click rides on top (up to -1 dBFS).
    return finish(y, impact_level(v) + mat.level, sr, ref=body if n > n0 else None)


def render_glass_break(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    size, force = c["size"], c["force"]
    r_crack, r_noise, r_shards = spawn_rngs(seq, 3)
    n0 = int(ONSET * sr)
    y = np.zeros(n)
    if n <= n0:
        return finish(y, -1.0, sr)

    # The crack: the pane struck hard (glass modes, shortened by the fracture) and a sharp
    # broadband snap whose share grows with force.
    glass = MATERIALS["glass"]
    freqs = 900.0 / (size + 0.2) * _mode_ratios(glass, r_crack)
    freqs = freqs[freqs < 0.45 * sr]
    t60 = LN1000 / (3.0 * (np.pi * freqs * glass.eta + glass.air))
    amps = r_crack.lognormal(0.0, 0.4, freqs.size) * contact_spectrum(freqs, 0.08e-3)
    y[n0:] += modal(n - n0, sr, freqs, t60, amps)
    m = min(n - n0, int(0.03 * sr))
    snap = colored_noise(r_noise, m, sr, lambda f: band(f, 1500.0, 14000.0, 1.0))
    snap *= np.exp(-np.arange(m) / sr / (0.004 + 0.004 * force))
    y[n0:n0 + m] += (1.0 + 2.0 * force) * np.max(np.abs(y)) * snap / (np.max(np.abs(snap)) or 1.0)

    # Shards: a burst flying off at the break, then pieces landing and bouncing after the
    # fall time. More and larger glass -> more shards, later landings.
    count = int(min(160, 20 + 90 * size ** 0.7 * (0.4 + force)))
    burst = r_shards.uniform(size=count) < 0.45
    t_break = r_shards.exponential(0.025 + 0.02 * size, count)
    t_fall = 0.18 + 0.25 * size + r_shards.gamma(2.0, 0.12 * (1.0 + size), count)
    times = ONSET + np.where(burst, t_break, t_fall)
    amp = np.where(burst, log_uniform(r_shards, 0.05, 0.5, count),
                   log_uniform(r_shards, 0.02, 0.35, count) * np.exp(-(t_fall - 0.2) / 0.6))
    f1 = log_uniform(r_shards, 2500.0, 9000.0, count) * (1.25 - 0.3 * min(size, 1.0))
    ratios = np.stack([np.ones(count), r_shards.uniform(1.5, 2.2, count),
                       r_shards.uniform(2.4, 3.6, count)], 1)
    shard_t60 = log_uniform(r_shards, 0.03, 0.15, count)
    rel = np.array([1.0, 0.6, 0.35]) * r_shards.lognormal(0.0, 0.3, (count, 3))
    length = int(0.12 * sr)
    grains = damped_sines(length, sr, (f1[:, None] * ratios).ravel(),
                          np.repeat(shard_t60, 3), (amp[:, None] * rel).ravel(),
                          r_shards.uniform(0, 2 * np.pi, 3 * count))
    grains = grains.reshape(count, 3, length).sum(axis=1)
    peak = np.max(np.abs(y))
    y += scatter(n, np.round(times * sr).astype(np.int64), grains) * peak * (0.5 + 0.5 * force)
    return finish(y, -12.0 + 11.0 * force, sr)


_MATERIAL = Control.categorical("material", tuple(MATERIALS), "wood",
                                "what the struck object is made of: sets pitch ratios, "
                                "ring time and brightness")

CATEGORIES = (
    Category(
        "impact", "an object struck once (modal synthesis)",
        (
            _MATERIAL,
            Control.continuous("velocity", 0.2, 10.0, 4.0,
                               "impact speed: faster is louder and brighter", "m/s", log=True),
            Control.continuous("size", 0.05, 2.0, 0.3,
                               "object size: larger is lower pitched", "m", log=True),
        ),
        render_impact, default_duration=1.5),
    Category(
        "glass_break", "a glass pane breaking: crack, shard burst, falling debris",
        (
            Control.continuous("size", 0.1, 1.5, 0.5,
                               "pane size: more and lower shards, longer shower", "m"),
            Control.continuous("force", 0.0, 1.0, 0.5,
                               "how hard it is hit: louder, sharper crack, more shards"),
        ),
        render_glass_break, default_duration=2.0),
)
