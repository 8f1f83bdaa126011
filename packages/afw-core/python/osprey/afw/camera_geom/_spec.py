"""Reading and writing the declarative camera description (private).

`SpecReader` walks one mapping of a description, remembering where it is (file and key
path) so every error names the exact key, and refusing keys it does not know so typos
are caught instead of silently ignored.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from osprey.geom import Box2I, Extent2I, Point2I

from ._errors import CameraGeomError

__all__ = ["SpecReader", "box_inside", "box_to_spec", "make_box"]

_REQUIRED: Any = object()


@functools.lru_cache(maxsize=4096)
def make_box(x0: int, y0: int, width: int, height: int) -> Box2I:
    """``Box2I`` from begin and size, shared between equal requests (boxes are immutable)."""
    if width == 0 or height == 0:
        return Box2I()
    return Box2I(Point2I(x0, y0), Extent2I(width, height))


def box_inside(box: Box2I, outer: Box2I) -> bool:
    """True if ``box`` is empty or lies entirely within ``outer``."""
    if box.is_empty():
        return True
    return outer.x0 <= box.x0 and box.x_end <= outer.x_end and outer.y0 <= box.y0 and box.y_end <= outer.y_end


def box_to_spec(box: Box2I) -> list[list[int]]:
    """``[[x0, y0], [width, height]]`` (begin and size; an empty box is ``[[0, 0], [0, 0]]``)."""
    if box.is_empty():
        return [[0, 0], [0, 0]]
    return [[box.x0, box.y0], [box.width, box.height]]


class SpecReader:
    """One mapping of a description, with its location for error messages.

    Parameters
    ----------
    data : mapping
        The parsed YAML (or dict) node.
    where : `str`
        Human-readable location, e.g. ``"mycam.yaml: detectors[2].amplifiers[0]"``.
    """

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise CameraGeomError(f"{where}: expected a mapping of keys, got {type(data).__name__} {data!r}")
        self.data = dict(data)
        self.where = where
        self._used: set[str] = set()

    def error(self, key: str, message: str) -> CameraGeomError:
        return CameraGeomError(f"{self.where}.{key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        self._used.add(key)
        if key not in self.data or self.data[key] is None:
            if default is _REQUIRED:
                raise CameraGeomError(
                    f"{self.where}: required key {key!r} is missing (keys present: {sorted(self.data)})"
                )
            return default
        return self.data[key]

    def child(self, key: str, default: Any = _REQUIRED) -> SpecReader | None:
        value = self.raw(key, default)
        if value is None:
            return None
        return SpecReader(value, f"{self.where}.{key}")

    def number(self, key: str, default: Any = _REQUIRED, *, minimum: float | None = None, strict: bool = False) -> Any:
        if default is not _REQUIRED and self.data.get(key) is None:
            self._used.add(key)
            return default
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value!r}")
        if minimum is not None and (value < minimum or (strict and value == minimum)):
            relation = ">" if strict else ">="
            raise self.error(key, f"must be {relation} {minimum}, got {value!r}")
        return value

    def integer(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {value!r}")
        return int(value)

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {value!r}")
        return value

    def flag(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def numbers(self, key: str, length: int | None = None, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and length is None:
            value = [value]
        if not isinstance(value, (list, tuple)) or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) for v in value
        ):
            raise self.error(key, f"expected a list of numbers, got {value!r}")
        if length is not None and len(value) != length:
            raise self.error(key, f"expected {length} numbers, got {len(value)}: {value!r}")
        out = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in out):
            raise self.error(key, f"values must be finite, got {value!r}")
        return out

    def box(self, key: str, default: Any = _REQUIRED) -> Any:
        """A ``[[x0, y0], [width, height]]`` box in pixels (a zero size is an empty box)."""
        value = self.raw(key, default)
        if value is None or isinstance(value, Box2I):
            return value
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value)
            and all(isinstance(v, int) and not isinstance(v, bool) for p in value for v in p)
        )
        if not ok:
            raise self.error(key, f"expected a box [[x0, y0], [width, height]] of integers, got {value!r}")
        (x0, y0), (w, h) = value
        if w < 0 or h < 0:
            raise self.error(key, f"box width and height must be >= 0, got {value!r}")
        return make_box(x0, y0, w, h)

    def one_of_units(self, options: Mapping[str, float], default: Any = _REQUIRED, **kw: Any) -> Any:
        """The value of exactly one of several keys naming the same quantity in different units.

        ``options`` maps key -> factor to the internal unit, e.g. ``{"pixel_size_mm": 1.0,
        "pixel_size_um": 1e-3}``. A factor of exactly 1.0 is applied without arithmetic, so
        values written in the internal unit round-trip bit for bit.
        """
        present = [k for k in options if self.has(k)]
        if len(present) > 1:
            raise CameraGeomError(f"{self.where}: give only one of {present}; they describe the same quantity")
        if not present:
            if default is _REQUIRED:
                raise CameraGeomError(
                    f"{self.where}: one of the keys {list(options)} is required (the unit is in the name)"
                )
            return default
        key = present[0]
        value = self.number(key, **kw)
        return value if options[key] == 1.0 else value * options[key]

    def finish(self) -> None:
        """Raise if the mapping held keys nobody asked for (usually a typo or a missing unit)."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used))
            raise CameraGeomError(f"{self.where}: unknown key(s) {unknown}; known keys here are: {known}")
