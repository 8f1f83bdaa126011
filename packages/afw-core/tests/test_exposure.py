import copy
import dataclasses

import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData
from astropy.wcs import WCS
from numpy.testing import assert_array_equal

from osprey.afw.errors import AfwValueError
from osprey.afw.image import Exposure, ExposureInfo, Mask, MaskedImage
from osprey.afw.metadata import PropertyList
from osprey.geom import Box2I, Extent2I, Point2I

BOX = Box2I.from_begin_end(1000, 2000, 1012, 2010)
INFO_FIELDS = [
    "id", "wcs", "psf", "photo_calib", "visit_info", "filter_label", "detector",
    "metadata", "ap_corr_map", "valid_polygon", "summary_stats",
]  # fmt: skip


def simple_wcs():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [6.0, 5.0]
    wcs.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
    return wcs


def make_exposure():
    rng = np.random.default_rng(5)
    mi = MaskedImage.from_arrays(
        rng.normal(100, 3, (10, 12)), variance=np.full((10, 12), 9.0), xy0=BOX.begin, units="adu"
    )
    mi.mask.set("SAT", where=Box2I.from_begin_end(1003, 2004, 1005, 2006))
    exposure = Exposure(mi, ExposureInfo(id=42, wcs=simple_wcs(), psf=object()))
    md = exposure.metadata
    md.set("EXPTIME", 30.0, "exposure time (s)")
    md.add("COMMENT", "first")
    md.set("HIERARCH-NEEDED.key", "value")
    md.add("HISTORY", "step 1")
    md.add("COMMENT", "second")
    return exposure


def test_exposure_info_defaults():
    info = ExposureInfo()
    assert [f.name for f in dataclasses.fields(info)] == INFO_FIELDS
    assert all(getattr(info, f) is None for f in INFO_FIELDS if f != "metadata")
    assert isinstance(info.metadata, PropertyList) and len(info.metadata) == 0
    assert ExposureInfo(metadata=None).metadata == PropertyList()
    assert ExposureInfo().metadata is not ExposureInfo().metadata
    with pytest.raises(AfwValueError, match="ExposureInfo.metadata must be a PropertyList, got dict"):
        ExposureInfo(metadata={"A": 1})


def test_properties_delegate_to_pixels_and_info():
    exposure = make_exposure()
    assert exposure.bbox == BOX and exposure.xy0 == Point2I(1000, 2000) and exposure.dimensions == Extent2I(12, 10)
    assert exposure.image is exposure.masked_image.image and exposure.mask is exposure.masked_image.mask
    assert exposure.variance is exposure.masked_image.variance
    assert exposure.id == 42 and exposure.wcs is exposure.info.wcs
    marker = object()
    exposure.photo_calib = marker
    assert exposure.info.photo_calib is marker
    for name in INFO_FIELDS:
        assert getattr(exposure, name) is getattr(exposure.info, name)
    with pytest.raises(AfwValueError, match="Exposure.metadata must be a PropertyList"):
        exposure.metadata = {"A": 1}
    blank = Exposure(Extent2I(3, 2))
    assert blank.bbox == Box2I.from_begin_end(0, 0, 3, 2) and blank.wcs is None
    with pytest.raises(AfwValueError, match="Exposure info must be an ExposureInfo, got dict"):
        Exposure(Extent2I(3, 2), info={})


def test_sub_exposure_shares_pixels_and_info():
    exposure = make_exposure()
    box = Box2I.from_begin_end(1002, 2003, 1006, 2007)
    sub = exposure[box]
    assert sub.bbox == box and sub.info is exposure.info
    sub.image.array[:] = 0
    assert (exposure.image.array == 0).sum() == 16
    sub.metadata.set("NEWKEY", 1)
    assert exposure.metadata["NEWKEY"] == 1
    patch = MaskedImage(Extent2I(4, 4))
    patch.image.array[:] = 7
    exposure[box] = patch
    assert (sub.image.array == 7).all()


def test_clone_copies_pixels_and_metadata_but_shares_components():
    exposure = make_exposure()
    clone = exposure.clone()
    assert clone.masked_image.equals(exposure.masked_image) and clone.metadata == exposure.metadata
    assert clone.wcs is exposure.wcs and clone.psf is exposure.psf and clone.id == 42
    assert clone.info is not exposure.info and clone.metadata is not exposure.metadata
    clone.image.array[0, 0] = -1
    clone.metadata.set("EXPTIME", 1.0)
    clone.wcs = None
    assert exposure.image.array[0, 0] != -1 and exposure.metadata["EXPTIME"] == 30.0 and exposure.wcs is not None
    assert copy.deepcopy(exposure).masked_image.equals(exposure.masked_image)


def test_ccddata_round_trip_keeps_pixels_metadata_and_wcs():
    exposure = make_exposure()
    ccd = exposure.to_ccddata()
    assert isinstance(ccd, CCDData) and ccd.unit == "adu"
    assert ccd.wcs is exposure.wcs
    assert ccd.meta["EXPTIME"] == 30.0 and ccd.meta.comments["EXPTIME"] == "exposure time (s)"
    assert ccd.meta["LTV1"] == -1000 and ccd.meta["MP_SAT"] == 1
    assert ccd.mask.sum() == 4
    back = Exposure.from_ccddata(ccd)
    assert back.masked_image.equals(exposure.masked_image)
    assert back.metadata == exposure.metadata  # order, COMMENT/HISTORY, HIERARCH, comments; no MP_/LTV
    assert back.wcs is exposure.wcs


def test_reserved_cards_are_rewritten_from_the_pixels():
    exposure = make_exposure()
    exposure.metadata.set("LTV1", 5)  # stale value from an earlier cut-out
    exposure.metadata.set("MP_BOGUS", 30)
    meta = exposure.to_ccddata().meta
    assert meta["LTV1"] == -1000 and "MP_BOGUS" not in meta


def test_to_nddata_passes_only_ape14_wcs():
    exposure = make_exposure()
    nd = exposure.to_nddata()
    assert nd.wcs is exposure.wcs and nd.mask.sum() == 4 and nd.meta["EXPTIME"] == 30.0
    exposure.wcs = object()  # some non-astropy WCS
    assert exposure.to_nddata().wcs is None
    assert exposure.to_ccddata().wcs is None


def test_real_afw_file_as_an_exposure_round_trips_through_ccddata(hsc_afw_path):
    with fits.open(hsc_afw_path, memmap=False) as hdul:
        image_hdu, mask_hdu, variance_hdu = hdul[1], hdul[2], hdul[3]
        xy0 = Point2I(-image_hdu.header["LTV1"], -image_hdu.header["LTV2"])
        mask = Mask.from_fits_keywords(mask_hdu.header, mask_hdu.data, xy0=xy0)
        mi = MaskedImage.from_arrays(image_hdu.data, mask.array, variance_hdu.data, xy0=xy0, planes=mask.planes)
        metadata = PropertyList.from_fits_header(hdul[0].header)
    exposure = Exposure(mi, ExposureInfo(metadata=metadata))
    assert exposure.bbox == Box2I.from_begin_end(100, 100, 300, 300)
    assert np.isfinite(exposure.image.array).any() and exposure.variance.array.max() > 0
    assert_array_equal(exposure.image.array, image_hdu.data)
    exposure.image.units = "adu"
    back = Exposure.from_ccddata(exposure.to_ccddata())
    assert back.masked_image.equals(exposure.masked_image)  # pixels, bits, plane numbering, variance, xy0
    assert_array_equal(back.mask.array, mask_hdu.data.astype(np.int32))
    assert back.mask.get_plane_bit("CROSSTALK") == 8 and back.xy0 == Point2I(100, 100)
    assert back.metadata == metadata
