"""osprey.afw.table sky matching: against a brute-force numpy reference and astropy."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from osprey.afw.table import SourceCatalog, TableError, match_sky, match_sky_all
from osprey.geom import arcseconds, degrees, separation

ARCSEC = np.pi / 180 / 3600


def random_sky(rng, n):
    return rng.uniform(0, 2 * np.pi, n), np.arcsin(rng.uniform(-1, 1, n))


def perturbed(rng, lon, lat, sigma):
    """Points offset from (lon, lat) by ~sigma radians in a random direction (longitude not reduced)."""
    bearing = rng.uniform(0, 2 * np.pi, lon.size)
    dist = np.abs(rng.normal(0, sigma, lon.size))
    sl, cl = np.sin(lat), np.cos(lat)
    lat2 = np.arcsin(sl * np.cos(dist) + cl * np.sin(dist) * np.cos(bearing))
    lon2 = lon + np.arctan2(np.sin(bearing) * np.sin(dist) * cl, np.cos(dist) - sl * np.sin(lat2))
    return lon2, lat2


def reference_nearest(lon1, lat1, lon2, lat2, radius):
    """Brute force: the full separation matrix (the spec the kernel must match)."""
    sep = separation(lon1[:, None], lat1[:, None], lon2[None, :], lat2[None, :])
    j = np.argmin(sep, axis=1)
    best = sep[np.arange(lon1.size), j]
    return np.where(best <= radius, j, -1), sep


@pytest.mark.parametrize("radius_arcsec", [1.0, 3600.0 * 5])
def test_matches_brute_force_reference(radius_arcsec):
    rng = np.random.default_rng(7)
    lon2, lat2 = random_sky(rng, 700)
    lon1, lat1 = perturbed(rng, *random_sky(rng, 600), 0)
    take = rng.integers(0, 700, 300)
    lon1[:300], lat1[:300] = perturbed(rng, lon2[take], lat2[take], radius_arcsec * ARCSEC)
    r = radius_arcsec * ARCSEC
    idx_ref, sep = reference_nearest(lon1, lat1, lon2, lat2, r)
    m = match_sky((lon1, lat1), (lon2, lat2), radius_arcsec * arcseconds)
    assert_array_equal(m.index, idx_ref)
    hit = idx_ref >= 0
    assert_array_equal(m.separation[hit], sep[hit, idx_ref[hit]])
    assert np.isnan(m.separation[~hit]).all()
    pairs = match_sky_all((lon1, lat1), (lon2, lat2), radius_arcsec * arcseconds)
    i1, i2 = np.nonzero(sep <= r)  # row-major: ordered by first, then second
    assert_array_equal(pairs.first, i1)
    assert_array_equal(pairs.second, i2)
    assert_array_equal(pairs.separation, sep[i1, i2])


def test_agrees_with_astropy_match_coordinates_sky():
    pytest.importorskip("scipy")  # astropy's matcher needs it
    from astropy import units as u
    from astropy.coordinates import SkyCoord, match_coordinates_sky

    rng = np.random.default_rng(2024)
    n = 10_000
    lon2, lat2 = random_sky(rng, n)
    lon1, lat1 = random_sky(rng, n)
    near = rng.random(n) < 0.6
    take = rng.integers(0, n, near.sum())
    lon1[near], lat1[near] = perturbed(rng, lon2[take], lat2[take], 0.7 * ARCSEC)
    lon1 %= 2 * np.pi

    m = match_sky((lon1, lat1), (lon2, lat2), 1 * arcseconds)
    c1 = SkyCoord(lon1 * u.rad, lat1 * u.rad)
    c2 = SkyCoord(lon2 * u.rad, lat2 * u.rad)
    idx, sep2d, _ = match_coordinates_sky(c1, c2)
    sep_rad = sep2d.to_value(u.rad)
    within = sep_rad <= ARCSEC
    assert within.sum() > 0.5 * n and (~within).sum() > 0.3 * n
    assert_array_equal(m.index[within], idx[within])
    assert_allclose(m.separation[within] / ARCSEC, sep_rad[within] / ARCSEC, rtol=0, atol=1e-6)
    assert (m.index[~within] == -1).all()


def test_wrap_at_ra_zero_and_poles():
    eps = 0.3 * ARCSEC
    # Near RA = 0/360: the partner sits on the other side of the wrap (also given as negative RA).
    lon1 = np.array([1e-7, 2 * np.pi - 1e-7, -1e-7, 1.0])
    lat1 = np.array([0.2, -0.4, 0.0, 89.99999 * np.pi / 180])
    lon2 = np.array([2 * np.pi - 1e-7, 1e-7, 2 * np.pi - 1e-7 + eps, 1.0 + np.pi])  # the last: over the pole
    lat2 = np.array([0.2, -0.4, 0.0, 89.99999 * np.pi / 180])
    m = match_sky((lon1, lat1), (lon2, lat2), 1 * arcseconds)
    assert_array_equal(m.index, [0, 1, 2, 3])
    expected = separation(lon1, lat1, lon2, lat2)
    assert_array_equal(m.separation, expected)
    assert (expected < ARCSEC).all()

    # Exactly at the poles: every longitude is the same place.
    lon1 = np.array([0.0, 3.0])
    lat1 = np.array([np.pi / 2, -np.pi / 2])
    lon2 = np.array([1.0, 5.5, 2.0, 4.0])
    lat2 = np.array([np.pi / 2 - 2 * ARCSEC, np.pi / 2 - 0.5 * ARCSEC, -np.pi / 2, -np.pi / 2 + 0.1 * ARCSEC])
    m = match_sky((lon1, lat1), (lon2, lat2), 1 * arcseconds)
    assert_array_equal(m.index, [1, 2])
    pairs = match_sky_all((lon1, lat1), (lon2, lat2), 1 * arcseconds)
    assert_array_equal(pairs.first, [0, 1, 1])
    assert_array_equal(pairs.second, [1, 2, 3])


def test_catalog_inputs_nan_rows_and_radius_checks():
    a = SourceCatalog(columns={"id": [1, 2, 3], "coord_ra": [0.1, np.nan, 0.3], "coord_dec": [0.0, 0.0, 0.0]})
    b = SourceCatalog(columns={"id": [7, 8], "coord_ra": [np.nan, 0.3 + 1e-7], "coord_dec": [0.0, 0.0]})
    m = match_sky(a, b, 0.1 * degrees)
    assert_array_equal(m.index, [-1, -1, 1])
    assert_allclose(m.separation[2], 1e-7, rtol=1e-9)
    from astropy import units as u

    assert_array_equal(match_sky(a, b, 1 * u.arcsec).index, [-1, -1, 1])
    with pytest.raises(TableError, match="must be an osprey.geom.Angle"):
        match_sky(a, b, 1e-5)
    with pytest.raises(TableError, match="is not an angle"):
        match_sky(a, b, 1 * u.m)
    with pytest.raises(TableError, match=r"latitude 2.0 rad at row 0 is outside"):
        match_sky(([0.0], [2.0]), b, 1 * arcseconds)
    empty = match_sky(a, ([], []), 1 * arcseconds)
    assert_array_equal(empty.index, [-1, -1, -1])
    assert len(match_sky_all(([], []), b, 1 * arcseconds).first) == 0
