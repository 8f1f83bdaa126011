"""osprey.afw.fits: bit-exact round trips, sub-box and component reads, atomic writes,
errors on broken files (generated here by truncating and corrupting real writes) and the
real LSST afw-format HSC file."""

import os
import pickle
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.time import Time

import osprey.afw.fits as afits
from osprey.afw.camera_geom import Camera
from osprey.afw.errors import AfwError, AfwValueError, BoxOutsideImageError
from osprey.afw.fits import (
    FitsError,
    read_component,
    read_exposure,
    read_image,
    read_mask,
    read_masked_image,
    write_exposure,
    write_image,
    write_mask,
    write_masked_image,
)
from osprey.afw.image import Exposure, Image, Mask, MaskedImage
from osprey.afw.metadata import PropertyList
from osprey.afw.photo_calib import ApCorrMap, ChebyshevBoundedField, ConstantBoundedField, PhotoCalib
from osprey.afw.psf import DoubleGaussianPsf
from osprey.afw.visit_info import FilterLabel, Observatory, RotType, VisitInfo, Weather
from osprey.afw.wcs import SkyWcs
from osprey.geom import Angle, Box2I, ConvexPolygon, Point2D, SpherePoint, degrees

XY0 = (37, -12)
SHAPE = (45, 61)  # rows, columns
BOX = Box2I.from_begin_end(XY0[0], XY0[1], XY0[0] + SHAPE[1], XY0[1] + SHAPE[0])
COMPRESSIONS = [None, "rice", "gzip"]


def bits(array):
    """The raw bits of an array (so NaN payloads and -0.0 are compared exactly)."""
    return np.ascontiguousarray(array).view(f"u{array.dtype.itemsize}")


def sip_wcs():
    header = {
        "CTYPE1": "RA---TAN-SIP",
        "CTYPE2": "DEC--TAN-SIP",
        "CRPIX1": 30.5,
        "CRPIX2": 20.25,
        "CRVAL1": 150.1,
        "CRVAL2": 2.2,
        "CD1_1": -5.2e-5,
        "CD1_2": 1.1e-6,
        "CD2_1": 0.9e-6,
        "CD2_2": 5.1e-5,
        "A_ORDER": 2,
        "A_0_2": 2.0e-7,
        "A_1_1": 1.5e-6,
        "A_2_0": 5.0e-7,
        "B_ORDER": 2,
        "B_0_2": 2.1e-6,
        "B_1_1": 3.3e-7,
        "B_2_0": 1.1e-6,
    }
    return SkyWcs.from_fits_header(header)


def make_exposure(seed=5):
    rng = np.random.default_rng(seed)
    image = rng.normal(100.0, 10.0, SHAPE).astype(np.float32)
    image[3, 4] = np.nan
    image[5, :3] = -0.0
    image[6, 6] = np.inf
    image[7, 7] = np.float32(1e-45)  # subnormal
    mask = rng.integers(0, 1 << 12, SHAPE, dtype=np.int32)
    mask[0, 0] = np.int32(-(2**31))  # bit 31 set
    variance = rng.uniform(0.5, 2.0, SHAPE).astype(np.float32)
    variance[1, 1] = np.nan
    mi = MaskedImage.from_arrays(image, mask, variance, xy0=XY0, units="electron")
    mi.mask.add_plane("INJECTED")
    exposure = Exposure(mi)
    md = exposure.metadata
    md.set("EXPTIME", 30.25, "exposure time (s)")
    md.set("OBSERVER", "O'Brien")
    md.set("FLAG", True)
    md.set("NCOMBINE", 7)
    md.add("COMMENT", "first comment")
    md.add("HISTORY", "bias subtracted")
    md.add("HISTORY", "flat fielded")
    md.set("LONG.KEY name", "hierarch value")
    bbox = Box2I.from_begin_end(0, -20, 200, 100)
    exposure.id = 123456789012
    exposure.wcs = sip_wcs()
    exposure.psf = DoubleGaussianPsf(21, 21, 1.7, 3.4, 0.1)
    exposure.photo_calib = PhotoCalib(0.25, 0.001, bbox, ChebyshevBoundedField(bbox, [[0.25, 0.01], [0.003, 0.0]]))
    exposure.visit_info = VisitInfo(
        id=42,
        exposure_time=30.25,
        date=Time("2024-03-01T05:06:07.123456789", scale="tai"),
        boresight_ra_dec=SpherePoint(150.1, 2.2, degrees),
        boresight_rotation_angle=Angle(12.5, degrees),
        rotation_type=RotType.SKY,
        observatory=Observatory(Angle(-70.7494, degrees), Angle(-30.2444, degrees), 2663.0),
        weather=Weather(10.5, 744.0, 20.0),
        instrument_label="LSSTCam",
        object="COSMOS",
    )
    exposure.filter_label = FilterLabel(band="r", physical_filter="r_57")
    exposure.detector = list(
        Camera.single_detector("MyScope", 256, 128, gain=1.9, read_noise=5, pixel_size_um=13.5, plate_scale=15)
    )[0]
    exposure.ap_corr_map = ApCorrMap({"base_PsfFlux_instFlux": ConstantBoundedField(bbox, 0.98)})
    exposure.valid_polygon = ConvexPolygon(
        [SpherePoint(150.0, 2.0, degrees), SpherePoint(150.2, 2.0, degrees), SpherePoint(150.1, 2.3, degrees)]
    )
    exposure.summary_stats = {"psf_sigma_px": 1.7, "sky_bg": 101.5, "n_stars": 12, "note": None}
    return exposure


@pytest.fixture(scope="module")
def exposure():
    return make_exposure()


@pytest.fixture(scope="module", params=COMPRESSIONS, ids=lambda c: str(c))
def written(request, exposure, tmp_path_factory):
    path = tmp_path_factory.mktemp("fits") / f"exp_{request.param}.fits"
    write_exposure(path, exposure, compression=request.param)
    return path, request.param


def assert_same_pixels(got, want):
    assert got.bbox == want.bbox
    for name in ("image", "mask", "variance"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.array.dtype == b.array.dtype and a.array.dtype.isnative, name
        assert np.array_equal(bits(a.array), bits(b.array)), name
    assert got.mask.planes == want.mask.planes
    assert got.image.units == want.image.units


def assert_wcs_equal(a, b, bbox):
    x, y = np.meshgrid(np.linspace(bbox.x0, bbox.x_end, 7), np.linspace(bbox.y0, bbox.y_end, 5))
    ra_a, dec_a = a.pixel_to_sky_array(x.ravel(), y.ravel())
    ra_b, dec_b = b.pixel_to_sky_array(x.ravel(), y.ravel())
    assert np.max(np.abs(np.degrees(ra_a - ra_b))) < 1e-12
    assert np.max(np.abs(np.degrees(dec_a - dec_b))) < 1e-12


# -- round trips ---------------------------------------------------------------------------
def test_exposure_round_trip_is_exact(written, exposure):
    path, compression = written
    back = read_exposure(path)
    assert_same_pixels(back, exposure)
    assert back.metadata == exposure.metadata  # COMMENT/HISTORY, HIERARCH, quotes, types
    assert back.id == exposure.id
    assert_wcs_equal(back.wcs, exposure.wcs, BOX)
    assert back.wcs == exposure.wcs
    assert back.psf == exposure.psf and back.psf.to_dict() == exposure.psf.to_dict()
    assert back.photo_calib == exposure.photo_calib
    assert back.visit_info == exposure.visit_info
    assert back.visit_info.date.tai.isot == exposure.visit_info.date.tai.isot
    assert back.filter_label == exposure.filter_label
    assert back.detector == exposure.detector
    assert back.detector.field_angle == exposure.detector.field_angle
    assert back.ap_corr_map == exposure.ap_corr_map
    assert back.valid_polygon == exposure.valid_polygon
    assert back.summary_stats == exposure.summary_stats
    with fits.open(path) as hdul:
        kinds = [type(h).__name__ for h in hdul[1:4]]
        assert kinds == (["ImageHDU"] * 3 if compression is None else ["CompImageHDU"] * 3)
        assert [h.name for h in hdul[4:]] == [
            "WCS", "PSF", "PHOTO_CALIB", "VISIT_INFO", "FILTER_LABEL", "DETECTOR", "AP_CORR_MAP",
            "VALID_POLYGON", "SUMMARY_STATS",
        ]  # fmt: skip
        assert hdul[4].header["OSPREY_TYPE"] == "osprey.afw.wcs.SkyWcs"
        assert hdul[5].header["OSPREY_TYPE"] == "osprey.afw.psf.DoubleGaussianPsf"
        assert hdul[11].header["OSPREY_TYPE"] == "osprey.geom.ConvexPolygon"


def test_files_conform_and_other_tools_see_xy0_mask_planes_and_wcs(written, exposure):
    path, _ = written
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no astropy VerifyWarning either
        with fits.open(path) as hdul:
            hdul.verify("exception")
            image = hdul["IMAGE"]
            assert (image.header["LTV1"], image.header["LTV2"]) == (-XY0[0], -XY0[1])
            assert (image.header["CRVAL1A"], image.header["CTYPE1A"]) == (XY0[0], "LINEAR")
            assert image.header["EXTTYPE"] == "IMAGE" and image.header["BUNIT"] == "electron"
            assert hdul["MASK"].header["MP_INJECTED"] == exposure.mask.get_plane_bit("INJECTED")
            assert hdul[0].header["OSPREY_FORMAT_VERSION"] == afits.FORMAT_VERSION
            # astropy's WCS of the HDU works in the HDU's own 0-based pixels
            from astropy.wcs import WCS

            awcs = WCS(image.header)
    xl, yl = np.array([0.0, 10.0, 60.0]), np.array([0.0, 30.0, 44.0])
    ra, dec = awcs.all_pix2world(xl, yl, 0)
    ra2, dec2 = exposure.wcs.pixel_to_sky_array(xl + XY0[0], yl + XY0[1])
    assert np.allclose(ra, np.degrees(ra2), atol=1e-10, rtol=0)
    assert np.allclose(dec, np.degrees(dec2), atol=1e-10, rtol=0)


def test_caller_arrays_are_not_modified_and_read_only_arrays_work(tmp_path, exposure):
    before = [exposure.image.array.copy(), exposure.mask.array.copy()]
    ro = exposure.clone()
    for plane in (ro.image, ro.mask, ro.variance):
        plane.array.flags.writeable = False
    write_exposure(tmp_path / "ro.fits", ro)
    assert np.array_equal(bits(exposure.image.array), bits(before[0]))
    assert np.array_equal(exposure.mask.array, before[1])
    assert read_masked_image(tmp_path / "ro.fits").equals(exposure.masked_image)


def test_view_with_strides_round_trips(tmp_path, exposure):
    box = Box2I.from_begin_end(40, -10, 90, 20)
    sub = exposure[box]  # non-contiguous views of the parent's arrays
    write_exposure(tmp_path / "sub.fits", sub)
    assert_same_pixels(read_exposure(tmp_path / "sub.fits"), sub)


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint16", "int64"])
def test_image_round_trip_every_pixel_type(tmp_path, dtype, compression):
    rng = np.random.default_rng(1)
    info = np.finfo(dtype) if dtype.startswith("float") else np.iinfo(dtype)
    array = rng.uniform(-1000, 1000, (17, 23)).astype(dtype)
    array[0, :2] = [info.min, info.max]
    if dtype.startswith("float"):
        array[1, :3] = [np.nan, -0.0, -np.inf]
    image = Image.from_array(array, xy0=(-5, 9), units="adu")
    md = PropertyList([("ORIGIN", "test", "")])
    write_image(tmp_path / "i.fits", image, metadata=md, compression=compression)
    back = read_image(tmp_path / "i.fits")
    assert back.dtype == np.dtype(dtype) and back.xy0 == image.xy0 and back.units == "adu"
    assert np.array_equal(bits(back.array), bits(array))
    assert read_component(tmp_path / "i.fits", "metadata") == md


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_mask_and_masked_image_round_trip(tmp_path, exposure, compression):
    write_mask(tmp_path / "m.fits", exposure.mask, compression=compression)
    mask = read_mask(tmp_path / "m.fits")
    assert mask.equals(exposure.mask) and mask.array.dtype == np.int32
    write_masked_image(tmp_path / "mi.fits", exposure.masked_image, compression=compression)
    assert_same_pixels(read_masked_image(tmp_path / "mi.fits"), exposure.masked_image)
    back = read_exposure(tmp_path / "mi.fits")  # a MaskedImage file reads as a bare exposure
    assert back.wcs is None and back.psf is None and len(back.metadata) == 0


def test_plain_single_hdu_fits_reads_as_image(tmp_path):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    fits.PrimaryHDU(data).writeto(tmp_path / "plain.fits")
    image = read_image(tmp_path / "plain.fits")
    assert np.array_equal(image.array, data) and image.xy0.x == 0


def test_lossless_compression_is_smaller_for_masks(tmp_path):
    mask = Mask((512, 512))
    mask.set("SAT", where=Box2I.from_begin_end(10, 10, 40, 40))
    write_mask(tmp_path / "plain.fits", mask)
    write_mask(tmp_path / "rice.fits", mask, compression="rice")
    assert os.path.getsize(tmp_path / "rice.fits") < os.path.getsize(tmp_path / "plain.fits") / 10
    assert read_mask(tmp_path / "rice.fits").equals(mask)


# -- sub-regions and components ------------------------------------------------------------
@pytest.mark.parametrize(
    "box",
    [Box2I.from_begin_end(40, -10, 90, 20), Box2I.from_begin_end(37, -12, 38, -11), BOX],
    ids=["inner", "one-pixel", "whole"],
)
def test_bbox_read_equals_in_memory_subimage(written, exposure, box):
    path, _ = written
    sub = read_exposure(path, bbox=box)
    assert_same_pixels(sub, exposure[box])
    assert sub.wcs == exposure.wcs  # parent-frame WCS, unchanged
    assert read_image(path, bbox=box).equals(exposure.image[box])
    assert read_image(path, bbox=box, plane="variance").array.tobytes() == exposure.variance[box].array.tobytes()
    assert read_mask(path, bbox=box).equals(exposure.mask[box])


def test_bbox_outside_the_image_is_refused(written):
    path, _ = written
    with pytest.raises(BoxOutsideImageError, match="not inside the stored image"):
        read_exposure(path, bbox=Box2I.from_begin_end(0, 0, 50, 50))


def test_components_read_without_pixels(written, exposure, monkeypatch):
    path, _ = written

    def no_pixels(*args, **kwargs):
        raise AssertionError("pixels were read")

    monkeypatch.setattr(afits._read._Reader, "read_plane", no_pixels)
    assert read_component(path, "bbox") == BOX
    assert read_component(path, "mask_planes") == exposure.mask.planes
    assert read_component(path, "metadata") == exposure.metadata
    assert read_component(path, "id") == exposure.id
    assert read_component(path, "wcs") == exposure.wcs
    for field in ("psf", "photo_calib", "visit_info", "filter_label", "detector", "ap_corr_map"):
        assert read_component(path, field) == getattr(exposure, field), field
    assert read_component(path, "valid_polygon") == exposure.valid_polygon
    assert read_component(path, "summary_stats") == exposure.summary_stats
    assert read_component(path, "afw_archive") == []
    with pytest.raises(FitsError, match="unknown component 'pixels'"):
        read_component(path, "pixels")


def test_absent_components_read_as_none(tmp_path):
    exposure = Exposure(MaskedImage((8, 6)))
    write_exposure(tmp_path / "bare.fits", exposure)
    for name in ("wcs", "psf", "visit_info", "id", "summary_stats"):
        assert read_component(tmp_path / "bare.fits", name) is None
    assert read_exposure(tmp_path / "bare.fits").masked_image.equals(exposure.masked_image)


# -- writing: validation and atomicity -----------------------------------------------------
def test_unpersistable_component_writes_nothing(tmp_path, exposure):
    bad = Exposure(exposure.masked_image, exposure.info.copy())
    bad.psf = object()
    with pytest.raises(AfwValueError, match="cannot persist ExposureInfo.psf"):
        write_exposure(tmp_path / "x.fits", bad)
    with pytest.raises(AfwValueError, match="compression must be one of"):
        write_exposure(tmp_path / "x.fits", exposure, compression="hcompress")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["pixels", "replace"])
def test_failed_write_leaves_target_untouched_and_no_partial_file(tmp_path, exposure, monkeypatch, where):
    target = tmp_path / "x.fits"
    target.write_bytes(b"previous content")
    if where == "pixels":
        real = afits._write._write_pixels
        calls = []

        def failing(f, array):
            calls.append(1)
            if len(calls) == 2:  # IMAGE written, then the disk "fills up" inside MASK
                f.write(b"\0" * 100)
                raise OSError(28, "No space left on device")
            real(f, array)

        monkeypatch.setattr(afits._write, "_write_pixels", failing)
    else:

        def failing_replace(src, dst):
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(afits._write.os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_exposure(target, exposure)
    assert target.read_bytes() == b"previous content"
    assert sorted(os.listdir(tmp_path)) == ["x.fits"]


def test_new_files_get_the_usual_permissions(tmp_path, exposure):
    umask = os.umask(0o022)
    os.umask(umask)
    write_image(tmp_path / "p.fits", exposure.image)
    assert os.stat(tmp_path / "p.fits").st_mode & 0o777 == 0o666 & ~umask


# -- broken files --------------------------------------------------------------------------
@pytest.fixture
def good(tmp_path, exposure):
    path = tmp_path / "good.fits"
    write_exposure(path, exposure)
    return path


def hdu_offsets(path):
    with fits.open(path) as hdul:
        return [h.fileinfo() for h in hdul]


def test_truncated_data_names_file_and_hdu(good):
    info = hdu_offsets(good)[2]
    with open(good, "r+b") as f:
        f.truncate(info["datLoc"] + 1000)
    with pytest.raises(FitsError, match=r"good\.fits: HDU 2 \(MASK\): truncated data"):
        read_exposure(good)
    with pytest.raises(FitsError, match="truncated data"):
        read_component(good, "wcs")


def test_truncated_header(good):
    info = hdu_offsets(good)[3]
    with open(good, "r+b") as f:
        f.truncate(info["hdrLoc"] + 1000)
    with pytest.raises(FitsError, match=r"HDU 3: truncated or corrupt header"):
        read_exposure(good)


def test_missing_plane(tmp_path, exposure):
    path = tmp_path / "two.fits"
    write_exposure(path, exposure)
    with fits.open(path) as hdul:
        fits.HDUList([hdul[0], hdul[1], hdul[2]]).writeto(tmp_path / "cut.fits")
    with pytest.raises(FitsError, match=r"cut\.fits: no VARIANCE HDU"):
        read_exposure(tmp_path / "cut.fits")
    assert read_image(tmp_path / "cut.fits").equals(exposure.image)


def replace_bytes(path, old, new):
    data = path.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new))


def test_bad_mask_plane_keyword(good):
    card = f"{'MP_SAT':<8}= {1:>20}".encode()
    replace_bytes(good, card, f"{'MP_SAT':<8}= {40:>20}".encode())
    with pytest.raises(FitsError, match=r"HDU 2 \(MASK\): bad mask plane keyword.*SAT"):
        read_exposure(good)


def test_corrupt_header_card(good):
    info = hdu_offsets(good)[2]
    data = bytearray(good.read_bytes())
    start = info["hdrLoc"] + 80  # the BITPIX card of the MASK HDU
    assert data[start : start + 6] == b"BITPIX"
    data[start + 10 : start + 30] = b"   not a number ?!  "
    good.write_bytes(bytes(data))
    with pytest.raises(FitsError, match=r"good\.fits: HDU 2"):
        read_exposure(good)


def test_wrong_pixel_type(tmp_path, exposure):
    path = tmp_path / "f64.fits"
    write_exposure(path, exposure)
    with fits.open(path) as hdul:
        hdul[1].data = hdul[1].data.astype(np.float64)
        hdul.writeto(tmp_path / "bad.fits")
    with pytest.raises(FitsError, match=r"HDU 1 \(IMAGE\): pixel type float64 is not allowed"):
        read_exposure(tmp_path / "bad.fits")


def test_not_a_fits_file(tmp_path):
    (tmp_path / "junk.fits").write_bytes(b"hello world" * 500)
    with pytest.raises(FitsError, match="junk.fits"):
        read_exposure(tmp_path / "junk.fits")
    with pytest.raises(FileNotFoundError):
        read_exposure(tmp_path / "absent.fits")


def test_corrupt_payload_and_unknown_type(good):
    replace_bytes(good, b'{"type":"SkyWcs"', b'{"type":"SkyWcs!')
    with pytest.raises(FitsError, match=r"HDU 4 \(WCS\): payload is not valid JSON"):
        read_exposure(good)


def test_type_outside_osprey_is_refused(good):
    replace_bytes(good, b"'osprey.afw.psf.DoubleGaussianPsf'", b"'os.system'".ljust(34))
    with pytest.raises(FitsError, match=r"HDU 5 \(PSF\): OSPREY_TYPE 'os.system' is not a class of an osprey"):
        read_component(good, "psf")


def test_newer_layout_version_is_refused(good):
    replace_bytes(good, b"OSPREY_FORMAT_VERSION = 1 ", b"OSPREY_FORMAT_VERSION = 9 ")
    with pytest.raises(FitsError, match="layout version 9"):
        read_exposure(good)


def test_fits_error_is_an_afw_error_and_pickles():
    err = FitsError("/x.fits: HDU 2 (MASK): truncated data")
    assert isinstance(err, AfwError)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


# -- the real LSST afw file ----------------------------------------------------------------
def test_reads_real_hsc_afw_exposure(hsc_afw_path):
    exposure = read_exposure(hsc_afw_path)
    assert exposure.bbox == Box2I.from_begin_end(100, 100, 300, 300)
    planes = exposure.mask.planes
    assert planes["CROSSTALK"] == 8 and planes["NO_DATA"] == 9 and planes["UNMASKEDNAN"] == 10
    assert set(planes) == {
        "BAD", "SAT", "INTRP", "CR", "EDGE", "DETECTED", "DETECTED_NEGATIVE", "SUSPECT",
        "CROSSTALK", "NO_DATA", "UNMASKEDNAN",
    }  # fmt: skip
    with fits.open(hsc_afw_path) as hdul:
        assert np.array_equal(exposure.image.array, hdul[1].data, equal_nan=True)
        assert np.array_equal(exposure.mask.array, hdul[2].data.astype(np.int32))
        assert np.array_equal(exposure.variance.array, hdul[3].data, equal_nan=True)
        header = hdul[1].header
        archived = hdul[5].data[0]
    assert exposure.image.array.dtype == np.float32 and exposure.image.array.dtype.isnative
    # metadata: the primary cards, without afw's archive pointers and cfitsio's boilerplate
    assert exposure.metadata["FILTER"] == "_unknown_" and exposure.metadata["EXPTIME"] == 0.0
    assert "AR_HDU" not in exposure.metadata and "WCS_ID" not in exposure.metadata
    assert "COMMENT" not in exposure.metadata

    # The WCS agrees with astropy.wcs on the image HDU header (whose pixels are the array's).
    from astropy.wcs import WCS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        awcs = WCS(header)
    xl, yl = np.meshgrid(np.arange(0.0, 200.0, 19.5), np.arange(0.0, 200.0, 23.0))
    ra, dec = awcs.all_pix2world(xl.ravel(), yl.ravel(), 0)
    ra2, dec2 = exposure.wcs.pixel_to_sky_array(xl.ravel() + 100, yl.ravel() + 100)
    assert np.max(np.abs(np.degrees(ra2) - ra)) < 1e-9
    assert np.max(np.abs(np.degrees(dec2) - dec)) < 1e-9
    # ...and with afw's archived TanWcs, whose crpix is 0-based in parent pixels.
    crpix = exposure.wcs.to_fits_header()
    assert crpix["CRPIX1"] - 1 == pytest.approx(archived["crpix"][0], abs=1e-9)
    assert crpix["CRPIX2"] - 1 == pytest.approx(archived["crpix"][1], abs=1e-9)
    sky = exposure.wcs.pixel_to_sky(Point2D(*archived["crpix"]))
    assert sky.longitude.as_degrees() == pytest.approx(archived["crval"][0], abs=1e-10)

    assert read_component(hsc_afw_path, "afw_archive") == [
        {"id": 1, "class": "TanWcs", "module": "lsst.afw.image", "hdus": [5, 6], "referenced_by": ["WCS_ID"]}
    ]
    assert read_component(hsc_afw_path, "bbox") == exposure.bbox


def test_real_hsc_sub_box_and_rewrite(hsc_afw_path, tmp_path):
    full = read_exposure(hsc_afw_path)
    box = Box2I.from_begin_end(150, 120, 230, 260)
    sub = read_exposure(hsc_afw_path, bbox=box)
    assert_same_pixels(sub, full[box])
    write_exposure(tmp_path / "osprey.fits", full, compression="rice")
    again = read_exposure(tmp_path / "osprey.fits")
    assert_same_pixels(again, full)
    assert again.wcs == full.wcs and again.metadata == full.metadata
