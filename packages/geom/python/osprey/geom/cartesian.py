"""Planar pixel-space geometry: points, extents and integer/floating boxes.

Conventions (shared with ``include/osprey/geom/cartesian.h``):

* pixel centres are at integer coordinates, so pixel ``i`` covers ``[i - 0.5, i + 0.5)``;
* `Box2I` is inclusive-min, exclusive-max: it holds the pixels ``begin <= p < end`` and its
  inclusive ``max`` is ``end - 1``;
* `Box2D` is half-open too: ``min`` is contained, ``max`` is not;
* geometry objects use ``(x, y)``; numpy arrays are indexed ``[y, x]`` — `Box2I.slices_in`
  is the one helper that converts.

All types are immutable, hashable and picklable.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _geom
from .errors import GeomValueError

__all__ = ["Box2D", "Box2I", "Extent2D", "Extent2I", "Point2D", "Point2I"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise GeomValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise GeomValueError(f"{name}={value} is outside the 32-bit pixel coordinate range")
    return value


def _as_float(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise GeomValueError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(out):
        raise GeomValueError(f"{name} must not be NaN")
    return out


class _Pair:
    """Shared machinery of the four (x, y) value types."""

    __slots__ = ("_x", "_y")
    _x: Any
    _y: Any

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _init(self, x: Any, y: Any) -> None:
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_y", y)

    @property
    def x(self) -> Any:
        """The x coordinate (column direction)."""
        return self._x

    @property
    def y(self) -> Any:
        """The y coordinate (row direction)."""
        return self._y

    def __iter__(self) -> Iterator[Any]:
        yield self._x
        yield self._y

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> Any:
        return (self._x, self._y)[i]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._x == other._x and self._y == other._y  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._x, self._y))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._x!r}, {self._y!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self._x, self._y)

    def to_array(self) -> NDArray[Any]:
        """Return ``[x, y]`` as a numpy array (int64 or float64)."""
        return np.array([self._x, self._y])


def _unpack(x: Any, y: Any, *, square: bool, integer: bool) -> tuple[Any, Any]:
    """Accept ``(x, y)``, a pair-like first argument, or (for extents) one size for both."""
    if y is None:
        if isinstance(x, _Pair):
            if integer and isinstance(x, (Point2D, Extent2D)):
                raise GeomValueError(f"cannot make an integer type from {x!r}; round explicitly")
            return x.x, x.y
        if isinstance(x, (tuple, list, np.ndarray)) and len(x) == 2:
            return x[0], x[1]
        if not square:
            raise GeomValueError(f"a point needs both x and y, got only {x!r}")
        return x, x
    return x, y


class Extent2I(_Pair):
    """Integer 2-D displacement or size in pixels (``x`` = width, ``y`` = height)."""

    __slots__ = ()

    def __init__(self, x: int = 0, y: int | None = None) -> None:
        x, y = _unpack(x, y, square=True, integer=True)
        self._init(_as_int(x, "x"), _as_int(y, "y"))

    def __add__(self, other: Any) -> Any:
        if isinstance(other, Extent2I):
            return Extent2I(self._x + other._x, self._y + other._y)
        if isinstance(other, Extent2D):
            return Extent2D(self._x + other._x, self._y + other._y)
        if isinstance(other, Point2I):
            return Point2I(self._x + other._x, self._y + other._y)
        if isinstance(other, Point2D):
            return Point2D(self._x + other._x, self._y + other._y)
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, Extent2I):
            return Extent2I(self._x - other._x, self._y - other._y)
        if isinstance(other, Extent2D):
            return Extent2D(self._x - other._x, self._y - other._y)
        return NotImplemented

    def __neg__(self) -> Extent2I:
        return Extent2I(-self._x, -self._y)

    def __mul__(self, k: Any) -> Any:
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            return Extent2I(self._x * int(k), self._y * int(k))
        if isinstance(k, (float, np.floating)):
            return Extent2D(self._x * float(k), self._y * float(k))
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, k: int) -> Extent2I:
        return Extent2I(self._x // k, self._y // k)

    def to_extent2d(self) -> Extent2D:
        """Return the same extent as floating point."""
        return Extent2D(self._x, self._y)


class Extent2D(_Pair):
    """Floating 2-D displacement or size in pixels."""

    __slots__ = ()

    def __init__(self, x: float = 0.0, y: float | None = None) -> None:
        x, y = _unpack(x, y, square=True, integer=False)
        self._init(_as_float(x, "x"), _as_float(y, "y"))

    def __add__(self, other: Any) -> Any:
        if isinstance(other, (Extent2I, Extent2D)):
            return Extent2D(self._x + other._x, self._y + other._y)
        if isinstance(other, (Point2I, Point2D)):
            return Point2D(self._x + other._x, self._y + other._y)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, (Extent2I, Extent2D)):
            return Extent2D(self._x - other._x, self._y - other._y)
        return NotImplemented

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, Extent2I):
            return Extent2D(other._x - self._x, other._y - self._y)
        return NotImplemented

    def __neg__(self) -> Extent2D:
        return Extent2D(-self._x, -self._y)

    def __mul__(self, k: Any) -> Extent2D:
        if isinstance(k, (int, float, np.integer, np.floating)) and not isinstance(k, bool):
            return Extent2D(self._x * float(k), self._y * float(k))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, k: float) -> Extent2D:
        return Extent2D(self._x / k, self._y / k)

    def compute_norm(self) -> float:
        """Euclidean length in pixels."""
        return math.hypot(self._x, self._y)


class Point2I(_Pair):
    """Integer pixel position ``(x, y)``; the pixel's centre."""

    __slots__ = ()

    def __init__(self, x: int = 0, y: int | None = None) -> None:
        x, y = _unpack(x, y, square=False, integer=True)
        self._init(_as_int(x, "x"), _as_int(y, "y"))

    def __add__(self, other: Any) -> Any:
        if isinstance(other, Extent2I):
            return Point2I(self._x + other._x, self._y + other._y)
        if isinstance(other, Extent2D):
            return Point2D(self._x + other._x, self._y + other._y)
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, Point2I):
            return Extent2I(self._x - other._x, self._y - other._y)
        if isinstance(other, Point2D):
            return Extent2D(self._x - other._x, self._y - other._y)
        if isinstance(other, Extent2I):
            return Point2I(self._x - other._x, self._y - other._y)
        if isinstance(other, Extent2D):
            return Point2D(self._x - other._x, self._y - other._y)
        return NotImplemented

    def to_point2d(self) -> Point2D:
        """Return the same position as floating point."""
        return Point2D(self._x, self._y)


class Point2D(_Pair):
    """Floating pixel position ``(x, y)``; pixel centres are at integers."""

    __slots__ = ()

    def __init__(self, x: float = 0.0, y: float | None = None) -> None:
        x, y = _unpack(x, y, square=False, integer=False)
        self._init(_as_float(x, "x"), _as_float(y, "y"))

    def __add__(self, other: Any) -> Any:
        if isinstance(other, (Extent2I, Extent2D)):
            return Point2D(self._x + other._x, self._y + other._y)
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, (Point2I, Point2D)):
            return Extent2D(self._x - other._x, self._y - other._y)
        if isinstance(other, (Extent2I, Extent2D)):
            return Point2D(self._x - other._x, self._y - other._y)
        return NotImplemented

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, Point2I):
            return Extent2D(other._x - self._x, other._y - self._y)
        return NotImplemented

    def distance(self, other: Point2D | Point2I) -> float:
        """Euclidean distance in pixels."""
        return math.hypot(self._x - other.x, self._y - other.y)


def _grow_amounts(amount: int | Extent2I | tuple[int, int], cls: type) -> tuple[Any, Any]:
    if isinstance(amount, (Extent2I, Extent2D, tuple)):
        e = cls(*amount)
    else:
        e = cls(amount)
    return e.x, e.y


class Box2I:
    """Integer box of pixels, inclusive-min / exclusive-max.

    The box holds the pixels ``x0 <= x < x_end`` and ``y0 <= y < y_end``; ``begin`` is the
    first pixel, ``end`` one past the last, and ``max = end - 1`` the last (inclusive).
    ``xy0 = begin`` is the origin used to place an image of this box in a parent frame.

    Parameters
    ----------
    minimum : `Point2I`, optional
        First (lowest x, y) pixel.  Omit both arguments for an empty box.
    dimensions : `Extent2I`, optional
        Width and height in pixels, each >= 0; a zero extent gives an empty box.

    Raises
    ------
    GeomValueError
        If a dimension is negative or a coordinate is not a 32-bit integer.

    Examples
    --------
    >>> b = Box2I(Point2I(2, 3), Extent2I(4, 5))
    >>> b.end, b.max
    (Point2I(6, 8), Point2I(5, 7))
    """

    __slots__ = ("_x0", "_x1", "_y0", "_y1")
    _x0: int
    _y0: int
    _x1: int
    _y1: int

    def __init__(self, minimum: Point2I | None = None, dimensions: Extent2I | None = None) -> None:
        if minimum is None and dimensions is None:
            self._set(0, 0, 0, 0)
            return
        if minimum is None or dimensions is None:
            raise GeomValueError("Box2I needs both a minimum Point2I and an Extent2I (or neither)")
        p, d = Point2I(minimum), Extent2I(dimensions)
        if d.x < 0 or d.y < 0:
            raise GeomValueError(f"Box2I dimensions must be >= 0, got {d!r}")
        self._set(p.x, p.y, p.x + d.x, p.y + d.y)

    def _set(self, x0: int, y0: int, x1: int, y1: int) -> None:
        if x1 <= x0 or y1 <= y0:
            x0 = y0 = x1 = y1 = 0  # one canonical empty box, so equality and hashing are simple
        for name, v in (("x_end", x1), ("y_end", y1)):
            if v > _INT32_MAX + 1:
                raise GeomValueError(f"Box2I {name}={v} is outside the 32-bit pixel range")
        object.__setattr__(self, "_x0", _as_int(x0, "x0"))
        object.__setattr__(self, "_y0", _as_int(y0, "y0"))
        object.__setattr__(self, "_x1", int(x1))
        object.__setattr__(self, "_y1", int(y1))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Box2I is immutable")

    @classmethod
    def from_begin_end(cls, x0: int, y0: int, x_end: int, y_end: int) -> Box2I:
        """Box of pixels ``x0 <= x < x_end``, ``y0 <= y < y_end`` (ends exclusive).

        An end equal to its begin gives an empty box; an end before its begin raises
        `GeomValueError`.
        """
        x0, y0 = _as_int(x0, "x0"), _as_int(y0, "y0")
        x_end, y_end = _as_int(x_end, "x_end"), _as_int(y_end, "y_end")
        if x_end < x0 or y_end < y0:
            raise GeomValueError(f"Box2I end ({x_end}, {y_end}) is before begin ({x0}, {y0}); ends are exclusive")
        out = cls.__new__(cls)
        out._set(x0, y0, x_end, y_end)
        return out

    @classmethod
    def from_min_max(cls, minimum: Point2I, maximum: Point2I) -> Box2I:
        """Box from its first and last pixel, both inclusive (``max`` may equal ``min``)."""
        lo, hi = Point2I(minimum), Point2I(maximum)
        if hi.x < lo.x or hi.y < lo.y:
            raise GeomValueError(f"Box2I maximum {hi!r} is below minimum {lo!r}")
        return cls.from_begin_end(lo.x, lo.y, hi.x + 1, hi.y + 1)

    @classmethod
    def from_box2d(cls, box: Box2D, mode: str = "expand") -> Box2I:
        """Integer box of pixels touching (``"expand"``) or inside (``"shrink"``) ``box``.

        Pixel ``i`` covers ``[i - 0.5, i + 0.5)``.  ``"expand"`` keeps every pixel that
        overlaps the half-open box with positive area; ``"shrink"`` keeps those entirely in it.
        """
        if box.is_empty():
            return cls()
        if mode == "expand":
            x0, y0 = math.floor(box.min.x + 0.5), math.floor(box.min.y + 0.5)
            x1, y1 = math.ceil(box.max.x + 0.5), math.ceil(box.max.y + 0.5)
        elif mode == "shrink":
            x0, y0 = math.ceil(box.min.x + 0.5), math.ceil(box.min.y + 0.5)
            x1, y1 = math.floor(box.max.x - 0.5) + 1, math.floor(box.max.y - 0.5) + 1
        else:
            raise GeomValueError(f"mode must be 'expand' or 'shrink', got {mode!r}")
        if not all(math.isfinite(v) for v in (box.min.x, box.min.y, box.max.x, box.max.y)):
            raise GeomValueError(f"cannot convert an unbounded {box!r} to Box2I")
        return cls.from_begin_end(x0, y0, max(x0, x1), max(y0, y1))

    # -- accessors -------------------------------------------------------------------------
    def is_empty(self) -> bool:
        """True when the box holds no pixel."""
        return self._x1 <= self._x0

    def _require_nonempty(self, what: str) -> None:
        if self.is_empty():
            raise GeomValueError(f"an empty Box2I has no {what}")

    @property
    def begin(self) -> Point2I:
        """First pixel (inclusive); ``Point2I(0, 0)`` for an empty box."""
        return Point2I(self._x0, self._y0)

    @property
    def end(self) -> Point2I:
        """One past the last pixel on each axis (exclusive)."""
        return Point2I(self._x1, self._y1)

    @property
    def min(self) -> Point2I:
        """First pixel (inclusive).  Raises `GeomValueError` for an empty box."""
        self._require_nonempty("minimum")
        return Point2I(self._x0, self._y0)

    @property
    def max(self) -> Point2I:
        """Last pixel (inclusive), ``end - 1``.  Raises `GeomValueError` for an empty box."""
        self._require_nonempty("maximum")
        return Point2I(self._x1 - 1, self._y1 - 1)

    xy0 = begin

    @property
    def x0(self) -> int:
        """First column (inclusive)."""
        return self._x0

    @property
    def y0(self) -> int:
        """First row (inclusive)."""
        return self._y0

    @property
    def x_end(self) -> int:
        """One past the last column (exclusive)."""
        return self._x1

    @property
    def y_end(self) -> int:
        """One past the last row (exclusive)."""
        return self._y1

    @property
    def width(self) -> int:
        """Number of columns."""
        return self._x1 - self._x0

    @property
    def height(self) -> int:
        """Number of rows."""
        return self._y1 - self._y0

    @property
    def dimensions(self) -> Extent2I:
        """``Extent2I(width, height)``."""
        return Extent2I(self.width, self.height)

    @property
    def area(self) -> int:
        """Number of pixels."""
        return self.width * self.height

    @property
    def center(self) -> Point2D:
        """Centre in pixel coordinates: ``(x0 + x_end - 1) / 2``; empty boxes raise."""
        self._require_nonempty("center")
        return Point2D((self._x0 + self._x1 - 1) / 2, (self._y0 + self._y1 - 1) / 2)

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(slice_y, slice_x)`` for indexing an array whose origin is pixel (0, 0)."""
        return self.slices_in(Point2I(0, 0))

    def slices_in(self, parent: Box2I | Point2I) -> tuple[slice, slice]:
        """``(slice_y, slice_x)`` selecting this box in an array of ``parent``.

        ``parent`` is the parent image's bbox (this box must lie inside it) or just its
        ``xy0`` origin.  Example: ``image_array[box.slices_in(image_bbox)]``.
        """
        if isinstance(parent, Box2I):
            if not parent.contains(self):
                raise GeomValueError(f"{self!r} is not contained in the parent box {parent!r}")
            ox, oy = parent.x0, parent.y0
        else:
            ox, oy = Point2I(parent)
        return slice(self._y0 - oy, self._y1 - oy), slice(self._x0 - ox, self._x1 - ox)

    # -- predicates ------------------------------------------------------------------------
    def contains(self, other: Any, y: ArrayLike | None = None) -> Any:
        """Whether a point, a box, or arrays of positions lie in the box.

        * ``contains(Point2I)``: ``begin <= p < end`` (end exclusive);
        * ``contains(Point2D)`` and ``contains(x_array, y_array)``: the position falls on a
          pixel of the box, i.e. ``begin - 0.5 <= p < end - 0.5`` — identical to the integer
          rule for integer-valued input;
        * ``contains(Box2I)``: every pixel of ``other`` is in the box (an empty box is
          contained in any box).
        """
        if y is not None:
            return self.to_box2d().contains(other, y)
        if isinstance(other, Point2I):
            return self._x0 <= other.x < self._x1 and self._y0 <= other.y < self._y1
        if isinstance(other, Point2D):
            return self.to_box2d().contains(other)
        if isinstance(other, Box2I):
            if other.is_empty():
                return True
            return self._x0 <= other._x0 and other._x1 <= self._x1 and self._y0 <= other._y0 and other._y1 <= self._y1
        raise GeomValueError(f"Box2I.contains expects a point, a Box2I or x, y arrays, got {other!r}")

    def overlaps(self, other: Box2I) -> bool:
        """True when the boxes share at least one pixel."""
        return not self.intersection(other).is_empty()

    # -- operations ------------------------------------------------------------------------
    def intersection(self, other: Box2I) -> Box2I:
        """Pixels in both boxes (possibly empty)."""
        if self.is_empty() or other.is_empty():
            return Box2I()
        x0, y0 = max(self._x0, other._x0), max(self._y0, other._y0)
        x1, y1 = min(self._x1, other._x1), min(self._y1, other._y1)
        return Box2I.from_begin_end(x0, y0, max(x0, x1), max(y0, y1))

    def union(self, other: Box2I) -> Box2I:
        """Smallest box containing both (the bounding union); empty boxes are ignored."""
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        return Box2I.from_begin_end(
            min(self._x0, other._x0),
            min(self._y0, other._y0),
            max(self._x1, other._x1),
            max(self._y1, other._y1),
        )

    def grow(self, amount: int | Extent2I | tuple[int, int]) -> Box2I:
        """Box grown by ``amount`` pixels on every side (negative shrinks, maybe to empty).

        ``amount`` is an int (same on both axes) or an `Extent2I` (x, y).  Growing an empty
        box raises `GeomValueError`, because it has no position to grow from.
        """
        self._require_nonempty("extent to grow")
        dx, dy = _grow_amounts(amount, Extent2I)
        x0, y0, x1, y1 = self._x0 - dx, self._y0 - dy, self._x1 + dx, self._y1 + dy
        return Box2I.from_begin_end(x0, y0, max(x0, x1), max(y0, y1))

    def shift(self, offset: Extent2I | tuple[int, int]) -> Box2I:
        """Box moved by ``offset`` pixels; an empty box stays empty."""
        dx, dy = Extent2I(*offset) if isinstance(offset, tuple) else Extent2I(offset)
        if self.is_empty():
            return self
        return Box2I.from_begin_end(self._x0 + dx, self._y0 + dy, self._x1 + dx, self._y1 + dy)

    def flipped_lr(self, parent_width: int) -> Box2I:
        """Box mirrored left-right inside a parent of ``parent_width`` columns starting at 0."""
        self._require_nonempty("mirror image")
        w = _as_int(parent_width, "parent_width")
        return Box2I.from_begin_end(w - self._x1, self._y0, w - self._x0, self._y1)

    def flipped_tb(self, parent_height: int) -> Box2I:
        """Box mirrored top-bottom inside a parent of ``parent_height`` rows starting at 0."""
        self._require_nonempty("mirror image")
        h = _as_int(parent_height, "parent_height")
        return Box2I.from_begin_end(self._x0, h - self._y1, self._x1, h - self._y0)

    def to_box2d(self) -> Box2D:
        """Floating box covering every pixel: ``[begin - 0.5, end - 0.5)``."""
        return Box2D(self)

    def get_corners(self) -> list[Point2I]:
        """The four corner pixels (inclusive), counter-clockwise from ``min``."""
        lo, hi = self.min, self.max
        return [lo, Point2I(hi.x, lo.y), hi, Point2I(lo.x, hi.y)]

    def __iter__(self) -> Iterator[Point2I]:
        """Every pixel, row by row (x fastest)."""
        for yy in range(self._y0, self._y1):
            for xx in range(self._x0, self._x1):
                yield Point2I(xx, yy)

    def __len__(self) -> int:
        return self.area

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Box2I):
            return NotImplemented
        return (self._x0, self._y0, self._x1, self._y1) == (other._x0, other._y0, other._x1, other._y1)

    def __hash__(self) -> int:
        return hash(("Box2I", self._x0, self._y0, self._x1, self._y1))

    def __repr__(self) -> str:
        if self.is_empty():
            return "Box2I()"
        return f"Box2I.from_begin_end({self._x0}, {self._y0}, {self._x1}, {self._y1})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Box2I.from_begin_end, (self._x0, self._y0, self._x1, self._y1)


class Box2D:
    """Floating-point box ``[min, max)`` in pixel coordinates (min inclusive, max exclusive).

    Constructed as ``Box2D(min_point, max_point)``, ``Box2D(min_point, Extent2D)``,
    ``Box2D(box2i)`` (covering the pixels' edges, ``[begin - 0.5, end - 0.5)``) or ``Box2D()``
    (empty).  A box whose max is not above its min on both axes is empty.
    """

    __slots__ = ("_x0", "_x1", "_y0", "_y1")
    _x0: float
    _y0: float
    _x1: float
    _y1: float

    def __init__(self, a: Any = None, b: Any = None) -> None:
        if a is None and b is None:
            x0 = y0 = x1 = y1 = 0.0
        elif isinstance(a, Box2I) and b is None:
            if a.is_empty():
                x0 = y0 = x1 = y1 = 0.0
            else:
                x0, y0, x1, y1 = a.x0 - 0.5, a.y0 - 0.5, a.x_end - 0.5, a.y_end - 0.5
        elif a is not None and b is not None:
            p = Point2D(a)
            if isinstance(b, (Extent2D, Extent2I)):
                e = Extent2D(b)
                if e.x < 0 or e.y < 0:
                    raise GeomValueError(f"Box2D dimensions must be >= 0, got {e!r}")
                x0, y0, x1, y1 = p.x, p.y, p.x + e.x, p.y + e.y
            else:
                q = Point2D(b)
                if q.x < p.x or q.y < p.y:
                    raise GeomValueError(f"Box2D maximum {q!r} is below minimum {p!r}")
                x0, y0, x1, y1 = p.x, p.y, q.x, q.y
        else:
            raise GeomValueError("Box2D takes (min, max), (min, Extent2D), a Box2I, or nothing")
        if not (x1 > x0 and y1 > y0):
            x0 = y0 = x1 = y1 = 0.0
        for name, v in (("x0", x0), ("y0", y0), ("x1", x1), ("y1", y1)):
            object.__setattr__(self, "_" + name, float(v))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Box2D is immutable")

    def is_empty(self) -> bool:
        """True when the box has no area."""
        return not self._x1 > self._x0

    @property
    def min(self) -> Point2D:
        """Lower corner (inclusive)."""
        return Point2D(self._x0, self._y0)

    @property
    def max(self) -> Point2D:
        """Upper corner (exclusive)."""
        return Point2D(self._x1, self._y1)

    @property
    def width(self) -> float:
        """Extent in x (pixels)."""
        return self._x1 - self._x0

    @property
    def height(self) -> float:
        """Extent in y (pixels)."""
        return self._y1 - self._y0

    @property
    def dimensions(self) -> Extent2D:
        """``Extent2D(width, height)``."""
        return Extent2D(self.width, self.height)

    @property
    def area(self) -> float:
        """Area in square pixels."""
        return self.width * self.height

    @property
    def center(self) -> Point2D:
        """Midpoint; empty boxes raise `GeomValueError`."""
        if self.is_empty():
            raise GeomValueError("an empty Box2D has no center")
        return Point2D(0.5 * (self._x0 + self._x1), 0.5 * (self._y0 + self._y1))

    def contains(self, other: Any, y: ArrayLike | None = None) -> Any:
        """Whether a point, a box, or arrays of positions lie in ``[min, max)``.

        With two arrays ``x, y`` returns a bool array (one compiled pass, GIL released).
        A box is contained when its min is >= ours and its max is <= ours.
        """
        if y is not None:
            xs = np.ascontiguousarray(other, dtype=np.float64)
            ys = np.ascontiguousarray(y, dtype=np.float64)
            if xs.shape != ys.shape:
                raise GeomValueError(f"x and y must have the same shape, got {xs.shape} and {ys.shape}")
            shape = xs.shape
            if self.is_empty():
                return np.zeros(shape, dtype=bool)
            out = _geom.box2d_contains(self._x0, self._y0, self._x1, self._y1, xs.ravel(), ys.ravel())
            return out.reshape(shape)
        if isinstance(other, (Point2D, Point2I)):
            return self._x0 <= other.x < self._x1 and self._y0 <= other.y < self._y1
        if isinstance(other, Box2I):
            other = Box2D(other)
        if isinstance(other, Box2D):
            if other.is_empty():
                return True
            return self._x0 <= other._x0 and other._x1 <= self._x1 and self._y0 <= other._y0 and other._y1 <= self._y1
        raise GeomValueError(f"Box2D.contains expects a point, a box or x, y arrays, got {other!r}")

    def overlaps(self, other: Box2D) -> bool:
        """True when the boxes share a region of positive area."""
        return not self.intersection(other).is_empty()

    def intersection(self, other: Box2D) -> Box2D:
        """Common region (possibly empty)."""
        if self.is_empty() or other.is_empty():
            return Box2D()
        return Box2D(
            Point2D(max(self._x0, other._x0), max(self._y0, other._y0)),
            Point2D(
                max(max(self._x0, other._x0), min(self._x1, other._x1)),
                max(max(self._y0, other._y0), min(self._y1, other._y1)),
            ),
        )

    def union(self, other: Box2D) -> Box2D:
        """Smallest box containing both; empty boxes are ignored."""
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        return Box2D(
            Point2D(min(self._x0, other._x0), min(self._y0, other._y0)),
            Point2D(max(self._x1, other._x1), max(self._y1, other._y1)),
        )

    def grow(self, amount: float | Extent2D | tuple[float, float]) -> Box2D:
        """Box grown by ``amount`` on every side (a float or an `Extent2D`)."""
        if self.is_empty():
            raise GeomValueError("an empty Box2D has no extent to grow")
        dx, dy = _grow_amounts(amount, Extent2D)
        x0, y0 = self._x0 - dx, self._y0 - dy
        return Box2D(Point2D(x0, y0), Point2D(max(x0, self._x1 + dx), max(y0, self._y1 + dy)))

    def shift(self, offset: Extent2D | tuple[float, float]) -> Box2D:
        """Box moved by ``offset``; an empty box stays empty."""
        dx, dy = Extent2D(*offset) if isinstance(offset, tuple) else Extent2D(offset)
        if self.is_empty():
            return self
        return Box2D(Point2D(self._x0 + dx, self._y0 + dy), Point2D(self._x1 + dx, self._y1 + dy))

    def get_corners(self) -> list[Point2D]:
        """The four corners, counter-clockwise from ``min``."""
        return [
            Point2D(self._x0, self._y0),
            Point2D(self._x1, self._y0),
            Point2D(self._x1, self._y1),
            Point2D(self._x0, self._y1),
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Box2D):
            return NotImplemented
        return (self._x0, self._y0, self._x1, self._y1) == (other._x0, other._y0, other._x1, other._y1)

    def __hash__(self) -> int:
        return hash(("Box2D", self._x0, self._y0, self._x1, self._y1))

    def __repr__(self) -> str:
        if self.is_empty():
            return "Box2D()"
        return f"Box2D(Point2D({self._x0!r}, {self._y0!r}), Point2D({self._x1!r}, {self._y1!r}))"

    def __reduce__(self) -> tuple[Any, ...]:
        if self.is_empty():
            return Box2D, ()
        return Box2D, (Point2D(self._x0, self._y0), Point2D(self._x1, self._y1))
