"""LSSTCam/ComCam/LATISS: camera geometry, raw format and Butler ingest checked against real LSST files."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from osprey.daf.butler import Butler, CollectionType
from osprey.obs.base import (
    Instrument,
    define_visits,
    ingest_raws,
    parse_fits_section,
    raw_frame_shape,
    read_header,
)
from osprey.obs.base._raw_format import _amp_cards
from osprey.obs.lsst import Latiss, LsstCam, LsstComCam
from osprey.utils.testing import realdata_path

LSSTCAM_RAW = "raw-layout/lsstcam/30211212000310-R22-S22-det098.fits"
LATISS_RAW = "raw-layout/latiss/3018092000065-det000.fits"
HEADER = "headers/lsst/lsstCam-MC_O_20250415_000060_R01_S01.yaml"


def test_entry_points_and_camera_census():
    cam = Instrument.from_name("LSSTCam")
    assert isinstance(cam, LsstCam)
    camera = cam.get_camera()
    types = [d.type.name for d in camera]
    assert (types.count("SCIENCE"), types.count("GUIDER"), types.count("WAVEFRONT")) == (189, 8, 8)
    assert {d.physical_type for d in camera if d.type.name == "SCIENCE"} == {"ITL", "E2V"}
    assert all(len(d) == 16 for d in camera if d.type.name != "WAVEFRONT")
    assert camera[94].name == "R22_S11" and camera["R44_SW0"].id == 203
    assert len(Instrument.from_name("LSSTComCam").get_camera()) == 9
    assert isinstance(Instrument.from_string("osprey.obs.lsst.Latiss"), Latiss)
    # Every detector centre falls on that detector and on no other.
    centres = np.array([[d.orientation.fp_position.x, d.orientation.fp_position.y] for d in camera])
    assert np.array_equal(camera.find_detector_ids(centres), np.array(camera.ids))


GEOMETRY_KEYS = ("DATASEC", "DETSEC", "DETSIZE", "DTV1", "DTV2", "DTM1_1", "DTM2_2")


@pytest.mark.parametrize(("relative", "instrument"), [(LSSTCAM_RAW, LsstCam()), (LATISS_RAW, Latiss())])
def test_geometry_cards_match_real_raw(relative, instrument):
    """Our amplifier geometry reproduces every geometry card of every HDU of a real raw.

    The LSSTCam file is an e2v sensor (R22_S22), the LATISS one an ITL sensor: between them
    they pin down both amplifier layouts (e2v: C1x at the bottom read mirrored in x, C0x on
    top read mirrored in y; ITL: C1x on top mirrored in x and y).
    """
    path = realdata_path(relative, __file__)
    with fits.open(path) as hdus:
        # The 2018 LATISS file predates the CCDSLOT card, so say which detector it holds.
        exposure = instrument.read_raw(path, 0 if isinstance(instrument, Latiss) else None)
        det = exposure.detector
        assert sum(str(h.header.get("EXTNAME", "")).startswith("Segment") for h in hdus[1:]) == len(det) == 16
        for amp in det:
            real = hdus[instrument.amp_hdu_name(amp.name)].header
            ours = {k: v for k, v, _ in _amp_cards(amp, det)}
            for key in GEOMETRY_KEYS:
                assert ours[key] == real[key], (amp.name, key, ours[key], real[key])
    assert (exposure.bbox.height, exposure.bbox.width) == raw_frame_shape(det)
    amp = det["C10"]
    assert (amp.raw_bbox.width, amp.raw_bbox.height) == (576, 2048)
    data = parse_fits_section(real["DATASEC"])
    assert (amp.raw_data_bbox.x0, amp.raw_data_bbox.width) == (data[0], data[2])
    assert amp.raw_serial_overscan_bbox.x0 == amp.raw_data_bbox.x_end


def test_e2v_geometry_of_r22_s22():
    """The full amplifier geometry of LSSTCam detector 98 (R22_S22, e2v), as its real raw file has it."""
    det = LsstCam().get_detector(98)
    assert (det.name, det.physical_type, det.serial) == ("R22_S22", "E2V", "E2V-CCD250-370")
    assert (det.bbox.x0, det.bbox.y0, det.bbox.width, det.bbox.height) == (0, 0, 4096, 4004)
    names = [a.name for a in det]
    assert names == [f"C1{i}" for i in range(8)] + [f"C0{i}" for i in range(7, -1, -1)]
    for amp in det:
        row, column = int(amp.name[1]), int(amp.name[2])
        bottom = row == 1  # e2v: C1x along y = 0, C0x along the top
        x0 = 512 * column
        assert (amp.bbox.x0, amp.bbox.y0, amp.bbox.width, amp.bbox.height) == (x0, 0 if bottom else 2002, 512, 2002)
        assert (amp.raw_flip_x, amp.raw_flip_y) == ((True, False) if bottom else (False, True)), amp.name
        # The raw frame is laid out like the detector: C1x in the bottom row, C0x above.
        assert (amp.raw_xy_offset.x, amp.raw_xy_offset.y) == (576 * column, 0 if bottom else 2048), amp.name
        box = amp.raw_bbox
        assert (box.x0, box.y0, box.width, box.height) == (0, 0, 576, 2048)
        data = amp.raw_data_bbox
        assert (data.x0, data.y0, data.width, data.height) == (10, 0, 512, 2002)  # DATASEC [11:522,1:2002]
        over = amp.raw_serial_overscan_bbox
        assert (over.x0, over.width) == (522, 54) and over.y0 == 0
        assert amp.readout_corner.name == ("LR" if bottom else "UL")


def test_real_lsstcam_raw_reads_with_translated_header():
    exposure = LsstCam().read_raw(realdata_path(LSSTCAM_RAW, __file__))
    assert exposure.detector.name == "R22_S22" and exposure.detector.physical_type == "E2V"
    assert exposure.bbox.width == 8 * 576 and exposure.bbox.height == 2 * 2048
    assert exposure.visit_info.exposure_time == pytest.approx(7.83172)
    assert not exposure.image.array.any()  # the source zeroed the pixels


def _simulated(instrument, det_id, bias=1000.0, signal=5000.0):
    """Raw frame with overscan/prescan at ``bias`` and data at ``bias + signal`` (+ a ramp to detect flips)."""
    det = instrument.get_detector(det_id)
    frame = np.full(raw_frame_shape(det), bias)
    for i, amp in enumerate(det):
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        box = amp.raw_data_bbox
        frame[oy + box.y0 : oy + box.y_end, ox + box.x0 : ox + box.x_end] += signal + 10 * i
    return det, frame


def test_write_read_round_trip_and_levels(tmp_path):
    lsst = LsstCam()
    header = read_header(realdata_path(HEADER, __file__))
    info = lsst.translate(header)
    det, frame = _simulated(lsst, info.detector_num)
    path = lsst.write_raw(tmp_path / "raw.fits", info.detector_num, frame, header)
    with fits.open(path) as hdus:
        assert isinstance(hdus[1], fits.CompImageHDU) and hdus[1].header["EXTNAME"] == "Segment10"
    exposure = lsst.read_raw(path)
    assert np.array_equal(exposure.image.array, frame.astype(np.float32))
    back = lsst.translate(dict(exposure.metadata.items()))
    assert (back.exposure_id, back.detector_num, back.physical_filter) == (
        info.exposure_id,
        info.detector_num,
        info.physical_filter,
    )
    for amp in exposure.detector:
        ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
        a = exposure.image.array
        over = amp.raw_serial_overscan_bbox
        data = amp.raw_data_bbox
        assert np.median(a[oy + over.y0 : oy + over.y_end, ox + over.x0 : ox + over.x_end]) == 1000.0
        assert np.median(a[oy + data.y0 : oy + data.y_end, ox + data.x0 : ox + data.x_end]) >= 6000.0


def test_butler_register_ingest_visits_curated(tmp_path):
    lsst = LsstCam()
    header = read_header(realdata_path(HEADER, __file__))
    info = lsst.translate(header)
    _, frame = _simulated(lsst, info.detector_num)
    raw = lsst.write_raw(tmp_path / "in" / "raw.fits", info.detector_num, frame, header)
    bad = tmp_path / "in" / "bad.fits"
    bad.write_bytes(b"not a FITS file")
    Butler.make_repo(tmp_path / "repo")
    with Butler.from_config(tmp_path / "repo") as butler:
        lsst.register(butler)
        lsst.register(butler)  # identical: a no-op
        assert len(butler.registry.query_dimension_records("detector", instrument="LSSTCam")) == 205
        result = ingest_raws(butler, [tmp_path / "in"])
        assert len(result.ingested) == 1 and len(result.failed) == 1
        assert result.failed[0].path == bad and "not a readable FITS" in result.failed[0].reason
        again = ingest_raws(butler, [raw])
        assert again.skipped == [raw] and not again.ingested and not again.failed
        visits = define_visits(butler, "LSSTCam")
        assert visits.defined == [info.exposure_id]
        assert define_visits(butler, "LSSTCam").existing == [info.exposure_id]
        regions = butler.registry.query_dimension_records("visit_detector_region", instrument="LSSTCam")
        assert len(regions) == 205
        from osprey.geom import UnitVector3d, lonlat_to_vector

        ra, dec = info.tracking_radec.longitude.as_radians(), info.tracking_radec.latitude.as_radians()
        centre = UnitVector3d(*lonlat_to_vector(np.array(ra), np.array(dec)).tolist())
        (visit,) = butler.registry.query_dimension_records("visit", instrument="LSSTCam")
        assert visit.region.contains(centre)
        # Only the detectors around the centre contain the boresight.
        hits = [r.detector for r in regions if r.region.contains(centre)]
        assert hits and set(hits) <= {85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103}
        exposure = butler.get(
            "raw",
            instrument="LSSTCam",
            exposure=info.exposure_id,
            detector=info.detector_num,
            collections="LSSTCam/raw/all",
        )
        assert np.array_equal(exposure.image.array, frame.astype(np.float32))
        refs = lsst.write_curated_calibrations(butler)
        assert [r.dataset_type.name for r in refs] == ["camera"]
        assert lsst.write_curated_calibrations(butler) == []
        assert butler.registry.get_collection_type("LSSTCam/calib") is CollectionType.CALIBRATION
        camera = butler.get("camera", instrument="LSSTCam", collections="LSSTCam/calib", timespan=visit.timespan)
        assert camera == lsst.get_camera()


def test_comcam_and_latiss_translate_to_their_instruments():
    for name, cls in (
        ("comCam-CC_O_20241108_000266_R22_S00.yaml", LsstComCam),
        ("latiss-AT_O_20240624_000106_R00_S00.yaml", Latiss),
    ):
        header = read_header(realdata_path(f"headers/lsst/{name}", __file__))
        inst = cls()
        info = inst.translate(header)
        assert info.detector_num in inst.get_camera()
        assert inst.filter_definition(info.physical_filter).band
