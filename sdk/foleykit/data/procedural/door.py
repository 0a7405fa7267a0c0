"""A door: ``creak`` (the hinge's stick-slip friction) or ``slam`` (the panel hitting the
frame).

Creak, after Farnell ("Designing Sound"): friction releases in a train of slips
whose rate follows the door's speed with some wander; each slip excites the panel's wooden
resonances, so the train's rate is heard as the creak's pitch and the panel as its colour.
Slam: the heavy panel's low modes, the latch's metal click a few milliseconds later, a
bounce or two, and the room answering.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .noise import band, colored_noise, convolve, noise_burst, upsample
from .schema import Category, Control
from .synth import LN1000, contact_spectrum, finish, modal, spawn_rngs

__all__ = ["CATEGORIES"]


def _panel_ir(rng: np.random.Generator, sr: float, base: float, count: int, eta: float,
              air: float, length: float) -> np.ndarray:
    freqs = base * np.arange(1, count + 1) ** 1.45 * (1.0 + 0.05 * rng.uniform(-1, 1, count))
    freqs = freqs[freqs < 0.45 * sr]
    t60 = LN1000 / (np.pi * freqs * eta + air)
    return modal(int(length * sr), sr, freqs, t60, rng.lognormal(0.0, 0.4, freqs.size))


def creak_rate(speed: float) -> float:
    """Mean slip rate (Hz, heard as pitch) of a hinge turning at ``speed`` (0..1)."""
    return 40.0 + 300.0 * speed


def _creak(r, n, sr, speed):
    r_motion, r_slip, r_panel = r
    hop = 256
    frames = -(-n // hop)
    # The door's motion: starts, wanders, stops. Slower doors creak longer.
    length = min(0.5 + 0.8 * (1.0 - speed), 0.85 * n / sr)
    t = np.arange(frames) * hop / sr
    motion = np.clip(np.sin(np.pi * np.clip((t - 0.02) / length, 0.0, 1.0)) * 1.6, 0.0, 1.0)
    wander = np.cumsum(r_motion.standard_normal(frames)) * 0.03
    wander -= np.linspace(0.0, wander[-1], frames)  # a bridge back to the mean pitch
    rate = creak_rate(speed) * np.exp(0.3 * np.tanh(wander))
    motion = upsample(motion[0], motion, hop)[:n]
    phase = np.cumsum(upsample(rate[0], rate, hop)[:n] * motion) / sr
    slips = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses = np.zeros(n)
    pulses[slips] = motion[slips] * r_slip.lognormal(0.0, 0.3, slips.size)
    pulses[slips] *= r_slip.uniform(size=slips.size) > 0.05  # the odd missed slip
    ir = _panel_ir(r_panel, sr, 350.0, 8, 0.08, 40.0, 0.12)
    return convolve(pulses, ir, n)


def _slam(r, n, sr, speed):
    r_panel, r_latch, r_room = r
    t0 = 0.01
    y = np.zeros(n)
    i0 = int(t0 * sr)
    if i0 >= n:
        return y
    contact = 0.004 - 0.0025 * speed
    freqs = np.array([70.0, 115.0, 180.0, 260.0, 390.0, 560.0, 800.0, 1150.0])
    freqs *= 1.0 + 0.05 * r_panel.uniform(-1, 1, freqs.size)
    amps = r_panel.lognormal(0.0, 0.3, freqs.size) * contact_spectrum(freqs, contact)
    panel = modal(n - i0, sr, freqs, LN1000 / (np.pi * freqs * 0.02 + 6.0), amps)
    y[i0:] += panel / (np.max(np.abs(panel)) or 1.0)
    y += (0.5 + 0.2 * speed) * noise_burst(r_panel, n, sr, t0, 0.006, 200.0, 5000.0)
    # Latch: a small metal part clicking shut just after the panel.
    t_latch = t0 + r_latch.uniform(0.008, 0.02)
    latch = np.array([2300.0, 3700.0, 5200.0, 7400.0]) * r_latch.uniform(0.85, 1.15)
    j = int(t_latch * sr)
    if j < n:
        y[j:] += 0.35 * modal(n - j, sr, latch, [0.08, 0.06, 0.04, 0.03],
                              r_latch.lognormal(0.0, 0.3, 4))
    # A bounce: the door rebounds off the frame once, quieter.
    t_b = t0 + r_latch.uniform(0.04, 0.09)
    k = int(t_b * sr)
    if k < n:
        y[k:] += 0.25 * speed * panel[:n - k] / (np.max(np.abs(panel)) or 1.0)
    # The room: a short dull reverberant tail.
    m = n - i0
    tail = colored_noise(r_room, m, sr, lambda f: band(f, 60.0, 2500.0, 1.0))
    tail *= np.exp(-np.arange(m) / sr / 0.12) * np.minimum(1.0, np.arange(m) / (0.01 * sr))
    y[i0:] += 0.15 * tail / (np.max(np.abs(tail)) or 1.0)
    return y


# action -> (render, peak dBFS for a speed)
ACTIONS = {"creak": (_creak, lambda s: -10.0 + 6.0 * s),
           "slam": (_slam, lambda s: -12.0 + 11.0 * s)}


def render_door(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    make, level = ACTIONS[c["action"]]
    return finish(make(spawn_rngs(seq, 3), n, sr, c["speed"]), level(c["speed"]), sr)


CATEGORIES = (
    Category(
        "door", "a wooden door creaking open or slamming shut",
        (
            Control.categorical("action", tuple(ACTIONS), "slam", "what the door does"),
            Control.continuous("speed", 0.0, 1.0, 0.5,
                               "how fast it moves: a higher, shorter creak; a harder slam"),
        ),
        render_door, default_duration=1.5),
)
