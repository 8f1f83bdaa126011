"""Shared fixtures: a small LSST-like instrument, a scene and a fast simulator configuration."""

from __future__ import annotations

import pytest

from osprey.sims import ExposureSpec, PsfConfig, Scene, SceneConfig, SimConfig, Simulator
from osprey.sims.testing import SmallLsstCam

CENTER = (150.0, -30.0)


def _fast_config(**kw) -> SimConfig:
    return SimConfig(seed=5, psf=PsfConfig(grid=2, stamp_size=64)).model_copy(update=kw)


def _science_spec(counter: int = 10, band: str = "r", ra: float = CENTER[0], dec: float = CENTER[1]) -> ExposureSpec:
    return ExposureSpec(
        counter=counter,
        day_obs=20241231,
        seq_num=counter + 1,
        observation_type="science",
        band=band,
        mjd=60676.2 + counter * 40 / 86400,
        exposure_time=30.0,
        dark_time=30.9,
        ra=ra,
        dec=dec,
        rotation=12.0,
        seeing=0.7,
        airmass=1.2,
        reason="test",
        target="field",
    )


@pytest.fixture(scope="session")
def fast_config():
    return _fast_config


@pytest.fixture(scope="session")
def science_spec():
    return _science_spec


@pytest.fixture(scope="session")
def instrument():
    return SmallLsstCam()


@pytest.fixture(scope="session")
def scene():
    cfg = SceneConfig(star_density=1.5e5, galaxy_density=1.0e5, mover_density=2000.0, transient_density=500.0)
    return Scene.generate(CENTER, 0.12, cfg, seed=11)


@pytest.fixture(scope="session")
def simulator(instrument, scene):
    return Simulator(instrument, _fast_config(), scene)


@pytest.fixture(scope="session")
def quiet_exposure(instrument):
    """A science exposure without cosmic rays, over a field of bright stars (photometry tests)."""
    cfg = SceneConfig(star_density=1e5, star_mag_range=(16.5, 20.5), galaxy_density=1e4, mover_density=0.0)
    scene = Scene.generate(CENTER, 0.12, cfg, seed=12)
    sim = Simulator(instrument, _fast_config(add_cosmic_rays=False), scene)
    return sim, sim.simulate(_science_spec(), 94)
