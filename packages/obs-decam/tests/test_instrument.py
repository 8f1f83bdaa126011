"""`DarkEnergyCamera` as an Osprey instrument: discovery, filters, Butler registration, curated calibrations."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.daf.butler import Butler, Timespan
from osprey.obs.base import Instrument, read_header
from osprey.obs.decam import DECAM_FILTERS, DarkEnergyCamera, DecamCrosstalk
from osprey.utils.testing import realdata_path


def test_found_by_entry_point():
    assert Instrument.known_names()["DECam"] == "osprey.obs.decam:DarkEnergyCamera"
    decam = Instrument.from_name("DECam")
    assert isinstance(decam, DarkEnergyCamera) and decam.get_camera() is DarkEnergyCamera().get_camera()
    assert decam.get_detector("N4").id == 35 and decam.get_detector(25).name == "S1"


def test_filters_cover_every_real_header():
    decam = DarkEnergyCamera()
    bands = {f.physical_filter: f.band for f in DECAM_FILTERS}
    assert [
        bands[f"{b}"]
        for b in (
            "g DECam SDSS c0001 4720.0 1520.0",
            "r DECam SDSS c0002 6415.0 1480.0",
            "i DECam SDSS c0003 7835.0 1470.0",
            "z DECam SDSS c0004 9260.0 1520.0",
            "Y DECam c0005 10095.0 1130.0",
            "VR DECam c0007 6300.0 2600.0",
            "N964 DECam c0008 9645.0 94.0",
        )
    ] == ["g", "r", "i", "z", "y", "VR", "N964"]
    assert decam.filter_definition("Y DECam c0005 10095.0 1130.0").lambda_eff_nm == 1009.5
    for name in (
        "fitsheader-decam.yaml",
        "fitsheader-decam-0160496.yaml",
        "fitsheader-decam-calexp-0412037_10.yaml",
        "fitsheader-decam-instcal-c4d_190402_050618_ooi_VR_v1.yaml",
        "fitsheader-decam-raw_dec050441_25.yaml",
    ):
        info = decam.translate(read_header(realdata_path(f"headers/decam/{name}", __file__)))
        assert decam.filter_definition(info.physical_filter) is not None  # calexp writes "g": an alias
    bias = decam.translate(read_header(realdata_path("headers/decam/fitsheader-decam-0160496.yaml", __file__)))
    assert bias.observation_type == "bias" and bias.physical_filter == "solid plate 0.0 0.0"


@pytest.fixture
def butler(tmp_path):
    Butler.make_repo(tmp_path / "repo")
    return Butler.from_config(tmp_path / "repo")


def test_register_writes_62_detectors_and_the_filters(butler):
    decam = DarkEnergyCamera()
    decam.register(butler)
    decam.register(butler)  # idempotent
    detectors = list(butler.query_dimension_records("detector", {"instrument": "DECam"}))
    assert sorted(r.id for r in detectors) == list(range(1, 63))
    assert {r.id: r.full_name for r in detectors}[25] == "S1"
    assert all(r.purpose == "SCIENCE" for r in detectors)
    filters = {r.name: r.band for r in butler.query_dimension_records("physical_filter", {"instrument": "DECam"})}
    assert filters == {f.physical_filter: f.band for f in DECAM_FILTERS}
    (record,) = butler.query_dimension_records("instrument", {"instrument": "DECam"})
    assert record.class_name == "osprey.obs.decam._instrument.DarkEnergyCamera" and record.detector_max == 63


def test_curated_crosstalk_is_certified_per_ccd(butler):
    decam = DarkEnergyCamera()
    decam.register(butler)
    refs = decam.write_curated_calibrations(butler)
    crosstalk = [r for r in refs if r.dataset_type.name == "crosstalk"]
    assert len(crosstalk) == 62
    assert decam.write_curated_calibrations(butler) == []  # nothing new the second time
    when = Timespan.from_iso("2013-09-01T06:03:30", "2013-09-01T06:03:31")
    calib = butler.get("crosstalk", {"instrument": "DECam", "detector": 25}, collections="DECam/calib", timespan=when)
    np.testing.assert_array_equal(calib["coeffs"], [[0.0, 3.16e-04], [1.34e-04, 0.0]])
    assert calib["units"] == "adu" and calib["amp_names"] == ["A", "B"]
    assert calib == DecamCrosstalk.load().for_detector(25)
    before = Timespan.from_iso("2012-01-01T00:00:00", "2012-01-01T00:00:01")
    with pytest.raises(LookupError):  # DECam saw first light in September 2012
        butler.get("crosstalk", {"instrument": "DECam", "detector": 25}, collections="DECam/calib", timespan=before)
