"""Tests of osprey.geom.healpix against healpy (and hpgeom): indices, conversions, regions."""

import math
import pickle

import healpy
import numpy as np
import pytest

from osprey.geom import _geom
from osprey.geom.angle import Angle, degrees
from osprey.geom.errors import GeomValueError
from osprey.geom.healpix import _CORNERS, HealpixPixelization, healpix_nest_to_ring, healpix_ring_to_nest
from osprey.geom.rangeset import RangeSet
from osprey.geom.regions import Box, Circle, ConvexPolygon, Region
from osprey.geom.sphere import SpherePoint

ORDERS = [0, 1, 5, 8, 13, 20, 29]


def random_sphere(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0 * np.pi, n), np.arcsin(rng.uniform(-1.0, 1.0, n))


def special_points(order):
    """Poles, the z = +-2/3 zone boundaries (and their float neighbours), lon = 0 and 2 pi - eps,
    negative and > 2 pi longitudes, the 0.01 rad polar-precision switch, pixel-edge longitudes
    and latitudes, and exact pixel centres."""
    z23 = math.asin(2.0 / 3.0)
    lats = [
        math.pi / 2,
        -math.pi / 2,
        z23,
        -z23,
        *np.nextafter(z23, [0.0, 1.0]),
        *np.nextafter(-z23, [0.0, -1.0]),
        0.0,
        -0.0,
        1e-300,
        math.pi / 2 - 0.01,
        -(math.pi / 2 - 0.01),
        math.asin(0.99),
        math.pi / 2 - 1e-12,
        -math.pi / 2 + 1e-12,
        0.3,
    ]
    lons = [
        0.0,
        -0.0,
        np.nextafter(2 * math.pi, 0.0),
        2 * math.pi - 1e-15,
        2 * math.pi,
        math.pi / 2,
        math.pi,
        1.5 * math.pi,
        -1e-17,
        -math.pi / 4,
        7.0,
        -100.0,
        1e-300,
        1.234,
    ]
    lon, lat = (a.ravel() for a in np.meshgrid(lons, lats))
    nside = 1 << order
    rng = np.random.default_rng(order)
    k = rng.integers(0, 8 * nside, 500)  # meridians through pixel corners
    j = rng.integers(-nside, nside + 1, 500)  # equatorial ring boundaries z = 2j / (3 nside)
    pix = rng.integers(0, 12 * nside * nside, 500)
    clon, clat = _geom.healpix_pix2ang(order, True, pix, np.array([0.5]), np.array([0.5]))
    lon = np.concatenate([lon, k * (np.pi / (4 * nside)), rng.uniform(0, 2 * np.pi, 500), clon])
    lat = np.concatenate([lat, rng.uniform(-np.pi / 2, np.pi / 2, 500), np.arcsin(j * 2.0 / (3.0 * nside)), clat])
    return lon, lat


@pytest.fixture(scope="module")
def sky():
    return random_sphere(100_000, 20240601)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("scheme", ["nest", "ring"])
def test_index_identical_to_healpy(sky, order, scheme):
    pixelization = HealpixPixelization(order, scheme)
    for lon, lat in (sky, special_points(order)):
        ours = pixelization.index(lon, lat)
        ref = healpy.ang2pix(1 << order, np.pi / 2 - lat, lon, nest=scheme == "nest")
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("order", [5, 13, 29])
@pytest.mark.parametrize("nest", [True, False])
def test_index_identical_to_hpgeom(sky, order, nest):
    hpgeom = pytest.importorskip("hpgeom")
    lon, lat = sky
    ref = hpgeom.angle_to_pixel(1 << order, lon, lat, nest=nest, lonlat=True, degrees=False)
    np.testing.assert_array_equal(HealpixPixelization(order, "nest" if nest else "ring").index(lon, lat), ref)


@pytest.mark.parametrize("order", ORDERS)
def test_nest_ring_conversion_identical_to_healpy(order):
    nside, npix = 1 << order, 12 * 4**order
    rng = np.random.default_rng(order + 100)
    ncap = 2 * nside * (nside - 1)
    edges = np.array(
        [
            0,
            1,
            3,
            4,
            ncap - 1,
            ncap,
            ncap + 1,
            npix - ncap - 1,
            npix - ncap,
            npix - 5,
            npix - 4,
            npix - 1,
            npix // 2,
            npix // 12,
        ]
    )
    pix = np.unique(np.concatenate([rng.integers(0, npix, 20_000), edges[(edges >= 0) & (edges < npix)]]))
    np.testing.assert_array_equal(healpix_nest_to_ring(order, pix), healpy.nest2ring(nside, pix))
    np.testing.assert_array_equal(healpix_ring_to_nest(order, pix), healpy.ring2nest(nside, pix))
    np.testing.assert_array_equal(healpix_ring_to_nest(order, healpix_nest_to_ring(order, pix)), pix)
    if order <= 5:  # every pixel
        allpix = np.arange(npix)
        np.testing.assert_array_equal(healpix_nest_to_ring(order, allpix), healpy.nest2ring(nside, allpix))


@pytest.mark.parametrize("order", [0, 3, 10, 29])
@pytest.mark.parametrize("scheme", ["nest", "ring"])
def test_pixel_centers_match_healpy_and_index_back(order, scheme):
    h = HealpixPixelization(order, scheme)
    rng = np.random.default_rng(7)
    pix = np.concatenate([[0, h.npix - 1], rng.integers(0, h.npix, 5000)])
    lon, lat = h.pixel_center(pix)
    theta, phi = healpy.pix2ang(h.nside, pix, nest=h.nest)
    np.testing.assert_allclose(lat, np.pi / 2 - theta, rtol=0, atol=2e-15)
    dlon = np.angle(np.exp(1j * (lon - phi))) * np.cos(lat)
    np.testing.assert_allclose(dlon, 0.0, atol=4e-15)
    np.testing.assert_array_equal(h.index(lon, lat), pix)


@pytest.mark.parametrize("order", [2, 9])
def test_points_inside_pixels_index_to_that_pixel(order):
    # Fractional (fx, fy) in (0, 1)^2 covers the pixel, so a correct geometry maps them back.
    h = HealpixPixelization(order)
    rng = np.random.default_rng(11)
    pix = rng.integers(0, h.npix, 4000)
    fx, fy = rng.uniform(1e-6, 1 - 1e-6, (2, pix.size))
    lon, lat = h.pixel_points(pix, fx, fy)
    np.testing.assert_array_equal(h.index(lon, lat), pix)


def test_corners_and_pixel_polygon_match_healpy_boundaries():
    h = HealpixPixelization(4)
    pix = np.array([0, 17, 1000, 1500, h.npix - 1])
    lon, lat = h.pixel_corners(pix)
    vec = healpy.boundaries(h.nside, pix, step=1, nest=True)  # (n, 3, 4): N, W, S, E
    ours = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    np.testing.assert_allclose(ours, vec, atol=1e-14)
    poly = h.pixel(1000)
    assert isinstance(poly, ConvexPolygon) and len(poly.vertices) == 4
    assert poly.contains(*h.pixel_center([1000]))[0]


def test_index_vector_matches_healpy():
    rng = np.random.default_rng(3)
    xyz = rng.normal(size=(20_000, 3)) * 3.0  # not unit length
    for scheme in ("nest", "ring"):
        h = HealpixPixelization(12, scheme)
        np.testing.assert_array_equal(h.index_vector(xyz), healpy.vec2pix(h.nside, *xyz.T, nest=h.nest))


def _points_in(region, n, seed):
    """n random points inside region, including some within 1e-9 rad of its boundary."""
    rng = np.random.default_rng(seed)
    bc = region.get_bounding_circle()
    c, r = bc.center, bc.radius.as_radians()
    out_lon, out_lat = [], []
    while sum(map(len, out_lon)) < n:
        # uniform within the bounding cap
        cosr = rng.uniform(math.cos(r), 1.0, 4 * n)
        az = rng.uniform(0, 2 * np.pi, 4 * n)
        lon0, lat0 = c.longitude.as_radians(), c.latitude.as_radians()
        d = np.arccos(cosr)
        lat = np.arcsin(np.sin(lat0) * np.cos(d) + np.cos(lat0) * np.sin(d) * np.cos(az))
        lon = lon0 + np.arctan2(np.sin(az) * np.sin(d) * np.cos(lat0), np.cos(d) - np.sin(lat0) * np.sin(lat))
        keep = region.contains(lon, lat)
        out_lon.append(lon[keep])
        out_lat.append(lat[keep])
    return np.concatenate(out_lon)[:n], np.concatenate(out_lat)[:n]


REGIONS = {
    "circle": Circle(SpherePoint(40.0, 25.0, degrees), Angle(3.0, degrees)),
    "polar-circle": Circle(SpherePoint(10.0, 88.0, degrees), Angle(4.0, degrees)),
    "polygon": ConvexPolygon(
        [
            SpherePoint(350.0, -5.0, degrees),
            SpherePoint(8.0, -4.0, degrees),
            SpherePoint(10.0, 6.0, degrees),
            SpherePoint(352.0, 7.0, degrees),
        ]
    ),
    "box": Box.from_degrees(120.0, 128.0, 40.0, 46.0),
    "wrapping-box": Box.from_degrees(355.0, 8.0, -12.0, 3.0),
    "wide-box": Box.from_degrees(10.0, 250.0, 60.0, 70.0),
    "polar-box": Box.from_degrees(0.0, 360.0, -90.0, -82.0),
}


@pytest.mark.parametrize("name", sorted(REGIONS))
@pytest.mark.parametrize("scheme", ["nest", "ring"])
def test_envelope_contains_pixel_of_every_point(name, scheme):
    region = REGIONS[name]
    h = HealpixPixelization(9, scheme)
    lon, lat = _points_in(region, 10_000, 1)
    env = h.envelope(region)
    assert isinstance(env, RangeSet)
    pix = h.index(lon, lat)
    assert bool(np.all(env.contains(pix.astype(np.uint64))))
    # not vacuous: the envelope is not much bigger than the pixels centred in the region
    env_pix = np.concatenate([np.arange(b, e) for b, e in env])
    centred = np.count_nonzero(region.contains(*h.pixel_center(env_pix)))
    assert env.size() < 1.3 * centred + 300
    # coarsening keeps it an envelope
    small = h.envelope(region, max_ranges=3)
    assert len(small) <= 3 and small.issuperset(env)


@pytest.mark.parametrize("name", sorted(REGIONS))
def test_interior_pixels_are_inside_region(name):
    region = REGIONS[name]
    h = HealpixPixelization(8)
    interior, env = h.interior(region), h.envelope(region)
    assert interior.issubset(env)
    pix = np.concatenate([np.arange(b, e) for b, e in interior]) if len(interior) else np.zeros(0, int)
    # substantial: at least half of the pixels whose centres are in the region
    lon_c, lat_c = h.pixel_center(np.concatenate([np.arange(b, e) for b, e in env]))
    assert pix.size >= 0.5 * np.count_nonzero(region.contains(lon_c, lat_c)) > 0
    rng = np.random.default_rng(5)
    fx, fy = rng.uniform(0, 1, (2, pix.size, 20))
    fx[:, :4], fy[:, :4] = [1, 0, 0, 1], [1, 1, 0, 0]  # the corners too
    lon, lat = h.pixel_points(pix[:, None], fx, fy)
    assert bool(np.all(region.contains(lon, lat)))
    assert h.interior(region, max_ranges=2).issubset(interior)


def test_universe_pickle_and_properties():
    h = HealpixPixelization(3, "ring")
    assert h.universe() == RangeSet(0, 768) and h.npix == 768 and h.nside == 8 and h.level == 3
    assert pickle.loads(pickle.dumps(h)) == h and h != HealpixPixelization(3)
    assert h.index_point(SpherePoint(45.0, 30.0, degrees)) == healpy.ang2pix(8, 45.0, 30.0, lonlat=True)
    full = h.envelope(Circle(SpherePoint(0.0, 0.0, degrees), Angle(math.pi)))
    assert full == h.universe()


@pytest.mark.parametrize("order", [-1, 30, 2.0, True, "5"])
def test_bad_order(order):
    with pytest.raises(GeomValueError, match="order"):
        HealpixPixelization(order)


def test_bad_inputs():
    h = HealpixPixelization(5)
    with pytest.raises(GeomValueError, match="scheme"):
        HealpixPixelization(5, "galactic")
    for lon, lat in [([0.0, np.nan], [0.0, 0.0]), ([np.inf], [0.0]), ([0.0], [2.0]), ([0.0], [-np.inf])]:
        with pytest.raises(GeomValueError, match="finite"):
            h.index(lon, lat)
    with pytest.raises(GeomValueError, match=r"\[0, 12288\)"):
        h.pixel_center([12288])
    with pytest.raises(GeomValueError, match="integers"):
        h.pixel_center([1.5])
    with pytest.raises(GeomValueError, match="non-zero"):
        h.index_vector([[0.0, 0.0, 0.0]])
    with pytest.raises(GeomValueError, match="order"):
        healpix_nest_to_ring(30, [0])
    with pytest.raises(TypeError):  # the kernel refuses silent conversions
        _geom.healpix_ang2pix(5, True, np.zeros(2, np.float32), np.zeros(2))
    with pytest.raises(ValueError, match="order"):  # C++ backstop
        _geom.healpix_ang2pix(30, True, np.zeros(2), np.zeros(2))


class _OpaqueCircle(Region):
    """A circle that healpix.py cannot recognise: exercises the generic Region code paths."""

    __slots__ = ("_c",)
    _KIND = 0
    _TYPE_BYTE = b"c"

    def __init__(self, circle):
        self._c = circle

    def _params(self):
        return self._c._params()

    @classmethod
    def _from_params(cls, values):
        return cls(Circle._from_params(values))


def test_generic_region_path_agrees_with_circle():
    circle = REGIONS["circle"]
    opaque = _OpaqueCircle(circle)
    h = HealpixPixelization(7)
    fast_env, fast_int = h.envelope(circle), h.interior(circle)
    env, interior = h.envelope(opaque), h.interior(opaque)  # bounding circle; relate() per pixel
    assert env.issuperset(fast_env)
    assert interior.issubset(env) and interior.size() >= 0.9 * fast_int.size() > 0
    pix = np.concatenate([np.arange(b, e) for b, e in interior])
    lon, lat = h.pixel_points(pix[:, None], _CORNERS[:, 0], _CORNERS[:, 1])
    assert bool(np.all(circle.contains(lon, lat)))
