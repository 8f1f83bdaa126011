"""Points and directions on the unit sphere, and vectorised spherical trigonometry.

Scalar types: `UnitVector3d` (a direction) and `SpherePoint` (a longitude/latitude pair
held as `Angle` values). Vectorised free functions take numpy arrays of longitudes and
latitudes in radians, broadcast them, and run one GIL-free compiled loop.

Non-finite values: scalar constructors raise `GeomValueError`; the vectorised functions
propagate NaN (a NaN input gives NaN outputs at that position).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _geom
from .angle import Angle, AngleUnit, radians
from .errors import GeomValueError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SpherePoint",
    "UnitVector3d",
    "bearing",
    "lonlat_to_vector",
    "offset",
    "rotate",
    "separation",
    "vector_to_lonlat",
]


def _flat_f64(*arrays: ArrayLike) -> tuple[tuple[int, ...], list[NDArray[np.float64]]]:
    """Broadcast to a common shape; return it and C-contiguous flat float64 copies."""
    arrs = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    shape = arrs[0].shape
    return shape, [np.ascontiguousarray(a.ravel()) for a in arrs]


class UnitVector3d:
    """An immutable direction in 3-d space: a unit-length Cartesian vector.

    Parameters
    ----------
    x, y, z : `float`
        Components of a non-zero finite vector; it is normalized.
    """

    __slots__ = ("_x", "_y", "_z")

    def __init__(self, x: float, y: float, z: float):
        x, y, z = float(x), float(y), float(z)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
            raise GeomValueError(f"UnitVector3d components must be finite, got ({x!r}, {y!r}, {z!r})")
        n = math.sqrt(x * x + y * y + z * z)
        if n == 0.0:
            raise GeomValueError("UnitVector3d cannot be built from the zero vector")
        if n != 1.0:
            x, y, z = x / n, y / n, z / n
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_y", y)
        object.__setattr__(self, "_z", z)

    @classmethod
    def _from_normalized(cls, x: float, y: float, z: float) -> UnitVector3d:
        self = object.__new__(cls)
        object.__setattr__(self, "_x", float(x))
        object.__setattr__(self, "_y", float(y))
        object.__setattr__(self, "_z", float(z))
        return self

    @classmethod
    def from_lonlat(cls, lon: Angle, lat: Angle) -> UnitVector3d:
        """Return the direction of longitude ``lon`` and latitude ``lat``."""
        return SpherePoint(lon, lat).get_vector()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("UnitVector3d is immutable")

    @property
    def x(self) -> float:
        """Component towards (lon, lat) = (0, 0)."""
        return self._x

    @property
    def y(self) -> float:
        """Component towards (lon, lat) = (90 deg, 0)."""
        return self._y

    @property
    def z(self) -> float:
        """Component towards the north pole."""
        return self._z

    def as_array(self) -> NDArray[np.float64]:
        """Return ``[x, y, z]`` as a new float64 array."""
        return np.array([self._x, self._y, self._z])

    def dot(self, other: UnitVector3d) -> float:
        """Return the dot product (the cosine of the angle between the directions)."""
        return self._x * other._x + self._y * other._y + self._z * other._z

    def __neg__(self) -> UnitVector3d:
        return UnitVector3d._from_normalized(-self._x, -self._y, -self._z)

    def __iter__(self):
        return iter((self._x, self._y, self._z))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnitVector3d):
            return NotImplemented
        return (self._x, self._y, self._z) == (other._x, other._y, other._z)

    def __hash__(self) -> int:
        return hash(("UnitVector3d", self._x, self._y, self._z))

    def __repr__(self) -> str:
        return f"UnitVector3d({self._x!r}, {self._y!r}, {self._z!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnitVector3d._from_normalized, (self._x, self._y, self._z))


def _check_lat(lat_rad: float) -> None:
    if not math.isfinite(lat_rad) or abs(lat_rad) > math.pi / 2:
        raise GeomValueError(f"latitude must be finite and within [-90, 90] degrees, got {lat_rad!r} rad")


class SpherePoint:
    """An immutable point on the unit sphere, given by longitude and latitude.

    Parameters
    ----------
    *args
        Either ``(lon, lat)`` as `Angle` objects, ``(lon, lat, unit)`` with floats and an
        `AngleUnit`, or a single `UnitVector3d`.

    Notes
    -----
    The longitude is stored wrapped into ``[0, 2*pi)``; the latitude must lie within
    ``[-pi/2, pi/2]``. Non-finite inputs raise `GeomValueError`.

    Examples
    --------
    >>> from osprey.geom.angle import degrees
    >>> p = SpherePoint(10.0, -5.0, degrees)
    >>> round(p.separation(SpherePoint(10.0, 5.0, degrees)).as_degrees(), 12)
    10.0
    """

    __slots__ = ("_lon", "_lat")

    def __init__(self, *args: Any):
        if len(args) == 1 and isinstance(args[0], UnitVector3d):
            v = args[0]
            lon, lat = _geom.xyz_to_lonlat(np.array([[v.x, v.y, v.z]]))
            lon_rad, lat_rad = float(lon[0]), float(lat[0])
        elif len(args) == 2 and all(isinstance(a, Angle) for a in args):
            lon_rad, lat_rad = args[0].as_radians(), args[1].as_radians()
        elif len(args) == 3 and isinstance(args[2], AngleUnit):
            lon_rad = Angle(args[0], args[2]).as_radians()
            lat_rad = Angle(args[1], args[2]).as_radians()
        else:
            raise TypeError("SpherePoint takes (lon: Angle, lat: Angle), (lon, lat, unit: AngleUnit) or (UnitVector3d)")
        _check_lat(lat_rad)
        object.__setattr__(self, "_lon", Angle(lon_rad).wrap())
        object.__setattr__(self, "_lat", Angle(lat_rad))

    @classmethod
    def _from_radians(cls, lon: float, lat: float) -> SpherePoint:
        return cls(float(lon), float(lat), radians)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SpherePoint is immutable")

    @property
    def longitude(self) -> Angle:
        """Longitude in ``[0, 2*pi)``."""
        return self._lon

    @property
    def latitude(self) -> Angle:
        """Latitude in ``[-pi/2, pi/2]``."""
        return self._lat

    def _rad(self) -> tuple[float, float]:
        return self._lon.as_radians(), self._lat.as_radians()

    def get_vector(self) -> UnitVector3d:
        """Return the unit vector pointing at this point."""
        lon, lat = self._rad()
        xyz = _geom.lonlat_to_xyz(np.array([lon]), np.array([lat]))[0]
        return UnitVector3d._from_normalized(*xyz)

    def separation(self, other: SpherePoint) -> Angle:
        """Return the great-circle distance to ``other`` (accurate at all separations)."""
        return Angle(float(separation(*self._rad(), *other._rad())))

    def bearing_to(self, other: SpherePoint) -> Angle:
        """Return the position angle of ``other`` seen from here, east of north, in ``[0, 2*pi)``."""
        return Angle(float(bearing(*self._rad(), *other._rad())))

    def offset(self, bearing: Angle, amount: Angle) -> SpherePoint:
        """Return the point reached by moving ``amount`` along the great circle leaving at ``bearing``."""
        lon, lat = offset(*self._rad(), bearing.as_radians(), amount.as_radians())
        return SpherePoint._from_radians(float(lon), float(lat))

    def rotated(self, axis: UnitVector3d | SpherePoint, angle: Angle) -> SpherePoint:
        """Return this point rotated by ``angle`` (right-handed) about ``axis``."""
        lon, lat = rotate(*self._rad(), axis, angle.as_radians())
        return SpherePoint._from_radians(float(lon), float(lat))

    def to_skycoord(self) -> Any:
        """Return an ICRS `astropy.coordinates.SkyCoord` at this position."""
        from astropy import units as u
        from astropy.coordinates import SkyCoord

        lon, lat = self._rad()
        return SkyCoord(lon * u.rad, lat * u.rad, frame="icrs")

    @classmethod
    def from_skycoord(cls, coord: Any) -> SpherePoint:
        """Build from a scalar `~astropy.coordinates.SkyCoord`, transformed to ICRS first."""
        from astropy import units as u

        if not coord.isscalar:
            raise GeomValueError(f"from_skycoord needs a scalar SkyCoord, got shape {coord.shape}")
        icrs = coord.icrs
        return cls._from_radians(float(icrs.ra.to_value(u.rad)), float(icrs.dec.to_value(u.rad)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpherePoint):
            return NotImplemented
        return self._lon == other._lon and self._lat == other._lat

    def __hash__(self) -> int:
        return hash(("SpherePoint", self._lon, self._lat))

    def __repr__(self) -> str:
        return f"SpherePoint({self._lon!r}, {self._lat!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SpherePoint, (self._lon, self._lat))


# --- vectorised functions -------------------------------------------------------------
def separation(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Return great-circle distances in radians, ``atan2(|a x b|, a . b)`` (accurate everywhere).

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        Coordinates in radians, broadcast against each other.

    Returns
    -------
    sep : `numpy.ndarray`
        Distances in ``[0, pi]`` radians with the broadcast shape; NaN where an input is NaN.
    """
    shape, (a, b, c, d) = _flat_f64(lon1, lat1, lon2, lat2)
    return _geom.separation(a, b, c, d).reshape(shape)


def bearing(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Return the position angle (east of north, radians in ``[0, 2*pi)``) of point 2 seen from point 1.

    Matches astropy's ``SkyCoord.position_angle``. Zero when the points coincide or
    point 1 is a pole.
    """
    shape, (a, b, c, d) = _flat_f64(lon1, lat1, lon2, lat2)
    return _geom.bearing(a, b, c, d).reshape(shape)


def offset(
    lon: ArrayLike, lat: ArrayLike, bearing: ArrayLike, distance: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move along great circles: from (lon, lat) towards ``bearing`` by ``distance`` (all radians).

    Matches astropy's ``SkyCoord.directional_offset_by``. Returns ``(lon, lat)`` with
    longitudes in ``[0, 2*pi)``.
    """
    shape, (a, b, c, d) = _flat_f64(lon, lat, bearing, distance)
    lo, la = _geom.offset(a, b, c, d)
    return lo.reshape(shape), la.reshape(shape)


def rotate(
    lon: ArrayLike, lat: ArrayLike, axis: UnitVector3d | SpherePoint | ArrayLike, angle: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rotate points (radians) by ``angle`` radians, right-handed, about ``axis``.

    ``axis`` is a `UnitVector3d`, a `SpherePoint` or any non-zero 3-vector (normalized
    here). Returns ``(lon, lat)`` with longitudes in ``[0, 2*pi)``.
    """
    if isinstance(axis, SpherePoint):
        axis = axis.get_vector()
    ax = np.asarray(list(axis) if isinstance(axis, UnitVector3d) else axis, dtype=np.float64)
    if ax.shape != (3,):
        raise GeomValueError(f"rotation axis must be a 3-vector, got shape {ax.shape}")
    norm = float(np.sqrt(ax @ ax))
    if not (math.isfinite(norm) and norm > 0.0):
        raise GeomValueError(f"rotation axis must be finite and non-zero, got {ax.tolist()}")
    if not math.isfinite(float(angle)):
        raise GeomValueError(f"rotation angle must be finite, got {angle!r}")
    ax = ax / norm
    shape, (a, b) = _flat_f64(lon, lat)
    lo, la = _geom.rotate(a, b, float(ax[0]), float(ax[1]), float(ax[2]), float(angle))
    return lo.reshape(shape), la.reshape(shape)


def lonlat_to_vector(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Return unit vectors, shape ``(..., 3)``, for longitudes and latitudes in radians."""
    shape, (a, b) = _flat_f64(lon, lat)
    return _geom.lonlat_to_xyz(a, b).reshape((*shape, 3))


def vector_to_lonlat(xyz: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(lon, lat)`` in radians for vectors of shape ``(..., 3)`` (any non-zero length).

    Longitudes are in ``[0, 2*pi)``; 0 at the poles.
    """
    arr = np.asarray(xyz, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise GeomValueError(f"xyz must have shape (..., 3), got {arr.shape}")
    shape = arr.shape[:-1]
    lo, la = _geom.xyz_to_lonlat(np.ascontiguousarray(arr.reshape(-1, 3)))
    return lo.reshape(shape), la.reshape(shape)
