"""The obs-base ``butler`` subcommands on LSSTCam raws written by write_raw (click's CliRunner, in process)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from osprey.daf.butler import Butler, CollectionType
from osprey.daf.butler.cli import cli
from osprey.obs.base import raw_frame_shape, read_header
from osprey.obs.lsst import LsstCam
from osprey.utils.testing import realdata_path

HEADER = "headers/lsst/lsstCam-MC_O_20250415_000060_R01_S01.yaml"


def _invoke(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def raws(tmp_path_factory):
    """Two detectors of one real LSSTCam exposure, plus a file that is not FITS."""
    lsst = LsstCam()
    header = read_header(realdata_path(HEADER, __file__))
    info = lsst.translate(header)
    root = tmp_path_factory.mktemp("raws")
    paths = []
    for det_id in (info.detector_num, info.detector_num + 1):
        det = lsst.get_detector(det_id)
        cards = {**header, "CCDSLOT": det.name.split("_")[1], "RAFTBAY": det.name.split("_")[0]}
        frame = np.full(raw_frame_shape(det), 1000.0 + det_id)
        paths.append(lsst.write_raw(root / f"raw_{det_id}.fits", det_id, frame, cards))
    bad = root / "broken.fits"
    bad.write_bytes(b"this is not a FITS file")
    return info, paths, bad


@pytest.fixture
def repo(tmp_path):
    Butler.make_repo(tmp_path / "repo")
    return tmp_path / "repo"


def test_register_instrument(repo):
    out = _invoke("register-instrument", repo, "LSSTCam").output
    assert "registered LSSTCam: 205 detectors" in out
    _invoke("register-instrument", repo, "LSSTCam")  # identical again: fine
    with Butler.from_config(repo) as butler:
        assert len(butler.query_dimension_records("detector", {"instrument": "LSSTCam"})) == 205
    bad = _invoke("register-instrument", repo, "LsstCam", ok=False)
    assert bad.exit_code == 1 and "no instrument named 'LsstCam'" in bad.output and "'LSSTCam'" in bad.output


def test_ingest_raws_reports_and_skips_a_bad_file(repo, raws):
    info, paths, bad = raws
    _invoke("register-instrument", repo, "LSSTCam")
    result = _invoke("ingest-raws", repo, paths[0].parent, "-j", "2", ok=False)
    assert result.exit_code == 1  # one file failed: the command says so in its status
    assert f"failed: {bad}: raw file {bad} is not a readable FITS file" in result.output
    assert "ingested 2, already present 0, failed 1" in result.output
    with Butler.from_config(repo) as butler:
        refs = butler.query_datasets("raw", collections="LSSTCam/raw/all", instrument="LSSTCam")
        assert sorted(r.data_id["detector"] for r in refs) == [info.detector_num, info.detector_num + 1]
        for ref in refs:
            assert np.all(butler.get(ref).image.array == 1000.0 + ref.data_id["detector"])
    again = _invoke("ingest-raws", repo, *paths)
    assert "ingested 0, already present 2, failed 0" in again.output


def test_ingest_before_register_names_the_fix(repo, raws):
    _, paths, _ = raws
    result = _invoke("ingest-raws", repo, paths[0], ok=False)
    assert "not registered in this repository" in result.output
    assert "butler register-instrument REPO LSSTCam" in result.output


def test_define_visits(repo, raws):
    info, paths, _ = raws
    _invoke("register-instrument", repo, "LSSTCam")
    _invoke("ingest-raws", repo, *paths)
    out = _invoke("define-visits", repo, "LSSTCam").output
    assert "defined 1 visit(s); 0 already existed; 0 exposure(s) not on sky" in out
    out = _invoke("define-visits", repo, "LSSTCam").output
    assert "defined 0 visit(s); 1 already existed" in out
    with Butler.from_config(repo) as butler:
        (visit,) = butler.query_dimension_records("visit", {"instrument": "LSSTCam"})
        assert visit.id == info.exposure_id and visit.physical_filter == info.physical_filter
        assert len(butler.query_dimension_records("visit_detector_region", {"instrument": "LSSTCam"})) == 205


@pytest.mark.slow  # three puts of the 205-detector LSSTCam camera: about 40 s
def test_write_curated_calibrations(repo):
    _invoke("register-instrument", repo, "LSSTCam")
    out = _invoke("write-curated-calibrations", repo, "LSSTCam").output
    assert "wrote 1 curated calibration dataset(s) for LSSTCam" in out
    assert "wrote 0 curated" in _invoke("write-curated-calibrations", repo, "LSSTCam").output
    out = _invoke("write-curated-calibrations", repo, "LSSTCam", "--collection", "LSSTCam/calib/test", "--run", "r1")
    assert "wrote 1" in out.output
    with Butler.from_config(repo) as butler:
        assert butler.registry.get_collection_type("LSSTCam/calib/test") is CollectionType.CALIBRATION
        (ref,) = butler.query_datasets("camera", collections="r1", instrument="LSSTCam")
        assert butler.get(ref) == LsstCam().get_camera()
