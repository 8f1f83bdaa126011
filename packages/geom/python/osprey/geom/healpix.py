"""HEALPix pixelization (Górski et al. 2005) in the NEST or RING scheme, orders 0..29.

Indexing (`HealpixPixelization.index`), pixel centres and corners and NEST/RING conversion
are compiled kernels (``include/osprey/geom/healpix.h``) that give the same indices as
``healpy.ang2pix(nside, pi/2 - lat, lon)`` bit for bit, including points on pixel edges.
Region queries (`~HealpixPixelization.envelope`) use healpy's inclusive queries;
`~HealpixPixelization.interior` is computed here with a provably conservative test.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import healpy
import numpy as np

from . import _geom
from .angle import Angle
from .errors import GeomValueError
from .pixelization import Pixelization
from .rangeset import RangeSet
from .regions import Box, Circle, ConvexPolygon, Region
from .sphere import SpherePoint

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["HealpixPixelization", "healpix_nest_to_ring", "healpix_ring_to_nest"]

MAX_ORDER = 29
_HALF_PI = 0.5 * math.pi
_TWO_PI = 2.0 * math.pi
# Fractional positions inside a pixel of its 4 corners (N, W, S, E: counter-clockwise seen
# from outside the sphere) and of its 4 edge midpoints; see healpix.h face_point_to_ang.
_CORNERS = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
_EDGE_MIDPOINTS = np.array([[0.5, 1.0], [0.0, 0.5], [0.5, 0.0], [1.0, 0.5]])
# Safety factor on the sampled centre-to-boundary distance when bounding a pixel by a cap:
# HEALPix pixel edges bend by far less than 2% of the pixel radius between these samples.
_PIXEL_RADIUS_SAFETY = 1.02
_MARGIN = 1e-12  # rad, absorbs rounding in region tests


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise GeomValueError(f"HEALPix order must be an integer in [0, {MAX_ORDER}], got {order!r}")
    if not 0 <= int(order) <= MAX_ORDER:
        raise GeomValueError(f"HEALPix order must be in [0, {MAX_ORDER}] (nside = 2**order), got {order}")
    return int(order)


def _pixels_array(pix: ArrayLike, npix: int) -> NDArray[np.int64]:
    arr = np.asarray(pix)
    if arr.dtype.kind not in "iu" and arr.size:
        raise GeomValueError(f"pixel indices must be integers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= npix):
        raise GeomValueError(f"pixel indices must be in [0, {npix}), got values in [{arr.min()}, {arr.max()}]")
    return arr


def healpix_nest_to_ring(order: int, pix: ArrayLike) -> NDArray[np.int64]:
    """Convert NEST pixel indices at ``order`` to RING indices (same shape, int64)."""
    order = _check_order(order)
    arr = _pixels_array(pix, 12 * 4**order)
    return _geom.healpix_nest2ring(order, arr.ravel()).reshape(arr.shape)


def healpix_ring_to_nest(order: int, pix: ArrayLike) -> NDArray[np.int64]:
    """Convert RING pixel indices at ``order`` to NEST indices (same shape, int64)."""
    order = _check_order(order)
    arr = _pixels_array(pix, 12 * 4**order)
    return _geom.healpix_ring2nest(order, arr.ravel()).reshape(arr.shape)


def _ranges_from_pixels(pixels: NDArray[np.integer]) -> RangeSet:
    """RangeSet of a set of pixel indices (any order, duplicates allowed)."""
    return RangeSet.from_integers(_sorted_unique(pixels))


def _sorted_unique(values: NDArray[np.integer]) -> NDArray[np.int64]:
    """Sorted distinct values (sort-based: numpy's hash-based unique is slow on pixel lists)."""
    s = np.sort(np.asarray(values, dtype=np.int64).ravel())
    if s.size == 0:
        return s
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


def _range_array(ranges: RangeSet) -> NDArray[np.int64]:
    return ranges.ranges().astype(np.int64).reshape(-1, 2)


def _limit_ranges(ranges: RangeSet, max_ranges: int, grow: bool) -> RangeSet:
    """At most ``max_ranges`` ranges: fill the smallest gaps (grow) or keep the largest ranges."""
    arr = _range_array(ranges)
    if max_ranges <= 0 or len(arr) <= max_ranges:
        return ranges
    if grow:
        gaps = arr[1:, 0] - arr[:-1, 1]
        keep = np.sort(np.argsort(gaps, kind="stable")[len(gaps) - (max_ranges - 1) :]) if max_ranges > 1 else []
        begins = np.concatenate([arr[:1, 0], arr[np.asarray(keep, dtype=np.int64) + 1, 0]])
        ends = np.concatenate([arr[np.asarray(keep, dtype=np.int64), 1], arr[-1:, 1]])
        return RangeSet(np.column_stack([begins, ends]))
    sizes = arr[:, 1] - arr[:, 0]
    keep = np.sort(np.argsort(-sizes, kind="stable")[:max_ranges])
    return RangeSet(arr[keep])


def _separation(lon1, lat1, lon2, lat2):
    """Great-circle distance (radians), Vincenty form: accurate at all separations."""
    dlon = lon2 - lon1
    c1, s1, c2, s2 = np.cos(lat1), np.sin(lat1), np.cos(lat2), np.sin(lat2)
    num = np.hypot(c2 * np.sin(dlon), c1 * s2 - s1 * c2 * np.cos(dlon))
    return np.arctan2(num, s1 * s2 + c1 * c2 * np.cos(dlon))


def _quadrilateral(lon_a: float, lon_b: float, lat_lo: float, lat_hi: float) -> NDArray[np.float64]:
    """Unit vectors of the counter-clockwise polygon (a, lo), (b, lo), (b, hi), (a, hi).

    Corners at a pole collapse into one vertex (the polygon becomes a triangle).
    """
    pts = [(lon_a, lat_lo), (lon_b, lat_lo)] if lat_lo > -_HALF_PI else [(0.0, -_HALF_PI)]
    pts += [(lon_b, lat_hi), (lon_a, lat_hi)] if lat_hi < _HALF_PI else [(0.0, _HALF_PI)]
    lon, lat = np.array(pts).T
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


class HealpixPixelization(Pixelization):
    """HEALPix at one order (``nside = 2**order``, ``12 * nside**2`` pixels).

    Parameters
    ----------
    order : `int`
        Resolution order in ``[0, 29]``; also the `level`.
    scheme : `str`, optional
        ``"nest"`` (default; nested ranges compress well) or ``"ring"``.

    Raises
    ------
    GeomValueError
        For an order outside ``[0, 29]`` or an unknown scheme.
    """

    def __init__(self, order: int, scheme: str = "nest") -> None:
        self._order = _check_order(order)
        s = str(scheme).lower()
        if s not in ("nest", "ring"):
            raise GeomValueError(f"HEALPix scheme must be 'nest' or 'ring', got {scheme!r}")
        self._nest = s == "nest"

    # -- description -----------------------------------------------------------------------
    @property
    def level(self) -> int:
        """The HEALPix order (``nside = 2**level``)."""
        return self._order

    @property
    def order(self) -> int:
        """The HEALPix order."""
        return self._order

    @property
    def nside(self) -> int:
        """``2**order``."""
        return 1 << self._order

    @property
    def npix(self) -> int:
        """Number of pixels, ``12 * nside**2``."""
        return 12 * 4**self._order

    @property
    def scheme(self) -> str:
        """``"nest"`` or ``"ring"``."""
        return "nest" if self._nest else "ring"

    @property
    def nest(self) -> bool:
        """True for the NEST scheme."""
        return self._nest

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HealpixPixelization):
            return NotImplemented
        return (self._order, self._nest) == (other._order, other._nest)

    def __hash__(self) -> int:
        return hash(("HealpixPixelization", self._order, self._nest))

    def __repr__(self) -> str:
        return f"HealpixPixelization({self._order}, scheme={self.scheme!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return HealpixPixelization, (self._order, self.scheme)

    # -- indexing --------------------------------------------------------------------------
    def index(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """Pixel index of each position (one compiled GIL-free pass).

        Parameters
        ----------
        lon, lat : array_like
            Longitude (any finite value) and latitude (in ``[-pi/2, pi/2]``) in radians,
            broadcast against each other.

        Returns
        -------
        index : `numpy.ndarray` of int64
            Same as ``healpy.ang2pix(nside, pi/2 - lat, lon, nest=...)``.

        Raises
        ------
        GeomValueError
            If a coordinate is not finite or a latitude is outside ``[-pi/2, pi/2]``.
        """
        lo, la = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        shape = lo.shape
        lo, la = np.ascontiguousarray(lo.ravel()), np.ascontiguousarray(la.ravel())
        try:
            out = _geom.healpix_ang2pix(self._order, self._nest, lo, la)
        except ValueError:
            bad = ~(np.isfinite(lo) & (np.abs(la) <= _HALF_PI))
            i = int(np.flatnonzero(bad)[0])
            raise GeomValueError(
                f"{int(bad.sum())} position(s) are invalid (first at flat index {i}: lon={lo[i]!r}, "
                f"lat={la[i]!r}); lon must be finite and lat finite within [-pi/2, pi/2] radians"
            ) from None
        return out.reshape(shape)

    def index_vector(self, xyz: ArrayLike) -> NDArray[np.int64]:
        """Pixel index of directions given as an ``(..., 3)`` array (need not be unit length)."""
        v = np.asarray(xyz, dtype=np.float64)
        if v.ndim == 0 or v.shape[-1] != 3:
            raise GeomValueError(f"xyz must have shape (..., 3), got {v.shape}")
        flat = v.reshape(-1, 3)
        try:
            out = _geom.healpix_vec2pix(self._order, self._nest, *(np.ascontiguousarray(flat[:, k]) for k in range(3)))
        except ValueError:
            raise GeomValueError("direction vectors must be finite and non-zero") from None
        return out.reshape(v.shape[:-1])

    def pixel_center(self, pix: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Longitude in ``[0, 2 pi)`` and latitude (radians) of pixel centres (same shape as ``pix``)."""
        return self.pixel_points(pix, 0.5, 0.5)

    def pixel_points(
        self, pix: ArrayLike, fx: ArrayLike, fy: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Positions at fractional coordinates ``(fx, fy)`` in ``[0, 1]^2`` inside pixels.

        ``(fx, fy)`` are the pixel's own HEALPix face coordinates, so uniform ``fx, fy``
        sample the pixel's whole area (with equal-area weighting to first order);
        ``(0.5, 0.5)`` is the centre, ``(1, 1)``, ``(0, 1)``, ``(0, 0)``, ``(1, 0)`` are
        the north, west, south and east corners.  Arrays are broadcast together.
        """
        p, a, b = np.broadcast_arrays(
            np.asarray(pix), np.asarray(fx, dtype=np.float64), np.asarray(fy, dtype=np.float64)
        )
        shape = p.shape
        pf = _pixels_array(p.ravel(), self.npix)
        af, bf = np.ascontiguousarray(a.ravel()), np.ascontiguousarray(b.ravel())
        if not (np.all((af >= 0) & (af <= 1)) and np.all((bf >= 0) & (bf <= 1))):
            raise GeomValueError("fractional pixel coordinates fx, fy must lie in [0, 1]")
        lon, lat = _geom.healpix_pix2ang(self._order, self._nest, pf, af, bf)
        return lon.reshape(shape), lat.reshape(shape)

    def pixel_corners(self, pix: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Corners (N, W, S, E; counter-clockwise from outside) as ``(n, 4)`` lon, lat arrays."""
        p = np.atleast_1d(np.asarray(pix)).ravel()
        return self.pixel_points(p[:, None], _CORNERS[:, 0], _CORNERS[:, 1])

    def to_nest(self, pix: ArrayLike) -> NDArray[np.int64]:
        """These pixel indices in the NEST scheme."""
        return np.asarray(pix, dtype=np.int64) if self._nest else healpix_ring_to_nest(self._order, pix)

    def to_ring(self, pix: ArrayLike) -> NDArray[np.int64]:
        """These pixel indices in the RING scheme."""
        return healpix_nest_to_ring(self._order, pix) if self._nest else np.asarray(pix, dtype=np.int64)

    # -- sets of pixels --------------------------------------------------------------------
    def universe(self) -> RangeSet:
        """Every pixel: ``[0, 12 * nside**2)``."""
        return RangeSet(0, self.npix)

    def pixel(self, i: int) -> ConvexPolygon:
        """Approximate boundary of pixel ``i``: the great-circle quadrilateral of its corners.

        HEALPix pixel edges are not great circles, so the true pixel differs from this
        polygon by a thin sliver along each edge (use `envelope`/`interior`, which do not
        rely on it, for exact set operations).  Corners are ordered N, W, S, E.
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < self.npix:
            raise GeomValueError(f"pixel index must be an integer in [0, {self.npix}), got {i!r}")
        lon, lat = self.pixel_corners([int(i)])
        return ConvexPolygon(
            [SpherePoint(Angle(float(a)), Angle(float(b))) for a, b in zip(lon[0], lat[0], strict=True)]
        )

    def envelope(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Pixels that may intersect ``region``: every pixel holding a point of it is included.

        Circles and convex polygons use healpy's ``query_disc``/``query_polygon`` with
        ``inclusive=True`` (all overlapping pixels, maybe a few more) on a region grown by
        1e-12 rad; a `Box` is covered by the intersection of an inclusive latitude strip
        with inclusive polygons enclosing its longitude wedge; any other region by the
        envelope of its bounding circle.  ``max_ranges > 0`` fills the smallest gaps until
        at most that many ranges remain (the result only grows).
        """
        pixels = self._envelope_pixels(region)
        return _limit_ranges(_ranges_from_pixels(pixels), int(max_ranges), grow=True)

    def _query_fact(self) -> int:
        # Inclusive queries test overlap at nside * fact; fact must keep nside * fact <= 2**29.
        return max(1, min(4, 1 << (MAX_ORDER - self._order)))

    def _query_disc(self, vec: NDArray[np.float64], radius: float) -> NDArray[np.int64]:
        if radius + _MARGIN >= math.pi:
            return np.arange(self.npix, dtype=np.int64)
        return healpy.query_disc(
            self.nside, vec, radius + _MARGIN, inclusive=True, fact=self._query_fact(), nest=self._nest
        )

    def _query_polygon(self, vertices: NDArray[np.float64]) -> NDArray[np.int64]:
        return healpy.query_polygon(self.nside, vertices, inclusive=True, fact=self._query_fact(), nest=self._nest)

    def _envelope_pixels(self, region: Region) -> NDArray[np.int64]:
        if isinstance(region, Circle):
            c = region.center_vector
            return self._query_disc(np.array([c.x, c.y, c.z]), region.radius.as_radians())
        if isinstance(region, ConvexPolygon):
            v = region.vertex_array
            # Grow the polygon by _MARGIN: push each vertex away from the centroid.
            centre = v.sum(axis=0)
            centre /= np.linalg.norm(centre)
            grown = v + _MARGIN * 10 * (v - centre)
            grown /= np.linalg.norm(grown, axis=1, keepdims=True)
            return self._query_polygon(grown)
        if isinstance(region, Box):
            return self._box_envelope_pixels(region)
        bc = region.get_bounding_circle()
        c = bc.center_vector
        return self._query_disc(np.array([c.x, c.y, c.z]), bc.radius.as_radians())

    def _box_envelope_pixels(self, box: Box) -> NDArray[np.int64]:
        lon0 = box.lon_min.as_radians()
        width = box.lon_max.as_radians() - lon0
        if box.wraps():
            width += _TWO_PI
        lat0, lat1 = box.lat_min.as_radians(), box.lat_max.as_radians()
        # Inclusive strip over the latitude range (theta is the colatitude).
        t0 = max(0.0, _HALF_PI - lat1 - _MARGIN)
        t1 = min(math.pi, _HALF_PI - lat0 + _MARGIN)
        if t1 - t0 >= math.pi:
            strip = np.arange(self.npix, dtype=np.int64)
        else:
            strip = healpy.query_strip(self.nside, t0, t1, inclusive=True, nest=self._nest)
        if width >= _TWO_PI:
            return strip
        # Longitude wedge: split it into pieces at most pi/2 wide, and each piece into its
        # northern and southern halves.  A northern half-piece lies inside the quadrilateral
        # with corners at the piece's edge longitudes, at latitude -pad and at lat_max + pad:
        # its sides are meridians, the lower edge is the equator's neighbour arc (bulging
        # south) and a great-circle arc between two points of equal northern latitude bulges
        # poleward, so the quadrilateral covers the whole half-piece.  Mirror for the south.
        pad = 10 * _MARGIN
        n_pieces = max(1, math.ceil(width / (0.5 * math.pi)))
        edges = lon0 + np.linspace(0.0, width, n_pieces + 1)
        wedge: list[NDArray[np.int64]] = []
        for a, b in zip(edges[:-1] - pad, edges[1:] + pad, strict=True):
            if lat1 >= 0.0:
                wedge.append(self._query_polygon(_quadrilateral(a, b, -pad, min(lat1 + pad, _HALF_PI))))
            if lat0 <= 0.0:
                wedge.append(self._query_polygon(_quadrilateral(a, b, max(lat0 - pad, -_HALF_PI), pad)))
        strip, wedge_pix = _sorted_unique(strip), _sorted_unique(np.concatenate(wedge))
        pos = np.minimum(np.searchsorted(wedge_pix, strip), max(wedge_pix.size - 1, 0))
        return strip[wedge_pix[pos] == strip] if wedge_pix.size else wedge_pix

    def interior(self, region: Region, max_ranges: int = 0) -> RangeSet:
        """Pixels lying entirely inside ``region`` (a guaranteed subset).

        Method: each candidate pixel from `envelope` is enclosed in a cap around its centre
        whose radius is 1.02 times the largest distance from the centre to the pixel's four
        corners and four edge midpoints; the pixel is kept only if that whole cap lies in the
        region.  Caps are tested exactly for `Circle` (distance of centres + cap radius),
        `ConvexPolygon` (the cap is inside every edge's hemisphere) and `Box` (latitude and
        longitude extent of the cap); other regions use their conservative ``relate``.
        Pixels touching the region's boundary are therefore never returned.
        ``max_ranges > 0`` keeps only the largest ranges (the result only shrinks).
        """
        candidates = _sorted_unique(self._envelope_pixels(region))
        if candidates.size == 0:
            return _ranges_from_pixels(candidates)
        clon, clat = self.pixel_center(candidates)
        r = self._pixel_radii(candidates, clon, clat)
        inside = self._caps_inside(region, clon, clat, r)
        return _limit_ranges(_ranges_from_pixels(candidates[inside]), int(max_ranges), grow=False)

    def _pixel_radii(
        self, pix: NDArray[np.int64], clon: NDArray[np.float64], clat: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        samples = np.vstack([_CORNERS, _EDGE_MIDPOINTS])
        lon, lat = self.pixel_points(pix[:, None], samples[:, 0], samples[:, 1])
        d = _separation(clon[:, None], clat[:, None], lon, lat)
        return _PIXEL_RADIUS_SAFETY * d.max(axis=1) + _MARGIN

    @staticmethod
    def _caps_inside(
        region: Region, lon: NDArray[np.float64], lat: NDArray[np.float64], r: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        if isinstance(region, Circle):
            c = region.center
            d = _separation(lon, lat, c.longitude.as_radians(), c.latitude.as_radians())
            return d + r <= region.radius.as_radians() - _MARGIN
        if isinstance(region, ConvexPolygon):
            v = region.vertex_array
            normals = np.cross(v, np.roll(v, -1, axis=0))
            normals /= np.linalg.norm(normals, axis=1, keepdims=True)
            xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
            # Inward normals (counter-clockwise vertices): the cap is inside edge k's
            # hemisphere iff the centre is at least r away from the great circle.
            return np.all(xyz @ normals.T >= np.sin(r)[:, None] + _MARGIN, axis=1) & (r < _HALF_PI)
        if isinstance(region, Box):
            lat0, lat1 = region.lat_min.as_radians(), region.lat_max.as_radians()
            lon0 = region.lon_min.as_radians()
            width = region.lon_max.as_radians() - lon0 + (_TWO_PI if region.wraps() else 0.0)
            ok_lat = ((lat - r >= lat0 + _MARGIN) | (lat0 <= -_HALF_PI)) & (
                (lat + r <= lat1 - _MARGIN) | (lat1 >= _HALF_PI)
            )
            if width >= _TWO_PI:
                return ok_lat
            # The cap spans longitudes lon +- asin(sin r / cos lat) when it avoids the poles.
            clear = np.abs(lat) + r < _HALF_PI - _MARGIN
            half = np.arcsin(np.minimum(1.0, np.sin(r) / np.maximum(np.cos(lat), 1e-300)))
            d = np.mod(lon - lon0, _TWO_PI)
            ok_lon = (d - half >= _MARGIN) & (d + half <= width - _MARGIN)
            return ok_lat & clear & ok_lon
        out = np.zeros(lon.shape, dtype=bool)
        for k in range(lon.size):
            cap = Circle(SpherePoint(Angle(float(lon[k])), Angle(float(lat[k]))), Angle(float(r[k])))
            out[k] = region.contains_region(cap)
        return out
