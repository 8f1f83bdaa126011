"""Whole-sky tract/patch tessellation in the style of the LSST "rings" sky map.

Layout (``RingsSkyMap``), with ``ring_size = pi / (num_rings + 1)``:

* declination is cut into a south polar cap ``dec < -pi/2 + ring_size/2``, ``num_rings``
  rings of width ``ring_size`` and a north polar cap ``dec >= pi/2 - ring_size/2``;
* ring ``i`` (0 = southernmost) spans ``[-pi/2 + (i + 1/2) ring_size, -pi/2 + (i + 3/2) ring_size)``
  and is cut into ``n_i = ceil(2 pi cos(d) / ring_size)`` tracts of equal RA width, where
  ``d`` is the ring edge nearer the equator (0 if the ring straddles it), so tracts are
  about as wide as they are tall where the ring is widest; tract ``j`` is centred at
  ``ra_start + j * 2 pi / n_i``;
* tract ids count from the south cap (0) through the rings (RA order within a ring) to the
  north cap (last).

Each tract's *inner region* is exactly its cell of that grid (a lon/lat `Box`), so every
sky position belongs to exactly one tract (`RingsSkyMap.find_tract`).  The tract has its own
gnomonic (TAN) projection centred on the cell centre with north up and east left; its pixel
bbox (starting at 0, 0) covers the projected inner region grown by ``tract_overlap`` and is
then rounded up to a whole number of patches, so the patches' inner bboxes tile it exactly.
A patch's outer bbox is its inner bbox grown by ``patch_border`` pixels, clipped to the tract.
Pixel coordinates follow the Osprey convention: pixel centres at integers, 0-based.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .angle import Angle, arcminutes, arcseconds
from .cartesian import Box2D, Box2I, Extent2I, Point2I
from .errors import GeomValueError
from .regions import Box, Circle, ConvexPolygon, Region
from .sphere import SpherePoint, separation

__all__ = ["PatchInfo", "RingsSkyMap", "RingsSkyMapConfig", "TractInfo"]

_HALF_PI = 0.5 * math.pi
_TWO_PI = 2.0 * math.pi
_BOUNDARY_SAMPLES = 33  # points per inner-region edge when sizing a tract's bbox
# Fast region -> patch search (`RingsSkyMap.find_tract_patch_list`):
_FRONT_MIN_COS = math.cos(math.radians(80.0))  # vertices must lie within 80 deg of a tract centre
_CAP_POLYGON_VERTICES = 64  # sides of the polygons bracketing a circle
_MAX_FAST_CAP_RADIUS = math.radians(60.0)  # larger circles / bounding circles use the exact path
_ROTATE_CW = np.array([1.0, -1.0])  # (dy, dx) * this = the edge normal (dy, -dx)
_SAT_MARGIN_RAD = 1e-10  # slack of the plane overlap test (the exact relations use 1e-13 rad)


# ---- gnomonic (TAN) projection ------------------------------------------------------------


def _tangent_basis(lon0: float, lat0: float) -> NDArray[np.float64]:
    """Rows: the tangent point r0 and the unit vectors of the plane's +xi and +eta axes.

    These are east and north, except at the north pole itself (lat0 = +90 deg) where both
    are reversed: FITS defaults LONPOLE to 0 there (180 elsewhere), and following that
    default keeps every tract's WCS a plain FITS TAN header (see `TractInfo.wcs_parameters`).
    """
    sa, ca, sd, cd = math.sin(lon0), math.cos(lon0), math.sin(lat0), math.cos(lat0)
    basis = np.array([[cd * ca, cd * sa, sd], [-sa, ca, 0.0], [-sd * ca, -sd * sa, cd]])
    if lat0 >= _HALF_PI:
        basis[1:] *= -1.0
    return basis


def tan_sky_to_plane(
    lon0: float, lat0: float, lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gnomonic standard coordinates (xi east, eta north; radians) of positions about (lon0, lat0).

    The point ``p`` projects to ``(p . e_east, p . e_north) / (p . r0)``; positions at or
    beyond 90 degrees from the tangent point give NaN.
    """
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    cl = np.cos(lat)
    p = np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)
    r0, east, north = _tangent_basis(lon0, lat0)
    w = p @ r0
    w = np.where(w > 0.0, w, np.nan)
    return (p @ east) / w, (p @ north) / w


def tan_plane_to_sky(
    lon0: float, lat0: float, xi: ArrayLike, eta: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of `tan_sky_to_plane`: lon in ``[0, 2 pi)`` and lat, radians."""
    xi, eta = np.broadcast_arrays(np.asarray(xi, dtype=np.float64), np.asarray(eta, dtype=np.float64))
    r0, east, north = _tangent_basis(lon0, lat0)
    v = r0 + xi[..., None] * east + eta[..., None] * north
    lon = np.mod(np.arctan2(v[..., 1], v[..., 0]), _TWO_PI)
    lat = np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1]))
    return lon, lat


_set_attribute = object.__setattr__


def _box2i_unchecked(x0: int, y0: int, x_end: int, y_end: int) -> Box2I:
    """``Box2I.from_begin_end(x0, y0, x_end, y_end)`` without its argument checks.

    Only for non-empty boxes of Python ints inside a tract bbox (already validated when the
    tract was built): a query can return hundreds of patches, and the checks would then
    dominate its run time (the same holds for the unchecked `Point2I` of `TractInfo._patch_infos`).
    Equality with the checked constructors is covered by the tests.
    """
    box = object.__new__(Box2I)
    _set_attribute(box, "_x0", x0)
    _set_attribute(box, "_y0", y0)
    _set_attribute(box, "_x1", x_end)
    _set_attribute(box, "_y1", y_end)
    return box


# ---- configuration -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RingsSkyMapConfig:
    """Parameters of a `RingsSkyMap` (the defaults are LSST's standard rings sky map values).

    Attributes
    ----------
    num_rings : `int`
        Number of declination rings between the two polar caps (>= 1).
    tract_overlap : `Angle`
        Minimum extra sky each tract's bbox covers beyond its inner region, on every side.
    pixel_scale : `Angle`
        Size of a tract pixel (the TAN projection's scale at its tangent point).
    patch_inner_dimensions : `Extent2I`
        Size of each patch's inner bbox, in pixels.
    patch_border : `int`
        Pixels added on every side of a patch's inner bbox to make its outer bbox.
    projection : `str`
        Only ``"TAN"``.
    tract_builder : `str`
        Only ``"rings"``.
    ra_start : `Angle`
        Right ascension of the first tract centre of every ring.
    """

    num_rings: int = 120
    tract_overlap: Angle = dataclasses.field(default_factory=lambda: Angle(1.0, arcminutes))
    pixel_scale: Angle = dataclasses.field(default_factory=lambda: Angle(0.2, arcseconds))
    patch_inner_dimensions: Extent2I = dataclasses.field(default_factory=lambda: Extent2I(4000, 4000))
    patch_border: int = 100
    projection: str = "TAN"
    tract_builder: str = "rings"
    ra_start: Angle = dataclasses.field(default_factory=lambda: Angle(0.0))

    def __post_init__(self) -> None:
        if isinstance(self.num_rings, bool) or not isinstance(self.num_rings, (int, np.integer)) or self.num_rings < 1:
            raise GeomValueError(f"num_rings must be an integer >= 1, got {self.num_rings!r}")
        for name in ("tract_overlap", "pixel_scale", "ra_start"):
            if not hasattr(getattr(self, name), "as_radians"):
                raise GeomValueError(f"{name} must be an Angle, got {getattr(self, name)!r}")
        if not self.tract_overlap.as_radians() >= 0.0:
            raise GeomValueError(f"tract_overlap must be >= 0, got {self.tract_overlap!r}")
        if not self.pixel_scale.as_radians() > 0.0:
            raise GeomValueError(f"pixel_scale must be > 0, got {self.pixel_scale!r}")
        dims = Extent2I(self.patch_inner_dimensions)
        if dims.x <= 0 or dims.y <= 0:
            raise GeomValueError(f"patch_inner_dimensions must be positive, got {dims!r}")
        object.__setattr__(self, "patch_inner_dimensions", dims)
        if (
            isinstance(self.patch_border, bool)
            or not isinstance(self.patch_border, (int, np.integer))
            or self.patch_border < 0
        ):
            raise GeomValueError(f"patch_border must be an integer >= 0, got {self.patch_border!r}")
        if self.projection != "TAN":
            raise GeomValueError(f"only the 'TAN' projection is supported, got {self.projection!r}")
        if self.tract_builder != "rings":
            raise GeomValueError(f"only the 'rings' tract builder is supported, got {self.tract_builder!r}")
        ring_size = math.pi / (self.num_rings + 1)
        if 0.75 * ring_size + self.tract_overlap.as_radians() >= math.pi / 3:
            raise GeomValueError(
                f"num_rings={self.num_rings} with tract_overlap={self.tract_overlap.as_degrees()} deg makes tracts "
                "too large for a TAN projection (0.75 * ring width + overlap must stay below 60 degrees)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; angles in degrees (``*_deg``)."""
        return {
            "tract_builder": self.tract_builder,
            "projection": self.projection,
            "num_rings": int(self.num_rings),
            "tract_overlap_deg": self.tract_overlap.as_degrees(),
            "pixel_scale_deg": self.pixel_scale.as_degrees(),
            "patch_inner_dimensions": [self.patch_inner_dimensions.x, self.patch_inner_dimensions.y],
            "patch_border": int(self.patch_border),
            "ra_start_deg": self.ra_start.as_degrees(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RingsSkyMapConfig:
        """Inverse of `to_dict`."""
        from .angle import degrees

        try:
            return cls(
                num_rings=int(d["num_rings"]),
                tract_overlap=Angle(float(d["tract_overlap_deg"]), degrees),
                pixel_scale=Angle(float(d["pixel_scale_deg"]), degrees),
                patch_inner_dimensions=Extent2I(*d["patch_inner_dimensions"]),
                patch_border=int(d["patch_border"]),
                projection=d.get("projection", "TAN"),
                tract_builder=d.get("tract_builder", "rings"),
                ra_start=Angle(float(d.get("ra_start_deg", 0.0)), degrees),
            )
        except KeyError as err:
            raise GeomValueError(f"sky map config dict lacks key {err.args[0]!r}") from None


# ---- patches and tracts --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PatchInfo:
    """One patch of a tract: grid index, sequential id and bboxes (tract pixel coordinates).

    Attributes
    ----------
    index : `Point2I`
        Column and row in the tract's patch grid.
    sequential_index : `int`
        ``index.x + index.y * num_patches.x``.
    inner_bbox : `Box2I`
        The pixels this patch owns; inner bboxes tile the tract bbox.
    outer_bbox : `Box2I`
        ``inner_bbox`` grown by the border and clipped to the tract bbox.
    """

    index: Point2I
    sequential_index: int
    inner_bbox: Box2I
    outer_bbox: Box2I


class TractInfo:
    """One tract: id, centre, TAN projection, pixel bbox, sky regions and patch grid.

    Built by `RingsSkyMap`; not meant to be constructed directly.
    """

    def __init__(self, tract_id: int, ctr_lon: float, ctr_lat: float, inner: Box, config: RingsSkyMapConfig) -> None:
        self._id = int(tract_id)
        self._lon0, self._lat0 = float(ctr_lon), float(ctr_lat)
        self._inner = inner
        self._config = config
        scale_deg = config.pixel_scale.as_degrees()
        # CD (degrees / pixel): x grows to the west (RA decreases), y to the north.
        self._cd = np.array([[-scale_deg, 0.0], [0.0, scale_deg]])
        self._cd_inv = np.linalg.inv(self._cd)
        # Size the bbox from the projected inner-region boundary plus the overlap.
        lon_s, lat_s = self._inner_boundary_samples()
        xi, eta = tan_sky_to_plane(self._lon0, self._lat0, lon_s, lat_s)
        scale = config.pixel_scale.as_radians()
        overlap_pix = math.tan(config.tract_overlap.as_radians()) / scale
        # |dx| and |dy| extents from the tangent point, +1 pixel for sampling and rounding.
        half_x = float(np.nanmax(np.abs(xi))) / scale + overlap_pix + 1.0
        half_y = float(np.nanmax(np.abs(eta))) / scale + overlap_pix + 1.0
        pd = config.patch_inner_dimensions
        nx = max(1, math.ceil(2.0 * half_x / pd.x))
        ny = max(1, math.ceil(2.0 * half_y / pd.y))
        self._num_patches = Extent2I(nx, ny)
        self._bbox = Box2I(Point2I(0, 0), Extent2I(nx * pd.x, ny * pd.y))
        # The tangent point sits at the centre of the bbox.
        self._crpix = ((self._bbox.width - 1) / 2.0, (self._bbox.height - 1) / 2.0)

    def _inner_boundary_samples(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        b = self._inner
        lat0, lat1 = b.lat_min.as_radians(), b.lat_max.as_radians()
        lon0 = b.lon_min.as_radians()
        width = b.lon_max.as_radians() - lon0 + (_TWO_PI if b.wraps() else 0.0)
        if width >= _TWO_PI:  # polar cap: its boundary is the rim circle
            rim = lat1 if lat0 <= -_HALF_PI else lat0
            lon = np.linspace(0.0, _TWO_PI, 4 * _BOUNDARY_SAMPLES)
            return lon, np.full_like(lon, rim)
        t = np.linspace(0.0, 1.0, _BOUNDARY_SAMPLES)
        lon = np.concatenate([lon0 + t * width, lon0 + t * width, np.full_like(t, lon0), np.full_like(t, lon0 + width)])
        lat = np.concatenate(
            [np.full_like(t, lat0), np.full_like(t, lat1), lat0 + t * (lat1 - lat0), lat0 + t * (lat1 - lat0)]
        )
        return lon, lat

    # -- identity ----------------------------------------------------------------------------
    @property
    def tract_id(self) -> int:
        """Tract id (0 = south polar cap)."""
        return self._id

    id = tract_id

    @property
    def ctr_coord(self) -> SpherePoint:
        """Centre of the tract (its TAN tangent point)."""
        return SpherePoint._from_radians(self._lon0, self._lat0)

    @property
    def bbox(self) -> Box2I:
        """Pixel bbox of the tract, starting at (0, 0)."""
        return self._bbox

    @property
    def num_patches(self) -> Extent2I:
        """Patch grid size (columns, rows)."""
        return self._num_patches

    @property
    def patch_inner_dimensions(self) -> Extent2I:
        """Size of every patch's inner bbox."""
        return self._config.patch_inner_dimensions

    @property
    def patch_border(self) -> int:
        """Pixels between a patch's inner and outer bbox."""
        return int(self._config.patch_border)

    @property
    def inner_region(self) -> Box:
        """The sky assigned to this tract: its cell of the ring grid, as a lon/lat `Box`."""
        return self._inner

    @cached_property
    def outer_region(self) -> ConvexPolygon:
        """The sky covered by the tract bbox (exact: TAN maps the bbox edges to great circles)."""
        corners = Box2D(self._bbox).get_corners()
        lon, lat = self.pixel_to_sky([c.x for c in corners], [c.y for c in corners])
        return ConvexPolygon([SpherePoint._from_radians(a, b) for a, b in zip(lon, lat, strict=True)])

    # -- WCS ---------------------------------------------------------------------------------
    def wcs_parameters(self) -> dict[str, Any]:
        """The tract's TAN WCS as plain numbers.

        Keys: ``projection`` ("TAN"), ``ctype`` (FITS axis types), ``crval`` ([lon, lat]
        degrees), ``crpix`` (0-based pixel of the tangent point, Osprey/afw convention),
        ``fits_crpix`` (``crpix + 1``, for FITS headers and astropy), ``cd`` (2x2 nested
        list, degrees per pixel), ``radesys`` ("ICRS") and ``lonpole`` (degrees; the FITS
        default for a zenithal projection: 0 for the north-cap tract centred on the pole,
        180 otherwise).
        """
        return {
            "projection": "TAN",
            "ctype": ["RA---TAN", "DEC--TAN"],
            "crval": [math.degrees(self._lon0), math.degrees(self._lat0)],
            "crpix": [self._crpix[0], self._crpix[1]],
            "fits_crpix": [self._crpix[0] + 1.0, self._crpix[1] + 1.0],
            "cd": self._cd.tolist(),
            "radesys": "ICRS",
            "lonpole": 0.0 if self._lat0 >= _HALF_PI else 180.0,
        }

    def pixel_to_sky(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Tract pixel positions (0-based) to lon in ``[0, 2 pi)`` and lat, radians."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        dx, dy = x - self._crpix[0], y - self._crpix[1]
        xi = np.radians(self._cd[0, 0] * dx + self._cd[0, 1] * dy)
        eta = np.radians(self._cd[1, 0] * dx + self._cd[1, 1] * dy)
        return tan_plane_to_sky(self._lon0, self._lat0, xi, eta)

    def sky_to_pixel(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Positions (radians) to tract pixel coordinates; NaN beyond 90 degrees from the centre."""
        xi, eta = tan_sky_to_plane(self._lon0, self._lat0, lon, lat)
        xi, eta = np.degrees(xi), np.degrees(eta)
        ci = self._cd_inv
        return (self._crpix[0] + ci[0, 0] * xi + ci[0, 1] * eta, self._crpix[1] + ci[1, 0] * xi + ci[1, 1] * eta)

    # -- patches -----------------------------------------------------------------------------
    def get_patch_info(self, index: Point2I | tuple[int, int] | int) -> PatchInfo:
        """The patch at grid ``index`` (a `Point2I`/pair) or with that sequential index (int)."""
        nx, ny = self._num_patches
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            if not 0 <= index < nx * ny:
                raise GeomValueError(f"sequential patch index must be in [0, {nx * ny}), got {index}")
            ix, iy = int(index) % nx, int(index) // nx
        else:
            ix, iy = Point2I(index)
            if not (0 <= ix < nx and 0 <= iy < ny):
                raise GeomValueError(f"patch index ({ix}, {iy}) outside the {nx}x{ny} grid of tract {self._id}")
        return self._patch_info_at(ix, iy)

    def _patch_info_at(self, ix: int, iy: int) -> PatchInfo:
        """`PatchInfo` of the in-range grid cell (ix, iy), built without re-validating it."""
        return self._patch_infos([ix + iy * self._num_patches.x])[0]

    @cached_property
    def _patch_int_bounds(self) -> tuple[list[tuple[int, int]], ...]:
        """Per column and per row: (begin, end) of the inner bboxes, then of the outer ones.

        Outer = inner grown by the border and clipped to the tract bbox (which starts at 0).
        """
        pd = self._config.patch_inner_dimensions
        b = int(self._config.patch_border)
        width, height = self._bbox.width, self._bbox.height
        x_in = [(i * pd.x, (i + 1) * pd.x) for i in range(self._num_patches.x)]
        y_in = [(i * pd.y, (i + 1) * pd.y) for i in range(self._num_patches.y)]
        x_out = [(max(x0 - b, 0), min(x1 + b, width)) for x0, x1 in x_in]
        y_out = [(max(y0 - b, 0), min(y1 + b, height)) for y0, y1 in y_in]
        return x_in, x_out, y_in, y_out

    def _patch_infos(self, seq: Iterable[int]) -> list[PatchInfo]:
        """`PatchInfo` objects of in-range sequential indices (Python ints), without re-validation."""
        x_in, x_out, y_in, y_out = self._patch_int_bounds
        nx = self._num_patches.x
        new, init_pair, box = object.__new__, Point2I._init, _box2i_unchecked
        out = []
        for k in seq:
            iy, ix = divmod(k, nx)
            index = new(Point2I)
            init_pair(index, ix, iy)
            (xa, xb), (ya, yb), (xc, xd), (yc, yd) = x_in[ix], y_in[iy], x_out[ix], y_out[iy]
            out.append(PatchInfo(index, k, box(xa, ya, xb, yb), box(xc, yc, xd, yd)))
        return out

    def __iter__(self) -> Iterator[PatchInfo]:
        """Patches in sequential order."""
        for k in range(len(self)):
            yield self.get_patch_info(k)

    def __len__(self) -> int:
        return self._num_patches.x * self._num_patches.y

    def find_patch(self, coord: SpherePoint) -> PatchInfo:
        """The patch whose inner bbox holds ``coord``; `GeomValueError` outside the tract bbox."""
        x, y = self.sky_to_pixel(coord.longitude.as_radians(), coord.latitude.as_radians())
        x, y = float(x), float(y)
        if not self._bbox.contains(np.array([x]), np.array([y]))[0]:
            raise GeomValueError(f"{coord!r} is outside the bbox of tract {self._id}")
        pd = self._config.patch_inner_dimensions
        return self.get_patch_info(Point2I(math.floor(x + 0.5) // pd.x, math.floor(y + 0.5) // pd.y))

    def patch_outer_region(self, patch: PatchInfo) -> ConvexPolygon:
        """The sky covered by a patch's outer bbox (a great-circle quadrilateral)."""
        corners = Box2D(patch.outer_bbox).get_corners()
        lon, lat = self.pixel_to_sky([c.x for c in corners], [c.y for c in corners])
        return ConvexPolygon([SpherePoint._from_radians(a, b) for a, b in zip(lon, lat, strict=True)])

    # -- vectorised patch search (used by RingsSkyMap.find_tract_patch_list) -------------------
    @cached_property
    def _vector_to_pixel_rows(self) -> NDArray[np.float64]:
        """3x3 matrix ``M``: for a direction ``v``, ``v @ M.T = (w, w * (x - crpix_x), w * (y - crpix_y))``.

        ``w = v . r0`` is the cosine of the distance to the tangent point; dividing the other
        two by it gives the same pixel coordinates as `sky_to_pixel` (TAN: ``(xi, eta) =
        (v . east, v . north) / w``, then the inverse CD matrix).
        """
        r0, east, north = _tangent_basis(self._lon0, self._lat0)
        plane = np.degrees(np.stack([east, north]))  # rows: xi, eta in degrees (times w)
        return np.vstack([r0, self._cd_inv @ plane])

    @cached_property
    def _patch_grid_bounds(self) -> tuple[NDArray[np.float64], ...]:
        """Continuous pixel bounds of the patch outer bboxes: x_lo, x_hi per column, y_lo, y_hi per row.

        A Box2I covers the pixels' edges, ``[begin - 0.5, end - 0.5]`` (as in `patch_outer_region`,
        whose polygon is the sky image of exactly this rectangle); the grid is separable, so
        patch (ix, iy) spans ``[x_lo[ix], x_hi[ix]] x [y_lo[iy], y_hi[iy]]``.
        """
        pd = self._config.patch_inner_dimensions
        b = int(self._config.patch_border)
        ix = np.arange(self._num_patches.x, dtype=np.float64)
        iy = np.arange(self._num_patches.y, dtype=np.float64)
        x_lo = np.maximum(ix * pd.x - b, 0.0) - 0.5
        x_hi = np.minimum((ix + 1.0) * pd.x + b, float(self._bbox.width)) - 0.5
        y_lo = np.maximum(iy * pd.y - b, 0.0) - 0.5
        y_hi = np.minimum((iy + 1.0) * pd.y + b, float(self._bbox.height)) - 0.5
        return x_lo, x_hi, y_lo, y_hi

    @cached_property
    def _patch_grid_lists(self) -> tuple[list[float], ...]:
        """`_patch_grid_bounds` as offsets from crpix, in Python lists (for `bisect`)."""
        x_lo, x_hi, y_lo, y_hi = self._patch_grid_bounds
        cx, cy = self._crpix
        return (x_lo - cx).tolist(), (x_hi - cx).tolist(), (y_lo - cy).tolist(), (y_hi - cy).tolist()

    @cached_property
    def _patch_grid_centres(self) -> tuple[NDArray[np.float64], ...]:
        """Centre and half-size of the patch outer bboxes per column (x) and row (y), from crpix."""
        x_lo, x_hi, y_lo, y_hi = self._patch_grid_bounds
        cx, cy = self._crpix
        return 0.5 * (x_lo + x_hi) - cx, 0.5 * (x_hi - x_lo), 0.5 * (y_lo + y_hi) - cy, 0.5 * (y_hi - y_lo)

    def _polygon_patch_indices(self, vertices: NDArray[np.float64], margin: float) -> NDArray[np.int64] | None:
        """Sequential indices (ascending) of the patches whose outer region meets a spherical polygon.

        ``vertices`` (n, 3) are the polygon's corners in order around it (either sense); it
        must be convex and smaller than a hemisphere (a `ConvexPolygon`, or any polygon whose
        vertices lie on a circle in order). Under this tract's TAN projection great circles
        are straight lines, so when every vertex lies in the front hemisphere (within 80 deg
        of the tangent point, checked here) the polygon maps to a convex plane polygon and
        each patch outer region to an axis-aligned rectangle; they meet exactly when no
        separating axis exists among the rectangle's two axes and the polygon's edge normals.

        ``margin`` (pixels) pads the test: positive values also report pairs less than
        ``margin`` apart (conservative); negative ones only pairs overlapping by more than
        ``-margin`` along every axis (certain). Returns None when a vertex is outside the
        front hemisphere, i.e. the projection cannot be used.
        """
        q = vertices @ self._vector_to_pixel_rows.T
        w = q[:, 0]
        if not w.min() >= _FRONT_MIN_COS:
            return None
        pts = q[:, 1:] / w[:, None]  # vertex pixel offsets from crpix (x, y)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        # the rectangle's axes: the polygon's bbox against the patch columns and rows (the
        # bounds are increasing, so each overlap is a range found by bisection)
        x_lo, x_hi, y_lo, y_hi = self._patch_grid_lists
        c0, c1 = bisect.bisect_left(x_hi, lo[0] - margin), bisect.bisect_right(x_lo, hi[0] + margin)
        r0, r1 = bisect.bisect_left(y_hi, lo[1] - margin), bisect.bisect_right(y_lo, hi[1] + margin)
        if c0 >= c1 or r0 >= r1:
            return np.empty(0, dtype=np.int64)
        # the polygon's edge normals (n, not normalised; a zero-length edge gives n = 0,
        # which never separates). Any axis is a valid separation test.
        d = np.concatenate((pts[1:], pts[:1])) - pts
        n = d[:, ::-1] * _ROTATE_CW  # (dy, -dx)
        proj = n @ pts.T
        pad = margin * np.sqrt(np.einsum("ij,ij->i", n, n))
        p_hi, p_lo = proj.max(axis=1) + pad, proj.min(axis=1) - pad
        cx, hx, cy, hy = self._patch_grid_centres
        an, bn = np.abs(n[:, :1]), np.abs(n[:, 1:])
        # rectangle (row r, column c) projects onto [a_lo + b_lo, a_hi + b_hi] along edge e
        a = n[:, :1] * cx[None, c0:c1]
        b = n[:, 1:] * cy[None, r0:r1]
        ha, hb = an * hx[None, c0:c1], bn * hy[None, r0:r1]
        above = ((a - ha) - p_hi[:, None])[:, None, :] + (b - hb)[:, :, None] > 0.0
        below = ((a + ha) - p_lo[:, None])[:, None, :] + (b + hb)[:, :, None] < 0.0
        hit = ~(above | below).any(axis=0)
        nx = self._num_patches.x
        seq = np.arange(r0, r1)[:, None] * nx + np.arange(c0, c1)[None, :]
        return seq[hit]

    def _patch_corner_points(self, seq: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Sky positions (lon, lat; shape (len(seq), 5)) of the outer-bbox corners and centre of patches."""
        x_lo, x_hi, y_lo, y_hi = self._patch_grid_bounds
        ix, iy = seq % self._num_patches.x, seq // self._num_patches.x
        xa, xb, ya, yb = x_lo[ix], x_hi[ix], y_lo[iy], y_hi[iy]
        x = np.stack([xa, xb, xb, xa, 0.5 * (xa + xb)], axis=-1)
        y = np.stack([ya, ya, yb, yb, 0.5 * (ya + yb)], axis=-1)
        return self.pixel_to_sky(x, y)

    def __repr__(self) -> str:
        c = self.ctr_coord
        return (
            f"TractInfo(id={self._id}, ctr=({c.longitude.as_degrees():.6f}, {c.latitude.as_degrees():.6f}) deg, "
            f"bbox={self._bbox!r}, num_patches={self._num_patches!r})"
        )


# ---- the sky map ---------------------------------------------------------------------------


class RingsSkyMap:
    """Rings sky map: two polar-cap tracts and ``num_rings`` rings of tracts (module docstring).

    Parameters
    ----------
    config : `RingsSkyMapConfig`, optional
        Layout parameters; LSST-like defaults when omitted.
    """

    def __init__(self, config: RingsSkyMapConfig | None = None) -> None:
        self._config = config if config is not None else RingsSkyMapConfig()
        n = self._config.num_rings
        self._ring_size = math.pi / (n + 1)
        lo = -_HALF_PI + (np.arange(n) + 0.5) * self._ring_size  # ring southern edges
        hi = lo + self._ring_size
        nearest_eq = np.where((lo < 0) & (hi > 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
        self._ring_counts = np.ceil(_TWO_PI * np.cos(nearest_eq) / self._ring_size - 1e-9).astype(np.int64)
        self._ring_counts = np.maximum(self._ring_counts, 1)
        self._ring_first = 1 + np.concatenate([[0], np.cumsum(self._ring_counts)[:-1]])  # first id of each ring
        self._ring_lo = lo
        self._num_tracts = int(self._ring_counts.sum()) + 2
        self._ra_start = self._config.ra_start.as_radians()
        self._cache: dict[int, TractInfo] = {}

    @property
    def config(self) -> RingsSkyMapConfig:
        """The layout parameters."""
        return self._config

    @property
    def ring_size(self) -> Angle:
        """Declination width of each ring (``pi / (num_rings + 1)``)."""
        return Angle(self._ring_size)

    @property
    def ring_tract_counts(self) -> list[int]:
        """Number of tracts in each ring, south to north (caps excluded)."""
        return self._ring_counts.tolist()

    # -- storage identity --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description from which `from_dict` rebuilds an identical sky map."""
        return {"type": "rings", "config": self._config.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RingsSkyMap:
        """Rebuild a sky map stored with `to_dict`."""
        if d.get("type") != "rings":
            raise GeomValueError(f"not a rings sky map description: type={d.get('type')!r}")
        return cls(RingsSkyMapConfig.from_dict(d["config"]))

    @cached_property
    def id_hash(self) -> str:
        """SHA-1 (hex) of the canonical JSON of `to_dict`: equal layouts give equal hashes."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    @property
    def name(self) -> str:
        """Short stable name for registries: ``rings-<first 12 hex digits of id_hash>``."""
        return f"rings-{self.id_hash[:12]}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RingsSkyMap):
            return NotImplemented
        return self.id_hash == other.id_hash

    def __hash__(self) -> int:
        return hash(self.id_hash)

    def __reduce__(self) -> tuple[Any, ...]:
        return RingsSkyMap, (self._config,)

    def __repr__(self) -> str:
        return f"RingsSkyMap(num_rings={self._config.num_rings}, tracts={len(self)}, name={self.name!r})"

    # -- tracts ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._num_tracts

    def __iter__(self) -> Iterator[TractInfo]:
        for i in range(self._num_tracts):
            yield self[i]

    def __getitem__(self, tract_id: int) -> TractInfo:
        if isinstance(tract_id, bool) or not isinstance(tract_id, (int, np.integer)):
            raise GeomValueError(f"tract id must be an integer, got {tract_id!r}")
        t = int(tract_id)
        if not 0 <= t < self._num_tracts:
            raise GeomValueError(f"tract id must be in [0, {self._num_tracts}), got {t}")
        info = self._cache.get(t)
        if info is None:
            info = self._build_tract(t)
            self._cache[t] = info
        return info

    def _tract_cell(self, t: int) -> tuple[float, float, Box]:
        """Centre (lon, lat) and inner box of tract ``t``."""
        rs = self._ring_size
        if t == 0:
            return 0.0, -_HALF_PI, Box(Angle(0.0), Angle(_TWO_PI), Angle(-_HALF_PI), Angle(-_HALF_PI + 0.5 * rs))
        if t == self._num_tracts - 1:
            return 0.0, _HALF_PI, Box(Angle(0.0), Angle(_TWO_PI), Angle(_HALF_PI - 0.5 * rs), Angle(_HALF_PI))
        ring = int(np.searchsorted(self._ring_first, t, side="right") - 1)
        j = t - int(self._ring_first[ring])
        n = int(self._ring_counts[ring])
        step = _TWO_PI / n
        ctr_lon = (self._ra_start + j * step) % _TWO_PI
        lo = float(self._ring_lo[ring])
        if n == 1:
            box = Box(Angle(0.0), Angle(_TWO_PI), Angle(lo), Angle(lo + rs))
        else:
            box = Box(Angle(ctr_lon - 0.5 * step), Angle(ctr_lon + 0.5 * step), Angle(lo), Angle(lo + rs))
        return ctr_lon, lo + 0.5 * rs, box

    def _build_tract(self, t: int) -> TractInfo:
        lon, lat, box = self._tract_cell(t)
        return TractInfo(t, lon, lat, box, self._config)

    def find_tract_ids(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """Vectorised `find_tract`: tract id of each position (radians), same shape.

        The ring comes from the declination (``floor((lat + pi/2) / ring_size - 1/2)``; below
        0 is the south cap, ``num_rings`` or more the north cap), then the tract within the
        ring from the RA offset to ``ra_start``, rounded to the nearest tract centre.
        """
        lo, la = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(la)) and np.all(np.abs(la) <= _HALF_PI)):
            raise GeomValueError("positions must be finite with latitude in [-pi/2, pi/2] radians")
        ring = np.floor((la + _HALF_PI) / self._ring_size - 0.5).astype(np.int64)
        out = np.empty(lo.shape, dtype=np.int64)
        south, north = ring < 0, ring >= self._config.num_rings
        out[south] = 0
        out[north] = self._num_tracts - 1
        mid = ~(south | north)
        r = ring[mid]
        n = self._ring_counts[r]
        frac = np.mod(lo[mid] - self._ra_start, _TWO_PI) / _TWO_PI * n
        j = np.floor(frac + 0.5).astype(np.int64) % n
        out[mid] = self._ring_first[r] + j
        return out

    def find_tract(self, coord: SpherePoint) -> TractInfo:
        """The tract whose inner region holds ``coord`` (exactly one; see `find_tract_ids`)."""
        tid = self.find_tract_ids(coord.longitude.as_radians(), coord.latitude.as_radians())
        return self[int(tid)]

    @cached_property
    def _tract_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lons, lats = np.zeros(self._num_tracts), np.zeros(self._num_tracts)
        lats[0], lats[-1] = -_HALF_PI, _HALF_PI
        for ring, (first, n) in enumerate(zip(self._ring_first, self._ring_counts, strict=True)):
            lons[first : first + n] = np.mod(self._ra_start + np.arange(n) * (_TWO_PI / n), _TWO_PI)
            lats[first : first + n] = self._ring_lo[ring] + 0.5 * self._ring_size
        return lons, lats

    @cached_property
    def _tract_reach(self) -> float:
        """An upper bound (radians) on the distance from a tract centre to any point of its bbox.

        A tract's inner cell lies within 0.75 ring widths of its centre (its RA half-width is
        at most half a ring width where widest); the bbox adds the overlap, one pixel and at
        most half a patch of rounding on each axis, and TAN distances only shrink on the sky.
        """
        cfg = self._config
        scale = cfg.pixel_scale.as_radians()
        half = (
            math.tan(0.75 * self._ring_size)
            + math.tan(cfg.tract_overlap.as_radians())
            + (0.5 * max(cfg.patch_inner_dimensions) + 2.0) * scale
        )
        return math.sqrt(2.0) * half * 1.01

    @cached_property
    def _tract_centre_vectors(self) -> NDArray[np.float64]:
        """Unit vectors (n_tracts, 3) of the tract centres."""
        lons, lats = self._tract_centres
        cl = np.cos(lats)
        return np.stack([cl * np.cos(lons), cl * np.sin(lons), np.sin(lats)], axis=-1)

    def _candidate_tracts(self, region: Region) -> list[int]:
        """Tracts whose bbox sky region may touch ``region`` (centre distance, then polygons)."""
        bc = region.get_bounding_circle()
        c = bc.center_vector
        # centre distance <= reach + radius, as a cosine (1e-9 rad of slack for rounding)
        limit = self._tract_reach + bc.radius.as_radians() + 1e-9
        if limit >= math.pi:
            near = np.arange(self._num_tracts)
        else:
            cos_d = self._tract_centre_vectors @ np.array([c.x, c.y, c.z])
            near = np.flatnonzero(cos_d >= math.cos(limit))
        return [int(t) for t in near if not self[int(t)].outer_region.is_disjoint_from(region)]

    def find_tract_patch_list(self, where: Region | Sequence[SpherePoint]) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Tracts and their patches that overlap a region or hold any of a list of points.

        * a `Region`: every tract whose bbox sky region may intersect it, with the patches
          whose outer bbox sky region may intersect it (conservative: it never misses one;
          see `_find_tract_patch_list_fast` for how, and `_find_tract_patch_list_exact` for
          the per-patch reference it agrees with);
        * a sequence of `SpherePoint`: every tract whose bbox holds one of the points, with the
          patches whose outer bbox holds one of them.
        """
        out: list[tuple[TractInfo, list[PatchInfo]]] = []
        if isinstance(where, Region):
            return self._find_tract_patch_list_fast(where)
        pts = list(where) if isinstance(where, Iterable) else []
        if not pts or not all(isinstance(p, SpherePoint) for p in pts):
            raise GeomValueError("find_tract_patch_list needs a Region or a non-empty sequence of SpherePoints")
        lon = np.array([p.longitude.as_radians() for p in pts])
        lat = np.array([p.latitude.as_radians() for p in pts])
        hull = Box(Angle(0.0), Angle(_TWO_PI), Angle(max(-_HALF_PI, lat.min())), Angle(min(_HALF_PI, lat.max())))
        for t in self._candidate_tracts(_points_bound(lon, lat, hull)):
            tract = self[t]
            x, y = tract.sky_to_pixel(lon, lat)
            ok = np.isfinite(x) & np.isfinite(y)
            inside = np.zeros_like(ok)
            inside[ok] = tract.bbox.contains(x[ok], y[ok])
            if not inside.any():
                continue
            xs, ys = x[inside], y[inside]
            patches = [p for p in tract if p.outer_bbox.contains(xs, ys).any()]
            out.append((tract, patches))
        return out

    def _find_tract_patch_list_exact(self, region: Region) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Reference region search: relate every patch outer region of every candidate tract.

        Exact up to the 1e-13 rad tolerance of `Region.relate`, and slow (one `ConvexPolygon`
        per patch, ~0.3-1 s for a visit-sized region with the default configuration); kept
        as the fallback of `_find_tract_patch_list_fast` and as the reference its tests use.
        """
        out: list[tuple[TractInfo, list[PatchInfo]]] = []
        for t in self._candidate_tracts(region):
            tract = self[t]
            patches = [p for p in tract if not tract.patch_outer_region(p).is_disjoint_from(region)]
            if patches:
                out.append((tract, patches))
        return out

    def _find_tract_patch_list_fast(self, region: Region) -> list[tuple[TractInfo, list[PatchInfo]]]:
        """Vectorised region search, the `Region` branch of `find_tract_patch_list`.

        Candidate tracts come from `_candidate_tracts`. Within a tract, the patch outer
        regions are the sky images of axis-aligned rectangles of the tract's TAN plane, where
        great circles are straight lines; `TractInfo._polygon_patch_indices` tests a polygon
        against all of them at once (separating axes). By region type:

        * `ConvexPolygon`: tested directly; exact (up to a 1e-10 rad margin, conservative).
        * `Circle` (radius <= 60 deg): patches meeting the inscribed 64-gon (vertices on the
          circle) certainly meet the circle; patches meeting the circumscribed 64-gon but not
          the inscribed one (a thin band, typically a few patches) are decided by the exact
          per-patch relation. Same answer as the exact path.
        * a `Box`: patches meeting a polygon containing it (`_box_outer_polygon`: its meridian
          edges, and great circles through or tangent to its parallels) are candidates; one
          with an outer-bbox corner or centre inside the box is kept, the rest are decided by
          the exact per-patch relation. Same answer as the exact path.
        * any other region (or a `Box` touching a pole or wider than 120 deg of longitude)
          whose bounding circle has radius <= 60 deg: as for a box, but the candidates are
          the patches meeting the 64-gon circumscribing that circle; a candidate with an
          outer-bbox corner or centre inside the region is kept, the rest are decided by the
          exact per-patch relation. Same answer as the exact path, at a cost growing with the
          number of candidate patches outside the region.
        * larger regions: the exact path.

        A tract for which a polygon vertex lies beyond 80 deg of its centre (where TAN
        cannot represent the polygon) is searched with the exact per-patch relation.
        Only the returned `PatchInfo` objects are built.
        """
        box_outer = _box_outer_polygon(region) if isinstance(region, Box) else None
        if isinstance(region, ConvexPolygon):
            outer, inner, refine = np.asarray(region.vertex_array), None, False
        elif box_outer is not None:
            outer, inner, refine = box_outer, None, True
        else:
            if isinstance(region, Circle):
                centre, radius = region.center_vector, region.radius.as_radians()
            else:
                bc = region.get_bounding_circle()
                centre, radius = bc.center_vector, bc.radius.as_radians()
            if radius > _MAX_FAST_CAP_RADIUS:
                return self._find_tract_patch_list_exact(region)
            c = np.array([centre.x, centre.y, centre.z])
            # tan(R) = tan(r) / cos(pi / n): every edge of the n-gon is tangent to the circle
            n = _CAP_POLYGON_VERTICES
            outer = _cap_polygon(c, math.atan(math.tan(radius) / math.cos(math.pi / n)), n)
            inner = _cap_polygon(c, radius, n) if isinstance(region, Circle) and radius > 1e-9 else None
            refine = True
        margin = _SAT_MARGIN_RAD / self._config.pixel_scale.as_radians()
        out: list[tuple[TractInfo, list[PatchInfo]]] = []
        for t in self._candidate_tracts(region):
            tract = self[t]
            seq = tract._polygon_patch_indices(outer, margin)
            if seq is None:  # too large for this tract's projection: per-patch reference
                patches = [p for p in tract if not tract.patch_outer_region(p).is_disjoint_from(region)]
            else:
                if refine and seq.size:
                    seq = self._refine_patch_indices(tract, region, seq, inner, margin)
                patches = tract._patch_infos(seq.tolist())
            if patches:
                out.append((tract, patches))
        return out

    @staticmethod
    def _refine_patch_indices(
        tract: TractInfo,
        region: Region,
        seq: NDArray[np.int64],
        inner: NDArray[np.float64] | None,
        margin: float,
    ) -> NDArray[np.int64]:
        """Keep the candidate patches ``seq`` whose outer region truly meets ``region``.

        Certain hits need no exact test: patches overlapping the polygon ``inner`` (which
        lies inside ``region``) by more than ``margin``, or with an outer-bbox corner or
        centre inside ``region``. The rest are related one by one.
        """
        certain = np.zeros(seq.size, dtype=bool)
        if inner is not None:
            sure = tract._polygon_patch_indices(inner, -margin)
            if sure is not None:
                certain = np.isin(seq, sure)
        if not isinstance(region, Circle) and not certain.all():
            lon, lat = tract._patch_corner_points(seq[~certain])
            certain[~certain] = region.contains(lon, lat).any(axis=-1)
        keep = certain.copy()
        unsure = np.flatnonzero(~certain)
        for i, patch in zip(unsure.tolist(), tract._patch_infos(seq[unsure].tolist()), strict=True):
            keep[i] = not tract.patch_outer_region(patch).is_disjoint_from(region)
        return seq[keep]


def _box_outer_polygon(box: Box) -> NDArray[np.float64] | None:
    """Vertices of a convex polygon containing a lon/lat `Box`, or None when there is no small one.

    The polygon is the intersection of hemispheres, each holding the box: the two meridian
    planes of its longitude edges; for a latitude edge on the equator side of its parallel
    (``lat <= b`` with ``b >= 0``, ``lat >= a`` with ``a <= 0``), the great circle through
    the edge's two corners, which lies poleward of the parallel between them; for an edge
    on the pole side (``lat >= a > 0`` or ``lat <= b < 0``, a spherical cap), great circles
    tangent to the parallel at evenly spaced longitudes (each holds the whole cap). Boxes
    touching a pole, wider than 120 degrees of longitude or not fitting in a 60-degree
    circle return None.
    """
    lat_a, lat_b = box.lat_min.as_radians(), box.lat_max.as_radians()
    lon0 = box.lon_min.as_radians()
    width = box.lon_max.as_radians() - lon0 + (_TWO_PI if box.wraps() else 0.0)
    if box.is_full() or not 0.0 < width <= math.radians(120.0):
        return None
    if not (-_HALF_PI + 1e-6 < lat_a < lat_b < _HALF_PI - 1e-6):
        return None
    lon1 = lon0 + width

    def unit(lon: float, lat: float) -> NDArray[np.float64]:
        return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])

    def north(lon: float, lat: float) -> NDArray[np.float64]:
        return np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])

    k = _CAP_POLYGON_VERTICES // 4
    mids = lon0 + (np.arange(k) + 0.5) * (width / k)
    # inward normals in order around the box: south edge (west to east), east meridian,
    # north edge (east to west), west meridian
    normals: list[NDArray[np.float64]] = []
    if lat_a > 0.0:
        normals += [north(m, lat_a) for m in mids]
    else:
        normals.append(np.cross(unit(lon0, lat_a), unit(lon1, lat_a)))
    normals.append(np.array([math.sin(lon1), -math.cos(lon1), 0.0]))
    if lat_b < 0.0:
        normals += [-north(m, lat_b) for m in mids[::-1]]
    else:
        normals.append(np.cross(unit(lon1, lat_b), unit(lon0, lat_b)))
    normals.append(np.array([-math.sin(lon0), math.cos(lon0), 0.0]))
    n = np.array(normals)
    n /= np.linalg.norm(n, axis=1)[:, None]
    v = np.cross(n, np.roll(n, -1, axis=0))
    v /= np.linalg.norm(v, axis=1)[:, None]
    centre = unit(lon0 + 0.5 * width, 0.5 * (lat_a + lat_b))
    v *= np.where(v @ centre < 0.0, -1.0, 1.0)[:, None]
    # every vertex must satisfy every half-space, and the polygon must stay small
    if not (np.all(v @ n.T >= -1e-12) and np.all(v @ centre >= math.cos(_MAX_FAST_CAP_RADIUS))):
        return None
    return v


def _cap_polygon(centre: NDArray[np.float64], radius: float, n: int) -> NDArray[np.float64]:
    """``n`` unit vectors (counter-clockwise seen from outside) at angular distance ``radius`` of ``centre``."""
    # any unit vector orthogonal to the centre, then its completion to a right-handed basis
    helper = np.array([1.0, 0.0, 0.0]) if abs(centre[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(centre, helper)
    u /= np.linalg.norm(u)
    v = np.cross(centre, u)
    theta = np.arange(n) * (_TWO_PI / n)
    ring = np.cos(theta)[:, None] * u[None, :] + np.sin(theta)[:, None] * v[None, :]
    return math.cos(radius) * centre[None, :] + math.sin(radius) * ring


def _points_bound(lon: NDArray[np.float64], lat: NDArray[np.float64], fallback: Box) -> Region:
    """A small region holding the points: a circle about their mean direction."""
    from .regions import Circle

    v = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    m = v.sum(axis=0)
    norm = float(np.linalg.norm(m))
    if norm < 1e-9 * len(lon):
        return fallback
    m /= norm
    c_lon, c_lat = math.atan2(m[1], m[0]), math.asin(max(-1.0, min(1.0, m[2])))
    r = float(np.max(separation(lon, lat, c_lon, c_lat))) + 1e-9
    return Circle(SpherePoint._from_radians(c_lon, c_lat), Angle(min(r, math.pi)))
