"""Control schema of the procedural corpus: what each category's knobs are called, what values
they take and what they mean. The same schema labels the corpus and, later, conditions the
models trained on it, so every check of a control value lives here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np

__all__ = ["Control", "Category", "ControlValue"]

ControlValue = Union[str, float]

# A continuous value drawn by sample_controls is rounded to this many significant digits, so
# the text written to labels.csv is the exact value the sound was made with.
_SAMPLE_DIGITS = 4


@dataclass(frozen=True)
class Control:
    """One named control of a category.

    ``kind`` is "categorical" (``choices``) or "continuous" (``low``..``high`` inclusive,
    in ``unit``). ``log`` marks continuous controls whose natural spacing is ratios (speed,
    size, distance): :meth:`sample` draws them log-uniformly.
    """

    name: str
    kind: str
    default: ControlValue
    doc: str
    choices: Tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1.0
    unit: str = ""
    log: bool = False

    @classmethod
    def categorical(cls, name: str, choices: Tuple[str, ...], default: str, doc: str) -> "Control":
        return cls(name=name, kind="categorical", default=default, doc=doc, choices=tuple(choices))

    @classmethod
    def continuous(cls, name: str, low: float, high: float, default: float, doc: str,
                   unit: str = "", log: bool = False) -> "Control":
        return cls(name=name, kind="continuous", default=float(default), doc=doc,
                   low=float(low), high=float(high), unit=unit, log=log)

    def __post_init__(self) -> None:
        if self.kind not in ("categorical", "continuous"):
            raise ValueError(f"control {self.name!r}: kind must be categorical or continuous")
        if self.kind == "categorical" and self.default not in self.choices:
            raise ValueError(f"control {self.name!r}: default not among its choices")
        if self.kind == "continuous" and not self.low <= self.default <= self.high:
            raise ValueError(f"control {self.name!r}: default outside [low, high]")
        if self.log and self.low <= 0:
            raise ValueError(f"control {self.name!r}: a log-scaled range must be positive")

    @property
    def range(self) -> Optional[Tuple[float, float]]:
        """``(low, high)`` for a continuous control, None for a categorical one."""
        return (self.low, self.high) if self.kind == "continuous" else None

    def allowed(self) -> str:
        """The valid values in words, for error messages and help."""
        if self.kind == "categorical":
            return "one of " + ", ".join(self.choices)
        unit = f" {self.unit}" if self.unit else ""
        return f"in [{self.low:g}, {self.high:g}]{unit}"

    def describe(self) -> str:
        """One line: name, valid values, default and meaning."""
        return f"{self.name} ({self.allowed()}; default {self.default}): {self.doc}"

    def validate(self, value: Any, owner: str = "") -> ControlValue:
        """Returns ``value`` in canonical form (str or float); raises ValueError naming the
        control and its valid values."""
        where = f"{owner} control {self.name!r}" if owner else f"control {self.name!r}"
        if self.kind == "categorical":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{where} must be {self.allowed()}; got {value!r}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                         np.floating)):
            raise ValueError(f"{where} must be a number {self.allowed()}; got {value!r}")
        v = float(value)
        if not (math.isfinite(v) and self.low <= v <= self.high):
            raise ValueError(f"{where} must be {self.allowed()}; got {value!r}")
        return v

    def sample(self, rng: np.random.Generator) -> ControlValue:
        """A random valid value: uniform over the choices or the range (log-uniform if
        ``log``), continuous values rounded to 4 significant digits."""
        if self.kind == "categorical":
            return self.choices[int(rng.integers(len(self.choices)))]
        u = float(rng.uniform())
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        v = float(f"{v:.{_SAMPLE_DIGITS}g}")
        return min(max(v, self.low), self.high)


@dataclass(frozen=True)
class Category:
    """A kind of sound the corpus can make, with its controls.

    ``render`` is the generator: for a one-shot ``render(seq, n, sr, controls) -> (n,)``
    float array; for an ambience a factory ``render(seq, sr, controls) -> Ambience`` whose
    ``read(n)`` streams samples. ``seq`` is the category's ``numpy.random.SeedSequence``.
    Users call :func:`foleykit.data.procedural.generate` rather than ``render``.
    """

    name: str
    doc: str
    controls: Tuple[Control, ...]
    render: Callable[..., Any] = field(repr=False, compare=False)
    ambience: bool = False
    default_duration: float = 1.0

    @property
    def control_names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.controls)

    def control(self, name: str) -> Control:
        for c in self.controls:
            if c.name == name:
                return c
        raise ValueError(f"{self.name} has no control {name!r}; its controls are "
                         f"{', '.join(self.control_names) or 'none'}")

    def defaults(self) -> Dict[str, ControlValue]:
        return {c.name: c.default for c in self.controls}

    def validate(self, controls: Mapping[str, Any]) -> Dict[str, ControlValue]:
        """Defaults overlaid with ``controls``, each checked; ValueError for an unknown name
        or a bad value."""
        for name in controls:
            self.control(name)  # raises for unknown names
        return {c.name: c.validate(controls.get(c.name, c.default), self.name)
                for c in self.controls}

    def sample(self, rng: np.random.Generator) -> Dict[str, ControlValue]:
        """Random valid controls, drawn in schema order."""
        return {c.name: c.sample(rng) for c in self.controls}

    def describe(self) -> str:
        """A few lines: the category, its kind and one line per control."""
        kind = "ambience" if self.ambience else "one-shot"
        lines = [f"{self.name} ({kind}, default {self.default_duration:g} s): {self.doc}"]
        lines += [f"  {c.describe()}" for c in self.controls]
        return "\n".join(lines)
