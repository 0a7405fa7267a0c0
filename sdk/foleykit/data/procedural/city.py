"""A city street: a bed of distant traffic, vehicles passing by and the occasional horn.

Each vehicle is an event lasting its whole approach and departure: an engine (a harmonic
wavetable at the firing frequency) and tyre roar (band-passed noise growing with speed),
both at 1 / distance, the engine pitched by the Doppler factor c / (c + radial speed) so
it drops as the vehicle passes. Arrivals are a Poisson process whose rate is the traffic
density; every vehicle draws its own lane distance, speed, engine and timbre.
"""
from __future__ import annotations

import numpy as np

from .ambience import BLOCK, Ambience
from .noise import ShapedNoise, SlowNoise, band, bell, colored_noise
from .schema import Category, Control
from .synth import OverlapAdd

__all__ = ["CityStreet", "CATEGORIES", "vehicle_rate"]

C_SOUND = 343.0
APPROACH = 40.0  # m: a vehicle is rendered from this far before to this far after passing


def vehicle_rate(density: float) -> float:
    """Mean vehicles passing per second at ``density`` (0: one a minute, 1: one a second)."""
    return 1.0 / 60.0 + density


def _vehicle(r: np.random.Generator, sr: float) -> np.ndarray:
    truck = r.uniform() < 0.12
    d0 = r.uniform(3.0, 15.0)                     # closest distance (lane), m
    v = r.uniform(7.0, 11.0) if truck else r.uniform(8.0, 16.0)
    f_fire = r.uniform(15.0, 25.0) if truck else r.uniform(25.0, 45.0)
    half = APPROACH / v
    n = int(2 * half * sr)
    t = np.arange(n) / sr - half
    dist = np.sqrt(d0 * d0 + (v * t) ** 2)
    doppler = 1.0 / (1.0 + (v * v * t / dist) / C_SOUND)
    # The driver's throttle (slow) and the engine's own unsteadiness (fast, a few percent):
    # without the latter, a tone held for seconds would correlate with itself.
    knots = np.arange(-half, half + 0.1, 0.05)
    jitter = np.convolve(r.standard_normal(knots.size), np.hanning(7) / np.hanning(7).sum(), "same")
    rpm = (1.0 + 0.04 * np.sin(2 * np.pi * r.uniform(0.05, 0.2) * t + r.uniform(0, 2 * np.pi))
           + 0.06 * np.interp(t, knots, jitter))
    phase = np.cumsum(f_fire * rpm * doppler) / sr
    k = np.arange(1, 17)
    table_x = np.arange(1025) / 1024.0
    table = (np.sin(2 * np.pi * np.outer(table_x, k) + r.uniform(0, 2 * np.pi, k.size))
             @ (k ** -1.2 * r.lognormal(0.0, 0.5, k.size)))
    engine = np.interp(phase % 1.0, table_x, table)
    engine /= np.std(engine) or 1.0
    tyres = colored_noise(r, n, sr, lambda f: band(f, 300.0, 2500.0, 1.0)
                          + 0.3 * band(f, 2500.0, 8000.0, 1.0))
    tyres /= np.std(tyres) or 1.0
    mix = (2.0 if truck else 1.0) * engine + (v / 12.0) ** 2 * tyres
    fade = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / (0.5 * sr))
    return mix * fade * (3.0 / dist)  # 1 / distance, unit gain at 3 m


def _horn(r: np.random.Generator, sr: float) -> np.ndarray:
    n = int(r.uniform(0.15, 0.6) * sr)
    t = np.arange(n) / sr
    f1 = r.uniform(350.0, 450.0)
    y = sum((k ** -1.0) * (np.sin(2 * np.pi * k * f1 * t) + np.sin(2 * np.pi * k * f1 * 1.26 * t))
            for k in range(1, 9) if k * f1 * 1.26 < 0.4 * sr)
    env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    return y * env * r.uniform(0.05, 0.2)


class CityStreet(Ambience):
    n_rngs = 4
    gain = 0.05

    def setup(self, rngs):
        r_noise, r_swell, self.r_cars, self.r_horns = rngs
        d = self.controls["traffic_density"]
        self.rate = vehicle_rate(d)
        self.horn_rate = 0.003 + 0.02 * d
        self.noise = ShapedNoise(r_noise, self.sr, 2048)
        self.swell = SlowNoise(r_swell, 8.0, self.sr, self.noise.hop)
        f = self.noise.freqs
        self.bed_shape = (band(f, 20.0, np.inf, 2.0) / (1.0 + f / 90.0)
                          + 0.05 * bell(f, 1000.0, 1.5)) * 4.0 * (1.0 + 4.0 * d)
        self.events = OverlapAdd()

    def block(self) -> np.ndarray:
        sr = self.sr
        for _ in range(self.r_cars.poisson(self.rate * BLOCK / sr)):
            self.events.add(int(self.r_cars.integers(BLOCK)), _vehicle(self.r_cars, sr))
        for _ in range(self.r_horns.poisson(self.horn_rate * BLOCK / sr)):
            self.events.add(int(self.r_horns.integers(BLOCK)), _horn(self.r_horns, sr))
        swell = np.exp(0.2 * self.swell.frames(BLOCK // self.noise.hop))
        return self.events.take(BLOCK) + self.noise.render(swell[:, None] * self.bed_shape)


CATEGORIES = (
    Category("city_street", "a street: traffic bed, cars and trucks passing, horns",
             (Control.continuous("traffic_density", 0.0, 1.0, 0.5,
                                 "how busy the street is: more vehicles, louder bed"),),
             CityStreet, ambience=True, default_duration=10.0),
)
