import numpy as np
import pytest

from osprey.sims import Scene, SceneConfig, SimsConfigError
from osprey.sims.scene import transient_mag, variable_offset


def test_same_seed_same_scene_other_seed_differs():
    a = Scene.generate((10.0, 5.0), 0.1, seed=3)
    b = Scene.generate((10.0, 5.0), 0.1, seed=3)
    c = Scene.generate((10.0, 5.0), 0.1, seed=4)
    for name in ("stars", "galaxies", "transients", "movers"):
        for key in getattr(a, name):
            np.testing.assert_array_equal(getattr(a, name)[key], getattr(b, name)[key])
    assert not np.array_equal(a.stars["ra"], c.stars["ra"])


def test_counts_follow_the_densities_and_stay_in_the_region():
    cfg = SceneConfig(star_density=5e4, galaxy_density=1e5)
    s = Scene.generate((200.0, -60.0), 0.2, cfg, seed=1)
    area = 2 * np.pi * (1 - np.cos(np.radians(0.2))) * (180 / np.pi) ** 2
    for cat, density in ((s.stars, 5e4), (s.galaxies, 1e5)):
        n = cat["id"].size
        assert abs(n - density * area) < 5 * np.sqrt(density * area)
        d = np.degrees(
            np.arccos(
                np.clip(
                    np.sin(np.radians(cat["dec"])) * np.sin(np.radians(-60.0))
                    + np.cos(np.radians(cat["dec"]))
                    * np.cos(np.radians(-60.0))
                    * np.cos(np.radians(cat["ra"] - 200.0)),
                    -1,
                    1,
                )
            )
        )
        assert d.max() <= 0.2 + 1e-9
    ids = np.concatenate([s.stars["id"], s.galaxies["id"], s.transients["id"], s.movers["id"]])
    assert np.unique(ids).size == ids.size


def test_proper_motion_moves_stars_by_the_expected_amount():
    s = Scene.generate((10.0, 40.0), 0.05, seed=2)
    one_year = s.config.epoch + 365.25
    now, later = s.stars_at(s.config.epoch, "r"), s.stars_at(one_year, "r")
    ddec_mas = (later["dec"] - now["dec"]) * 3.6e6
    dra_mas = (later["ra"] - now["ra"]) * 3.6e6 * np.cos(np.radians(s.stars["dec"]))
    np.testing.assert_allclose(ddec_mas, s.stars["pm_dec"], atol=1e-6)
    np.testing.assert_allclose(dra_mas, s.stars["pm_ra"], rtol=1e-6, atol=1e-3)


def test_stellar_colours_are_along_a_locus_and_galaxy_components_add_up():
    s = Scene.generate((10.0, 40.0), 0.1, seed=2)
    gr = s.stars["mag_g"] - s.stars["mag_r"]
    ri = s.stars["mag_r"] - s.stars["mag_i"]
    assert np.corrcoef(gr, ri)[0, 1] > 0.9
    g = s.galaxies
    total = -2.5 * np.log10(10 ** (-0.4 * g["bulge_mag_r"]) + 10 ** (-0.4 * g["disk_mag_r"]))
    np.testing.assert_allclose(total, g["mag_r"], atol=1e-9)
    np.testing.assert_allclose(10 ** (-0.4 * (g["bulge_mag_r"] - g["mag_r"])), g["bulge_fraction_r"], rtol=1e-9)


def test_light_curves_peak_and_fade():
    s = Scene.generate((10.0, 40.0), 0.3, SceneConfig(transient_density=200), seed=5)
    t = s.transients
    assert t["id"].size > 5
    tr = t["tau_rise"]
    t_peak = t["t0"] + tr * np.log(t["tau_fall"] / tr - 1.0)
    at_peak = np.array(
        [transient_mag({k: v[i : i + 1] for k, v in t.items()}, t_peak[i], "r")[0] for i in range(t["id"].size)]
    )
    np.testing.assert_allclose(at_peak, t["peak_mag"], atol=1e-9)
    assert np.all(transient_mag(t, float(t_peak.max()) + 60, "r") > t["peak_mag"] + 1.0)
    offsets = [variable_offset(s.stars, m) for m in np.linspace(s.config.epoch, s.config.epoch + 20, 200)]
    var = s.stars["is_variable"]
    span = np.ptp(np.array(offsets), axis=0)
    np.testing.assert_allclose(span[var], s.stars["var_amplitude"][var], rtol=0.15)
    assert np.all(span[~var] == 0)


def test_bad_region_is_refused():
    with pytest.raises(SimsConfigError, match="radius"):
        Scene.generate((0.0, 0.0), 0.0)
