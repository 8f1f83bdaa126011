"""The DECam raw format: one multi-extension FITS file per exposure, one image HDU per CCD.

A real DECam raw (``DECam_00229388.fits.fz``, ``c4d_130901_060255_ori.fits.fz``) has an
exposure-level primary header and one HDU per CCD (``EXTNAME`` = ``DETPOS`` such as
``S1``; ``CCDNUM`` = detector id), 2160 x 4146 unsigned 16-bit pixels, usually
Rice-compressed by fpack (``.fz``: astropy reads and writes these as ``CompImageHDU``).
Each HDU carries its own section cards (``DATASECA``, ``BIASSECA``, ``AMPSECA``...), and
its gains, read noises and saturation levels; reading uses them in preference to the
camera's nominal values, so the `Detector` attached to an exposure describes that file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from osprey.obs.base import header_cards, open_raw_fits

from ._errors import DecamGeometryError, DecamRawFormatError
from ._geometry import amplifiers_from_header, raw_frame_shape, section_cards

if TYPE_CHECKING:
    from osprey.afw.camera_geom import Amplifier, Detector
    from osprey.afw.image import Exposure

    from ._instrument import DarkEnergyCamera

__all__ = ["RAW_HDU_ORDER", "raw_detectors", "read_raw", "read_raw_headers", "write_raw"]

_log = logging.getLogger(__name__)

RAW_HDU_ORDER = (
    25, 26, 27, 32, 33, 34, 19, 20, 13, 14, 8, 4, 39, 40, 45, 46, 51, 56, 21, 22, 23, 24, 17, 18, 15, 16, 9,
    10, 11, 12, 5, 6, 7, 1, 2, 3, 35, 36, 37, 38, 28, 29, 30, 31, 41, 42, 43, 44, 49, 50, 47, 48, 52, 53,
    54, 55, 57, 58, 59, 60, 61, 62,
)  # fmt: skip
"""CCDNUM of the science HDUs 1..62 of a typical DECam raw file, in file order (the reader does not
rely on it: it finds each CCD by its ``CCDNUM`` card; the writer follows it)."""

# Cards that describe the FITS structure of one HDU (or its compression), not the observation.
_STRUCTURE = {
    "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "PCOUNT", "GCOUNT",
    "BZERO", "BSCALE", "CHECKSUM", "DATASUM", "TFIELDS", "TTYPE1", "TFORM1", "ZIMAGE", "ZTILE1",
    "ZTILE2", "ZCMPTYPE", "ZNAME1", "ZVAL1", "ZNAME2", "ZVAL2", "ZTENSION", "ZBITPIX", "ZNAXIS",
    "ZNAXIS1", "ZNAXIS2", "ZPCOUNT", "ZGCOUNT", "ZQUANTIZ", "ZDITHER0", "ZSIMPLE", "ZEXTEND",
    "ZHECKSUM", "ZDATASUM", "INHERIT", "NEXTEND", "COMMENT", "HISTORY", "",
}  # fmt: skip
_RAW_DTYPE = np.dtype(np.uint16)


# -- opening and finding CCDs ----------------------------------------------------------------------


def _open(path: str | os.PathLike[str]) -> Any:
    return open_raw_fits(path, DecamRawFormatError, "DECam raw file")


def _cards(header: Any) -> dict[str, Any]:
    """Observation cards of one FITS header as a dict (structure and commentary dropped)."""
    return header_cards(header, _STRUCTURE)


def _ccd_hdus(hdus: Any, where: str) -> dict[int, int]:
    """CCDNUM -> HDU index of every image HDU that names its CCD."""
    found: dict[int, int] = {}
    for index in range(1, len(hdus)):
        header = hdus[index].header
        if "CCDNUM" not in header:
            continue
        try:
            ccdnum = int(header["CCDNUM"])
        except (TypeError, ValueError):
            raise DecamRawFormatError(
                f"DECam raw file {where}, HDU {index}: CCDNUM {header['CCDNUM']!r} is not an integer"
            ) from None
        if ccdnum in found:
            raise DecamRawFormatError(
                f"DECam raw file {where}: CCDNUM {ccdnum} appears in HDUs {found[ccdnum]} and {index}"
            )
        found[ccdnum] = index
    return found


def raw_detectors(path: str | os.PathLike[str]) -> dict[int, int]:
    """CCDNUM -> HDU index for every CCD in a DECam raw file (headers only, no pixels)."""
    with _open(path) as hdus:
        return _ccd_hdus(hdus, os.fspath(path))


def read_raw_headers(path: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    """CCDNUM -> merged header (primary cards, then that CCD's HDU cards) for every CCD in the file.

    The merged header is what `DecamTranslator` and astro_metadata_translator read: the
    exposure cards come from the primary HDU, ``CCDNUM``/``DETPOS`` from the CCD's HDU.
    """
    where = os.fspath(path)
    with _open(path) as hdus:
        primary = _cards(hdus[0].header)
        return {ccd: {**primary, **_cards(hdus[i].header)} for ccd, i in sorted(_ccd_hdus(hdus, where).items())}


# -- reading -------------------------------------------------------------------------------------


def _flip(array: NDArray[Any], amp: Amplifier) -> NDArray[Any]:
    return array[:: -1 if amp.raw_flip_y else 1, :: -1 if amp.raw_flip_x else 1]


def _half_slices(amp: Amplifier) -> tuple[slice, slice]:
    x0, y0 = amp.raw_xy_offset.x, amp.raw_xy_offset.y
    return slice(y0, y0 + amp.raw_bbox.height), slice(x0, x0 + amp.raw_bbox.width)


def _pick_ccd(instrument: DarkEnergyCamera, ccds: dict[int, int], detector: Any, where: str) -> tuple[Detector, int]:
    from osprey.afw.camera_geom import Detector

    if detector is None:
        if len(ccds) != 1:
            raise DecamRawFormatError(
                f"DECam raw file {where} holds {len(ccds)} CCDs (CCDNUM {sorted(ccds)}); "
                "say which one with detector=<CCDNUM or name>"
            )
        detector = next(iter(ccds))
    det = detector if isinstance(detector, Detector) else instrument.get_detector(detector)
    if det.id not in ccds:
        raise DecamRawFormatError(
            f"DECam raw file {where} has no HDU for detector {det.id} ({det.name}); CCDNUM present: {sorted(ccds)}"
        )
    return det, ccds[det.id]


def read_raw(instrument: DarkEnergyCamera, path: str | os.PathLike[str], detector: Any = None) -> Exposure:
    """One CCD of a DECam raw file as an untrimmed `Exposure` in the raw (readout-order) frame.

    See `DarkEnergyCamera.read_raw`.
    """
    from astropy.io import fits

    from osprey.afw.image import Exposure, Image, MaskedImage
    from osprey.afw.metadata import PropertyList

    where = os.fspath(path)
    with _open(path) as hdus:
        det, index = _pick_ccd(instrument, _ccd_hdus(hdus, where), detector, where)
        hdu = hdus[index]
        label = f"DECam raw file {where}, HDU {index} ({hdu.header.get('EXTNAME', det.name)})"
        try:
            data = hdu.data
        except (OSError, ValueError, TypeError) as exc:
            raise DecamRawFormatError(f"{label}: cannot read pixels: {exc}") from None
        if data is None or data.ndim != 2:
            raise DecamRawFormatError(f"{label}: no 2-D image data")
        hdu_cards = _cards(hdu.header)
        name = str(hdu_cards.get("DETPOS", det.name)).strip()
        if name != det.name:
            raise DecamRawFormatError(f"{label}: DETPOS {name!r} disagrees with detector {det.id} = {det.name!r}")
        try:
            det = amplifiers_from_header(hdu_cards, det, label, data.shape)
        except DecamGeometryError as exc:
            raise DecamRawFormatError(str(exc)) from None
        shape = raw_frame_shape(det)
        if data.shape != shape:
            raise DecamRawFormatError(
                f"{label}: image is {data.shape} (rows, columns) but CCD {det.name}'s raw frame is {shape}"
            )
        frame = np.empty(shape, dtype=np.float32)
        for amp in det.amplifiers:  # a loop over the two amplifiers; each copy is one numpy operation
            frame[_half_slices(amp)] = _flip(data[_half_slices(amp)], amp)
        cards = {**_cards(hdus[0].header), **hdu_cards}
        merged = fits.Header()
        for key, value in cards.items():
            merged[key] = value
        metadata = PropertyList.from_fits_header(merged)
    exposure = Exposure(MaskedImage.from_images(Image.from_array(frame)))
    exposure.metadata = metadata
    exposure.detector = det
    try:
        info = instrument.translate(cards, where)
    except Exception as exc:  # a raw whose header cannot be translated still has its pixels
        _log.warning("%s: header not translatable (%s); visit_info left empty", label, exc)
    else:
        exposure.info.id = info.detector_exposure_id
        exposure.visit_info = info.to_visit_info()
    return exposure


# -- writing -------------------------------------------------------------------------------------


def _digitise(values: Any, where: str) -> NDArray[np.uint16]:
    """ADU rounded to the nearest integer and clipped to 0..65535, as DECam's 16-bit ADCs store them."""
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise DecamRawFormatError(f"{where}: raw pixels must be finite ADU values")
    info = np.iinfo(_RAW_DTYPE)
    return np.clip(np.rint(array), info.min, info.max).astype(_RAW_DTYPE)


def _frame_from(det: Detector, raw: Any, where: str) -> NDArray[Any]:
    """The raw-frame array (readout order) of one CCD, from a frame or an amp -> array mapping."""
    shape = raw_frame_shape(det)
    if isinstance(raw, Mapping):
        names = {a.name for a in det.amplifiers}
        missing, extra = sorted(names - set(raw)), sorted(set(raw) - names)
        if missing or extra:
            raise DecamRawFormatError(f"{where}: CCD {det.name} amplifiers missing {missing}, unknown {extra}")
        frame = np.zeros(shape, dtype=np.float64)
        for amp in det.amplifiers:
            array = np.asarray(raw[amp.name])
            expected = (amp.raw_bbox.height, amp.raw_bbox.width)
            if array.shape != expected:
                raise DecamRawFormatError(f"{where}: amplifier {amp.name} array is {array.shape}, expected {expected}")
            frame[_half_slices(amp)] = array
        return frame
    frame = np.asarray(raw)
    if frame.shape != shape:
        raise DecamRawFormatError(
            f"{where}: CCD {det.name} raw frame is {frame.shape} (rows, columns), expected {shape}: "
            "both amplifiers side by side in readout order, as read_raw returns them"
        )
    return frame


def write_raw(
    instrument: DarkEnergyCamera,
    path: str | os.PathLike[str],
    raws: Mapping[int, Any],
    header: Mapping[str, Any],
    *,
    compress: bool | None = None,
) -> Path:
    """Write CCDs of one exposure as a DECam raw multi-extension FITS file. See `DarkEnergyCamera.write_raw_mef`."""
    from astropy.io import fits
    from astropy.io.fits.verify import VerifyWarning

    target = Path(path)
    where = f"DECam raw file {os.fspath(target)}"
    if compress is None:
        compress = target.name.endswith(".fz")
    if not raws:
        raise DecamRawFormatError(f"{where}: no CCDs to write")
    reserved = sorted(
        k
        for k in header
        if k.upper() in _STRUCTURE - {"COMMENT", "HISTORY", ""} or k.upper() in {"CCDNUM", "DETPOS", "EXTNAME"}
    )
    geometry = sorted(
        k
        for k in header
        if k.upper().rstrip("AB")
        in {"DATASEC", "BIASSEC", "PRESEC", "POSTSEC", "CCDSEC", "AMPSEC", "TRIMSEC", "DETSEC"}
    )
    if reserved or geometry:
        raise DecamRawFormatError(
            f"{where}: the primary header may not set per-CCD or structural cards {reserved + geometry}; "
            "they are written from the camera geometry"
        )
    order = {ccd: i for i, ccd in enumerate(RAW_HDU_ORDER)}
    ccds = sorted((instrument.get_detector(d) for d in raws), key=lambda d: (order.get(d.id, 99 + d.id), d.id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # long keys become HIERARCH cards, as intended
        primary = fits.Header()
        for key, value in header.items():
            primary[key] = value
        primary["NEXTEND"] = (len(ccds), "Number of extensions")
        hdus: list[Any] = [fits.PrimaryHDU(header=primary)]
        for det in ccds:
            key = det.id if det.id in raws else det.name
            frame = _frame_from(det, raws[key], f"{where}, CCD {det.name}")
            pixels = np.empty(frame.shape, dtype=_RAW_DTYPE)
            for amp in det.amplifiers:  # back from readout order to the file layout
                pixels[_half_slices(amp)] = _digitise(_flip(frame[_half_slices(amp)], amp), f"{where}, CCD {det.name}")
            cards = fits.Header()
            cards["EXTNAME"] = (det.name, "Extension name")
            cards["BUNIT"] = ("adu", "Pixel unit")
            for card_key, value in section_cards(det).items():
                cards[card_key] = value
            cards["CCDNUM"] = (det.id, "CCD number")
            cards["DETPOS"] = (det.name, "detector position ID")
            if compress:
                hdus.append(fits.CompImageHDU(data=pixels, header=cards, compression_type="RICE_1"))
            else:
                hdus.append(fits.ImageHDU(data=pixels, header=cards))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            fits.HDUList(hdus).writeto(tmp, overwrite=True, checksum=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target
