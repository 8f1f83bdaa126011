"""Tests of osprey.geom.sphere against astropy and numpy references."""

import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.geom import _geom
from osprey.geom.angle import Angle, degrees
from osprey.geom.errors import GeomValueError
from osprey.geom.sphere import (
    SpherePoint,
    UnitVector3d,
    bearing,
    lonlat_to_vector,
    offset,
    rotate,
    separation,
    vector_to_lonlat,
)

u = pytest.importorskip("astropy.units")
coords = pytest.importorskip("astropy.coordinates")


def random_points(rng, n):
    return rng.uniform(0, 2 * np.pi, n), np.arcsin(rng.uniform(-1, 1, n))


@pytest.fixture(scope="module")
def pairs():
    """Random pairs plus near-antipodal and tiny-separation pairs."""
    rng = np.random.default_rng(20240611)
    lon1, lat1 = random_points(rng, 3000)
    lon2, lat2 = random_points(rng, 3000)
    # near-antipodal: antipode of point 1 nudged by up to 1e-6 rad
    k = 500
    lon2[:k] = (lon1[:k] + np.pi + rng.uniform(-1e-6, 1e-6, k)) % (2 * np.pi)
    lat2[:k] = -lat1[:k] + rng.uniform(-1e-6, 1e-6, k)
    # tiny separations: 1e-10 .. 1e-6 rad
    lon2[k : 2 * k] = lon1[k : 2 * k] + rng.uniform(-1e-6, 1e-6, k) / np.maximum(np.cos(lat1[k : 2 * k]), 1e-3)
    lat2[k : 2 * k] = np.clip(lat1[k : 2 * k] + rng.uniform(-1e-6, 1e-6, k), -np.pi / 2, np.pi / 2)
    return lon1, lat1, lon2, lat2


def skycoord(lon, lat):
    return coords.SkyCoord(lon * u.rad, lat * u.rad, frame="icrs")


def angle_diff(a, b):
    return np.abs(np.remainder(a - b + np.pi, 2 * np.pi) - np.pi)


def test_separation_matches_astropy(pairs):
    lon1, lat1, lon2, lat2 = pairs
    ours = separation(lon1, lat1, lon2, lat2)
    ref = skycoord(lon1, lat1).separation(skycoord(lon2, lat2)).rad
    assert_allclose(ours, ref, rtol=0, atol=1e-10)
    # tiny separations keep their relative accuracy (no acos cancellation)
    assert_allclose(ours[500:1000], ref[500:1000], rtol=1e-6)
    assert np.all(ours[:500] > np.pi - 3e-6)


def test_bearing_matches_astropy(pairs):
    lon1, lat1, lon2, lat2 = pairs
    ours = bearing(lon1, lat1, lon2, lat2)
    ref = skycoord(lon1, lat1).position_angle(skycoord(lon2, lat2)).rad
    assert np.all((ours >= 0) & (ours < 2 * np.pi))
    # near-antipodal bearings are ill-conditioned (every direction nearly works): skip them
    assert angle_diff(ours[500:], ref[500:]).max() < 1e-10


def test_offset_matches_astropy(pairs):
    lon1, lat1, _, _ = pairs
    rng = np.random.default_rng(5)
    pa = rng.uniform(0, 2 * np.pi, lon1.size)
    dist = np.concatenate([rng.uniform(0, np.pi, lon1.size - 100), np.full(50, 1e-9), np.full(50, np.pi - 1e-9)])
    lon, lat = offset(lon1, lat1, pa, dist)
    ref = skycoord(lon1, lat1).directional_offset_by(pa * u.rad, dist * u.rad)
    assert separation(lon, lat, ref.ra.rad, ref.dec.rad).max() < 1e-10
    # moving back along the reverse bearing returns home
    back = bearing(lon, lat, lon1, lat1)
    lon0, lat0 = offset(lon, lat, back, dist)
    assert separation(lon0[:-100], lat0[:-100], lon1[:-100], lat1[:-100]).max() < 1e-9


def test_offset_consistent_with_separation_and_bearing():
    rng = np.random.default_rng(9)
    lon1, lat1 = random_points(rng, 1000)
    lat1 = np.clip(lat1, -1.5, 1.5)
    pa, dist = rng.uniform(0, 2 * np.pi, 1000), rng.uniform(1e-6, 3.0, 1000)
    lon2, lat2 = offset(lon1, lat1, pa, dist)
    assert_allclose(separation(lon1, lat1, lon2, lat2), dist, atol=1e-12)
    assert angle_diff(bearing(lon1, lat1, lon2, lat2), pa).max() < 1e-9


def test_rotate_matches_rodrigues_reference():
    rng = np.random.default_rng(3)
    lon, lat = random_points(rng, 5000)
    axis = rng.normal(size=3)
    k = axis / np.linalg.norm(axis)
    theta = 0.7
    v = lonlat_to_vector(lon, lat)
    ref = v * np.cos(theta) + np.cross(k, v) * np.sin(theta) + np.outer(v @ k, k) * (1 - np.cos(theta))
    lon_r, lat_r = rotate(lon, lat, axis, theta)
    assert_allclose(lonlat_to_vector(lon_r, lat_r), ref, atol=1e-14)
    # rotating about the z axis adds to longitude
    lon_z, lat_z = rotate(lon, lat, UnitVector3d(0, 0, 1), 0.25)
    assert angle_diff(lon_z, lon + 0.25).max() < 1e-12 and np.abs(lat_z - lat).max() < 1e-12
    with pytest.raises(GeomValueError, match="non-zero"):
        rotate(lon, lat, [0, 0, 0], 1.0)


def test_vector_round_trip_and_shapes():
    rng = np.random.default_rng(4)
    lon, lat = random_points(rng, 600)
    lon, lat = lon.reshape(20, 30), lat.reshape(20, 30)
    v = lonlat_to_vector(lon, lat)
    assert v.shape == (20, 30, 3)
    assert_allclose(np.linalg.norm(v, axis=-1), 1.0, atol=1e-15)
    lon2, lat2 = vector_to_lonlat(v * 3.0)  # any length
    assert lon2.shape == (20, 30)
    assert separation(lon, lat, lon2, lat2).max() < 1e-15
    # special points: poles have longitude 0, longitudes land in [0, 2*pi)
    plon, plat = vector_to_lonlat([[0, 0, 1], [0, 0, -1], [1, -1e-300, 0], [-1, 0, 0]])
    assert_array_equal(plon[:2], [0.0, 0.0])
    assert_array_equal(plat[:2], [np.pi / 2, -np.pi / 2])
    assert 0 <= plon[2] < 2 * np.pi and plon[3] == np.pi
    # broadcasting: one point against many
    d = separation(0.0, 0.0, np.linspace(0, 1, 5), 0.0)
    assert_allclose(d, np.linspace(0, 1, 5), atol=1e-15)


def test_nan_propagates_in_vectorised_functions():
    d = separation([np.nan, 0.0], [0.0, 0.0], [0.0, 0.5], [0.0, 0.0])
    assert np.isnan(d[0]) and d[1] == pytest.approx(0.5, abs=1e-15)
    lon, lat = offset([np.nan], [0.0], [0.0], [1.0])
    assert np.isnan(lon[0]) and np.isnan(lat[0])


def test_binding_refuses_float32_and_mismatched_lengths():
    with pytest.raises(TypeError):
        _geom.separation(np.zeros(2, np.float32), np.zeros(2), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="same length"):
        _geom.separation(np.zeros(2), np.zeros(3), np.zeros(2), np.zeros(2))


def test_sphere_point_api():
    p = SpherePoint(Angle(370, degrees), Angle(-30, degrees))
    assert p.longitude.as_degrees() == pytest.approx(10.0, abs=1e-12)
    assert p.latitude.as_degrees() == pytest.approx(-30.0, abs=1e-12)
    q = SpherePoint(20.0, -30.0, degrees)
    ref = coords.SkyCoord(10 * u.deg, -30 * u.deg).separation(coords.SkyCoord(20 * u.deg, -30 * u.deg)).rad
    assert p.separation(q).as_radians() == pytest.approx(ref, abs=1e-15)
    pa = coords.SkyCoord(10 * u.deg, -30 * u.deg).position_angle(coords.SkyCoord(20 * u.deg, -30 * u.deg)).rad
    assert p.bearing_to(q).as_radians() == pytest.approx(pa, abs=1e-14)
    r = p.offset(p.bearing_to(q), p.separation(q))
    assert r.separation(q).as_radians() < 1e-14
    v = p.get_vector()
    assert SpherePoint(v).separation(p).as_radians() < 1e-15
    assert (v.x, v.y, v.z) == pytest.approx(
        (
            math.cos(math.radians(-30)) * math.cos(math.radians(10)),
            math.cos(math.radians(-30)) * math.sin(math.radians(10)),
            -0.5,
        )
    )
    # rotating the north pole by 90 degrees about +y lands on (lon, lat) = (0, 0)
    n = SpherePoint(0.0, 90.0, degrees).rotated(UnitVector3d(0, 1, 0), Angle(90, degrees))
    assert n.separation(SpherePoint(0.0, 0.0, degrees)).as_radians() < 1e-15
    assert not hasattr(p, "ra") and not hasattr(p, "dec")


def test_sphere_point_value_semantics_and_skycoord():
    p = SpherePoint(123.456, 7.89, degrees)
    assert eval(repr(p)) == p
    assert pickle.loads(pickle.dumps(p)) == p
    assert hash(p) == hash(SpherePoint(p.longitude, p.latitude))
    sc = p.to_skycoord()
    assert sc.ra.deg == pytest.approx(123.456, abs=1e-12) and sc.dec.deg == pytest.approx(7.89, abs=1e-12)
    assert SpherePoint.from_skycoord(sc).separation(p).as_radians() < 1e-15
    gal = sc.galactic  # from_skycoord goes through ICRS
    assert SpherePoint.from_skycoord(gal).separation(p).as_radians() < 1e-12
    v = p.get_vector()
    assert pickle.loads(pickle.dumps(v)) == v and eval(repr(v)) == v


@pytest.mark.parametrize(
    "args",
    [(0.0, float("nan"), degrees), (float("inf"), 0.0, degrees), (0.0, 91.0, degrees), (0.0, -90.0001, degrees)],
)
def test_sphere_point_rejects_bad_coordinates(args):
    with pytest.raises(GeomValueError):
        SpherePoint(*args)


def test_unit_vector_validation():
    with pytest.raises(GeomValueError, match="zero"):
        UnitVector3d(0, 0, 0)
    with pytest.raises(GeomValueError, match="finite"):
        UnitVector3d(np.nan, 0, 1)
    w = UnitVector3d(3, 4, 0)
    assert (w.x, w.y, w.z) == (0.6, 0.8, 0.0)
    with pytest.raises(TypeError):
        SpherePoint(1.0, 2.0)
