"""DECam raw multi-extension files: write -> read round trips, the real file layout, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from osprey.obs.base import read_header
from osprey.obs.decam import (
    RAW_HDU_ORDER,
    DarkEnergyCamera,
    DecamRawFormatError,
    raw_detectors,
    read_raw_headers,
)
from osprey.utils.testing import realdata_path

# Exposure-level cards of the real raw 229388 (everything the translator reads).
PRIMARY_KEYS = (
    "INSTRUME", "TELESCOP", "OBSID", "EXPNUM", "DATE-OBS", "MJD-OBS", "TIMESYS", "EXPTIME", "DARKTIME",
    "OBSTYPE", "FILTER", "PROPID", "OBJECT", "TELRA", "TELDEC", "RADESYS", "EQUINOX", "AIRMASS", "ZD",
    "OBS-LONG", "OBS-LAT", "OBS-ELEV", "OUTTEMP", "PRESSURE", "HUMIDITY",
)  # fmt: skip


@pytest.fixture(scope="module")
def decam():
    return DarkEnergyCamera()


@pytest.fixture(scope="module")
def real_cards():
    return read_header(realdata_path("headers/decam/fitsheader-decam.yaml", __file__))


@pytest.fixture(scope="module")
def primary(real_cards):
    return {k: real_cards[k] for k in PRIMARY_KEYS}


def _known_frame(det, seed: int) -> np.ndarray:
    """A raw frame with distinct known levels: prescan 11, serial overscan 500+amp, parallel overscan 700,
    and data 1000 + a ramp unique to each pixel and amplifier."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((4146, 2160))
    for k, amp in enumerate(det):
        ox = amp.raw_xy_offset.x
        for box, value in (
            (amp.raw_serial_prescan_bbox, 11.0),
            (amp.raw_serial_overscan_bbox, 500.0 + k),
            (amp.raw_parallel_overscan_bbox, 700.0),
        ):
            frame[box.y0 : box.y_end, ox + box.x0 : ox + box.x_end] = value
        d = amp.raw_data_bbox
        frame[d.y0 : d.y_end, ox + d.x0 : ox + d.x_end] = 1000 + rng.integers(0, 60000, (d.height, d.width))
    return frame


@pytest.mark.parametrize("suffix", [".fits", ".fits.fz"])
def test_round_trip_is_exact_and_regions_hold_their_values(decam, primary, tmp_path, suffix):
    det = decam.get_detector("N4")
    frame = _known_frame(det, 4)
    path = decam.write_raw(tmp_path / f"DECam_00229388{suffix}", det.id, frame, primary)
    with fits.open(path) as hdus:
        assert isinstance(hdus[1], fits.CompImageHDU) == suffix.endswith(".fz")
        assert hdus[1].data.dtype == np.uint16 and hdus[1].header["EXTNAME"] == "N4"
    exposure = decam.read_raw(path)
    assert exposure.image.array.dtype == np.float32
    np.testing.assert_array_equal(exposure.image.array, frame)
    for k, amp in enumerate(exposure.detector):
        ox = amp.raw_xy_offset.x

        def region(box, _ox=ox):
            return exposure.image.array[box.y0 : box.y_end, _ox + box.x0 : _ox + box.x_end]

        assert np.all(region(amp.raw_serial_overscan_bbox) == 500 + k)
        assert np.all(region(amp.raw_serial_prescan_bbox) == 11)
        assert np.all(region(amp.raw_parallel_overscan_bbox) == 700)
        assert region(amp.raw_data_bbox).min() >= 1000
    assert exposure.detector.name == "N4" and exposure.info.id == 229388 * 100 + 35
    assert exposure.visit_info.exposure_time == 200.0
    assert exposure.metadata["CCDNUM"] == 35 and exposure.metadata["OBSID"] == primary["OBSID"]


def test_file_layout_is_the_real_one(decam, primary, tmp_path):
    """Sky pixels placed through the camera geometry land where a real DECam file keeps them:
    the file's DATASEC [57:2104,51:4146] holds CCDSEC [1:2048,1:4096] in assembled orientation."""
    det = decam.get_detector("S1")
    sky = np.arange(2048 * 4096, dtype=np.float64).reshape(4096, 2048) % 60000
    frame = np.zeros((4146, 2160))
    for amp in det:  # assembled -> readout order, as a CCD reads it
        b, d, ox = amp.bbox, amp.raw_data_bbox, amp.raw_xy_offset.x
        pix = sky[b.y0 : b.y_end, b.x0 : b.x_end][:: -1 if amp.raw_flip_y else 1, :: -1 if amp.raw_flip_x else 1]
        frame[d.y0 : d.y_end, ox + d.x0 : ox + d.x_end] = pix
    path = decam.write_raw(tmp_path / "s1.fits", 25, frame, primary)
    with fits.open(path) as hdus:
        data, header = hdus[1].data, hdus[1].header
    assert header["DATASEC"] == "[57:2104,51:4146]" and header["AMPSECA"] == "[2048:1025,4096:1]"
    np.testing.assert_array_equal(data[50:4146, 56:2104], sky)


def test_multi_ccd_file_in_real_hdu_order(decam, primary, tmp_path):
    frames = {ccd: _known_frame(decam.get_detector(ccd), ccd) for ccd in (1, 25, 62)}
    path = decam.write_raw_mef(tmp_path / "three.fits.fz", frames, primary)
    index = raw_detectors(path)
    assert sorted(index) == [1, 25, 62]
    assert list(index) == sorted(index, key=RAW_HDU_ORDER.index)  # S1 (25) first, as in real files
    headers = read_raw_headers(path)
    assert headers[62]["DETPOS"] == "N31" and headers[62]["EXPNUM"] == 229388
    assert decam.read_raw_header(path)["CCDNUM"] == 25
    for ccd, frame in frames.items():
        exposure = decam.read_raw(path, ccd)
        np.testing.assert_array_equal(exposure.image.array, frame)
    np.testing.assert_array_equal(decam.read_raw(path, "N31").image.array, frames[62])
    with pytest.raises(DecamRawFormatError, match=r"three.fits.fz holds 3 CCDs \(CCDNUM \[1, 25, 62\]\)"):
        decam.read_raw(path)
    with pytest.raises(DecamRawFormatError, match=r"no HDU for detector 35 \(N4\); CCDNUM present: \[1, 25, 62\]"):
        decam.read_raw(path, 35)


def test_amplifier_mapping_input_and_digitisation(decam, primary, tmp_path):
    det = decam.get_detector(10)
    amps = {a.name: np.full((4146, 1080), 123.4) for a in det}
    amps["B"][0, 0] = 70000.7  # an ADC saturates at 65535
    amps["B"][0, 1] = -5.0
    exposure = decam.read_raw(decam.write_raw(tmp_path / "m.fits", 10, amps, primary))
    b = exposure.detector["B"]
    values = exposure.image.array[:, b.raw_xy_offset.x : b.raw_xy_offset.x + 1080]
    assert values[0, 0] == 65535 and values[0, 1] == 0 and values[5, 5] == 123


@pytest.mark.filterwarnings("ignore:Keyword name:astropy.io.fits.verify.VerifyWarning")
def test_real_header_cards_drive_the_amplifiers(decam, real_cards, tmp_path):
    """An HDU carrying the real S1 header (fpack-compressed like the original) reads with its own gains."""
    cards = {
        k: v
        for k, v in real_cards.items()
        if not k.startswith(("Z", "T"))
        and k
        not in (
            "SIMPLE",
            "EXTEND",
            "XTENSION",
            "BITPIX",
            "NAXIS",
            "NAXIS1",
            "NAXIS2",
            "PCOUNT",
            "GCOUNT",
            "BZERO",
            "BSCALE",
            "CHECKSUM",
            "DATASUM",
            "NEXTEND",
        )
    }
    header = fits.Header()
    for key, value in cards.items():
        header[key] = value
    pixels = np.random.default_rng(7).integers(0, 65535, (4146, 2160)).astype(np.uint16)
    path = tmp_path / "DECam_00229388.fits.fz"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(pixels, header, compression_type="RICE_1")]).writeto(path)
    exposure = decam.read_raw(path, 25)
    det = exposure.detector
    assert det["A"].gain == pytest.approx(4.59347726229) and det["B"].read_noise == pytest.approx(7.01628521127)
    assert det["A"].saturation == 43266.0
    # Amplifier A reads from the upper right: its first raw pixel is the file's last row, last column.
    a = det["A"]
    assert exposure.image.array[0, a.raw_xy_offset.x] == pixels[-1, -1]
    assert exposure.image.array[0, 0] == pixels[-1, 0]
    assert exposure.visit_info.id == 229388 and exposure.info.id == 22938825


def test_write_refuses_bad_input(decam, primary, tmp_path):
    with pytest.raises(DecamRawFormatError, match=r"CCD N4 raw frame is \(10, 10\).*expected \(4146, 2160\)"):
        decam.write_raw(tmp_path / "x.fits", 35, np.zeros((10, 10)), primary)
    with pytest.raises(DecamRawFormatError, match=r"may not set .*DATASECA"):
        decam.write_raw(tmp_path / "x.fits", 35, np.zeros((4146, 2160)), {**primary, "DATASECA": "[1:2,1:2]"})
    with pytest.raises(DecamRawFormatError, match="amplifiers missing \\['B'\\]"):
        decam.write_raw(tmp_path / "x.fits", 35, {"A": np.zeros((4146, 1080))}, primary)
    with pytest.raises(DecamRawFormatError, match="must be finite"):
        decam.write_raw(tmp_path / "x.fits", 35, np.full((4146, 2160), np.nan), primary)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_read_refuses_files_that_are_not_decam_raws(decam, tmp_path):
    with pytest.raises(DecamRawFormatError, match=r"nope.fits does not exist"):
        decam.read_raw(tmp_path / "nope.fits", 1)
    bad = tmp_path / "bad.fits"
    bad.write_text("not FITS")
    with pytest.raises(DecamRawFormatError, match="bad.fits is not a readable FITS file"):
        decam.read_raw(bad, 1)
    # A real Community-Pipeline InstCal cutout of S4 is processed, not raw: its shape is refused, naming the HDU.
    ooi = realdata_path("images/decam-legacysurvey/c4d_150110_053718_ooi_z_ls9.S4.fits", __file__)
    with fits.open(ooi) as hdus:
        ccds = [h.header.get("CCDNUM") for h in hdus]
    if not any(ccds):
        with pytest.raises(DecamRawFormatError, match="no HDU for detector 28"):
            decam.read_raw(ooi, 28)
    else:
        with pytest.raises(DecamRawFormatError, match=r"c4d_150110_053718_ooi_z_ls9.S4.fits, HDU \d+"):
            decam.read_raw(ooi, "S4")
