"""Our ISR steps on real frames: the SAAO raw in the ccdproc wheel, the LSSTCam raw layout and crosstalk."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from osprey.afw.image import Exposure, ExposureInfo, MaskedImage
from osprey.ip.isr import (
    CrosstalkCalib,
    amp_hdu_layout,
    assemble,
    crosstalk_correct,
    crosstalk_distort,
    overscan_correct,
    read_lsst_raw,
    single_amp_detector,
)
from osprey.utils.testing import realdata_path


@pytest.fixture(scope="module")
def saao_path():
    spec = importlib.util.find_spec("ccdproc")
    if spec is None or spec.origin is None:
        pytest.skip("ccdproc is not installed (pip install ccdproc): it carries the SAAO raw frame")
    path = Path(spec.origin).parent / "tests" / "data" / "a8280271.fits"
    if not path.exists():
        pytest.skip(f"{path} is not in this ccdproc installation")
    return path


def test_saao_overscan_and_trim(saao_path):
    from astropy.io import fits

    with fits.open(saao_path) as hdus:
        header, data = hdus[0].header, hdus[0].data.astype(np.float32)
    assert data.shape == (520, 536)
    det = single_amp_detector(
        data.shape, header["TRIMSEC"], header["BIASSEC"], gain=header["GAIN"], read_noise=header["RDNOISE"]
    )
    raw = Exposure(MaskedImage.from_arrays(data.copy(), units="adu"), ExposureInfo(detector=det))
    fits_ = overscan_correct(raw, det, statistic="MEDIAN", fit="POLY", order=1)
    level = fits_["A"].mean_level
    overscan = data[:, 3:13]
    # ~214 ADU, and equal to the plain median of the BIASSEC columns to well within the read noise / sqrt(N)
    assert 210 < level < 218, level
    assert abs(level - np.median(overscan)) < 5.0 / 1.9 / np.sqrt(overscan.shape[1]), (level, np.median(overscan))
    trimmed = assemble(raw, det)
    assert trimmed.image.array.shape == (520, 512)
    # the trimmed pixels are TRIMSEC minus the fitted per-row level
    np.testing.assert_allclose(
        trimmed.image.array, data[:, 16:528] - fits_["A"].fitted[:, None].astype(np.float32), atol=1e-3
    )
    # the data region of this twilight/sky frame is far above the overscan; the overscan is noise-like
    assert np.median(trimmed.image.array) > 10 * np.std(overscan)


@pytest.fixture(scope="module")
def lsstcam():
    from osprey.afw.camera_geom import Camera

    raw = realdata_path("raw-layout/lsstcam", __file__) / "30211212000310-R22-S22-det098.fits"
    camera = Camera.from_lsst_policy(realdata_path("camera/lsstCam", __file__))
    return raw, camera[98]


def test_lsstcam_raw_layout_assembles(lsstcam):
    from astropy.io import fits

    path, det = lsstcam
    exp = read_lsst_raw(path, det)
    assert exp.detector.name == "R22_S22" and exp.image.units == "adu"
    assert exp.bbox.width == 16 * 576 // 2 and exp.bbox.height == 2 * 2048
    # The file's pixels are zeroed by its source: write codes into every amp's raw data and
    # check where assembly puts them: one exposure holds raw row * 1000 + raw column (exact in
    # float32), a second one the amp's index.
    with fits.open(path) as hdus:
        layouts = {amp.name: amp_hdu_layout(hdus[amp.raw_hdu].header) for amp in det}
    ident = exp.clone()
    arr = exp.image.array
    for index, amp in enumerate(det):
        rb, ox, oy = amp.raw_bbox, amp.raw_xy_offset.x, amp.raw_xy_offset.y
        yy, xx = np.mgrid[0 : rb.height, 0 : rb.width]
        arr[oy : oy + rb.height, ox : ox + rb.width] = yy * 1000 + xx
        ident.image.array[oy : oy + rb.height, ox : ox + rb.width] = index
    owner = assemble(ident, det).image.array
    post = assemble(exp, det)
    assert post.bbox == det.bbox and post.image.array.shape == (4004, 4096)
    height = det.bbox.height
    for index, amp in enumerate(det):
        lay = layouts[amp.name]
        # camera geometry agrees with the header's DATASEC ...
        assert lay["data_bbox"] == amp.raw_data_bbox, amp.name
        # ... and with DETSEC up to LSSTCam's detector-wide y flip between the camera team's frame and ours
        det_box = lay["det_bbox"]
        assert (amp.bbox.x0, amp.bbox.x_end) == (det_box.x0, det_box.x_end), amp.name
        assert (amp.bbox.y0, amp.bbox.y_end) == (height - det_box.y_end, height - det_box.y0), amp.name
        assert amp.raw_flip_x == lay["flip_x"] and amp.raw_flip_y == (not lay["flip_y"]), amp.name
        # pixel (raw column x, raw row y) of DATASEC lands where DETSEC (flipped in y) says
        block = post.image.array[amp.bbox.slices_in(det.bbox)]
        assert np.all(owner[amp.bbox.slices_in(det.bbox)] == index), amp.name
        rows = block // 1000
        cols = block % 1000
        d = amp.raw_data_bbox
        first_col = d.x_end - 1 if amp.raw_flip_x else d.x0
        first_row = d.y_end - 1 if amp.raw_flip_y else d.y0
        assert cols[0, 0] == first_col and rows[0, 0] == first_row, amp.name
        assert np.all(np.diff(cols, axis=1) == (-1 if amp.raw_flip_x else 1))
        assert np.all(np.diff(rows, axis=0) == (-1 if amp.raw_flip_y else 1))


def test_lsstcam_crosstalk_round_trip_to_float_precision(lsstcam):
    path, det = lsstcam
    calib = CrosstalkCalib.from_ecsv(realdata_path("calibs/lsstcam/crosstalk", __file__) / "r22_s22.ecsv")
    assert calib.coeffs.shape == (16, 16)
    rng = np.random.default_rng(3)
    exp = assemble(read_lsst_raw(path, det), det)
    arr = exp.image.array
    arr[...] = rng.normal(1000.0, 30.0, arr.shape).astype(np.float32)
    # bright stars in a few amps (up to 1e5 e), so the crosstalk is large and structured
    for x, y in rng.uniform([50, 50], [4046, 3954], size=(40, 2)):
        yy, xx = np.ogrid[int(y) - 20 : int(y) + 21, int(x) - 20 : int(x) + 21]
        arr[int(y) - 20 : int(y) + 21, int(x) - 20 : int(x) + 21] += 1e5 * np.exp(
            -((xx - x) ** 2 + (yy - y) ** 2) / 8.0
        )
    exp.image.units = "electron"
    clean = arr.copy()
    injected = crosstalk_distort(exp, calib, det)
    assert np.abs(injected).max() > 20.0  # electrons: real coefficients reach ~1e-3
    crosstalk_correct(exp, calib, det, iterations=3)
    resid = exp.image.array - clean
    # float32 storage of ~1e5 e values: one ulp is ~0.008 e; the matrix inversion leaves O(c^4)
    assert np.abs(resid).max() < 4 * np.spacing(np.float32(1.1e5)), np.abs(resid).max()
    assert np.abs(resid).max() < 1e-5 * np.abs(injected).max() * 1e5 / 20
