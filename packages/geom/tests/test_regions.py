"""Tests of osprey.geom.regions: containment vs numpy references, relations, bounds, encoding."""

import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from osprey.geom.angle import Angle, degrees
from osprey.geom.errors import GeomValueError, RegionDecodeError
from osprey.geom.regions import Box, Circle, ConvexPolygon, Region, Relationship
from osprey.geom.sphere import SpherePoint, UnitVector3d, lonlat_to_vector, separation

D, I, C, W = Relationship.DISJOINT, Relationship.INTERSECTS, Relationship.CONTAINS, Relationship.WITHIN


def sp(lon, lat):
    return SpherePoint(lon, lat, degrees)


def random_points(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 2 * np.pi, n), np.arcsin(rng.uniform(-1, 1, n))


# --- brute-force numpy references ---------------------------------------------------------
def ref_circle(center_lon, center_lat, radius, lon, lat):
    return separation(center_lon, center_lat, lon, lat) <= radius


def ref_polygon(vertices, lon, lat):
    v = np.asarray(vertices)
    n = np.cross(v, np.roll(v, -1, axis=0))
    return np.all(lonlat_to_vector(lon, lat) @ n.T >= 0, axis=1)


def ref_box(lon_a, lon_b, lat_a, lat_b, lon, lat):
    width = (lon_b - lon_a) % (2 * np.pi)
    in_lon = (lon - lon_a) % (2 * np.pi) <= width
    return in_lon & (lat >= lat_a) & (lat <= lat_b)


def polygon_deg(corners):
    return ConvexPolygon([sp(a, b) for a, b in corners])


POLY = polygon_deg([(20, -10), (60, -20), (75, 15), (40, 35), (15, 20)])
CIRCLE = Circle(sp(200, -40), Angle(25, degrees))
BOX_WRAP = Box.from_degrees(340, 25, -30, 50)


# --- containment ----------------------------------------------------------------------------
def test_circle_contains_matches_reference():
    lon, lat = random_points(100_000, 1)
    got = CIRCLE.contains(lon, lat)
    ref = ref_circle(math.radians(200), math.radians(-40), math.radians(25), lon, lat)
    assert_array_equal(got, ref)
    assert 0.03 < got.mean() < 0.06  # a 25-degree cap covers ~4.7% of the sphere


def test_polygon_contains_matches_reference():
    lon, lat = random_points(100_000, 2)
    got = POLY.contains(lon, lat)
    assert_array_equal(got, ref_polygon(POLY.vertex_array, lon, lat))
    assert got.sum() > 1000
    x, y, z = lonlat_to_vector(lon, lat).T
    assert_array_equal(POLY.contains_xyz(2 * x, 2 * y, 2 * z), got)


def test_box_contains_matches_reference():
    lon, lat = random_points(100_000, 3)
    got = BOX_WRAP.contains(lon, lat)
    ref = ref_box(math.radians(340), math.radians(25), math.radians(-30), math.radians(50), lon, lat)
    assert_array_equal(got, ref)
    assert got[(lon < math.radians(25)) & (np.abs(lat) < 0.4)].all()  # wraps through lon 0
    # longitudes outside [0, 2*pi) are wrapped, vectors agree with lon/lat
    assert_array_equal(BOX_WRAP.contains(lon - 2 * np.pi, lat), got)
    x, y, z = lonlat_to_vector(lon, lat).T
    assert_array_equal(BOX_WRAP.contains_xyz(x, y, z), got)


def test_containment_edge_cases():
    assert POLY.contains(sp(40, 5)) and not POLY.contains(sp(200, 5))
    assert POLY.contains(UnitVector3d(*lonlat_to_vector(math.radians(40), math.radians(5))))
    # NaN / infinite coordinates are outside every region, including the full ones
    for region in (POLY, CIRCLE, BOX_WRAP, Box.full(), Circle.full()):
        assert_array_equal(region.contains([np.nan, 0.0, np.inf], [0.0, np.nan, 0.0]), [False, False, False])
    # poles belong to a box reaching them, whatever its longitudes
    cap = Box.from_degrees(10, 20, 80, 90)
    assert cap.contains(0.0, np.pi / 2) and cap.contains(sp(300, 90))
    # scalar in, scalar out; arrays keep their shape
    assert isinstance(CIRCLE.contains(0.0, 0.0), bool)
    lon, lat = random_points(12, 4)
    assert CIRCLE.contains(lon.reshape(3, 4), lat.reshape(3, 4)).shape == (3, 4)


# --- relations -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Circle(sp(0, 0), 10 * degrees), Circle(sp(30, 0), 10 * degrees), D),
        (Circle(sp(0, 0), 10 * degrees), Circle(sp(15, 0), 10 * degrees), I),
        (Circle(sp(0, 0), 10 * degrees), Circle(sp(2, 1), 3 * degrees), I | C),
        (Circle(sp(2, 1), 3 * degrees), Circle(sp(0, 0), 10 * degrees), I | W),
        (Circle(sp(0, 0), 180 * degrees), Circle(sp(0, 0), 1 * degrees), I | C),
        (POLY, Circle(sp(40, 5), 2 * degrees), I | C),
        (POLY, Circle(sp(40, 5), 60 * degrees), I | W),
        (POLY, Circle(sp(200, 5), 20 * degrees), D),
        (POLY, Circle(sp(20, -10), 1 * degrees), I),
        (POLY, polygon_deg([(35, 0), (45, 0), (40, 5)]), I | C),
        (POLY, polygon_deg([(100, 0), (120, 0), (110, 10)]), D),
        (POLY, polygon_deg([(70, 0), (90, 0), (80, 10)]), D),  # POLY's edge crosses lat 0 near lon 68.6
        (POLY, polygon_deg([(65, 0), (90, 0), (80, 10)]), I),
        (POLY, Box.from_degrees(30, 40, 0, 10), I | C),
        (POLY, Box.from_degrees(0, 100, -40, 60), I | W),
        (POLY, Box.from_degrees(100, 120, -40, 60), D),
        (POLY, Box.from_degrees(10, 30, -40, 0), I),
        # boxes wrapping through longitude 0
        (BOX_WRAP, Box.from_degrees(350, 5, 0, 10), I | C),
        (BOX_WRAP, Box.from_degrees(30, 330, -30, 50), D),
        (BOX_WRAP, Box.from_degrees(20, 40, 0, 10), I),
        (BOX_WRAP, Box.from_degrees(25, 40, 0, 10), I),  # shares the lon=25 meridian
        (Box.from_degrees(0, 10, 80, 90), Box.from_degrees(180, 190, 85, 90), I),  # share the pole
        (BOX_WRAP, Circle(sp(0, 0), 5 * degrees), I | C),
        (BOX_WRAP, Circle(sp(180, 0), 5 * degrees), D),
        (Circle(sp(0, 10), 80 * degrees), BOX_WRAP, I | C),
        (Box.full(), POLY, I | C),
        (Box.full(), Box.full(), I | C | W),
    ],
)
def test_relate_known_answers(a, b, expected):
    assert a.relate(b) == expected
    inverse = (expected & (D | I)) | (W if expected & C else 0) | (C if expected & W else 0)
    assert b.relate(a) == inverse


REGIONS = [
    Circle(sp(10, 10), 8 * degrees),
    Circle(sp(30, -5), 15 * degrees),
    Circle(sp(350, 60), 40 * degrees),
    Circle(sp(100, -80), 120 * degrees),
    polygon_deg([(0, 0), (20, 0), (20, 20), (0, 20)]),
    polygon_deg([(5, 5), (12, 4), (9, 14)]),
    polygon_deg([(330, 40), (30, 40), (0, 80)]),
    Box.from_degrees(0, 30, -10, 25),
    Box.from_degrees(350, 40, 30, 90),
    Box.from_degrees(6, 14, 6, 14),
]


@pytest.mark.parametrize("i", range(len(REGIONS)))
def test_relate_claims_hold_on_samples(i):
    """DISJOINT/CONTAINS/WITHIN claims are checked against 50k sample points."""
    lon, lat = random_points(50_000, 10 + i)
    a = REGIONS[i]
    in_a = a.contains(lon, lat)
    for b in REGIONS:
        r = a.relate(b)
        in_b = b.contains(lon, lat)
        assert bool(r & D) != bool(r & I)
        if r & D:
            assert not np.any(in_a & in_b)
        else:
            assert r & I
        if r & C:
            assert np.all(in_a[in_b])
        if r & W:
            assert np.all(in_b[in_a])
        if np.any(in_a & in_b):
            assert not r & D
    assert a.relate(a) & I


def test_predicates():
    small, big = Circle(sp(0, 0), 1 * degrees), Circle(sp(0, 0), 5 * degrees)
    far = Circle(sp(90, 0), 1 * degrees)
    assert big.contains_region(small) and small.is_within(big)
    assert small.intersects(big) and not small.intersects(far)
    assert small.is_disjoint_from(far)
    assert big.overlaps(small) is True and small.overlaps(far) is False
    assert Circle(sp(0, 0), 5 * degrees).overlaps(Circle(sp(8, 0), 5 * degrees)) is None
    with pytest.raises(TypeError):
        small.relate(sp(0, 0))


# --- bounds -----------------------------------------------------------------------------------
@pytest.mark.parametrize("region", REGIONS + [BOX_WRAP, POLY, CIRCLE, Circle(sp(0, 89), 3 * degrees)])
def test_bounding_regions_contain_region(region):
    lon, lat = random_points(100_000, 77)
    inside = region.contains(lon, lat)
    bc, bb = region.get_bounding_circle(), region.get_bounding_box()
    assert bc.contains(lon[inside], lat[inside]).all()
    assert bb.contains(lon[inside], lat[inside]).all()
    assert bc == region or bc.relate(region) & C
    assert bb == region or bb.relate(region) & C
    # and they are reasonably tight: at most 3x the sampled area of the region
    assert bb.contains(lon, lat).sum() <= 3 * max(inside.sum(), 30)


def test_bounding_box_of_circle_values():
    bb = Circle(sp(40, 60), 10 * degrees).get_bounding_box()
    assert bb.lat_min.as_degrees() == pytest.approx(50, abs=1e-9)
    assert bb.lat_max.as_degrees() == pytest.approx(70, abs=1e-9)
    half = math.degrees(math.asin(math.sin(math.radians(10)) / math.cos(math.radians(60))))
    assert bb.lon_min.as_degrees() == pytest.approx(40 - half, abs=1e-9)
    polar = Circle(sp(40, 85), 10 * degrees).get_bounding_box()
    assert polar.lat_max.as_degrees() == 90 and polar.lon_max.as_radians() - polar.lon_min.as_radians() == 2 * math.pi


# --- construction and validation ----------------------------------------------------------------
def test_polygon_orientation_and_validation():
    cw = polygon_deg([(0, 0), (0, 10), (10, 10), (10, 0)])  # clockwise input is reversed
    assert cw.contains(sp(5, 5)) and not cw.contains(sp(185, -5))
    with pytest.raises(GeomValueError, match="convex"):
        polygon_deg([(0, 0), (10, 0), (5, 2), (10, 10), (0, 10)])  # concave
    with pytest.raises(GeomValueError, match="convex"):
        polygon_deg([(0, 0), (10, 0), (20, 0)])  # all on the equator
    with pytest.raises(GeomValueError, match="at least 3"):
        polygon_deg([(0, 0), (10, 0)])
    with pytest.raises(GeomValueError, match="convex"):
        polygon_deg([(0, 0), (10, 0), (10, 0), (0, 10)])  # duplicate vertex
    with pytest.raises(GeomValueError, match="finite"):
        ConvexPolygon(np.array([[1, 0, 0], [0, 1, 0], [np.nan, 0, 1]]))


def test_convex_hull():
    rng = np.random.default_rng(8)
    lon = rng.uniform(0.2, 0.6, 500)
    lat = rng.uniform(-0.3, 0.2, 500)
    pts = lonlat_to_vector(lon, lat)
    hull = ConvexPolygon.convex_hull(pts)
    v = hull.vertex_array
    # every hull vertex is one of the input points
    is_vertex = np.array([np.any(np.all(np.abs(v - row) < 1e-15, axis=1)) for row in pts])
    assert is_vertex.sum() == len(v) >= 3
    # every other point is inside (vertices sit on edges, where rounding decides)
    assert hull.contains(lon[~is_vertex], lat[~is_vertex]).all()
    # and nothing outside: the hull is inside the bounding box of the points
    assert hull.get_bounding_box().lon_min.as_radians() > lon.min() - 1e-12
    square = [sp(0, 0), sp(10, 0), sp(10, 10), sp(0, 10), sp(5, 5), sp(3, 7)]
    assert len(ConvexPolygon.convex_hull(square).vertices) == 4
    with pytest.raises(GeomValueError, match="hemisphere|degenerate"):
        ConvexPolygon.convex_hull([sp(0, 0), sp(120, 0), sp(240, 0), sp(0, 89)])
    with pytest.raises(GeomValueError, match="degenerate"):
        ConvexPolygon.convex_hull([sp(0, 0), sp(5, 0), sp(10, 0)])


def test_circle_and_box_validation():
    with pytest.raises(GeomValueError, match=">= 0"):
        Circle(sp(0, 0), Angle(-1.0))
    assert Circle(sp(0, 0), Angle(4.0)).is_full()
    with pytest.raises(GeomValueError, match="lat_min"):
        Box.from_degrees(0, 10, 20, 10)
    with pytest.raises(GeomValueError, match="lat_min"):
        Box.from_degrees(0, 10, -95, 10)
    with pytest.raises(TypeError):
        Box(0.0, 1.0, 0.0, 1.0)
    assert Box.from_degrees(-10, 10, 0, 1).wraps()
    assert Box.from_degrees(0, 360, -90, 90).is_full() and Box.full().is_full()


# --- encoding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("region", REGIONS + [BOX_WRAP, Box.full(), Circle.full(), POLY])
def test_encode_decode_round_trip(region):
    data = region.encode()
    back = Region.decode(data)
    assert type(back) is type(region) and back == region
    assert back.encode() == data  # bit-exact
    assert hash(back) == hash(region)
    assert pickle.loads(pickle.dumps(region)) == region
    assert (
        eval(
            repr(region),
            {
                "Circle": Circle,
                "Box": Box,
                "ConvexPolygon": ConvexPolygon,
                "UnitVector3d": UnitVector3d,
                "Angle": Angle,
            },
        ).relate(region)
        & I
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x" + bytes(32), "unknown region type"),
        (CIRCLE.encode()[:-3], "truncated Circle"),
        (CIRCLE.encode()[:-8], "truncated Circle"),
        (POLY.encode()[:-8], "truncated ConvexPolygon"),
        (POLY.encode()[:25], "truncated ConvexPolygon"),
        (BOX_WRAP.encode() + bytes(8), "truncated Box"),
        (b"c" + np.array([2.0, 0, 0, 0.1]).tobytes(), "not a unit vector"),
        (b"c" + np.array([1.0, 0, 0, np.nan]).tobytes(), "non-finite"),
        (b"c" + np.array([1.0, 0, 0, 4.0]).tobytes(), "radius"),
        (b"b" + np.array([0.0, 1.0, 1.0, 0.0]).tobytes(), "latitudes"),
        (b"p" + np.array([[1.0, 0, 0], [0, 1, 0], [0, -1, 0]]).tobytes(), "convex"),
    ],
)
def test_decode_rejects_bad_bytes(data, message):
    with pytest.raises(RegionDecodeError, match=message):
        Region.decode(data)


def test_decode_rejects_non_bytes():
    with pytest.raises(RegionDecodeError, match="bytes"):
        Region.decode("c")
    assert isinstance(RegionDecodeError("x"), ValueError)
