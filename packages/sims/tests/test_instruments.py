"""Headers and raw files of the real registered instruments (obs-lsst, obs-decam)."""

import numpy as np
import pytest

from osprey.sims import SimInstrument, Simulator, calibration_sequence, simple_cadence

INSTRUMENTS = ["LSSTCam", "LSSTComCam", "LATISS", "DECam"]


def _instrument(name):
    from osprey.obs.base import Instrument, InstrumentError

    try:
        Instrument.from_name(name)
    except InstrumentError as exc:
        pytest.skip(f"{name} not installed: {exc}")
    return SimInstrument.from_instrument(name)


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_headers_translate_for_every_instrument(name):
    si = _instrument(name)
    sim = Simulator(si)
    det = next(iter(si.camera))
    site = si.telescope.site
    science = simple_cadence((150.0, -30.0), ["r"], 1, 60676.2, site)[0]
    for spec in [science, *calibration_sequence(60676.0, n_bias=1, n_dark=1, flat_levels=(1000.0,))]:
        header = sim._header(
            si.name,
            spec,
            det,
            si.telescope,
            sim.physical_filter(spec.band),
            **({} if name == "DECam" else {"controller": "S"}),
        )
        info = si.instrument.translate(header)
        assert info.detector_num == det.id
        assert info.observation_type == spec.observation_type
        assert info.exposure_time == spec.exposure_time
        assert info.datetime_begin.tai.mjd == pytest.approx(spec.mjd, abs=1e-6)  # DECam writes UTC, ms precision
        if spec.band is not None:
            assert si.instrument.filter_definition(info.physical_filter).band == spec.band
        if spec.observation_type == "science":
            assert info.tracking_radec.longitude.as_degrees() == pytest.approx(spec.ra, abs=1e-5)
            assert info.tracking_radec.latitude.as_degrees() == pytest.approx(spec.dec, abs=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name,detector", [("LSSTCam", 94), ("DECam", 1)])
def test_full_detector_raw_round_trip(name, detector, tmp_path):
    si = _instrument(name)
    sim = Simulator(si)
    spec = calibration_sequence(60676.0, n_bias=1, n_dark=0, flat_levels=())[0]
    exp = sim.simulate(spec, detector)
    path = sim.write(exp, tmp_path / f"{name}.fits")
    back = si.instrument.read_raw(path)
    np.testing.assert_array_equal(back.image.array, exp.raw)
    info = si.instrument.translate(si.instrument.read_raw_header(path))
    assert info.detector_num == detector and info.observation_type == "bias"
