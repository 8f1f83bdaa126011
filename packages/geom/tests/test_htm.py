"""Tests of osprey.geom.htm against lsst-sphgeom and brute-force point sampling."""

import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from osprey.geom import _geom
from osprey.geom.angle import Angle, degrees
from osprey.geom.errors import GeomValueError
from osprey.geom.htm import HtmPixelization
from osprey.geom.pixelization import Pixelization
from osprey.geom.rangeset import RangeSet
from osprey.geom.regions import Box, Circle, ConvexPolygon, Relationship
from osprey.geom.sphere import SpherePoint, lonlat_to_vector

sphgeom = pytest.importorskip("lsst.sphgeom")


def special_points():
    """Poles, lon = 0 / 2*pi, and points on root-trixel edges (equator, lon multiples of 45 deg)."""
    lons = np.radians(np.arange(0, 361, 45.0))
    lats = np.radians(np.array([-90, -60, -45, -30, 0, 30, 45, 60, 90.0]))
    lon, lat = np.meshgrid(lons, lats)
    extra_lon = np.array([2 * np.pi, -0.0, 1e-300, 2 * np.pi - 1e-15, np.pi, np.pi / 2, 3 * np.pi / 2])
    extra_lat = np.array([0.0, 0.0, 0.0, 0.0, 1e-300, -1e-300, 0.0])
    return np.concatenate([lon.ravel(), extra_lon]), np.concatenate([lat.ravel(), extra_lat])


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(20240612)
    n = 100_000
    lon = rng.uniform(0, 2 * np.pi, n)
    lat = np.arcsin(rng.uniform(-1, 1, n))
    slon, slat = special_points()
    return np.concatenate([lon, slon]), np.concatenate([lat, slat])


def sphgeom_index(level, lon, lat):
    pix = sphgeom.HtmPixelization(level)
    uv, ll = sphgeom.UnitVector3d, sphgeom.LonLat.fromRadians
    return np.array([pix.index(uv(ll(a, b))) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)], dtype=np.uint64)


@pytest.mark.parametrize("level", [0, 1, 7, 20, 24])
def test_index_matches_sphgeom(points, level):
    lon, lat = points
    if level in (0, 1, 24):  # cheaper spot checks at the extreme levels
        lon, lat = lon[-20_000:], lat[-20_000:]
    ours = HtmPixelization(level).index(lon, lat)
    assert ours.dtype == np.uint64
    assert_array_equal(ours, sphgeom_index(level, lon, lat))
    lo, hi = 8 << (2 * level), 16 << (2 * level)
    assert ours.min() >= lo and ours.max() < hi


def test_index_special_points_exactly():
    lon, lat = special_points()
    for level in (2, 5, 13):
        assert_array_equal(HtmPixelization(level).index(lon, lat), sphgeom_index(level, lon, lat))
    # the vector path agrees with the lon/lat path
    pix = HtmPixelization(9)
    assert_array_equal(pix.index_vectors(lonlat_to_vector(lon, lat)), pix.index(lon, lat))


def sphgeom_exact_vector(x, y, z):
    """A sphgeom UnitVector3d holding exactly (x, y, z) (its unpickling uses fromNormalized)."""
    u = sphgeom.UnitVector3d.__new__(sphgeom.UnitVector3d)
    u.__setstate__((x, y, z))
    return u


def sphgeom_index_vectors(level, xyz):
    pix = sphgeom.HtmPixelization(level)
    return np.array([pix.index(sphgeom_exact_vector(*r)) for r in xyz.tolist()], dtype=np.uint64)


def test_index_million_points_level20():
    # all kernels agree with the exact one-point loop (itself checked against sphgeom above)
    rng = np.random.default_rng(99)
    n = 1_000_000
    lon = rng.uniform(0, 2 * np.pi, n)
    lat = np.arcsin(rng.uniform(-1, 1, n))
    ref = _geom.htm_index(lon, lat, 20, kernel=2)
    assert_array_equal(HtmPixelization(20).index(lon, lat), ref)
    assert_array_equal(_geom.htm_index(lon, lat, 20, kernel=1), ref)
    k = 50_000  # and sphgeom directly on a slice
    assert_array_equal(ref[:k], sphgeom_index(20, lon[:k], lat[:k]))


def _edge_points(rng, level, ntri):
    """Exact sphgeom trixel vertices and midpoints, points on trixel edges and ones 1e-17..1e-14 off."""
    pts = []
    ref = sphgeom.HtmPixelization(level)
    for i in rng.integers(8 << (2 * level), 16 << (2 * level), ntri).tolist():
        v = np.array([[u.x(), u.y(), u.z()] for u in ref.triangle(i).getVertices()])
        child = sphgeom.HtmPixelization(level + 1).triangle(4 * i + 3)
        w = np.array([[u.x(), u.y(), u.z()] for u in child.getVertices()])
        pts.extend(v)
        pts.extend(w)
        for a, b in ((v[0], v[1]), (v[1], v[2]), (v[2], v[0]), (w[0], w[1]), (w[1], w[2]), (w[2], w[0])):
            for t in rng.uniform(0, 1, 2):
                q = a + t * (b - a)
                q /= np.linalg.norm(q)
                pts.append(q)
                pts.extend(q + e * rng.normal(size=3) for e in (1e-17, 1e-16, 1e-15, 1e-14))
    return np.array(pts)


@pytest.mark.parametrize("level", [1, 4, 11, 19, 23])
def test_index_on_and_near_trixel_edges_matches_sphgeom(level):
    rng = np.random.default_rng(level)
    xyz = _edge_points(rng, level, 60)
    lon = np.mod(np.arctan2(xyz[:, 1], xyz[:, 0]), 2 * np.pi)
    lat = np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1]))
    for lv in (level, level + 1):
        ref = sphgeom_index_vectors(lv, xyz)
        ref_ll = sphgeom_index(lv, lon, lat)
        for kernel in (0, 1, 2):
            assert_array_equal(_geom.htm_index_xyz(xyz, lv, kernel=kernel), ref)
            assert_array_equal(_geom.htm_index(lon, lat, lv, kernel=kernel), ref_ll)


def test_index_kernels_agree_on_unusual_inputs():
    rng = np.random.default_rng(5)
    n = 50_000
    lat = rng.uniform(-np.pi, np.pi, n)  # beyond the poles too
    for lon in (rng.uniform(-4 * np.pi, 4 * np.pi, n), rng.uniform(-1e6, 1e6, n)):  # large: exact path
        for level in (0, 6, 24):
            ref = _geom.htm_index(lon, lat, level, kernel=2)
            assert_array_equal(_geom.htm_index(lon, lat, level, kernel=0), ref)
            assert_array_equal(_geom.htm_index(lon, lat, level, kernel=1), ref)
            assert_array_equal(HtmPixelization(level).index_vectors(lonlat_to_vector(lon, lat)), ref)
    # vectors of any length (sphgeom takes them as given): tiny, huge, non-unit
    scale = rng.choice([1e-200, 1e-160, 1e-3, 7.0, 1e160, 1e200], size=(4000, 1))
    xyz = rng.normal(size=(4000, 3)) * scale
    for level in (3, 20):
        ref = sphgeom_index_vectors(level, xyz)
        for kernel in (0, 1, 2):
            assert_array_equal(_geom.htm_index_xyz(xyz, level, kernel=kernel), ref)
    with pytest.raises(ValueError, match="kernel"):
        _geom.htm_index(np.zeros(1), np.zeros(1), 3, kernel=3)


def test_index_shapes_scalars_and_errors():
    pix = HtmPixelization(3)
    assert pix.index(np.zeros((2, 3)), 0.5).shape == (2, 3)
    p = SpherePoint(10.0, 20.0, degrees)
    assert pix.index_point(p) == int(
        sphgeom.HtmPixelization(3).index(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(10, 20)))
    )
    with pytest.raises(GeomValueError, match="finite"):
        pix.index([np.nan], [0.0])
    for bad in (-1, 25, 2.5, True):
        with pytest.raises(GeomValueError, match="level"):
            HtmPixelization(bad)
    with pytest.raises(ValueError, match="level"):
        _geom.htm_index(np.zeros(1), np.zeros(1), 30)  # C++ backstop
    assert isinstance(pix, Pixelization)
    assert pickle.loads(pickle.dumps(pix)) == pix and repr(pix) == "HtmPixelization(3)"


def test_pixel_matches_sphgeom_triangle():
    pix, ref = HtmPixelization(6), sphgeom.HtmPixelization(6)
    rng = np.random.default_rng(2)
    for i in rng.integers(8 << 12, 16 << 12, 25).tolist():
        ours = pix.pixel(i).vertex_array
        theirs = np.array([[v.x(), v.y(), v.z()] for v in ref.triangle(i).getVertices()])
        assert np.abs(ours - theirs).max() < 1e-15  # the polygon renormalizes its vertices
        assert_array_equal(_geom.htm_trixel(i), theirs)  # bit for bit: midpoints normalized as sphgeom does
        c = pix.pixel(i).get_bounding_circle().center
        assert pix.index_point(c) == i  # the centre of a trixel indexes to the trixel
    with pytest.raises(GeomValueError, match="not an HTM id"):
        pix.pixel(5)
    assert HtmPixelization.level_of(8 << 12) == 6 and HtmPixelization.level_of(7) == -1
    assert pix.universe() == RangeSet(8 << 12, 16 << 12)


def _regions():
    def sp(a, b):
        return SpherePoint(a, b, degrees)

    ours = [
        Circle(sp(30, 40), Angle(3, degrees)),
        Circle(sp(0, -89), Angle(2, degrees)),  # contains the south pole
        ConvexPolygon([sp(a, b) for a, b in [(0, 0), (10, 0), (12, 8), (1, 10)]]),
        ConvexPolygon([sp(a, b) for a, b in [(200, -30), (215, -28), (205, -15)]]),
        Box.from_degrees(350, 10, -5, 5),  # wraps through lon 0, straddles the equator
        Box.from_degrees(80, 100, 60, 70),
    ]
    S = sphgeom
    theirs = [
        S.Circle(S.UnitVector3d(S.LonLat.fromDegrees(30, 40)), S.Angle.fromDegrees(3)),
        S.Circle(S.UnitVector3d(S.LonLat.fromDegrees(0, -89)), S.Angle.fromDegrees(2)),
        S.ConvexPolygon([S.UnitVector3d(S.LonLat.fromDegrees(a, b)) for a, b in [(0, 0), (10, 0), (12, 8), (1, 10)]]),
        S.ConvexPolygon([S.UnitVector3d(S.LonLat.fromDegrees(a, b)) for a, b in [(200, -30), (215, -28), (205, -15)]]),
        S.Box(S.LonLat.fromDegrees(350, -5), S.LonLat.fromDegrees(10, 5)),
        S.Box(S.LonLat.fromDegrees(80, 60), S.LonLat.fromDegrees(100, 70)),
    ]
    return list(zip(ours, theirs, strict=True))


REGIONS = _regions()


@pytest.mark.parametrize("k", range(len(REGIONS)))
@pytest.mark.parametrize("level", [4, 9])
def test_envelope_and_interior(k, level):
    region, ref_region = REGIONS[k]
    pix = HtmPixelization(level)
    env, inner = pix.envelope(region), pix.interior(region)
    assert inner.issubset(env)
    # 10^4 random points inside the region (sampled in its bounding circle)
    bc = region.get_bounding_circle()
    rng = np.random.default_rng(k)
    c = bc.center
    r = bc.radius.as_radians()
    n = 40_000
    cosr = rng.uniform(math.cos(r), 1.0, n)
    lon, lat = _geom.offset(
        np.full(n, c.longitude.as_radians()),
        np.full(n, c.latitude.as_radians()),
        rng.uniform(0, 2 * np.pi, n),
        np.arccos(cosr),
    )
    inside = region.contains(lon, lat)
    lon, lat = lon[inside][:10_000], lat[inside][:10_000]
    assert lon.size == 10_000
    ids = pix.index(lon, lat)
    assert env.contains(ids).all()  # every pixel holding a point of the region is in the envelope
    # every point falling in an interior pixel is inside the region
    lon_all, lat_all = _geom.offset(
        np.full(n, c.longitude.as_radians()),
        np.full(n, c.latitude.as_radians()),
        rng.uniform(0, 2 * np.pi, n),
        np.arccos(rng.uniform(math.cos(r), 1.0, n)),
    )
    in_interior = inner.contains(pix.index(lon_all, lat_all))
    assert region.contains(lon_all[in_interior], lat_all[in_interior]).all()
    # interior pixels: their trixels are inside the region (relate says so, exactly)
    for b, _ in list(inner)[:20]:
        assert region.relate(pix.pixel(b)) & Relationship.CONTAINS
    # sizes agree with lsst-sphgeom's envelope and interior
    ref = sphgeom.HtmPixelization(level)
    ref_env, ref_inner = ref.envelope(ref_region).cardinality(), ref.interior(ref_region).cardinality()
    assert env.size() <= 1.05 * ref_env + 4
    assert inner.size() >= 0.95 * ref_inner - 4


def test_envelope_equals_sphgeom_exactly_for_a_circle():
    (region, ref_region) = REGIONS[0]
    for level in (6, 10):
        ours = HtmPixelization(level).envelope(region)
        ref = sphgeom.HtmPixelization(level).envelope(ref_region)
        theirs = RangeSet(np.array([[b, e] for b, e in ref], dtype=np.uint64))
        assert ours == theirs


def test_max_ranges_coarsens():
    region = REGIONS[2][0]
    pix = HtmPixelization(10)
    env, inner = pix.envelope(region), pix.interior(region)
    env4, inner4 = pix.envelope(region, max_ranges=4), pix.interior(region, max_ranges=4)
    assert len(env4) <= 4 and env4.issuperset(env)
    assert len(inner4) <= 4 and inner4.issubset(inner)
    assert len(env) > 4
    with pytest.raises(GeomValueError, match="max_ranges"):
        pix.envelope(region, max_ranges=-1)


def test_full_sky_regions():
    pix = HtmPixelization(5)
    assert pix.envelope(Box.full()) == pix.universe()
    assert pix.interior(Circle.full()) == pix.universe()
