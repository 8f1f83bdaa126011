"""Spherical regions: `Circle`, `ConvexPolygon` and `Box`, with containment and relations.

Every region is closed (it contains its boundary). Point containment is vectorised:
``region.contains(lon, lat)`` takes arrays of radians and returns a boolean array (NaN
or infinite coordinates are outside). ``a.relate(b)`` returns `Relationship` flags with
lsst-sphgeom's meaning; answers are conservative: ``DISJOINT``, ``CONTAINS`` and
``WITHIN`` are only reported when true (with a 1e-13 rad margin), otherwise
``INTERSECTS`` ("may intersect") is reported.

Regions encode to bytes (`Region.encode`) and decode back bit-exactly
(`Region.decode`): one type byte (``c``, ``p`` or ``b``) followed by little-endian
float64 values.
"""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import _geom
from .angle import Angle
from .errors import GeomValueError, RegionDecodeError
from .sphere import SpherePoint, UnitVector3d

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["Box", "Circle", "ConvexPolygon", "Region", "Relationship"]

_TWO_PI = 2.0 * math.pi
_HALF_PI = 0.5 * math.pi
_UNIT_TOL = 1e-12  # allowed |norm - 1| of decoded vectors
_CONVEX_TOL = 1e-12  # dot-product tolerance of the convexity check


class Relationship(enum.IntFlag):
    """How two regions relate: exactly one of DISJOINT or INTERSECTS, plus CONTAINS/WITHIN.

    ``a.relate(b)`` has CONTAINS when ``a`` contains ``b`` and WITHIN when ``a`` lies
    inside ``b``. INTERSECTS means "may intersect" (the regions are not known to be
    disjoint).
    """

    DISJOINT = 1
    INTERSECTS = 2
    CONTAINS = 4
    WITHIN = 8


class Region(ABC):
    """A closed region of the unit sphere."""

    __slots__ = ()
    _KIND: ClassVar[int]
    _TYPE_BYTE: ClassVar[bytes]

    @abstractmethod
    def _params(self) -> NDArray[np.float64]:
        """Flat float64 parameters understood by the compiled kernels (see regions.h)."""

    # --- containment ------------------------------------------------------------------
    def contains(self, *args: Any) -> Any:
        """Test whether points lie in the region.

        Call as ``contains(point)`` with a `SpherePoint` or `UnitVector3d` (returns a
        `bool`), or as ``contains(lon, lat)`` with array_likes in radians (returns a
        boolean array of their broadcast shape; non-finite coordinates are outside).
        """
        if len(args) == 1:
            p = args[0]
            if isinstance(p, SpherePoint):
                lon, lat = p.longitude.as_radians(), p.latitude.as_radians()
                return bool(_geom.region_contains(self._KIND, self._params(), np.array([lon]), np.array([lat]))[0])
            if isinstance(p, UnitVector3d):
                return bool(self.contains_xyz(p.x, p.y, p.z))
            raise TypeError(f"contains() takes a SpherePoint, a UnitVector3d or (lon, lat); got {type(p).__name__}")
        if len(args) != 2:
            raise TypeError("contains() takes a SpherePoint, a UnitVector3d or (lon, lat)")
        lon, lat = np.broadcast_arrays(np.asarray(args[0], dtype=np.float64), np.asarray(args[1], dtype=np.float64))
        out = _geom.region_contains(
            self._KIND, self._params(), np.ascontiguousarray(lon.ravel()), np.ascontiguousarray(lat.ravel())
        )
        return out.reshape(lon.shape) if lon.ndim else bool(out[0])

    def contains_xyz(self, x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Any:
        """Test whether directions (x, y, z) lie in the region; vectors need not be unit length.

        Returns a boolean array of the broadcast shape (a `bool` for scalars); zero or
        non-finite vectors are outside.
        """
        xs, ys, zs = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (x, y, z)))
        out = _geom.region_contains_xyz(
            self._KIND, self._params(), *(np.ascontiguousarray(a.ravel()) for a in (xs, ys, zs))
        )
        return out.reshape(xs.shape) if xs.ndim else bool(out[0])

    # --- relations --------------------------------------------------------------------
    def relate(self, other: Region) -> Relationship:
        """Return how this region relates to ``other`` (see `Relationship`)."""
        if not isinstance(other, Region):
            raise TypeError(f"relate() needs a Region, got {type(other).__name__}")
        return Relationship(_geom.region_relate(self._KIND, self._params(), other._KIND, other._params()))

    def intersects(self, other: Region) -> bool:
        """Return True unless the regions are known to be disjoint (conservative)."""
        return not self.relate(other) & Relationship.DISJOINT

    def is_disjoint_from(self, other: Region) -> bool:
        """Return True when the regions certainly share no point."""
        return bool(self.relate(other) & Relationship.DISJOINT)

    def contains_region(self, other: Region) -> bool:
        """Return True when this region certainly contains all of ``other``."""
        return bool(self.relate(other) & Relationship.CONTAINS)

    def is_within(self, other: Region) -> bool:
        """Return True when this region certainly lies inside ``other``."""
        return bool(self.relate(other) & Relationship.WITHIN)

    def overlaps(self, other: Region) -> bool | None:
        """Return False if disjoint, True if the regions certainly share points, None if unknown."""
        r = self.relate(other)
        if r & Relationship.DISJOINT:
            return False
        if r & (Relationship.CONTAINS | Relationship.WITHIN):
            return True
        return None

    # --- bounds -----------------------------------------------------------------------
    def get_bounding_circle(self) -> Circle:
        """Return a circle containing the region (slightly grown, never too small)."""
        x, y, z, angle = _geom.region_bounding_circle(self._KIND, self._params())
        return Circle(UnitVector3d._from_normalized(x, y, z), Angle(min(angle, math.pi)))

    def get_bounding_box(self) -> Box:
        """Return a longitude/latitude box containing the region (slightly grown)."""
        lon_a, length, lat_a, lat_b = _geom.region_bounding_box(self._KIND, self._params())
        lat_a, lat_b = max(lat_a, -_HALF_PI), min(lat_b, _HALF_PI)
        if length >= _TWO_PI:
            return Box(Angle(0.0), Angle(_TWO_PI), Angle(lat_a), Angle(lat_b))
        return Box(Angle(lon_a), Angle(lon_a + length), Angle(lat_a), Angle(lat_b))

    # --- serialization ----------------------------------------------------------------
    def encode(self) -> bytes:
        """Return a compact byte string that `Region.decode` turns back into an equal region."""
        p = self._params()
        return self._TYPE_BYTE + p.astype("<f8").tobytes()

    @staticmethod
    def decode(data: bytes) -> Region:
        """Rebuild a region from `encode` output.

        Raises
        ------
        RegionDecodeError
            If ``data`` is empty, truncated, has an unknown type byte or invalid values.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise RegionDecodeError(f"Region.decode needs bytes, got {type(data).__name__}")
        data = bytes(data)
        if not data:
            raise RegionDecodeError("cannot decode a region from empty bytes")
        cls = _DECODERS.get(data[:1])
        if cls is None:
            raise RegionDecodeError(
                f"unknown region type byte {data[:1]!r}; expected one of {sorted(_DECODERS)} (Circle, Box, Polygon)"
            )
        body = data[1:]
        if len(body) % 8 != 0:
            raise RegionDecodeError(
                f"truncated {cls.__name__} encoding: {len(body)} payload bytes is not a multiple of 8"
            )
        values = np.frombuffer(body, dtype="<f8").astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise RegionDecodeError(f"{cls.__name__} encoding holds non-finite values")
        return cls._from_params(values)

    @classmethod
    @abstractmethod
    def _from_params(cls, values: NDArray[np.float64]) -> Region:
        """Rebuild from decoded parameters, raising RegionDecodeError when invalid."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Region.decode, (self.encode(),))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(np.array_equal(self._params(), other._params()))

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._params().tobytes()))


def _unit_from_decoded(x: float, y: float, z: float, what: str) -> UnitVector3d:
    if abs(math.sqrt(x * x + y * y + z * z) - 1.0) > _UNIT_TOL:
        raise RegionDecodeError(f"{what} is not a unit vector: ({x!r}, {y!r}, {z!r})")
    return UnitVector3d._from_normalized(x, y, z)


class Circle(Region):
    """A spherical cap: the points within ``radius`` of ``center``.

    Parameters
    ----------
    center : `SpherePoint` or `UnitVector3d`
        Centre of the cap.
    radius : `Angle`
        Opening angle, in ``[0, pi]``; ``pi`` (or more, clamped) is the whole sphere.
    """

    __slots__ = ("_center", "_radius", "_p")
    _KIND = 0
    _TYPE_BYTE = b"c"

    def __init__(self, center: SpherePoint | UnitVector3d, radius: Angle):
        if isinstance(center, SpherePoint):
            center = center.get_vector()
        if not isinstance(center, UnitVector3d):
            raise TypeError(f"Circle center must be a SpherePoint or UnitVector3d, got {type(center).__name__}")
        if not isinstance(radius, Angle):
            raise TypeError(f"Circle radius must be an Angle, got {type(radius).__name__}")
        r = radius.as_radians()
        if r < 0.0:
            raise GeomValueError(f"Circle radius must be >= 0, got {r!r} rad")
        self._center = center
        self._radius = Angle(min(r, math.pi))
        self._p = np.array([center.x, center.y, center.z, self._radius.as_radians()])
        self._p.flags.writeable = False

    @classmethod
    def full(cls) -> Circle:
        """Return the circle covering the whole sphere."""
        return cls(UnitVector3d(0.0, 0.0, 1.0), Angle(math.pi))

    @property
    def center(self) -> SpherePoint:
        """Centre of the cap."""
        return SpherePoint(self._center)

    @property
    def center_vector(self) -> UnitVector3d:
        """Centre of the cap as a unit vector (exactly as stored)."""
        return self._center

    @property
    def radius(self) -> Angle:
        """Opening angle of the cap."""
        return self._radius

    def is_full(self) -> bool:
        """Return True when the circle covers the whole sphere."""
        return self._radius.as_radians() >= math.pi

    def _params(self) -> NDArray[np.float64]:
        return self._p

    @classmethod
    def _from_params(cls, values: NDArray[np.float64]) -> Circle:
        if values.size != 4:
            raise RegionDecodeError(f"truncated Circle encoding: expected 4 float64 values, got {values.size}")
        center = _unit_from_decoded(*values[:3].tolist(), what="Circle center")
        r = float(values[3])
        if not 0.0 <= r <= math.pi:
            raise RegionDecodeError(f"Circle radius {r!r} rad is outside [0, pi]")
        return cls(center, Angle(r))

    def __repr__(self) -> str:
        return f"Circle({self._center!r}, {self._radius!r})"


def _vertex_array(vertices: Iterable[Any]) -> NDArray[np.float64]:
    """(n, 3) array of unit vectors from SpherePoints, UnitVector3ds or 3-vectors."""
    if isinstance(vertices, np.ndarray):
        arr = np.asarray(vertices, dtype=np.float64)
    else:
        rows = []
        for v in vertices:
            if isinstance(v, SpherePoint):
                v = v.get_vector()
            rows.append([v.x, v.y, v.z] if isinstance(v, UnitVector3d) else list(v))
        arr = np.asarray(rows, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise GeomValueError(f"vertices must be SpherePoints, UnitVector3ds or an (n, 3) array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GeomValueError("vertices must be finite")
    norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))
    if np.any(norms == 0.0):
        raise GeomValueError("vertices cannot be zero vectors")
    return np.where(np.abs(norms - 1.0)[:, None] == 0.0, arr, arr / norms[:, None])


def _is_ccw_convex(v: NDArray[np.float64]) -> bool:
    normals = np.cross(v, np.roll(v, -1, axis=0))
    lengths = np.sqrt(np.einsum("ij,ij->i", normals, normals))
    if np.any(lengths <= _CONVEX_TOL):
        return False
    d = (normals / lengths[:, None]) @ v.T
    return bool(np.all(d >= -_CONVEX_TOL) and np.all(d.max(axis=1) > _CONVEX_TOL))


class ConvexPolygon(Region):
    """A convex spherical polygon with great-circle edges.

    Parameters
    ----------
    vertices : sequence of `SpherePoint` or `UnitVector3d`, or array, shape (n, 3)
        At least 3 distinct vertices in counter-clockwise order seen from outside the
        sphere (clockwise input is reversed); the polygon must be convex and smaller
        than a hemisphere, otherwise `GeomValueError` is raised.
    """

    __slots__ = ("_v", "_p")
    _KIND = 1
    _TYPE_BYTE = b"p"

    def __init__(self, vertices: Iterable[Any]):
        v = _vertex_array(vertices)
        if v.shape[0] < 3:
            raise GeomValueError(f"a ConvexPolygon needs at least 3 vertices, got {v.shape[0]}")
        if not _is_ccw_convex(v):
            if _is_ccw_convex(v[::-1]):
                v = v[::-1]
            else:
                raise GeomValueError(
                    "vertices do not form a convex polygon (check the order, duplicates and that all "
                    "points are not on one great circle); ConvexPolygon.convex_hull builds one from points"
                )
        self._v = np.ascontiguousarray(v)
        self._v.flags.writeable = False
        self._p = self._v.ravel()

    @classmethod
    def convex_hull(cls, points: Iterable[Any]) -> ConvexPolygon:
        """Return the smallest convex polygon containing ``points``.

        Raises
        ------
        GeomValueError
            If the points do not lie in an open hemisphere around their mean direction, or
            their hull is degenerate (fewer than 3 distinct vertices, all on one great circle).
        """
        v = _vertex_array(points)
        idx = _geom.convex_hull(np.ascontiguousarray(v))
        if idx.size < 3:
            raise GeomValueError(
                f"convex hull of {v.shape[0]} points is degenerate or the points do not lie in an "
                "open hemisphere around their mean"
            )
        return cls(v[idx])

    @property
    def vertices(self) -> list[UnitVector3d]:
        """The vertices, counter-clockwise."""
        return [UnitVector3d._from_normalized(*row) for row in self._v.tolist()]

    @property
    def vertex_array(self) -> NDArray[np.float64]:
        """The vertices as a read-only (n, 3) float64 array."""
        return self._v

    def _params(self) -> NDArray[np.float64]:
        return self._p

    @classmethod
    def _from_params(cls, values: NDArray[np.float64]) -> ConvexPolygon:
        if values.size < 9 or values.size % 3 != 0:
            raise RegionDecodeError(
                f"truncated ConvexPolygon encoding: need 3*k (k >= 3) float64 values, got {values.size}"
            )
        v = values.reshape(-1, 3)
        for i, row in enumerate(v.tolist()):
            _unit_from_decoded(*row, what=f"ConvexPolygon vertex {i}")
        if not _is_ccw_convex(v):
            raise RegionDecodeError("ConvexPolygon encoding does not hold a counter-clockwise convex polygon")
        self = object.__new__(cls)
        self._v = np.ascontiguousarray(v)
        self._v.flags.writeable = False
        self._p = self._v.ravel()
        return self

    def __repr__(self) -> str:
        return f"ConvexPolygon({self.vertices!r})"


class Box(Region):
    """A longitude/latitude rectangle.

    Parameters
    ----------
    lon_min, lon_max : `Angle`
        Longitude range, going east from ``lon_min`` to ``lon_max``; both are wrapped
        into ``[0, 2*pi)``, so ``lon_min > lon_max`` wraps through longitude 0. A range
        of 2*pi or more is the full circle.
    lat_min, lat_max : `Angle`
        Latitude range within ``[-pi/2, pi/2]``, ``lat_min <= lat_max``.

    Notes
    -----
    A pole inside the latitude range belongs to the box whatever its longitudes.
    """

    __slots__ = ("_p",)
    _KIND = 2
    _TYPE_BYTE = b"b"

    def __init__(self, lon_min: Angle, lon_max: Angle, lat_min: Angle, lat_max: Angle):
        for name, a in (("lon_min", lon_min), ("lon_max", lon_max), ("lat_min", lat_min), ("lat_max", lat_max)):
            if not isinstance(a, Angle):
                raise TypeError(f"Box {name} must be an Angle, got {type(a).__name__}")
        la, lb = lat_min.as_radians(), lat_max.as_radians()
        if not (-_HALF_PI <= la <= lb <= _HALF_PI):
            raise GeomValueError(f"Box needs -pi/2 <= lat_min <= lat_max <= pi/2, got [{la!r}, {lb!r}] rad")
        a, b = lon_min.as_radians(), lon_max.as_radians()
        if b - a >= _TWO_PI:
            a, b = 0.0, _TWO_PI
        else:
            a, b = lon_min.wrap().as_radians(), lon_max.wrap().as_radians()
        self._p = np.array([a, b, la, lb])
        self._p.flags.writeable = False

    @classmethod
    def full(cls) -> Box:
        """Return the box covering the whole sphere."""
        return cls(Angle(0.0), Angle(_TWO_PI), Angle(-_HALF_PI), Angle(_HALF_PI))

    @classmethod
    def from_degrees(cls, lon_min: float, lon_max: float, lat_min: float, lat_max: float) -> Box:
        """Build a box from four numbers in degrees."""
        from .angle import degrees

        return cls(*(Angle(v, degrees) for v in (lon_min, lon_max, lat_min, lat_max)))

    @property
    def lon_min(self) -> Angle:
        """Western edge, in ``[0, 2*pi)``."""
        return Angle(self._p[0])

    @property
    def lon_max(self) -> Angle:
        """Eastern edge, in ``[0, 2*pi)`` (``2*pi`` for a full-longitude box)."""
        return Angle(self._p[1])

    @property
    def lat_min(self) -> Angle:
        """Southern edge."""
        return Angle(self._p[2])

    @property
    def lat_max(self) -> Angle:
        """Northern edge."""
        return Angle(self._p[3])

    def wraps(self) -> bool:
        """Return True when the longitude range passes through longitude 0."""
        return bool(self._p[0] > self._p[1])

    def is_full(self) -> bool:
        """Return True when the box covers the whole sphere."""
        return bool(self._p[1] - self._p[0] >= _TWO_PI and self._p[2] <= -_HALF_PI and self._p[3] >= _HALF_PI)

    def _params(self) -> NDArray[np.float64]:
        return self._p

    @classmethod
    def _from_params(cls, values: NDArray[np.float64]) -> Box:
        if values.size != 4:
            raise RegionDecodeError(f"truncated Box encoding: expected 4 float64 values, got {values.size}")
        a, b, la, lb = values.tolist()
        full = a == 0.0 and b == _TWO_PI
        if not (full or (0.0 <= a < _TWO_PI and 0.0 <= b < _TWO_PI)):
            raise RegionDecodeError(f"Box longitudes ({a!r}, {b!r}) are outside [0, 2*pi)")
        if not (-_HALF_PI <= la <= lb <= _HALF_PI):
            raise RegionDecodeError(f"Box latitudes [{la!r}, {lb!r}] are invalid")
        return cls(Angle(a), Angle(b), Angle(la), Angle(lb))

    def __repr__(self) -> str:
        a, b, la, lb = self._p.tolist()
        return f"Box(Angle({a!r}), Angle({b!r}), Angle({la!r}), Angle({lb!r}))"


_DECODERS: dict[bytes, type[Region]] = {b"c": Circle, b"p": ConvexPolygon, b"b": Box}
