"""Tests of osprey.geom.skymap: tract assignment, patch tiling, TAN projection, storage identity."""

import math
import pickle

import numpy as np
import pytest

from osprey.geom.angle import Angle, arcminutes, arcseconds, degrees, radians
from osprey.geom.cartesian import Box2I, Extent2I, Point2I
from osprey.geom.errors import GeomValueError
from osprey.geom.regions import Box, Circle, ConvexPolygon
from osprey.geom.skymap import RingsSkyMap, RingsSkyMapConfig, tan_plane_to_sky, tan_sky_to_plane
from osprey.geom.sphere import SpherePoint, offset, separation

# 20 rings of 180/21 = 8.57 deg, 1"/pixel: ~31k-pixel tracts of 8x8 patches (fast to test).
SMALL = RingsSkyMapConfig(num_rings=20, pixel_scale=Angle(1.0, arcseconds), tract_overlap=Angle(2.0, arcminutes))


@pytest.fixture(scope="module")
def skymap():
    return RingsSkyMap(SMALL)


def random_sky(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0 * np.pi, n), np.arcsin(rng.uniform(-1.0, 1.0, n))


def test_tract_counts_for_known_configs(skymap):
    # Ring i spans dec [-90 + (i + 1/2) w, -90 + (i + 3/2) w) with w = 180/21 deg; it holds
    # ceil(360 cos(d) / w) tracts, d being its edge nearer the equator (ring 0: d = -77.14 deg,
    # 360 * 0.2225 / 8.571 = 9.35 -> 10; the ring straddling the equator: 360 / 8.571 = 42).
    assert skymap.ring_tract_counts == [10, 16, 21, 27, 31, 35, 38, 41, 42, 42, 42, 42, 41, 38, 35, 31, 27, 21, 16, 10]
    assert len(skymap) == 606 + 2  # the rings plus the two polar caps
    # LSST-like defaults: 120 rings of 180/121 deg; the same rule gives 18934 ring tracts + 2 caps.
    assert len(RingsSkyMap()) == 18936


def test_every_point_in_exactly_one_tract(skymap):
    lon, lat = random_sky(10_000, 1)
    ids = skymap.find_tract_ids(lon, lat)
    hits = np.zeros(lon.size, dtype=np.int64)
    owner = np.full(lon.size, -1)
    for tract in skymap:
        inside = tract.inner_region.contains(lon, lat)
        hits += inside
        owner[inside] = tract.tract_id
    np.testing.assert_array_equal(hits, 1)
    np.testing.assert_array_equal(owner, ids)
    for t in np.unique(ids):
        sel = ids == t
        tract = skymap[int(t)]
        x, y = tract.sky_to_pixel(lon[sel], lat[sel])
        assert bool(np.all(tract.bbox.contains(x, y))), t
    p = SpherePoint(float(lon[0]), float(lat[0]), radians)
    assert skymap.find_tract(p).tract_id == ids[0]


def test_default_skymap_points_fall_in_their_tract_bbox():
    sm = RingsSkyMap()
    lon, lat = random_sky(1500, 2)
    ids = sm.find_tract_ids(lon, lat)
    for k in range(lon.size):
        tract = sm[int(ids[k])]
        assert tract.inner_region.contains(lon[k : k + 1], lat[k : k + 1])[0]
        x, y = tract.sky_to_pixel(lon[k : k + 1], lat[k : k + 1])
        assert tract.bbox.contains(x, y)[0]


@pytest.mark.parametrize("tract_id", [0, 5, 300, 607])
def test_patches_tile_the_tract_bbox(skymap, tract_id):
    tract = skymap[tract_id]
    patches = list(tract)
    nx, ny = tract.num_patches
    assert len(patches) == nx * ny == len(tract)
    assert tract.bbox == Box2I(Point2I(0, 0), Extent2I(nx * 4000, ny * 4000))
    assert sum(p.inner_bbox.area for p in patches) == tract.bbox.area
    union = Box2I()
    for k, p in enumerate(patches):
        assert p.sequential_index == k == p.index.x + p.index.y * nx
        assert tract.bbox.contains(p.inner_bbox)
        union = union.union(p.inner_bbox)
        for q in patches[k + 1 :]:
            assert not p.inner_bbox.overlaps(q.inner_bbox)
        assert p.outer_bbox == p.inner_bbox.grow(100).intersection(tract.bbox)
        assert tract.get_patch_info(p.index) == p
    assert union == tract.bbox
    corner, middle = tract.get_patch_info(Point2I(0, 0)), tract.get_patch_info(Point2I(1, 1))
    assert corner.outer_bbox == Box2I.from_begin_end(0, 0, 4100, 4100)
    assert middle.outer_bbox == Box2I.from_begin_end(3900, 3900, 8100, 8100)


@pytest.mark.parametrize("tract_id", [0, 1, 17, 300, 607])
def test_tan_round_trip(skymap, tract_id):
    tract = skymap[tract_id]
    rng = np.random.default_rng(tract_id)
    x = rng.uniform(-0.5, tract.bbox.width - 0.5, 5000)
    y = rng.uniform(-0.5, tract.bbox.height - 0.5, 5000)
    lon, lat = tract.pixel_to_sky(x, y)
    x2, y2 = tract.sky_to_pixel(lon, lat)
    assert np.max(np.hypot(x2 - x, y2 - y)) < 1e-9
    # the tangent point is at crpix and one pixel is pixel_scale there
    params = tract.wcs_parameters()
    lon0, lat0 = tract.pixel_to_sky(*params["crpix"])
    assert float(separation(lon0, lat0, *np.radians(params["crval"]))) < 1e-15
    lon1, lat1 = tract.pixel_to_sky(params["crpix"][0], params["crpix"][1] + 1.0)
    assert float(separation(lon0, lat0, lon1, lat1)) == pytest.approx(SMALL.pixel_scale.as_radians(), rel=1e-12)
    # plane helpers round-trip as well
    c = tract.ctr_coord
    xi, eta = tan_sky_to_plane(c.longitude.as_radians(), c.latitude.as_radians(), lon, lat)
    lo, la = tan_plane_to_sky(c.longitude.as_radians(), c.latitude.as_radians(), xi, eta)
    assert float(np.max(separation(lo, la, lon, lat))) < 1e-14


@pytest.mark.parametrize("tract_id", [0, 1, 10, 300, 607])
def test_tan_matches_astropy_wcs(skymap, tract_id):
    wcs_mod = pytest.importorskip("astropy.wcs")
    tract = skymap[tract_id]
    p = tract.wcs_parameters()
    w = wcs_mod.WCS(naxis=2)
    w.wcs.ctype = p["ctype"]
    w.wcs.crval = p["crval"]
    w.wcs.crpix = p["fits_crpix"]
    w.wcs.cd = np.array(p["cd"])
    w.wcs.radesys = p["radesys"]
    if tract_id != 607:  # the FITS default LONPOLE must agree with ours, so only set it once
        w.wcs.lonpole = p["lonpole"]
    gx, gy = np.meshgrid(np.linspace(-0.5, tract.bbox.width - 0.5, 21), np.linspace(-0.5, tract.bbox.height - 0.5, 21))
    ra, dec = w.wcs_pix2world(gx.ravel(), gy.ravel(), 0)  # origin 0 = Osprey's 0-based pixels
    lon, lat = tract.pixel_to_sky(gx.ravel(), gy.ravel())
    sep_arcsec = np.degrees(separation(lon, lat, np.radians(ra), np.radians(dec))) * 3600
    assert float(sep_arcsec.max()) < 1e-6
    x, y = w.wcs_world2pix(np.degrees(lon), np.degrees(lat), 0)
    assert float(np.max(np.hypot(x - gx.ravel(), y - gy.ravel()))) < 1e-6


def test_outer_region_covers_inner_region(skymap):
    lon, lat = random_sky(20_000, 4)
    ids = skymap.find_tract_ids(lon, lat)
    for t in (0, 5, 300, 607):
        sel = ids == t
        assert sel.sum() > 0
        assert bool(np.all(skymap[t].outer_region.contains(lon[sel], lat[sel])))


def test_find_tract_patch_list_region(skymap):
    region = Circle(SpherePoint(0.0, -20.0, degrees), Angle(3.0, degrees))  # spans RA = 0
    found = skymap.find_tract_patch_list(region)
    assert len(found) >= 2
    found_ids = {t.tract_id: {p.sequential_index for p in ps} for t, ps in found}
    rng = np.random.default_rng(9)
    # random points inside the circle: every tract/patch holding one must be listed
    d = np.arccos(rng.uniform(math.cos(region.radius.as_radians()), 1.0, 3000))
    az = rng.uniform(0, 2 * np.pi, 3000)
    c = region.center
    pts = [c.offset(Angle(float(a)), Angle(float(b))) for a, b in zip(az, d, strict=True)]
    lon = np.array([p.longitude.as_radians() for p in pts])
    lat = np.array([p.latitude.as_radians() for p in pts])
    for t in np.unique(skymap.find_tract_ids(lon, lat)):
        assert int(t) in found_ids
    for tract, _ in found:
        x, y = tract.sky_to_pixel(lon, lat)
        ok = np.isfinite(x)
        for patch in tract:
            if patch.outer_bbox.contains(x[ok], y[ok]).any():
                assert patch.sequential_index in found_ids[tract.tract_id]


def test_find_tract_patch_list_points(skymap):
    pts = [SpherePoint(10.0, 20.0, degrees), SpherePoint(10.2, 20.1, degrees)]
    found = skymap.find_tract_patch_list(pts)
    own = skymap.find_tract(pts[0])
    assert own.tract_id in [t.tract_id for t, _ in found]
    for tract, patches in found:
        x, y = tract.sky_to_pixel(
            [10.0 * math.pi / 180, 10.2 * math.pi / 180], [20.0 * math.pi / 180, 20.1 * math.pi / 180]
        )
        for p in patches:
            assert p.outer_bbox.contains(x, y).any()
    assert own.find_patch(pts[0]) in dict((t.tract_id, ps) for t, ps in found)[own.tract_id]


def test_identity_storage_and_pickle(skymap):
    again = RingsSkyMap(
        RingsSkyMapConfig(num_rings=20, pixel_scale=Angle(1.0, arcseconds), tract_overlap=Angle(2.0, arcminutes))
    )
    assert again.id_hash == skymap.id_hash and len(skymap.id_hash) == 40
    assert skymap.name == "rings-" + skymap.id_hash[:12]
    other = RingsSkyMap(RingsSkyMapConfig(num_rings=21))
    assert other.id_hash != skymap.id_hash
    rebuilt = RingsSkyMap.from_dict(skymap.to_dict())
    assert rebuilt == skymap and rebuilt.id_hash == skymap.id_hash
    assert rebuilt[300].wcs_parameters() == skymap[300].wcs_parameters()
    clone = pickle.loads(pickle.dumps(skymap))
    assert clone == skymap and len(clone) == len(skymap)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_rings": 0}, "num_rings"),
        ({"tract_overlap": Angle(-1.0, arcminutes)}, "tract_overlap"),
        ({"patch_inner_dimensions": Extent2I(0, 4000)}, "patch_inner_dimensions"),
        ({"patch_border": -1}, "patch_border"),
        ({"projection": "SIN"}, "TAN"),
        ({"num_rings": 1}, "too large"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(GeomValueError, match=match):
        RingsSkyMapConfig(**kwargs)


def test_bad_lookups(skymap):
    with pytest.raises(GeomValueError, match="finite"):
        skymap.find_tract_ids([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(GeomValueError, match="tract id"):
        skymap[608]
    with pytest.raises(GeomValueError, match="patch index"):
        skymap[3].get_patch_info(Point2I(99, 0))
    with pytest.raises(GeomValueError, match="lacks key"):
        RingsSkyMap.from_dict({"type": "rings", "config": {}})


# ---- find_tract_patch_list: vectorised path against the per-patch reference -----------------


def visit_polygon(lon_deg, lat_deg, rotation_deg, side_deg=3.5):
    """A square field like a visit (demo_night's construction): corners half a diagonal away."""
    half_diagonal = math.radians(side_deg) / math.sqrt(2.0)
    bearings = math.radians(rotation_deg) + np.radians([45.0, 135.0, 225.0, 315.0])
    lons, lats = offset(
        np.full(4, math.radians(lon_deg)), np.full(4, math.radians(lat_deg)), bearings, np.full(4, half_diagonal)
    )
    return ConvexPolygon.convex_hull(
        [SpherePoint(float(a), float(b), radians) for a, b in zip(lons, lats, strict=True)]
    )


def patch_keys(found):
    keys = {(t.tract_id, p.sequential_index) for t, ps in found for p in ps}
    assert len(keys) == sum(len(ps) for _, ps in found)
    return keys


def assert_well_formed(found):
    """Tracts ascending, patches in sequential order, each PatchInfo equal to get_patch_info's."""
    ids = [t.tract_id for t, _ in found]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for tract, patches in found:
        assert patches
        seq = [p.sequential_index for p in patches]
        assert seq == sorted(seq)
        for p in patches:
            assert p == tract.get_patch_info(p.sequential_index)


def region_suite():
    """~30 visit polygons, circles and boxes: poles, RA = 0, the equator and random fields."""
    rng = np.random.default_rng(2026)
    regions = [
        visit_polygon(0.2, -20.0, 17.0),  # across RA = 0
        visit_polygon(359.1, 41.0, 60.0),
        visit_polygon(0.0, 0.0, 0.0),
        visit_polygon(123.0, 88.9, 33.0),  # around the north pole
        visit_polygon(250.0, -89.5, 71.0),
        visit_polygon(10.0, -86.0, 5.0),
        visit_polygon(300.0, 80.5, 45.0),
    ]
    for _ in range(17):
        regions.append(
            visit_polygon(
                rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(0, 360), rng.uniform(1, 4)
            )
        )
    for lon, lat, r in [
        (0.0, -30.0, 1.75),
        (200.0, 88.9, 1.75),
        (359.0, 10.0, 2.5),
        (77.0, -64.0, 0.4),
        (5.0, 50.0, 1e-6),
    ]:
        regions.append(Circle(SpherePoint(lon, lat, degrees), Angle(r, degrees)))
    regions += [
        Box.from_degrees(358.0, 3.0, 10.0, 13.0),  # northern, across RA = 0 (tangent-bounded south edge)
        Box.from_degrees(100.0, 104.0, -60.0, -57.0),  # southern (tangent-bounded north edge)
        Box.from_degrees(40.0, 43.0, -1.5, 2.0),  # on the equator (chords on both edges)
        Box.from_degrees(10.0, 50.0, 86.0, 90.0),  # touching the pole: bounding-circle polygon
    ]
    return regions


# Non-square patches with a thinner border; 6x7 patches per tract keep the reference cheap.
SUITE = RingsSkyMapConfig(
    num_rings=20, pixel_scale=Angle(2.0, arcseconds), patch_inner_dimensions=Extent2I(3000, 2500), patch_border=64
)


def test_fast_region_search_matches_exact():
    skymap = RingsSkyMap(SUITE)
    regions = region_suite()
    equal = 0
    for region in regions:
        fast = skymap.find_tract_patch_list(region)
        exact = skymap._find_tract_patch_list_exact(region)
        assert_well_formed(fast)
        kf, ke = patch_keys(fast), patch_keys(exact)
        assert ke, region
        assert ke <= kf, (region, sorted(ke - kf))  # never misses a patch
        assert len(kf - ke) <= 2, (region, sorted(kf - ke))
        equal += kf == ke
        # the tract objects are the cached ones and the lists agree tract by tract
        assert [t.tract_id for t, _ in fast] == sorted({t for t, _ in kf})
    assert equal >= 0.9 * len(regions)


def test_fast_region_search_default_skymap():
    sm = RingsSkyMap()
    for region in (
        visit_polygon(0.1, -33.0, 20.0),
        Circle(SpherePoint(359.5, 88.5, degrees), Angle(1.75, degrees)),  # the pole and RA = 0
    ):
        fast, exact = sm.find_tract_patch_list(region), sm._find_tract_patch_list_exact(region)
        assert_well_formed(fast)
        kf, ke = patch_keys(fast), patch_keys(exact)
        assert ke <= kf and len(kf - ke) <= 2
        assert len(ke) > 200  # a visit covers a few hundred 0.22-degree patches


def test_fast_region_search_touching_patch_edges(skymap):
    # Polygons that are the sky images of pixel rectangles sharing an edge or a corner with
    # patch outer bboxes, or sitting exactly on one: the closed regions touch, and the fast
    # path must report every patch the exact one does.
    tract = skymap[300]
    pd, border = 4000, 100
    cases = [
        (3 * pd + border - 0.5, 3 * pd + border + 700.0, 1000.0, 5000.0),  # touches column 3's right edge
        (2 * pd - border - 900.0, 2 * pd - border - 0.5, 1000.0, 5000.0),  # touches column 2's left edge
        (5000.0, 7000.0, 4 * pd + border - 0.5, 4 * pd + border + 50.0),  # touches row 4's top edge
        (pd + border - 0.5, pd + border + 10.0, pd + border - 0.5, pd + border + 10.0),  # a corner
        (3900.0 - 0.5, 8100.0 - 0.5, 3900.0 - 0.5, 8100.0 - 0.5),  # patch (1, 1)'s outer bbox itself
    ]
    for x0, x1, y0, y1 in cases:
        lon, lat = tract.pixel_to_sky([x0, x1, x1, x0], [y0, y0, y1, y1])
        poly = ConvexPolygon([SpherePoint(float(a), float(b), radians) for a, b in zip(lon, lat, strict=True)])
        kf = patch_keys(skymap.find_tract_patch_list(poly))
        ke = patch_keys(skymap._find_tract_patch_list_exact(poly))
        assert ke <= kf and len(kf - ke) <= 2, (x0, x1, y0, y1)


def test_fast_region_search_large_regions():
    # Coarse patches (2x2 per tract) keep the exact reference cheap; these regions take the fallbacks.
    sm = RingsSkyMap(
        RingsSkyMapConfig(num_rings=8, pixel_scale=Angle(40.0, arcseconds), patch_inner_dimensions=Extent2I(1500, 1500))
    )
    big = ConvexPolygon(  # vertices beyond 80 degrees of some candidate tracts: per-tract fallback
        [SpherePoint(0.0, -10.0, degrees), SpherePoint(85.0, -10.0, degrees), SpherePoint(40.0, 70.0, degrees)]
    )
    assert any(sm[t]._polygon_patch_indices(big.vertex_array, 0.0) is None for t in sm._candidate_tracts(big))
    regions = [
        big,
        Circle(SpherePoint(30.0, 20.0, degrees), Angle(70.0, degrees)),  # radius > 60 deg: exact path
        Circle(SpherePoint(300.0, -40.0, degrees), Angle(25.0, degrees)),
        Box.from_degrees(300.0, 80.0, -20.0, 35.0),  # 140 degrees wide: bounding circle too large
        Box.from_degrees(200.0, 260.0, 20.0, 50.0),  # wide box, tangent-bounded south edge
        Box.from_degrees(10.0, 50.0, -70.0, -35.0),
    ]
    for region in regions:
        kf, ke = patch_keys(sm.find_tract_patch_list(region)), patch_keys(sm._find_tract_patch_list_exact(region))
        assert ke <= kf and len(kf - ke) <= 2, region


def test_patch_info_fast_construction_matches_checked_one(skymap):
    tract = skymap[17]
    nx, ny = tract.num_patches
    for iy in range(ny):
        for ix in range(nx):
            p = tract._patch_info_at(ix, iy)
            inner = Box2I.from_begin_end(ix * 4000, iy * 4000, (ix + 1) * 4000, (iy + 1) * 4000)
            assert p.index == Point2I(ix, iy) and hash(p.index) == hash(Point2I(ix, iy))
            assert p.inner_bbox == inner and hash(p.inner_bbox) == hash(inner)
            outer = inner.grow(100).intersection(tract.bbox)
            assert p.outer_bbox == outer and hash(p.outer_bbox) == hash(outer)
            assert p.outer_bbox.begin == outer.begin and p.outer_bbox.end == outer.end
            assert p == tract.get_patch_info(Point2I(ix, iy))


def test_vector_to_pixel_matrix_matches_sky_to_pixel(skymap):
    lon, lat = random_sky(2000, 11)
    v = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    for t in (0, 17, 300, 607):
        tract = skymap[t]
        q = v @ tract._vector_to_pixel_rows.T
        front = q[:, 0] > 0.5
        x, y = tract.sky_to_pixel(lon[front], lat[front])
        np.testing.assert_allclose(q[front, 1] / q[front, 0] + tract.wcs_parameters()["crpix"][0], x, rtol=0, atol=1e-6)
        np.testing.assert_allclose(q[front, 2] / q[front, 0] + tract.wcs_parameters()["crpix"][1], y, rtol=0, atol=1e-6)
