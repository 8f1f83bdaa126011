"""`RangeSet`: a set of unsigned 64-bit integers stored as sorted half-open ranges.

Pixelizations return their envelopes and interiors as range sets: contiguous runs of
pixel indices cost one ``[begin, end)`` pair. Every operation is vectorised numpy
(``searchsorted``, ``union1d``...); nothing loops over elements in Python.

Representation: a strictly increasing uint64 array of *boundaries*; an integer ``x`` is
in the set when an odd number of boundaries are ``<= x``. A set whose last range runs to
2**64 simply has an odd number of boundaries. In (n, 2) range arrays, an end of 0 stands
for 2**64 (as in lsst-sphgeom).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import GeomValueError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["RangeSet"]

_U64 = np.uint64
_LIMIT = 1 << 64
_EMPTY = np.zeros(0, dtype=_U64)


def _as_u64(values: ArrayLike, what: str) -> NDArray[np.uint64]:
    """Convert integers in [0, 2**64) to a uint64 array, refusing negatives and floats."""
    arr = np.asarray(values)
    if not isinstance(values, np.ndarray) and arr.dtype.kind == "f":
        # Python ints beyond int64 (e.g. 2**63) make numpy guess float64: redo exactly.
        arr = np.asarray(values, dtype=object)
    if arr.dtype == object or arr.size == 0:
        ints = arr.ravel().tolist()
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in ints):
            raise GeomValueError(f"{what} must be integers")
        ints = [int(v) for v in ints]
        if any(v < 0 or v >= _LIMIT for v in ints):
            raise GeomValueError(f"{what} must lie in [0, 2**64)")
        return np.array(ints, dtype=_U64).reshape(arr.shape)
    if arr.dtype.kind == "u":
        return arr.astype(_U64, copy=False)
    if arr.dtype.kind in "ib":
        if arr.dtype.kind == "i" and np.any(arr < 0):
            raise GeomValueError(f"{what} must be non-negative")
        return arr.astype(_U64)
    raise GeomValueError(f"{what} must be integers, got dtype {arr.dtype}")


def _boundaries_from_ranges(begins: NDArray[np.uint64], lasts: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Boundaries of the union of closed ranges [begin, last] (arbitrary order, overlaps allowed)."""
    if begins.size == 0:
        return _EMPTY.copy()
    order = np.argsort(begins, kind="stable")
    b = begins[order]
    last = np.maximum.accumulate(lasts[order])
    # A new merged range starts where begin > (running last of the previous ones) + 1.
    prev = last[:-1]
    starts_new = np.empty(b.size, dtype=bool)
    starts_new[0] = True
    starts_new[1:] = (b[1:] > 0) & ((b[1:] - _U64(1)) > prev)
    first_idx = np.flatnonzero(starts_new)
    end_idx = np.append(first_idx[1:] - 1, b.size - 1)
    rb = b[first_idx]
    rl = last[end_idx]
    out = np.empty(2 * rb.size, dtype=_U64)
    out[0::2] = rb
    # last + 1 overflows only for last == 2**64 - 1: that range runs to 2**64, no end boundary.
    out[1::2] = rl + _U64(1)
    if rl[-1] == np.iinfo(_U64).max:
        out = out[:-1]
    return out


class RangeSet:
    """A set of integers in ``[0, 2**64)`` held as sorted disjoint ``[begin, end)`` ranges.

    Parameters
    ----------
    *args
        Nothing (the empty set); one integer; two integers ``begin, end`` (the range
        ``[begin, end)``, ``end`` may be ``2**64``); a 1-d array_like of integers (those
        integers); or an (n, 2) array_like of ``[begin, end)`` ranges (end 0 means 2**64;
        empty ranges are ignored, ``begin > end`` raises `GeomValueError`).

    Notes
    -----
    ``len(s)`` and iteration are over ranges; `size` counts integers. Sets are immutable
    and support ``|``, ``&``, ``-``, ``^``, ``~`` (complement in ``[0, 2**64)``), ``==``,
    hashing and pickling.

    Examples
    --------
    >>> s = RangeSet([1, 2, 3, 7])
    >>> s.ranges().tolist()
    [[1, 4], [7, 8]]
    >>> (s | RangeSet(4, 6)).size()
    6
    """

    __slots__ = ("_b",)

    def __init__(self, *args: Any):
        if not args:
            b = _EMPTY.copy()
        elif len(args) == 2:
            b = RangeSet.from_range(args[0], args[1])._b
        elif len(args) == 1:
            x = args[0]
            if isinstance(x, RangeSet):
                b = x._b
            elif isinstance(x, numbers.Integral):
                b = RangeSet.from_range(int(x), int(x) + 1)._b
            else:
                arr = np.asarray(x)
                if arr.ndim == 2:
                    b = RangeSet.from_ranges(x)._b
                elif arr.ndim <= 1:
                    b = RangeSet.from_integers(x)._b
                else:
                    raise GeomValueError(f"RangeSet input must be 1-d integers or (n, 2) ranges, got shape {arr.shape}")
        else:
            raise TypeError("RangeSet takes (), (int), (begin, end), integers or (n, 2) ranges")
        b.flags.writeable = False
        self._b = b

    @classmethod
    def _wrap(cls, boundaries: NDArray[np.uint64]) -> RangeSet:
        self = object.__new__(cls)
        boundaries.flags.writeable = False
        self._b = boundaries
        return self

    @classmethod
    def from_range(cls, begin: int, end: int) -> RangeSet:
        """Return the set ``[begin, end)``; ``end`` may be ``2**64``; empty when ``end <= begin``."""
        begin, end = int(begin), int(end)
        if not (0 <= begin < _LIMIT and 0 <= end <= _LIMIT):
            raise GeomValueError(f"range [{begin}, {end}) must lie within [0, 2**64]")
        if end <= begin:
            return cls._wrap(_EMPTY.copy())
        if end == _LIMIT:
            return cls._wrap(np.array([begin], dtype=_U64))
        return cls._wrap(np.array([begin, end], dtype=_U64))

    @classmethod
    def from_integers(cls, values: ArrayLike) -> RangeSet:
        """Return the set of the given integers (any order, repeats allowed)."""
        v = np.unique(_as_u64(values, "RangeSet integers").ravel())
        if v.size and np.asarray(values).ndim > 1:
            raise GeomValueError("from_integers needs a 1-d sequence of integers")
        return cls._wrap(_boundaries_from_ranges(v, v))

    @classmethod
    def from_ranges(cls, ranges: ArrayLike) -> RangeSet:
        """Return the union of ``[begin, end)`` rows of an (n, 2) array (end 0 means 2**64)."""
        r = _as_u64(ranges, "RangeSet ranges")
        if r.size == 0:
            return cls._wrap(_EMPTY.copy())
        if r.ndim != 2 or r.shape[1] != 2:
            raise GeomValueError(f"ranges must have shape (n, 2), got {r.shape}")
        begins, ends = r[:, 0], r[:, 1]
        to_top = ends == 0
        if np.any(~to_top & (ends < begins)):
            raise GeomValueError("ranges must have begin <= end (end 0 stands for 2**64)")
        keep = to_top | (ends > begins)
        begins, ends, to_top = begins[keep], ends[keep], to_top[keep]
        lasts = np.where(to_top, np.iinfo(_U64).max, ends - _U64(1)).astype(_U64)
        return cls._wrap(_boundaries_from_ranges(begins, lasts))

    @classmethod
    def universe(cls) -> RangeSet:
        """Return ``[0, 2**64)``."""
        return cls._wrap(np.zeros(1, dtype=_U64))

    # --- inspection -------------------------------------------------------------------
    def ranges(self) -> NDArray[np.uint64]:
        """Return the ranges as an (n, 2) uint64 array of ``[begin, end)`` (end 0 means 2**64)."""
        b = self._b
        if b.size % 2:
            b = np.append(b, _U64(0))
        return b.reshape(-1, 2).copy()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Iterate over ``(begin, end)`` Python-int pairs; the last end may be 2**64."""
        b = [int(x) for x in self._b.tolist()]
        if len(b) % 2:
            b.append(_LIMIT)
        return iter(list(zip(b[0::2], b[1::2], strict=True)))

    def __len__(self) -> int:
        """Number of ranges."""
        return (self._b.size + 1) // 2

    def size(self) -> int:
        """Number of integers in the set (a Python int; up to 2**64)."""
        b = self._b
        n = b.size // 2
        total = int((b[1 : 2 * n : 2] - b[0 : 2 * n : 2]).sum(dtype=_U64)) if n else 0
        if b.size % 2:
            total += _LIMIT - int(b[-1])
        return total

    def empty(self) -> bool:
        """Return True when the set has no integers."""
        return self._b.size == 0

    def full(self) -> bool:
        """Return True when the set is all of ``[0, 2**64)``."""
        return self._b.size == 1 and int(self._b[0]) == 0

    def __bool__(self) -> bool:
        return self._b.size != 0

    def first(self) -> int:
        """Smallest integer in the set (GeomValueError when empty)."""
        if not self._b.size:
            raise GeomValueError("an empty RangeSet has no first element")
        return int(self._b[0])

    def last(self) -> int:
        """Largest integer in the set (GeomValueError when empty)."""
        if not self._b.size:
            raise GeomValueError("an empty RangeSet has no last element")
        return _LIMIT - 1 if self._b.size % 2 else int(self._b[-1]) - 1

    def contains(self, values: ArrayLike) -> Any:
        """Membership of integers: a `bool` for a scalar, a boolean array for an array.

        Negative integers are never members.
        """
        arr = np.asarray(values)
        if arr.dtype.kind == "i":
            neg = arr < 0
            u = np.where(neg, 0, arr).astype(_U64)
            inside = (np.searchsorted(self._b, u, side="right") & 1).astype(bool) & ~neg
        else:
            u = _as_u64(arr, "values")
            inside = (np.searchsorted(self._b, u, side="right") & 1).astype(bool)
        return bool(inside) if inside.ndim == 0 else inside

    def __contains__(self, value: object) -> bool:
        if isinstance(value, RangeSet):
            return self.issuperset(value)
        if isinstance(value, numbers.Integral):
            v = int(value)
            return 0 <= v < _LIMIT and bool(np.searchsorted(self._b, _U64(v), side="right") & 1)
        return False

    def issuperset(self, other: RangeSet) -> bool:
        """Return True when every integer of ``other`` is in this set."""
        return (other - self).empty()

    def issubset(self, other: RangeSet) -> bool:
        """Return True when every integer of this set is in ``other``."""
        return (self - other).empty()

    def intersects(self, other: RangeSet) -> bool:
        """Return True when the sets share an integer."""
        return not (self & other).empty()

    def isdisjoint(self, other: RangeSet) -> bool:
        """Return True when the sets share no integer."""
        return (self & other).empty()

    # --- algebra ----------------------------------------------------------------------
    def _combine(self, other: RangeSet, op: Any) -> RangeSet:
        if not isinstance(other, RangeSet):
            return NotImplemented
        pts = np.union1d(self._b, other._b)
        if pts.size == 0:
            return RangeSet._wrap(_EMPTY.copy())
        a = (np.searchsorted(self._b, pts, side="right") & 1).astype(bool)
        b = (np.searchsorted(other._b, pts, side="right") & 1).astype(bool)
        r = op(a, b)
        changed = np.empty(r.size, dtype=bool)
        changed[0] = r[0]  # membership before the first point is False for every op used
        changed[1:] = r[1:] != r[:-1]
        return RangeSet._wrap(pts[changed])

    def __or__(self, other: RangeSet) -> RangeSet:
        return self._combine(other, np.logical_or)

    def __and__(self, other: RangeSet) -> RangeSet:
        return self._combine(other, np.logical_and)

    def __sub__(self, other: RangeSet) -> RangeSet:
        return self._combine(other, lambda a, b: a & ~b)

    def __xor__(self, other: RangeSet) -> RangeSet:
        return self._combine(other, np.logical_xor)

    def union(self, other: RangeSet) -> RangeSet:
        """Return ``self | other``."""
        return self | other

    def intersection(self, other: RangeSet) -> RangeSet:
        """Return ``self & other``."""
        return self & other

    def difference(self, other: RangeSet) -> RangeSet:
        """Return ``self - other``."""
        return self - other

    def symmetric_difference(self, other: RangeSet) -> RangeSet:
        """Return ``self ^ other``."""
        return self ^ other

    def complement(self) -> RangeSet:
        """Return the integers of ``[0, 2**64)`` not in this set."""
        b = self._b
        if b.size and b[0] == 0:
            return RangeSet._wrap(b[1:].copy())
        return RangeSet._wrap(np.concatenate([np.zeros(1, dtype=_U64), b]))

    def __invert__(self) -> RangeSet:
        return self.complement()

    def scaled(self, factor: int) -> RangeSet:
        """Return the set with every range ``[b, e)`` mapped to ``[b*factor, e*factor)``.

        With ``factor = 4**k`` this turns HTM (or nested HEALPix) pixels at level L into
        their descendants at level L + k. Raises `GeomValueError` on overflow past 2**64.
        """
        f = int(factor)
        if f < 1:
            raise GeomValueError(f"scale factor must be a positive integer, got {factor!r}")
        b = self._b
        if b.size == 0 or f == 1:
            return RangeSet._wrap(b.copy())
        if b.size % 2:
            raise GeomValueError("cannot scale a set that extends to 2**64")
        top = int(b[-1]) * f
        if top > _LIMIT:
            raise GeomValueError(f"scaling by {f} overflows 2**64")
        if top == _LIMIT:
            return RangeSet._wrap(b[:-1] * _U64(f))
        return RangeSet._wrap(b * _U64(f))

    def simplify(self, n: int) -> RangeSet:
        """Return a coarser superset whose range boundaries are multiples of ``2**n``.

        Each ``[b, e)`` becomes ``[floor(b / 2**n) * 2**n, ceil(e / 2**n) * 2**n)``;
        ranges that then touch merge. ``simplify(2 * k)`` coarsens an HTM/HEALPix
        range set by ``k`` levels while staying at the original level's numbering.
        """
        n = int(n)
        if not 0 <= n <= 64:
            raise GeomValueError(f"simplify needs 0 <= n <= 64, got {n}")
        if n == 0 or self._b.size == 0:
            return RangeSet._wrap(self._b.copy())
        if n == 64:
            return RangeSet.universe()
        mask = _U64((1 << n) - 1)
        r = self.ranges()
        begins = r[:, 0] & ~mask
        ends = r[:, 1]
        to_top = ends == 0
        # ceil to a multiple of 2**n; an end that rounds up to 2**64 becomes end 0.
        rounded = (ends + mask) & ~mask
        overflow = rounded < ends
        new_ends = np.where(to_top | overflow, _U64(0), rounded).astype(_U64)
        return RangeSet.from_ranges(np.stack([begins, new_ends], axis=1))

    # --- value semantics --------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RangeSet):
            return NotImplemented
        return bool(np.array_equal(self._b, other._b))

    def __hash__(self) -> int:
        return hash(("RangeSet", self._b.tobytes()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (RangeSet.from_ranges, (self.ranges(),))

    def __repr__(self) -> str:
        pairs = [[b, e] for b, e in self]
        if len(pairs) > 8:
            return f"RangeSet(<{len(pairs)} ranges, {self.size()} integers>)"
        shown = [[b, 0 if e == _LIMIT else e] for b, e in pairs]
        return f"RangeSet.from_ranges({shown})"
