"""Tests of osprey.geom.skymap: tract assignment, patch tiling, TAN projection, storage identity."""

import math
import pickle

import numpy as np
import pytest

from osprey.geom.angle import Angle, arcminutes, arcseconds, degrees, radians
from osprey.geom.cartesian import Box2I, Extent2I, Point2I
from osprey.geom.errors import GeomValueError
from osprey.geom.regions import Circle
from osprey.geom.skymap import RingsSkyMap, RingsSkyMapConfig, tan_plane_to_sky, tan_sky_to_plane
from osprey.geom.sphere import SpherePoint, separation

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
