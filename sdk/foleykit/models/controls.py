"""The control schema every model is conditioned on, and that every exported model carries.

A schema is an ordered list of controls. Each becomes a slice of the model's control vector:
a categorical control is a one-hot over its named choices, a continuous control is one
number mapped from ``[low, high]`` (log-spaced when ``log``) to ``[0, 1]``. Missing controls
take their defaults, so a game can set only what it knows.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["ControlDef", "ControlSchema"]

Value = Union[str, float]


@dataclass(frozen=True)
class ControlDef:
    """One control. ``kind`` is "categorical" (``choices``) or "continuous" (``low``..``high``)."""

    name: str
    kind: str
    default: Value
    choices: Tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"control name must be a non-empty string, got {self.name!r}")
        if self.kind == "categorical":
            object.__setattr__(self, "choices", tuple(str(c) for c in self.choices))
            if not self.choices:
                raise ValueError(f"control {self.name!r}: a categorical control needs choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError(f"control {self.name!r}: repeated choices")
            if self.default not in self.choices:
                raise ValueError(f"control {self.name!r}: default {self.default!r} is not a choice")
        elif self.kind == "continuous":
            if not (math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low):
                raise ValueError(f"control {self.name!r}: need finite low < high, got "
                                 f"[{self.low}, {self.high}]")
            if self.log and self.low <= 0:
                raise ValueError(f"control {self.name!r}: a log range must be positive")
            object.__setattr__(self, "default", float(self.default))
            if not self.low <= self.default <= self.high:
                raise ValueError(f"control {self.name!r}: default outside [low, high]")
        else:
            raise ValueError(f"control {self.name!r}: kind must be categorical or continuous, "
                             f"got {self.kind!r}")

    @property
    def width(self) -> int:
        """Entries this control takes in the control vector."""
        return len(self.choices) if self.kind == "categorical" else 1

    def allowed(self) -> str:
        if self.kind == "categorical":
            return "one of " + ", ".join(self.choices)
        return f"a number in [{self.low:g}, {self.high:g}]" + (f" {self.unit}" if self.unit else "")

    def encode(self, value: Any) -> np.ndarray:
        """The control's slice of the control vector, ``(width,)`` float32; ValueError naming
        the control for a value outside its choices or range."""
        out = np.zeros(self.width, np.float32)
        if self.kind == "categorical":
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"control {self.name!r} must be {self.allowed()}; got {value!r}")
            out[self.choices.index(value)] = 1.0
            return out
        if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            raise ValueError(f"control {self.name!r} must be {self.allowed()}; got {value!r}")
        v = float(value)
        if not (math.isfinite(v) and self.low <= v <= self.high):
            raise ValueError(f"control {self.name!r} must be {self.allowed()}; got {value!r}")
        if self.log:
            out[0] = (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            out[0] = (v - self.low) / (self.high - self.low)
        return out

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d


class ControlSchema:
    """An ordered set of :class:`ControlDef`; maps named values to a ``(dim,)`` vector."""

    def __init__(self, controls: Iterable[ControlDef]) -> None:
        self.controls: Tuple[ControlDef, ...] = tuple(controls)
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control schema has repeated names: {names}")
        self._by_name = {c.name: c for c in self.controls}

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ControlSchema":
        if not isinstance(d, Mapping) or not isinstance(d.get("controls"), list):
            raise ValueError("a control schema is a mapping with a 'controls' list")
        defs = []
        for c in d["controls"]:
            c = dict(c)
            c["choices"] = tuple(c.get("choices", ()))
            defs.append(ControlDef(**c))
        return cls(defs)

    @classmethod
    def from_json(cls, text: str) -> "ControlSchema":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_categories(cls, categories: Sequence[Any]) -> "ControlSchema":
        """A schema for a set of procedural categories (``foleykit.data.procedural`` Category
        objects): a "category" control first, then the union of their controls. A name that
        two categories define differently is kept per category as ``"<category>.<name>"``."""
        cats = list(categories)
        if not cats:
            raise ValueError("no categories")
        defs: Dict[str, ControlDef] = {}
        clashes = set()
        per_cat: List[Tuple[str, ControlDef]] = []
        for cat in cats:
            for c in cat.controls:
                d = _from_procedural(c)
                per_cat.append((cat.name, d))
                if c.name in defs and defs[c.name] != d:
                    clashes.add(c.name)
                defs.setdefault(c.name, d)
        out = [ControlDef("category", "categorical", cats[0].name,
                          choices=tuple(c.name for c in cats))]
        seen = set()
        for cat_name, d in per_cat:
            if d.name in clashes:
                d = ControlDef(**{**d.to_dict(), "name": f"{cat_name}.{d.name}",
                                  "choices": d.choices})
            if d.name not in seen:
                seen.add(d.name)
                out.append(d)
        return cls(out)

    # -- use ------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Length of the control vector."""
        return sum(c.width for c in self.controls)

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.controls)

    def __getitem__(self, name: str) -> ControlDef:
        return self._by_name[name]

    def __len__(self) -> int:
        return len(self.controls)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ControlSchema) and self.controls == other.controls

    def defaults(self) -> Dict[str, Value]:
        return {c.name: c.default for c in self.controls}

    def encode(self, values: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Named values (defaults for the rest) -> ``(dim,)`` float32 in [0, 1]. ValueError
        naming the control for an unknown name or a bad value."""
        values = dict(values or {})
        for name in values:
            if name not in self._by_name:
                raise ValueError(f"unknown control {name!r}; the schema has "
                                 f"{', '.join(self.names) or 'no controls'}")
        parts = [c.encode(values.get(c.name, c.default)) for c in self.controls]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def values(self, values: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Named values (defaults for the rest) -> ``(len(self),)`` float32 in schema order, the
        form the native runtime and the C ABI take: a continuous control's value, a categorical
        control's choice index. Validated like :meth:`encode`."""
        self.encode(values)  # the checks and their messages
        values = dict(values or {})
        out = np.zeros(len(self.controls), np.float32)
        for i, c in enumerate(self.controls):
            v = values.get(c.name, c.default)
            out[i] = c.choices.index(v) if c.kind == "categorical" else float(v)
        return out

    def encode_batch(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``(batch, dim)`` float32."""
        return np.stack([self.encode(r) for r in rows]) if rows else np.zeros((0, self.dim),
                                                                              np.float32)

    def to_dict(self) -> Dict[str, Any]:
        return {"version": 1, "controls": [c.to_dict() for c in self.controls]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def __repr__(self) -> str:
        return f"ControlSchema({', '.join(self.names)}; dim={self.dim})"


def _from_procedural(c: Any) -> ControlDef:
    """A procedural ``Control`` (foleykit.data.procedural.schema) as a :class:`ControlDef`."""
    if c.kind == "categorical":
        return ControlDef(c.name, "categorical", c.default, choices=tuple(c.choices))
    return ControlDef(c.name, "continuous", float(c.default), low=float(c.low),
                      high=float(c.high), log=bool(getattr(c, "log", False)),
                      unit=getattr(c, "unit", ""))
