"""One footstep: a heel strike, then the toe rolling onto the ground, each exciting the
surface in its own way (after Farnell, "Designing Sound", and Cook's PhISEM):

- granular surfaces (gravel, snow, grass) answer the contact pressure with a shower of tiny
  grain collisions whose rate follows the pressure curve (an alpha function);
- resonant floors (wood boards, metal plates) ring with their modes, excited by the sole;
- hard floors (concrete) give a short bright click of the sole and a little grit.

Force scales level, grain count and the sharpness of the contact; pace (steps per second)
sets the heel-to-toe time (0.2 s / pace) and how fast the sole loads: a run rolls
through the foot in half the time of a walk.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import numpy as np

from .noise import band, colored_noise, noise_burst
from .schema import Category, Control
from .synth import LN1000, contact_spectrum, finish, grain_shower, modal, spawn_rngs

__all__ = ["SURFACES", "CATEGORIES"]

ONSET = 0.01  # s before the heel strikes


def _ring(rng: np.random.Generator, n: int, sr: float, hits, f0: float, ratios, eta: float,
          air: float, contact: float) -> np.ndarray:
    """A resonant floor (modes f0 * ratios, loss factor ``eta``) struck at each
    ``(time, amplitude)`` of ``hits`` by a sole contact lasting ``contact`` s."""
    freqs = f0 * np.asarray(ratios) * (1.0 + 0.03 * rng.uniform(-1, 1, len(ratios)))
    t60 = LN1000 / (np.pi * freqs * eta + air)
    amps = rng.lognormal(0.0, 0.4, freqs.size) * (freqs / f0) ** -0.3
    amps *= contact_spectrum(freqs, contact)
    ir = modal(n, sr, freqs, t60, amps, rng.uniform(-0.3, 0.3, freqs.size))
    y = np.zeros(n)
    for t, a in hits:
        i = int(round(t * sr))
        if i < n:
            y[i:] += a * ir[:n - i]
    return y


def _thud(rng, n, sr, t, amp, decay=0.02, high=250.0):
    return amp * noise_burst(rng, n, sr, t, decay, 30.0, high, attack=0.003)


@dataclass
class Step:
    """What a surface model gets: the clip size, the two contacts ``(time s, weight)``,
    the force, and ``quick``, a time scale below 1 for a fast pace (the sole loads and
    unloads faster)."""

    n: int
    sr: float
    heel: Tuple[float, float]
    toe: Tuple[float, float]
    force: float
    quick: float

    @property
    def contacts(self):
        return (self.heel, self.toe)


# Each surface: (rngs, step) -> (signal, reference or None). A ringing floor is scaled to
# peak 1 and returns RING_REF: its ring then sits 3 dB under the step's level whatever the
# force, and the sole's click rides on top in that headroom.
RING_REF = 1.41

def _gravel(r, s):
    y = _thud(r[0], s.n, s.sr, s.heel[0], 0.5)
    for (t, w) in s.contacts:
        y += grain_shower(r[1], s.n, s.sr, t, 0.012 * s.quick, w * (40 + 140 * s.force),
                          (1200.0, 7000.0), (0.002, 0.012))
        y += grain_shower(r[2], s.n, s.sr, t, 0.015 * s.quick, w * (8 + 30 * s.force),
                          (400.0, 1500.0), (0.008, 0.03), (0.2, 1.0))
    return y, None


def _snow(r, s):
    y = _thud(r[0], s.n, s.sr, s.heel[0], 0.35, decay=0.03)
    for (t, w) in s.contacts:
        y += grain_shower(r[1], s.n, s.sr, t, 0.022 * s.quick, w * (150 + 250 * s.force),
                          (300.0, 2500.0), (0.003, 0.01), (0.2, 1.0))
    return y, None


def _grass(r, s):
    y = _thud(r[0], s.n, s.sr, s.heel[0], 0.25)
    for (t, w) in s.contacts:
        m = int(0.4 * s.sr)
        tt = np.arange(m) / s.sr
        rise = 0.03 * s.quick
        flutter = np.repeat(r[2].lognormal(0.0, 0.8, m // 240 + 1), 240)[:m]
        swish = colored_noise(r[2], m, s.sr, lambda f: band(f, 1500.0, 8000.0, 1.5))
        swish *= (tt / rise) * np.exp(1 - tt / rise) * flutter * 0.25 * w
        i = int(round(t * s.sr))
        if i < s.n:
            y[i:i + m] += swish[:s.n - i]
        y += grain_shower(r[1], s.n, s.sr, t, 0.02 * s.quick, w * (20 + 30 * s.force),
                          (2500.0, 9000.0), (0.002, 0.005), (0.05, 0.4))
    return y, None


def _wood(r, s):
    contact = 0.004 - 0.002 * s.force
    y = _ring(r[0], s.n, s.sr, s.contacts, r[0].uniform(80.0, 130.0),
              (1, 1.5, 2.3, 3.1, 4.2, 5.6, 7.3, 9.4, 12.0, 15.0), 0.03, 8.0, contact)
    y += 0.5 * _ring(r[1], s.n, s.sr, s.contacts, r[1].uniform(400.0, 700.0), (1, 1.4, 2.1, 2.8),
                     0.03, 15.0, contact)
    y /= np.max(np.abs(y)) or 1.0
    for (t, w) in s.contacts:
        y += (0.3 + 0.4 * s.force) * w * noise_burst(r[2], s.n, s.sr, t, 0.002, 1500.0, 6000.0)
    return y, RING_REF


def _concrete(r, s):
    y = _thud(r[0], s.n, s.sr, s.heel[0], 0.35, decay=0.012)
    for (t, w) in s.contacts:
        y += w * noise_burst(r[1], s.n, s.sr, t, 0.0025 - 0.001 * s.force, 800.0, 6000.0)
        y += grain_shower(r[2], s.n, s.sr, t + 0.01 * s.quick, 0.01 * s.quick, w * 20,
                          (3000.0, 9000.0), (0.001, 0.003), (0.02, 0.15))
    return y, None


def _metal(r, s):
    y = _ring(r[0], s.n, s.sr, s.contacts, r[0].uniform(140.0, 220.0),
              (1, 1.58, 2.14, 2.65, 3.2, 3.9, 4.6, 5.4, 6.3, 7.5, 9.0, 11.0), 0.004, 6.0,
              0.003 - 0.0015 * s.force)
    y /= np.max(np.abs(y)) or 1.0
    for (t, w) in s.contacts:
        y += (0.3 + 0.4 * s.force) * w * noise_burst(r[2], s.n, s.sr, t, 0.0015, 2000.0, 9000.0)
    return y, RING_REF


SURFACES: Dict[str, Callable[..., tuple]] = {
    "gravel": _gravel, "wood": _wood, "grass": _grass, "concrete": _concrete, "snow": _snow,
    "metal": _metal,
}


def footstep_level(force: float) -> float:
    """Peak dBFS for a given force: -17 dB for a light touch, -1 dB for a stomp."""
    return -17.0 + 16.0 * force ** 0.6


def render_footstep(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    force, pace = c["force"], c["pace"]
    r_time, *r = spawn_rngs(seq, 4)
    gap = 0.2 / pace * (1.0 + 0.1 * r_time.uniform(-1, 1))
    step = Step(n, sr, (ONSET, 1.0), (ONSET + gap, 0.45 + 0.1 * pace), force,
                (1.8 / pace) ** 0.5)
    y, ref = SURFACES[c["surface"]](r, step)
    return finish(y, footstep_level(force), sr, ref=ref)


CATEGORIES = (
    Category(
        "footstep", "one step: heel strike and toe roll on a surface",
        (
            Control.categorical("surface", tuple(SURFACES), "concrete",
                                "what is walked on: sets the texture (crunch, thud, ring)"),
            Control.continuous("force", 0.0, 1.0, 0.5,
                               "how hard the foot lands: louder, more crunch, sharper"),
            Control.continuous("pace", 1.0, 4.0, 1.8,
                               "steps per second: faster rolls heel to toe quicker", "steps/s"),
        ),
        render_footstep, default_duration=0.6),
)
