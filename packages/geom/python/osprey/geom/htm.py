"""`HtmPixelization`: the Hierarchical Triangular Mesh (Szalay, Gray et al. 2007).

Level-L HTM ids match lsst-sphgeom's ``HtmPixelization(L).index`` exactly: the 8 roots
S0..S3, N0..N3 are ids 8..15 and each level appends two bits, so the ids of level L
fill ``[8 * 4**L, 16 * 4**L)``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from . import _geom
from .errors import GeomValueError
from .pixelization import Pixelization
from .rangeset import RangeSet
from .regions import ConvexPolygon, Region

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["HtmPixelization"]

MAX_LEVEL = 24


class HtmPixelization(Pixelization):
    """HTM pixelization of the sphere at one subdivision level.

    Parameters
    ----------
    level : `int`
        Subdivision level in ``[0, 24]``; level L has ``8 * 4**L`` trixels.

    Examples
    --------
    >>> import numpy as np
    >>> HtmPixelization(2).index(np.array([0.1]), np.array([0.2])).tolist()
    [248]
    """

    __slots__ = ("_level",)

    def __init__(self, level: int):
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise GeomValueError(f"HTM level must be an integer in [0, {MAX_LEVEL}], got {level!r}")
        if not 0 <= int(level) <= MAX_LEVEL:
            raise GeomValueError(f"HTM level must be in [0, {MAX_LEVEL}], got {level}")
        self._level = int(level)

    @property
    def level(self) -> int:
        """The subdivision level."""
        return self._level

    def index(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.uint64]:
        """Return the uint64 id of the trixel containing each position (radians, broadcast).

        Raises
        ------
        GeomValueError
            If a coordinate is not finite.
        """
        lo, la = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        flat_lo = np.ascontiguousarray(lo.ravel())
        flat_la = np.ascontiguousarray(la.ravel())
        if not (np.isfinite(flat_lo).all() and np.isfinite(flat_la).all()):
            raise GeomValueError("HTM index: lon and lat must be finite (found NaN or infinity)")
        return _geom.htm_index(flat_lo, flat_la, self._level).reshape(lo.shape)

    def index_vectors(self, xyz: ArrayLike) -> NDArray[np.uint64]:
        """Return trixel ids of unit vectors, array of shape ``(..., 3)``."""
        arr = np.asarray(xyz, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != 3:
            raise GeomValueError(f"xyz must have shape (..., 3), got {arr.shape}")
        flat = np.ascontiguousarray(arr.reshape(-1, 3))
        if not np.isfinite(flat).all():
            raise GeomValueError("HTM index: vectors must be finite (found NaN or infinity)")
        return _geom.htm_index_xyz(flat, self._level).reshape(arr.shape[:-1])

    def _cover(self, region: Region, max_ranges: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
        if not isinstance(region, Region):
            raise TypeError(f"expected an osprey.geom Region, got {type(region).__name__}")
        if isinstance(max_ranges, bool) or not isinstance(max_ranges, numbers.Integral) or max_ranges < 0:
            raise GeomValueError(f"max_ranges must be an integer >= 0, got {max_ranges!r}")
        return _geom.htm_cover(region._KIND, region._params(), self._level, int(max_ranges))

    def envelope(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Return trixels that may intersect ``region``.

        Every trixel containing a point of the region is included; trixels whose
        relation to the region is uncertain (within ~1e-13 rad) are included too.
        ``max_ranges > 0`` grows the result until it has at most that many ranges.
        """
        env, _ = self._cover(region, max_ranges)
        return RangeSet.from_ranges(env)

    def interior(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Return trixels certainly inside ``region``.

        ``max_ranges > 0`` shrinks the result until it has at most that many ranges
        (it may become empty).
        """
        _, inner = self._cover(region, max_ranges)
        return RangeSet.from_ranges(inner)

    def universe(self) -> RangeSet:
        """Return all level ids: ``[8 * 4**level, 16 * 4**level)``."""
        return RangeSet.from_range(8 << (2 * self._level), 16 << (2 * self._level))

    def pixel(self, i: int) -> ConvexPolygon:
        """Return trixel ``i`` (which must be an id of this level) as a `ConvexPolygon`."""
        i = int(i)
        if not (8 << (2 * self._level)) <= i < (16 << (2 * self._level)):
            raise GeomValueError(f"{i} is not an HTM id at level {self._level}")
        return ConvexPolygon(_geom.htm_trixel(i))

    @staticmethod
    def level_of(i: int) -> int:
        """Return the level of HTM id ``i``, or -1 when ``i`` is not a valid id."""
        i = int(i)
        if i < 8:
            return -1
        bits = i.bit_length()
        if bits % 2:
            return -1
        level = (bits - 4) // 2
        return level if level <= MAX_LEVEL else -1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HtmPixelization):
            return NotImplemented
        return self._level == other._level

    def __hash__(self) -> int:
        return hash(("HtmPixelization", self._level))

    def __repr__(self) -> str:
        return f"HtmPixelization({self._level})"

    def __reduce__(self):
        return (HtmPixelization, (self._level,))
