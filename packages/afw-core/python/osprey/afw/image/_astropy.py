"""Conversions between `MaskedImage`/`Exposure` and `astropy.nddata` (CCDData, NDData).

Kept apart so that importing ``osprey.afw.image`` does not import astropy; the methods
on the classes import this module when called.

Layout of a converted object (all arrays shared, not copied):

* ``data``: image; ``uncertainty``: ``VarianceUncertainty(variance)``; ``unit``: the
  image units (dimensionless when unknown);
* ``flags`` (CCDData only): the int32 mask bits; ``mask``: boolean OR of the "bad"
  planes (`DEFAULT_BAD_PLANES`);
* ``meta``: a FITS header with the metadata cards, then ``MP_<NAME> = bit`` for each
  mask plane and ``LTV1 = -x0``, ``LTV2 = -y0`` (the IRAF/afw convention that maps file
  pixels to the parent frame).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.nddata import CCDData, NDData, VarianceUncertainty
from astropy.wcs import WCS
from astropy.wcs.wcsapi import BaseHighLevelWCS, BaseLowLevelWCS

from osprey.geom import Point2I

from ..errors import AfwValueError
from ..metadata import PropertyList
from ._exposure import Exposure, ExposureInfo
from ._mask import Mask
from ._mask_planes import DEFAULT_BAD_PLANES, DEFAULT_MASK_PLANES, MaskPlaneDict
from ._masked_image import MaskedImage

__all__ = [
    "exposure_from_ccddata",
    "exposure_to_ccddata",
    "exposure_to_nddata",
    "masked_image_from_ccddata",
    "masked_image_to_ccddata",
    "masked_image_to_nddata",
]


def _is_reserved(key: str) -> bool:
    """Cards rebuilt from the pixels on every conversion."""
    return key in ("LTV1", "LTV2") or key.startswith("MP_")


def _unit(mi: MaskedImage, unit: Any) -> u.UnitBase:
    chosen = unit if unit is not None else mi.units
    if chosen is None:
        return u.dimensionless_unscaled
    try:
        return u.Unit(chosen)
    except ValueError as err:
        raise AfwValueError(f"{chosen!r} is not an astropy unit string: {err}") from err


def _bool_mask(mask: Mask, bad_planes: Sequence[str] | None) -> np.ndarray:
    names = DEFAULT_BAD_PLANES if bad_planes is None else tuple(bad_planes)
    if bad_planes is None:  # the defaults a mask read from disk may lack are skipped
        names = tuple(n for n in names if n in mask.planes)
    return mask.select(names) if names else np.zeros(mask.array.shape, dtype=bool)


def _meta(mi: MaskedImage, metadata: PropertyList | None) -> fits.Header:
    cards = PropertyList() if metadata is None else metadata.copy()
    for key in [k for k in cards.names() if _is_reserved(k)]:
        cards.remove(key)
    for card in mi.mask.to_fits_keywords().cards():
        cards.add(*card)
    cards.add("LTV1", -mi.xy0.x, "-x0: parent x = file x - LTV1")
    cards.add("LTV2", -mi.xy0.y, "-y0: parent y = file y - LTV2")
    return cards.to_fits_header()


def _as_property_list(meta: Any) -> PropertyList:
    if isinstance(meta, fits.Header):
        return PropertyList.from_fits_header(meta)
    if isinstance(meta, PropertyList):
        return meta.copy()
    if isinstance(meta, Mapping):
        return PropertyList.from_mapping(meta)
    raise AfwValueError(f"CCDData.meta must be a FITS header or a mapping, got {type(meta).__name__}")


def _xy0(metadata: PropertyList) -> Point2I:
    ltv = []
    for key in ("LTV1", "LTV2"):
        value = metadata.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise AfwValueError(f"meta {key}={value!r} must be a whole number of pixels (-xy0)")
        ltv.append(int(value))
    return Point2I(-ltv[0], -ltv[1])


def masked_image_to_ccddata(
    mi: MaskedImage,
    *,
    unit: Any = None,
    bad_planes: Sequence[str] | None = None,
    metadata: PropertyList | None = None,
    wcs: Any = None,
) -> CCDData:
    """CCDData view of ``mi`` (see the module docstring for the layout)."""
    return CCDData(
        mi.image.array,
        unit=_unit(mi, unit),
        uncertainty=VarianceUncertainty(mi.variance.array, copy=False),
        mask=_bool_mask(mi.mask, bad_planes),
        flags=mi.mask.array,
        meta=_meta(mi, metadata),
        wcs=wcs,
        copy=False,
    )


def masked_image_from_ccddata(ccd: CCDData) -> MaskedImage:
    """MaskedImage over ``ccd``'s arrays (converted to float32/int32 when needed)."""
    if not isinstance(ccd, NDData):
        raise AfwValueError(f"expected an astropy CCDData, got {type(ccd).__name__}")
    meta = _as_property_list(ccd.meta)
    planes = MaskPlaneDict.from_fits_keywords(meta) or DEFAULT_MASK_PLANES
    xy0 = _xy0(meta)
    unit = getattr(ccd, "unit", None)
    units = None if unit is None or unit == u.dimensionless_unscaled else unit.to_string()
    flags = getattr(ccd, "flags", None)
    if flags is not None and np.asarray(flags).dtype.kind in "iu":
        mask = Mask.from_array(flags, xy0=xy0, planes=planes)
    else:
        mask = Mask.from_array(np.zeros(np.shape(ccd.data), dtype=np.int32), xy0=xy0, planes=planes)
        if ccd.mask is not None:  # a boolean mask says "unusable" without saying why
            mask.add_plane("BAD")
            mask.set("BAD", where=np.broadcast_to(np.asarray(ccd.mask, dtype=bool), mask.array.shape))
    variance = None
    if ccd.uncertainty is not None:
        variance = ccd.uncertainty.represent_as(VarianceUncertainty).array
    return MaskedImage.from_arrays(ccd.data, mask.array, variance, xy0=xy0, planes=mask.planes, units=units)


def masked_image_to_nddata(
    mi: MaskedImage,
    *,
    unit: Any = None,
    bad_planes: Sequence[str] | None = None,
    metadata: PropertyList | None = None,
    wcs: Any = None,
) -> NDData:
    """NDData view of ``mi``: as CCDData but with only the boolean mask."""
    return NDData(
        mi.image.array,
        uncertainty=VarianceUncertainty(mi.variance.array, copy=False),
        mask=_bool_mask(mi.mask, bad_planes),
        meta=_meta(mi, metadata),
        unit=_unit(mi, unit),
        wcs=wcs,
        copy=False,
    )


def exposure_to_ccddata(exposure: Exposure, *, unit: Any = None, bad_planes: Sequence[str] | None = None) -> CCDData:
    """CCDData of an exposure: pixels, metadata, and the WCS when it is an `astropy.wcs.WCS`."""
    wcs = exposure.wcs if isinstance(exposure.wcs, WCS) else None
    return masked_image_to_ccddata(
        exposure.masked_image, unit=unit, bad_planes=bad_planes, metadata=exposure.metadata, wcs=wcs
    )


def exposure_from_ccddata(ccd: CCDData) -> Exposure:
    """Exposure from CCDData: reserved ``MP_*``/``LTV*`` cards are consumed, the rest is metadata."""
    mi = masked_image_from_ccddata(ccd)
    metadata = _as_property_list(ccd.meta)
    for key in [k for k in metadata.names() if _is_reserved(k)]:
        metadata.remove(key)
    return Exposure(mi, ExposureInfo(wcs=ccd.wcs, metadata=metadata))


def exposure_to_nddata(exposure: Exposure, *, unit: Any = None, bad_planes: Sequence[str] | None = None) -> NDData:
    """NDData of an exposure, passing the WCS when it implements APE 14."""
    wcs = exposure.wcs if isinstance(exposure.wcs, (BaseLowLevelWCS, BaseHighLevelWCS)) else None
    return masked_image_to_nddata(
        exposure.masked_image, unit=unit, bad_planes=bad_planes, metadata=exposure.metadata, wcs=wcs
    )
