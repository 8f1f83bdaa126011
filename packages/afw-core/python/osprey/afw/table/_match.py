"""Sky matching of catalogs: nearest neighbour within a radius, and all pairs within a radius.

The search runs in one GIL-free C++ call (``osprey.afw._afw``): the second catalog is
bucketed into declination zones and sorted by right ascension, and each position of the
first catalog scans only the zones and RA window its search circle can reach, comparing
squared chord distances of unit vectors (``chord = 2 sin(theta / 2)``, monotonic in the
angle). Separations are then computed with `osprey.geom.separation` (``atan2`` form,
accurate at every angle) and the radius is applied to those.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from osprey.afw import _afw
from osprey.geom import Angle, separation

from ._catalog import SourceCatalog
from ._errors import TableError

__all__ = ["SkyMatch", "SkyMatchPairs", "match_sky", "match_sky_all"]

_TWO_PI = 2.0 * np.pi


class SkyMatch(NamedTuple):
    """Result of `match_sky`, one entry per row of the first catalog."""

    index: NDArray[np.int64]
    """Row in the second catalog of the nearest neighbour within the radius; -1 if none."""
    separation: NDArray[np.float64]
    """Distance to that neighbour in radians; NaN if none."""


class SkyMatchPairs(NamedTuple):
    """Result of `match_sky_all`: every pair within the radius, ordered by ``first`` then ``second``."""

    first: NDArray[np.int64]
    """Row in the first catalog."""
    second: NDArray[np.int64]
    """Row in the second catalog."""
    separation: NDArray[np.float64]
    """Distance between the two in radians."""


def _radius_radians(radius: Any) -> float:
    if isinstance(radius, Angle):
        r = radius.as_radians()
    elif hasattr(radius, "unit") and hasattr(radius, "to_value"):
        from astropy import units as u

        try:
            r = float(radius.to_value(u.rad))
        except (u.UnitConversionError, TypeError) as err:
            raise TableError(f"match radius {radius!r} is not an angle") from err
    else:
        raise TableError(
            f"match radius must be an osprey.geom.Angle or an astropy angle Quantity, got {radius!r}; "
            "e.g. 1 * osprey.geom.arcseconds"
        )
    if not (np.isfinite(r) and r >= 0):
        raise TableError(f"match radius must be finite and >= 0, got {r} rad")
    return r


def _coords(cat: Any, which: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if isinstance(cat, SourceCatalog):
        lon, lat = cat["coord_ra"], cat["coord_dec"]
    else:
        try:
            lon, lat = cat
        except (TypeError, ValueError) as err:
            raise TableError(f"{which} catalog must be a SourceCatalog or a (lon, lat) pair of arrays") from err
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    if lon.ndim != 1 or lon.shape != lat.shape:
        raise TableError(f"{which} catalog: lon and lat must be 1-D with one shape, got {lon.shape} and {lat.shape}")
    bad = np.abs(lat) > np.pi / 2
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TableError(f"{which} catalog: latitude {float(lat[i])!r} rad at row {i} is outside [-pi/2, pi/2]")
    return lon, lat


def _prepared(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[Any], ...]:
    """Finite rows only, longitudes reduced to [0, 2 pi), plus the original row numbers (or None)."""
    finite = np.isfinite(lon) & np.isfinite(lat)
    rows = None
    if not finite.all():
        rows = np.flatnonzero(finite)
        lon, lat = lon[rows], lat[rows]
    reduced = np.mod(lon, _TWO_PI)
    reduced[reduced >= _TWO_PI] = 0.0  # mod of a tiny negative number rounds to 2 pi
    return reduced, np.ascontiguousarray(lat), rows


def match_sky(first: Any, second: Any, radius: Any) -> SkyMatch:
    """For each position of ``first``, the nearest position of ``second`` within ``radius``.

    Parameters
    ----------
    first, second : `SourceCatalog` or tuple of array_like
        Catalogs (their ``coord_ra``/``coord_dec`` are used) or ``(lon, lat)`` arrays in radians.
        Rows with non-finite coordinates never match.
    radius : `osprey.geom.Angle` or `astropy.units.Quantity`
        Largest separation counted as a match (inclusive).

    Returns
    -------
    match : `SkyMatch`
        ``index`` (int64, -1 where nothing lies within ``radius``) and ``separation``
        (radians, NaN where no match), both the length of ``first``. Ties go to the lower
        row of ``second``. Several rows of ``first`` may match the same row of ``second``.

    Raises
    ------
    TableError
        For a radius that is not an angle, mismatched lon/lat arrays, or a latitude outside
        [-pi/2, pi/2].

    Examples
    --------
    >>> from osprey.geom import arcseconds
    >>> m = match_sky(([0.0, 1.0], [0.0, 0.5]), ([1.0 + 1e-6], [0.5]), 1 * arcseconds)
    >>> m.index.tolist()
    [-1, 0]
    """
    r = _radius_radians(radius)
    lon1, lat1 = _coords(first, "first")
    lon2, lat2 = _coords(second, "second")
    ra1, dec1, rows1 = _prepared(lon1, lat1)
    ra2, dec2, rows2 = _prepared(lon2, lat2)
    idx = np.empty(ra1.shape[0], dtype=np.int64)
    d2 = np.empty(ra1.shape[0], dtype=np.float64)
    _afw.table_match_nearest(ra1, dec1, ra2, dec2, r, idx, d2)
    if rows2 is not None:
        idx = np.where(idx >= 0, rows2[np.maximum(idx, 0)] if rows2.size else -1, -1)
    if rows1 is not None:
        full = np.full(lon1.shape[0], -1, dtype=np.int64)
        full[rows1] = idx
        idx = full
    sep = np.full(lon1.shape[0], np.nan)
    hit = np.flatnonzero(idx >= 0)
    sep[hit] = separation(lon1[hit], lat1[hit], lon2[idx[hit]], lat2[idx[hit]])
    too_far = sep > r  # rounding at the very edge of the radius: the chord test had slack
    idx[too_far] = -1
    sep[too_far] = np.nan
    return SkyMatch(idx, sep)


def match_sky_all(first: Any, second: Any, radius: Any) -> SkyMatchPairs:
    """Every pair (row of ``first``, row of ``second``) closer than ``radius`` (inclusive).

    Parameters are those of `match_sky`.

    Returns
    -------
    pairs : `SkyMatchPairs`
        ``first`` and ``second`` row indices (int64) and ``separation`` (radians), ordered
        by ``first`` then ``second``.
    """
    r = _radius_radians(radius)
    lon1, lat1 = _coords(first, "first")
    lon2, lat2 = _coords(second, "second")
    ra1, dec1, rows1 = _prepared(lon1, lat1)
    ra2, dec2, rows2 = _prepared(lon2, lat2)
    i1, i2 = _afw.table_match_all(ra1, dec1, ra2, dec2, r)
    if rows1 is not None:
        i1 = rows1[i1]
    if rows2 is not None:
        i2 = rows2[i2]
    sep = separation(lon1[i1], lat1[i1], lon2[i2], lat2[i2])
    keep = sep <= r
    if not keep.all():
        i1, i2, sep = i1[keep], i2[keep], sep[keep]
    return SkyMatchPairs(np.asarray(i1, dtype=np.int64), np.asarray(i2, dtype=np.int64), sep)
