"""Metadata translation of real LSSTCam, LSSTComCam, LATISS, DECam and HSC headers."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.time import Time, TimeDelta

from osprey.afw.metadata import PropertyList
from osprey.afw.visit_info import RotType, VisitInfo
from osprey.obs.base import (
    DecamTranslator,
    LsstCamTranslator,
    MetadataTranslator,
    ObservationInfo,
    TranslationError,
    lsstcam_detector_num,
    read_header,
    translate,
)
from osprey.utils.testing import realdata_path

LSST_FILES = [
    "comCam-CC_O_20241108_000266_R22_S00.yaml",
    "latiss-AT_O_20240624_000106_R00_S00-patched.yaml",
    "latiss-AT_O_20240624_000106_R00_S00.yaml",
    "latiss-AT_O_20240624_000169_R00_S00.yaml",
    "lsstCam-MC_C_20190319_000001_R10_S02.yaml",
    "lsstCam-MC_C_20190319_000001_R22_S21.yaml",
    "lsstCam-MC_C_20190322_000002_R10_S22.yaml",
    "lsstCam-MC_C_20190406_000643_R10_S00.yaml",
    "lsstCam-MC_C_20231107_000078_R01_S01.json",
    "lsstCam-MC_C_20250425_000031_R01_S01.yaml",
    "lsstCam-MC_H_20100217_000032_R22_S00.yaml",
    "lsstCam-MC_O_20250415_000060_R01_S01.yaml",
    "lsstCam-MC_O_20250415_000228_R10_S20.yaml",
    "lsstCam-MC_O_20250422_000250_R01_S01.yaml",
    "lsstCam-MC_O_20250609_000578_R01_S01.yaml",
    "lsstCam-MC_O_20251121_000156_R44_SW0.json",
    "lsstCam-MC_O_20260315_000051_R01_S01.yaml",
    "lsstCam_MC_C_20231125_000600_R12_S10.yaml",
]
INSTRUMENT_BY_PREFIX = {"comCam": "LSSTComCam", "latiss": "LATISS", "lsstCam": "LSSTCam"}


def _load(relative: str) -> tuple[dict, Path]:
    path = realdata_path(relative, __file__)
    return read_header(path), path


def _tai(card_value: str, scale: str = "tai") -> Time:
    return Time(card_value, format="isot", scale=scale).tai


def _close_time(a: Time, b: Time, tol_s: float = 1e-3) -> bool:
    return abs((a - b).to_value("s")) < tol_s


# ---- every LSST header ------------------------------------------------------------------------
@pytest.mark.parametrize("name", LSST_FILES)
def test_every_lsst_header_translates_consistently_with_its_cards(name):
    cards, path = _load(f"headers/lsst/{name}")
    info = translate(cards, filename=str(path))
    assert info.instrument == INSTRUMENT_BY_PREFIX[name.split("-")[0].split("_")[0]]
    assert info.observation_id == cards["OBSID"]
    assert info.day_obs == int(cards["DAYOBS"])
    assert info.seq_num == cards["SEQNUM"]
    # The id rule, checked against the cards it comes from: OBSID = <code>_<controller>_<DAYOBS>_<SEQNUM>.
    code, controller, day, seq = cards["OBSID"].split("_")
    assert (int(day), int(seq), controller) == (int(cards["DAYOBS"]), cards["SEQNUM"], cards["CONTRLLR"])
    offset = {"O": 0, "C": 10_000_000, "H": 20_000_000}[controller]
    assert info.exposure_id == (int(cards["DAYOBS"]) + offset) * 100000 + cards["SEQNUM"]
    assert info.visit_id == info.exposure_id
    assert info.detector_group == cards["RAFTBAY"] and info.detector_name == cards["CCDSLOT"]
    assert info.detector_exposure_id == info.exposure_id * 1000 + info.detector_num
    assert info.exposure_time == cards["EXPTIME"]
    expected_dark = cards["DARKTIME"] if cards.get("DARKTIME") is not None else cards["EXPTIME"]
    assert info.dark_time == expected_dark
    scale = (cards.get("TIMESYS") or "utc").lower()
    begin = cards.get("DATE-BEG") or cards["DATE-OBS"]
    assert _close_time(info.datetime_begin, _tai(begin, scale))
    assert info.datetime_begin.scale == "tai" and info.datetime_end.scale == "tai"
    assert info.datetime_end >= info.datetime_begin
    if cards.get("DATE-END"):
        assert _close_time(info.datetime_end, _tai(cards["DATE-END"], scale))
    if controller in "OC":
        # Rubin's day_obs: the TAI date 12 h before the start (computed here without the library).
        shifted = info.datetime_begin.tai.to_datetime() - datetime.timedelta(hours=12)
        assert info.day_obs == int(shifted.strftime("%Y%m%d"))
    assert info.has_simulated_content == (controller == "H")
    visit_info = info.to_visit_info()
    assert isinstance(visit_info, VisitInfo)
    assert visit_info.exposure_time == info.exposure_time


def test_lsstcam_on_sky_science_exposure():
    cards, path = _load("headers/lsst/lsstCam-MC_O_20250609_000578_R01_S01.yaml")
    info = translate(cards, filename=str(path))
    assert isinstance(info, ObservationInfo)
    assert info.instrument == "LSSTCam" and info.telescope == "Simonyi Survey Telescope"
    assert info.exposure_id == 2025060900578 == 20250609 * 100000 + 578
    assert (info.day_obs, info.seq_num) == (20250609, 578)
    assert info.observation_type == "science"  # IMGTYPE OBJECT
    assert info.observation_reason == "field_survey_science" == cards["REASON"]
    assert info.science_program == "BLOCK-365" and info.object == "Rubin_SV_320_-15"
    assert info.physical_filter == "y_10" == cards["FILTER"]
    assert info.tracking_radec.longitude.as_degrees() == pytest.approx(cards["RASTART"], abs=1e-9)
    assert info.tracking_radec.latitude.as_degrees() == pytest.approx(cards["DECSTART"], abs=1e-9)
    assert info.altaz_begin.latitude.as_degrees() == pytest.approx(cards["ELSTART"], abs=1e-9)
    assert info.boresight_airmass == pytest.approx(cards["AMSTART"])
    # The recorded airmass agrees with the secant of the recorded elevation.
    assert info.boresight_airmass == pytest.approx(1 / np.sin(np.radians(cards["ELSTART"])), rel=2e-3)
    assert info.boresight_rotation_angle.as_degrees() == pytest.approx(131.35723576573005)
    assert info.boresight_rotation_coord == "sky"
    assert info.datetime_begin.isot == "2025-06-10T07:31:55.280"
    assert info.datetime_end.isot == "2025-06-10T07:32:26.229"
    assert (info.exposure_time, info.dark_time) == (30.0, 30.9487)
    assert (info.detector_group, info.detector_name, info.detector_num) == ("R01", "S01", 1)
    assert info.detector_unique_name == "R01_S01"
    assert (info.temperature, info.pressure) == (cards["AIRTEMP"], 74210.0)
    assert info.relative_humidity == pytest.approx(11.175, abs=1e-6)
    geodetic = info.location.to_geodetic()
    assert geodetic.lon.deg == pytest.approx(-70.749417, abs=1e-5)
    assert geodetic.lat.deg == pytest.approx(-30.244639, abs=1e-5)
    visit = info.to_visit_info()
    assert visit.id == info.exposure_id and visit.rotation_type is RotType.SKY
    assert _close_time(visit.date, info.datetime_begin + (info.datetime_end - info.datetime_begin) / 2)
    assert visit.boresight_ra_dec == info.tracking_radec
    assert visit.weather.air_pressure == 74210.0
    assert visit.observatory.latitude.as_degrees() == pytest.approx(-30.244639, abs=1e-5)


def test_lsstcam_calibration_and_corner_raft_detectors():
    cards, _ = _load("headers/lsst/lsstCam-MC_C_20190322_000002_R10_S22.yaml")
    flat = translate(cards)
    assert flat.observation_type == "flat" and flat.observation_reason == "unknown"
    assert flat.physical_filter == "SDSSi~ND_OD0.5"  # FILTER~FILTER2
    assert flat.tracking_radec is None and flat.boresight_rotation_coord == "unknown"
    # No TIMESYS: DATE-OBS is UTC, reported in TAI (37 s ahead in 2019).
    assert flat.datetime_begin.isot == "2019-03-22T15:31:38.904"
    assert flat.exposure_id == 3019032200002  # CCS ("C") images are offset from OCS ones
    assert flat.detector_num == lsstcam_detector_num("R10", "S22") == 3 * 9 + 8
    corner = translate(read_header(realdata_path("headers/lsst/lsstCam-MC_O_20251121_000156_R44_SW0.json", __file__)))
    assert (corner.detector_group, corner.detector_name, corner.detector_num) == ("R44", "SW0", 203)
    assert corner.observation_reason == "too_GW_case_large_1_i3" and corner.physical_filter == "i_39"
    assert corner.tracking_radec is None  # the header has no pointing cards
    ids = {
        lsstcam_detector_num(f"R{i}{j}", s)
        for i in range(5)
        for j in range(5)
        for s in (
            ["SG0", "SG1", "SW0", "SW1"]
            if (i, j) in {(0, 0), (0, 4), (4, 0), (4, 4)}
            else [f"S{a}{b}" for a in range(3) for b in range(3)]
        )
    }
    assert ids == set(range(205))


def test_comcam_and_latiss():
    cards, _ = _load("headers/lsst/comCam-CC_O_20241108_000266_R22_S00.yaml")
    comcam = translate(cards)
    assert (comcam.instrument, comcam.exposure_id, comcam.day_obs) == ("LSSTComCam", 2024110800266, 20241108)
    assert comcam.physical_filter == "g_01" and comcam.observation_type == "science"
    assert comcam.tracking_radec.longitude.as_degrees() == pytest.approx(53.312407782266014)
    assert comcam.boresight_rotation_angle.as_degrees() == pytest.approx(cards["ROTPA"])
    assert comcam.exposure_group == "2024-11-09T06:33:55.311"
    cards, _ = _load("headers/lsst/latiss-AT_O_20240624_000106_R00_S00.yaml")
    cwfs = translate(cards)
    assert (cwfs.instrument, cwfs.observation_type, cwfs.observation_reason) == ("LATISS", "cwfs", "INTRA")
    assert cwfs.physical_filter == "SDSSr_65mm~empty_1" and cwfs.detector_num == 0
    assert cwfs.tracking_radec.latitude.as_degrees() == pytest.approx(cards["DECSTART"])
    patched = translate(
        read_header(realdata_path("headers/lsst/latiss-AT_O_20240624_000106_R00_S00-patched.yaml", __file__))
    )
    assert patched.observation_type == "science" and patched.exposure_id == cwfs.exposure_id
    dark = translate(read_header(realdata_path("headers/lsst/latiss-AT_O_20240624_000169_R00_S00.yaml", __file__)))
    assert (dark.observation_type, dark.seq_num, dark.dark_time) == ("dark", 169, 30.0096)
    assert dark.tracking_radec is None
    assert dark.observation_reason == "unknown" and dark.science_program is None


# ---- DECam and HSC ------------------------------------------------------------------------------
def test_decam_raw_header():
    cards, path = _load("headers/decam/fitsheader-decam.yaml")
    info = translate(cards, str(path))
    assert (info.instrument, info.exposure_id, info.observation_id) == ("DECam", 229388, "ct4m20130901t060255")
    assert (info.detector_num, info.detector_name, info.detector_exposure_id) == (25, "S1", 22938825)
    assert info.physical_filter == "z DECam SDSS c0004 9260.0 1520.0"
    assert info.observation_type == "science" and info.science_program == "2012B-0001"
    begin = Time("2013-09-01T06:02:55.753848", scale="utc")
    assert _close_time(info.datetime_begin, begin) and info.datetime_begin.scale == "tai"
    assert info.datetime_begin.isot == "2013-09-01T06:03:30.754"  # UTC + 35 s
    assert _close_time(info.datetime_end, begin + TimeDelta(200.0, format="sec"))
    assert (info.exposure_time, info.dark_time, info.boresight_airmass) == (200.0, 201.15662, 1.57)
    assert info.day_obs == 20130831
    assert info.location.to_geodetic().lon.deg == pytest.approx(-70.81489, abs=1e-6)  # OBS-LONG is west
    assert info.pressure == 77900.0 and info.temperature == 11.9
    # TELRA 02:51:16.790 = 42.8199583 deg (FK5 J2000 ~ ICRS to < 0.1 arcsec)
    assert info.tracking_radec.longitude.as_degrees() == pytest.approx(42.8199583, abs=1e-4)
    assert info.tracking_radec.latitude.as_degrees() == pytest.approx(-(5.699 / 3600), abs=1e-4)
    # The astropy altitude of the pointing agrees with the header's zenith distance.
    assert 90 - info.altaz_begin.latitude.as_degrees() == pytest.approx(cards["ZD"], abs=0.2)
    bias = translate(read_header(realdata_path("headers/decam/fitsheader-decam-0160496.yaml", __file__)))
    assert (bias.exposure_id, bias.observation_type, bias.exposure_time) == (160496, "bias", 0.0)
    # The bias's FILTER card says Y, but a bias sees no filter (astro_metadata_translator's fix).
    assert bias.physical_filter == "solid plate 0.0 0.0" and bias.tracking_radec is None
    for name in (
        "fitsheader-decam-calexp-0412037_10.yaml",
        "fitsheader-decam-instcal-c4d_190402_050618_ooi_VR_v1.yaml",
        "fitsheader-decam-raw_dec050441_25.yaml",
    ):
        other = translate(read_header(realdata_path(f"headers/decam/{name}", __file__)))
        assert other.instrument == "DECam" and other.to_visit_info().id == other.exposure_id
    instcal = translate(
        read_header(realdata_path("headers/decam/fitsheader-decam-instcal-c4d_190402_050618_ooi_VR_v1.yaml", __file__))
    )
    assert instcal.exposure_id == 845291 and instcal.physical_filter.startswith("VR DECam")
    assert _close_time(instcal.datetime_end, Time(58575.214101649, format="mjd", scale="utc"))


def test_hsc_matches_the_published_translation():
    cards, path = _load("headers/hsc/fitsheader-hsc.yaml")
    reference = json.loads(realdata_path("headers/hsc/fitsheader-hsc.json", __file__).read_text())
    info = translate(cards, str(path))
    assert info.instrument == reference["instrument"] == "HSC"
    for name in (
        "exposure_id",
        "visit_id",
        "physical_filter",
        "exposure_time",
        "dark_time",
        "detector_num",
        "detector_exposure_id",
        "object",
        "science_program",
        "observation_type",
        "observation_id",
    ):
        assert getattr(info, name) == reference[name], name
    assert info.day_obs == reference["observing_day"]
    assert info.boresight_airmass == pytest.approx(reference["boresight_airmass"])
    assert info.boresight_rotation_angle.as_degrees() == pytest.approx(reference["boresight_rotation_angle"])
    assert info.boresight_rotation_coord == reference["boresight_rotation_coord"]
    for name in ("datetime_begin", "datetime_end"):
        jd1, jd2 = reference[name]
        assert _close_time(getattr(info, name), Time(jd1, jd2, format="jd", scale="tai")), name
    ra, dec = reference["tracking_radec"]
    assert info.tracking_radec.longitude.as_degrees() == pytest.approx(ra, abs=1e-9)
    assert info.tracking_radec.latitude.as_degrees() == pytest.approx(dec, abs=1e-9)
    az, alt = reference["altaz_begin"]
    assert info.altaz_begin.longitude.as_degrees() == pytest.approx(az)
    assert info.temperature == pytest.approx(reference["temperature"] - 273.15)
    assert info.pressure == pytest.approx(reference["pressure"] * 100)
    xyz = np.array([info.location.x.to_value("m"), info.location.y.to_value("m"), info.location.z.to_value("m")])
    assert np.linalg.norm(xyz - np.array(reference["location"])) < 100.0
    other = translate(read_header(realdata_path("headers/hsc/fitsheader-hsc-HSCA04090107.yaml", __file__)))
    assert (other.exposure_id, other.detector_num, other.physical_filter) == (40900, 37, "HSC-R")
    as_json = translate(read_header(realdata_path("headers/hsc/fitsheader-hsc-HSCA04090107.json", __file__)))
    assert as_json.exposure_id == other.exposure_id and as_json.datetime_begin == other.datetime_begin


# ---- errors and inputs ---------------------------------------------------------------------------
def test_missing_required_card_names_key_and_file():
    cards, path = _load("headers/lsst/lsstCam-MC_O_20250609_000578_R01_S01.yaml")
    for key in ("SEQNUM", "EXPTIME", "OBSID"):
        broken = {k: v for k, v in cards.items() if k != key}
        with pytest.raises(TranslationError, match=rf"'{key}'.*{path.name}.*missing"):
            translate(broken, filename=str(path))
    with pytest.raises(TranslationError, match=r"'EXPTIME'.*must be a number"):
        translate({**cards, "EXPTIME": "thirty"}, filename=str(path))
    with pytest.raises(TranslationError, match=r"'OBSID'.*disagrees"):
        translate({**cards, "SEQNUM": 579}, filename=str(path))
    decam, dpath = _load("headers/decam/fitsheader-decam.yaml")
    with pytest.raises(TranslationError, match=rf"'EXPNUM'.*{dpath.name}"):
        translate({k: v for k, v in decam.items() if k != "EXPNUM"}, filename=str(dpath))
    with pytest.raises(TranslationError, match="no metadata translator recognises"):
        translate({"INSTRUME": "WFC3", "TELESCOP": "HST"}, filename="hst.fits")


def test_registry_and_property_list_input():
    names = set(MetadataTranslator.registry())
    assert {"LSSTCam", "LSSTComCam", "LATISS", "DECam", "HSC"} <= names
    cards, _ = _load("headers/lsst/lsstCam-MC_O_20250415_000060_R01_S01.yaml")
    assert MetadataTranslator.determine_translator(cards) is LsstCamTranslator
    plist = PropertyList([(k, v) for k, v in cards.items() if k not in ("COMMENT", "HISTORY")])
    from_plist = translate(plist)
    from_dict = translate(cards)
    assert from_plist.exposure_id == from_dict.exposure_id == 2025041500060
    assert from_plist.observation_type == "acq" and from_plist.observation_reason == "first_focus"


def test_decam_bias_sees_the_solid_plate_whatever_its_filter_card():
    """DECam biases record the filter wheel position, but see no filter: the translator says so."""
    path = realdata_path("headers/decam/fitsheader-decam-0160496.yaml", __file__)
    cards = read_header(path)
    bias = translate(cards, str(path))
    assert bias.observation_type == "bias" and bias.physical_filter == DecamTranslator.solid_plate_filter
    assert DecamTranslator.solid_plate_filter == "solid plate 0.0 0.0"
    assert translate({**cards, "FILTER": "g DECam SDSS c0001 4720.0 1520.0"}).physical_filter == "solid plate 0.0 0.0"
    science = translate({**cards, "OBSTYPE": "object"})
    assert science.physical_filter == str(cards["FILTER"]).strip() != "solid plate 0.0 0.0"


def test_translators_of_installed_instruments_are_found_without_importing_them(monkeypatch):
    """A header no loaded translator claims makes translate() load the osprey.instruments entry points once."""
    import osprey.obs.base._translator as module

    loaded = []

    class FakeEntryPoint:
        name, value = "FakeCam", "fake.module:FakeCam"

        def load(self):
            class FakeCamTranslator(module.MetadataTranslator):
                name = "FakeCam"

                @classmethod
                def can_translate(cls, header):
                    return header.get("INSTRUME") == "FakeCam"

            loaded.append(FakeCamTranslator)
            return object

    monkeypatch.setattr(module, "_installed_loaded", False)
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [FakeEntryPoint()])
    monkeypatch.setattr(module.MetadataTranslator, "_registry", dict(module.MetadataTranslator._registry))
    assert module.MetadataTranslator.determine_translator({"INSTRUME": "FakeCam"}) is loaded[0]
    with pytest.raises(TranslationError, match="no metadata translator recognises it"):
        module.MetadataTranslator.determine_translator({"INSTRUME": "Nobody"})
    assert len(loaded) == 1  # loaded once, not at every unknown header
