"""Ingesting DECam raws: one multi-extension file per exposure, one ``raw`` dataset per CCD in it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from osprey.daf.butler import Butler
from osprey.obs.base import define_visits, ingest_raws, read_header
from osprey.obs.decam import DarkEnergyCamera, raw_detectors
from osprey.utils.testing import realdata_path

# Exposure-level cards of a real DECam raw (EXPNUM 229388, a z-band science exposure).
PRIMARY_KEYS = (
    "INSTRUME", "OBSID", "EXPNUM", "DATE-OBS", "TIMESYS", "EXPTIME", "DARKTIME", "OBSTYPE", "FILTER",
    "PROPID", "OBJECT", "TELRA", "TELDEC", "RADESYS", "EQUINOX", "AIRMASS", "MJD-OBS",
)  # fmt: skip
CCDS = (25, 35, 62)  # S1, N4, N31: first HDU of a real file, and two others


def _primary(**changes):
    cards = read_header(realdata_path("headers/decam/fitsheader-decam.yaml", __file__))
    return {**{k: cards[k] for k in PRIMARY_KEYS if k in cards}, **changes}


def _frame(ccd):
    """A raw frame whose every pixel says which CCD it belongs to (and where it is)."""
    frame = np.full((4146, 2160), 1000.0 + 100.0 * ccd)
    frame[:, :5] += np.arange(4146)[:, None] % 7
    return frame


@pytest.fixture
def repo(tmp_path):
    Butler.make_repo(tmp_path / "repo")
    with Butler.from_config(tmp_path / "repo") as butler:
        DarkEnergyCamera().register(butler)
        yield butler


@pytest.mark.parametrize("transfer", ["copy", "direct", "symlink"])
def test_mef_gives_one_raw_per_ccd(repo, tmp_path, transfer):
    decam = DarkEnergyCamera()
    path = decam.write_raw_mef(tmp_path / "in" / "DECam_00229388.fits.fz", {c: _frame(c) for c in CCDS}, _primary())
    assert sorted(raw_detectors(path)) == sorted(CCDS)
    result = ingest_raws(repo, [path], transfer=transfer)
    assert result.ok and len(result.ingested) == 3, result.failed
    assert sorted(r.data_id["detector"] for r in result.ingested) == sorted(CCDS)
    assert {r.data_id["exposure"] for r in result.ingested} == {229388}
    for ref in result.ingested:
        ccd = ref.data_id["detector"]
        exposure = repo.get(ref)
        assert exposure.detector.id == ccd and exposure.metadata["CCDNUM"] == ccd
        assert exposure.visit_info.exposure_time == pytest.approx(_primary()["EXPTIME"])
        np.testing.assert_array_equal(exposure.image.array, decam.read_raw(path, ccd).image.array)
        # Overscan/data of the right CCD: every pixel is 1000 + 100 * CCDNUM (+ the marker columns).
        assert np.median(exposure.image.array) == 1000.0 + 100.0 * ccd
    # The exposure's bytes are stored once, not once per CCD.
    stored = [os.stat(repo.get_uri(r)) for r in result.ingested]
    if transfer == "copy":
        assert len({(s.st_dev, s.st_ino) for s in stored}) == 1
    else:
        assert {os.path.realpath(repo.get_uri(r)) for r in result.ingested} == {os.path.realpath(path)}
    (record,) = repo.query_dimension_records("exposure", {"instrument": "DECam"})
    assert record.physical_filter == "z DECam SDSS c0004 9260.0 1520.0" and record.observation_type == "science"
    assert define_visits(repo, "DECam").defined == [229388]
    # Again: nothing new, the file is reported as already there.
    again = ingest_raws(repo, [path], transfer=transfer)
    assert again.skipped == [path.absolute()] and not again.ingested and again.ok


def test_removing_one_ccd_keeps_the_others_readable(repo, tmp_path):
    decam = DarkEnergyCamera()
    path = decam.write_raw_mef(tmp_path / "e.fits.fz", {c: _frame(c) for c in CCDS}, _primary())
    refs = {r.data_id["detector"]: r for r in ingest_raws(repo, [path]).ingested}
    repo.prune_datasets([refs[35]], purge=True, unstore=True)
    for ccd in (25, 62):
        assert np.median(repo.get(refs[ccd]).image.array) == 1000.0 + 100.0 * ccd


def test_partly_ingested_file_and_parallel_readers(repo, tmp_path):
    """A second file adds CCDs to an exposure; -j 2 reads headers in worker processes."""
    decam = DarkEnergyCamera()
    first = decam.write_raw(tmp_path / "in" / "one.fits", 25, _frame(25), _primary())
    rest = decam.write_raw_mef(tmp_path / "in" / "two.fits", {35: _frame(35), 62: _frame(62)}, _primary())
    bad = tmp_path / "in" / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b" " * 100)
    result = ingest_raws(repo, [tmp_path / "in"], processes=2)
    assert sorted(r.data_id["detector"] for r in result.ingested) == [25, 35, 62]
    assert [f.path for f in result.failed] == [bad.absolute()] and str(bad) in str(result.failed[0])
    assert np.median(repo.get("raw", instrument="DECam", exposure=229388, detector=25, collections="DECam/raw/all")
                     .image.array) == 3500.0  # fmt: skip
    assert first.exists() and rest.exists()


def test_bias_is_ingested_with_the_solid_plate(repo, tmp_path):
    decam = DarkEnergyCamera()
    path = decam.write_raw_mef(
        tmp_path / "bias.fits.fz",
        {25: _frame(25), 35: _frame(35)},
        _primary(OBSTYPE="zero", EXPTIME=0.0, DARKTIME=0.0, EXPNUM=229300, OBSID="ct4m20130901t050000"),
    )
    result = ingest_raws(repo, [path])
    assert len(result.ingested) == 2, result.failed
    (record,) = [r for r in repo.query_dimension_records("exposure", {"instrument": "DECam"}) if r.id == 229300]
    assert record.observation_type == "bias" and record.physical_filter == "solid plate 0.0 0.0"
    assert define_visits(repo, "DECam").skipped == {229300: "observation type 'bias' is not on-sky"}


def test_other_instruments_files_are_refused_by_name(repo, tmp_path):
    from astropy.io import fits

    from osprey.obs.base import Instrument

    cards = read_header(realdata_path("headers/hsc/fitsheader-hsc-HSCA04090107.yaml", __file__))
    header = fits.Header()
    for key, value in cards.items():  # the whole real HSC header, less its structure
        if key not in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "COMMENT", "HISTORY"):
            header[key] = value
    path = tmp_path / "hsc.fits"
    fits.PrimaryHDU(header=header).writeto(path)
    result = ingest_raws(repo, [path], instrument=Instrument.from_name("DECam"))
    assert not result.ingested and [f.path for f in result.failed] == [path.absolute()]
    assert "'HSC', but only 'DECam' raws were asked for" in result.failed[0].reason
    # Without the restriction: HSC is not installed here, and the reason says so.
    result = ingest_raws(repo, [path])
    assert "no instrument named 'HSC' is installed" in result.failed[0].reason
