"""A whole (tiny) data set on disk: raws, HTM-sharded refcat, truth tables, the CLI."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from osprey.geom import HtmPixelization
from osprey.obs.base import translate
from osprey.sims import PsfConfig, SceneConfig, SimConfig, SurveyPlan, read_shard, read_truth, run_survey
from osprey.sims.testing import SmallLsstCam


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    out = tmp_path_factory.mktemp("survey")
    config = SimConfig(
        seed=3,
        psf=PsfConfig(grid=1, stamp_size=32),
        scene=SceneConfig(star_density=3e4, galaxy_density=3e4, transient_density=0.0),
    )
    plan = SurveyPlan(
        bands=("g", "r"), visits_per_band=1, n_bias=1, n_dark=1, flat_levels=(5000.0,), scene_radius=0.08, dither=0.01
    )
    calls = []
    result = run_survey(SmallLsstCam(), out, plan, config, progress=lambda d, t, label: calls.append((d, t)))
    return result, calls


def test_files_and_progress(survey):
    result, calls = survey
    n_exp = 1 + 1 + 2 + 2  # bias, dark, one flat pair, two science visits
    assert len(result.exposures) == n_exp
    assert len(result.raws) == 2 * n_exp and all(p.exists() for p in result.raws)
    assert calls[-1] == (2 * n_exp, 2 * n_exp)
    manifest = json.loads((result.output / "manifest.json").read_text())
    assert manifest["seed"] == 3 and len(manifest["raws"]) == len(result.raws)
    inst = SmallLsstCam()
    ids = {translate(inst.read_raw_header(p)).exposure_id for p in result.raws}
    assert len(ids) == n_exp  # unique exposure ids, two detectors each


def test_refcat_shards_hold_the_scene_in_htm7(survey):
    result, _ = survey
    stars, _ = read_truth(result.truth["stars"])
    galaxies, _ = read_truth(result.truth["galaxies"])
    total = 0
    pix = HtmPixelization(7)
    for index, path in result.refcat_shards.items():
        shard = read_shard(path)
        assert np.all(pix.index(shard["coord_ra"], shard["coord_dec"]) == index)
        total += shard["id"].size
        assert {"r_flux", "r_fluxErr", "pm_ra", "epoch", "resolved", "photometric"} <= set(shard)
    assert total == stars["id"].size + galaxies["id"].size
    one = read_shard(next(iter(result.refcat_shards.values())))
    is_star = np.isin(one["id"], stars["id"])
    s = {i: k for k, i in enumerate(stars["id"])}
    rows = [s[i] for i in one["id"][is_star]]
    np.testing.assert_allclose(one["r_flux"][is_star], 10 ** (-0.4 * (stars["mag_r"][rows] - 31.4)), rtol=1e-12)
    np.testing.assert_allclose(np.degrees(one["coord_ra"][is_star]), stars["ra"][rows], rtol=0, atol=1e-12)
    assert (result.output / "refcat" / "osprey_sim_refcat" / "master_schema.fits").exists()


def test_truth_tables_are_consistent(survey):
    result, _ = survey
    sources, meta = read_truth(result.truth["sources"])
    exposures, _ = read_truth(result.truth["exposures"])
    assert meta["seed"] == 3
    science = exposures["counter"][exposures["observation_type"] == "science"]
    assert set(np.unique(sources["exposure"])) <= set(science)
    amps, _ = read_truth(result.truth["amplifiers"])
    inst = SmallLsstCam()
    for det, name, gain in zip(amps["detector"], amps["amplifier"], amps["gain"], strict=True):
        assert inst.get_camera()[int(det)][str(name)].gain == gain
    defects, _ = read_truth(result.truth["defects"])
    assert set(defects["kind"]) >= {"hot_pixel", "dead_pixel"}
    xt = json.loads((result.output / "truth" / "calibs" / "R22_S11" / "crosstalk.json").read_text())
    assert np.array(xt["coeffs"]).shape == (8, 8)


def test_cli_reports_errors_clearly(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        __import__("osprey.sims.cli", fromlist=["main"]).main,
        [str(tmp_path / "x"), "--instrument", "NoSuchCam", "--quiet"],
    )
    assert res.exit_code != 0
    assert "NoSuchCam" in res.output
