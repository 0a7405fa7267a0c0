"""The procedural corpus: physically informed DSP generators of labelled sounds.

Every category is a small synthesis model with named controls (material, velocity,
intensity...), so each sound is labelled by construction. Output is mono float32 at ``sr``
(48 kHz by default), peak-safe (|x| < 1) and deterministic: the same (category, seed,
controls, duration, sr) gives the same samples bit for bit.

One-shots (impact, footstep, character_action, ui, whoosh, explosion, glass_break, door)
are placed a few milliseconds after t = 0 and scaled to a peak level set by their controls
(about -6 dBFS at the defaults, up to -1 dBFS at the loud end). Ambiences (rain, wind,
fire, water_stream, city_street) are stochastic particle and noise models streamed in
blocks: any length, no loop, stationary level; :func:`stream` reads them incrementally.

>>> from foleykit.data import procedural
>>> x = procedural.generate("impact", seed=3, material="metal", velocity=6.0)
>>> print(procedural.CATEGORIES["impact"].describe())                      # doctest: +SKIP

Sources: A. Farnell, "Designing Sound" (2010); K. van den Doel, D. Pai et al. (modal
contact sounds; liquid sounds, 2005); P. Cook, "Real Sound Synthesis" (PhISEM).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import air, character, city, door, fire, footsteps, impacts, ui, water, weather
from .ambience import Ambience
from .schema import Category, Control, ControlValue
from .synth import seed_sequence

__all__ = [
    "Category", "Control", "ControlValue", "Ambience", "CATEGORIES", "ONE_SHOTS", "AMBIENCES",
    "generate", "stream", "sample_controls", "is_ambience", "get", "control_names",
    "MAX_DURATION",
]

CATEGORIES: Dict[str, Category] = {
    c.name: c
    for module in (impacts, footsteps, character, ui, air, door, weather, fire, water, city)
    for c in module.CATEGORIES
}
# One-shots first, in the order of the issue; then ambiences.
_ORDER = ("impact", "footstep", "character_action", "ui", "whoosh", "explosion",
          "glass_break", "door", "rain", "wind", "fire", "water_stream", "city_street")
CATEGORIES = {name: CATEGORIES[name] for name in _ORDER}
ONE_SHOTS: Tuple[str, ...] = tuple(n for n, c in CATEGORIES.items() if not c.ambience)
AMBIENCES: Tuple[str, ...] = tuple(n for n, c in CATEGORIES.items() if c.ambience)

MAX_DURATION = 3600.0  # s: longer requests are refused (use stream() to go on forever)
_SR_RANGE = (8000, 192000)


def get(category: Union[str, Category]) -> Category:
    """The :class:`Category` named ``category``; ValueError listing the valid names."""
    if isinstance(category, Category):
        return category
    try:
        return CATEGORIES[category]
    except (KeyError, TypeError):
        raise ValueError(f"unknown category {category!r}; valid categories: "
                         f"{', '.join(CATEGORIES)}") from None


def is_ambience(category: Union[str, Category]) -> bool:
    """True for streamed ambiences (rain, wind...), False for one-shots."""
    return get(category).ambience


def control_names() -> Tuple[str, ...]:
    """Every control name across categories, in first-seen order (the label columns of a
    corpus). A name shared by categories (size, intensity...) means the same idea in each;
    its range and unit are the category's own."""
    names: Dict[str, None] = {}
    for c in CATEGORIES.values():
        names.update(dict.fromkeys(c.control_names))
    return tuple(names)


def sample_controls(category: Union[str, Category],
                    rng: Union[np.random.Generator, int, None] = None) -> Dict[str, ControlValue]:
    """Random valid controls for ``category``: categorical choices uniformly, continuous
    values uniformly over their range (log-uniformly for ratio-like ones such as speed or
    distance), rounded to 4 significant digits. ``rng`` is a Generator or an int seed."""
    cat = get(category)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    return cat.sample(rng)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2 ** 63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    return int(seed)


def _check_sr(sr: Any) -> int:
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer, float)):
        raise ValueError(f"sr must be an integer sample rate in Hz, got {sr!r}")
    if float(sr) != int(sr) or not _SR_RANGE[0] <= int(sr) <= _SR_RANGE[1]:
        raise ValueError(f"sr must be an integer in [{_SR_RANGE[0]}, {_SR_RANGE[1]}] Hz, "
                         f"got {sr!r}")
    return int(sr)


def _check_duration(duration: Any, cat: Category) -> float:
    if duration is None:
        return cat.default_duration
    if isinstance(duration, (bool, np.bool_)) or not isinstance(
            duration, (int, float, np.integer, np.floating)):
        raise ValueError(f"duration must be a number of seconds, got {duration!r}")
    d = float(duration)
    if not (math.isfinite(d) and 0.0 < d <= MAX_DURATION):
        raise ValueError(f"duration must be in (0, {MAX_DURATION:g}] s, got {duration!r}")
    return d


def stream(category: Union[str, Category], seed: int = 0, sr: int = 48000,
           **controls: Any) -> Ambience:
    """An endless ambience: ``s = stream("rain", seed=1, intensity=0.8)``, then
    ``s.read(n)`` returns the next ``n`` samples (float32 ``(n,)``). The samples do not
    depend on how reads are split, and equal :func:`generate` of the same total length."""
    cat = get(category)
    if not cat.ambience:
        raise ValueError(f"{cat.name} is a one-shot; stream() is for ambiences: "
                         f"{', '.join(AMBIENCES)}")
    values = cat.validate(controls)
    return cat.render(seed_sequence(_check_seed(seed), cat.name), _check_sr(sr), values)


def generate(category: Union[str, Category], seed: int = 0, duration: Optional[float] = None,
             sr: int = 48000, **controls: Any) -> np.ndarray:
    """One sound of ``category``: float32 ``(round(duration * sr),)``, |x| < 1.

    ``duration`` defaults to the category's ``default_duration`` (a one-shot is cut, with a
    short fade, or padded with its own decay to fit). Controls not given take their
    defaults. Unknown categories or controls, out-of-range values, bad seeds, durations or
    sample rates raise ValueError naming the problem and the valid values.
    """
    cat = get(category)
    seed, sr = _check_seed(seed), _check_sr(sr)
    values = cat.validate(controls)
    n = max(1, int(round(_check_duration(duration, cat) * sr)))
    seq = seed_sequence(seed, cat.name)
    if cat.ambience:
        return cat.render(seq, sr, values).read(n)
    return np.asarray(cat.render(seq, n, sr, values), np.float32)
