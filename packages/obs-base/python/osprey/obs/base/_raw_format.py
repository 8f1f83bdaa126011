"""The generic raw file formats: one FITS image HDU per amplifier, or one per detector.

Both keep the primary header as the exposure's metadata. Amplifier HDUs carry the IRAF/LSST
geometry cards (``DATASEC``, ``BIASSEC``, ``DETSEC``, ``DETSIZE``, ``DTV``/``DTM``) that
every FITS viewer understands; on read they are checked against the camera geometry so a
file from a differently wired camera fails loudly instead of being assembled wrongly.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._errors import ObsBaseError, RawFormatError

if TYPE_CHECKING:
    from osprey.afw.camera_geom import Amplifier, Detector
    from osprey.afw.image import Exposure
    from osprey.geom import Box2I

    from ._instrument import Instrument

__all__ = [
    "GEOMETRY_CARDS",
    "fits_section",
    "header_cards",
    "open_raw_fits",
    "parse_fits_section",
    "raw_frame_shape",
    "read_primary_header",
    "read_raw_file",
    "write_raw_file",
]

_log = logging.getLogger(__name__)

GEOMETRY_CARDS = ("DATASEC", "BIASSEC", "PRESEC", "DETSEC", "DETSIZE", "DTV1", "DTV2", "DTM1_1", "DTM2_2")
"""Per-HDU cards written from the camera geometry; write_raw drops them from the primary header it is given."""

_SKIP_CARDS = {"", "COMMENT", "HISTORY", "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND"}


def fits_section(box: Box2I, flip_x: bool = False, flip_y: bool = False) -> str:
    """IRAF section string (1-based, inclusive, ``[x1:x2,y1:y2]``) of a box; flips reverse the order."""
    x1, x2 = box.x0 + 1, box.x_end
    y1, y2 = box.y0 + 1, box.y_end
    if flip_x:
        x1, x2 = x2, x1
    if flip_y:
        y1, y2 = y2, y1
    return f"[{x1}:{x2},{y1}:{y2}]"


def parse_fits_section(text: str) -> tuple[int, int, int, int]:
    """``[x1:x2,y1:y2]`` -> (x0, y0, width, height) as a 0-based begin and a size (flips ignored)."""
    try:
        xs, ys = text.strip().strip("[]").split(",")
        x1, x2 = (int(v) for v in xs.split(":"))
        y1, y2 = (int(v) for v in ys.split(":"))
    except ValueError:
        raise ValueError(f"not a FITS section [x1:x2,y1:y2]: {text!r}") from None
    return min(x1, x2) - 1, min(y1, y2) - 1, abs(x2 - x1) + 1, abs(y2 - y1) + 1


def raw_frame_shape(detector: Detector) -> tuple[int, int]:
    """(height, width) of the raw frame: every amplifier's ``raw_bbox`` at its ``raw_xy_offset``."""
    width = max(a.raw_xy_offset.x + a.raw_bbox.x_end for a in detector)
    height = max(a.raw_xy_offset.y + a.raw_bbox.y_end for a in detector)
    return height, width


def _raw_slices(amp: Amplifier) -> tuple[slice, slice]:
    x0 = amp.raw_xy_offset.x + amp.raw_bbox.x0
    y0 = amp.raw_xy_offset.y + amp.raw_bbox.y0
    return slice(y0, y0 + amp.raw_bbox.height), slice(x0, x0 + amp.raw_bbox.width)


def open_raw_fits(
    path: str | os.PathLike[str], error: type[RawFormatError] = RawFormatError, what: str = "raw file"
) -> Any:
    """Open a FITS file (an HDU list, a context manager), or raise ``error`` naming the file and why."""
    from astropy.io import fits

    try:
        return fits.open(os.fspath(path), memmap=False)
    except FileNotFoundError:
        raise error(f"{what} {os.fspath(path)} does not exist") from None
    except (OSError, ValueError, TypeError) as exc:
        raise error(f"{what} {os.fspath(path)} is not a readable FITS file: {exc}") from None


def header_cards(header: Any, skip: Collection[str] = _SKIP_CARDS) -> dict[str, Any]:
    """FITS header -> dict of its observation cards (later repeated keys win; ``skip`` dropped)."""
    out: dict[str, Any] = {}
    for card in header.cards:
        key = card.keyword
        if key in skip:
            continue
        value = card.value
        if value.__class__.__name__ == "Undefined":
            value = None
        elif isinstance(value, str):
            value = value.rstrip()
        out[key] = value
    return out


def read_primary_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Primary-HDU cards of a FITS file as a dict, without reading any pixels."""
    with open_raw_fits(path) as hdus:
        try:
            return header_cards(hdus[0].header)
        except (OSError, ValueError) as exc:
            raise RawFormatError(f"raw file {os.fspath(path)}: unreadable primary header: {exc}") from None


def _resolve_detector(instrument: Instrument, detector: Any, header: Mapping[str, Any], path: str) -> tuple[Any, Any]:
    """(Detector, ObservationInfo or None): the detector asked for, or the one the header names."""
    from osprey.afw.camera_geom import Detector

    info = None
    try:
        info = instrument.translate(header, path)
    except ObsBaseError as exc:
        if detector is None:
            raise RawFormatError(f"raw file {path}: cannot tell which detector it holds: {exc}") from None
        _log.warning("raw file %s: header not translatable (%s); visit_info left empty", path, exc)
    if detector is None:
        detector = info.detector_num
    det = detector if isinstance(detector, Detector) else instrument.get_detector(detector)
    if info is not None and info.detector_num != det.id:
        raise RawFormatError(
            f"raw file {path}: its header says detector {info.detector_num}, but detector {det.id} "
            f"({det.name}) was asked for"
        )
    return det, info


def read_raw_file(instrument: Instrument, path: str | os.PathLike[str], detector: Any = None) -> Exposure:
    """Implementation of `Instrument.read_raw` for both generic formats (see there)."""
    from osprey.afw.image import Exposure, Image, MaskedImage
    from osprey.afw.metadata import PropertyList

    where = os.fspath(path)
    with open_raw_fits(path) as hdus:
        header = header_cards(hdus[0].header)
        det, info = _resolve_detector(instrument, detector, header, where)
        height, width = raw_frame_shape(det)
        frame = np.zeros((height, width), dtype=np.float32)
        try:
            if instrument.raw_format == "amp_hdus":
                _read_amp_hdus(instrument, hdus, det, frame, where)
            else:
                _read_detector_hdu(hdus, frame, where)
        except (OSError, ValueError, TypeError) as exc:
            if isinstance(exc, RawFormatError):
                raise
            raise RawFormatError(f"raw file {where}: cannot read pixels: {exc}") from None
        metadata = PropertyList.from_fits_header(hdus[0].header)
    exposure = Exposure(MaskedImage.from_images(Image.from_array(frame)))
    exposure.metadata = metadata
    exposure.detector = det
    if info is not None:
        exposure.info.id = info.detector_exposure_id
        exposure.visit_info = info.to_visit_info()
    return exposure


def _read_amp_hdus(instrument: Instrument, hdus: Any, det: Detector, frame: NDArray[np.float32], where: str) -> None:
    by_name = {}
    for index, hdu in enumerate(hdus):
        extname = hdu.header.get("EXTNAME")
        if index > 0 and extname is not None:
            by_name[str(extname).strip()] = index
    for amp in det:
        extname = instrument.amp_hdu_name(amp.name)
        index = by_name.get(extname, amp.raw_hdu if not by_name else None)
        if index is None or index >= len(hdus):
            raise RawFormatError(
                f"raw file {where}: no HDU for amplifier {amp.name} of detector {det.name} "
                f"(EXTNAME {extname!r}; HDUs present: {sorted(by_name) or len(hdus)})"
            )
        hdu = hdus[index]
        data = hdu.data
        expected = (amp.raw_bbox.height, amp.raw_bbox.width)
        if data is None or data.shape != expected:
            shape = None if data is None else data.shape
            raise RawFormatError(
                f"raw file {where}, HDU {index} ({extname}): shape {shape} does not match amplifier "
                f"{amp.name} of detector {det.name}, whose raw bbox is {expected} (rows, columns)"
            )
        datasec = hdu.header.get("DATASEC")
        if datasec:
            x0, y0, w, h = parse_fits_section(str(datasec))
            box = amp.raw_data_bbox
            if (x0, y0, w, h) != (box.x0, box.y0, box.width, box.height):
                raise RawFormatError(
                    f"raw file {where}, HDU {index} ({extname}): DATASEC {datasec} disagrees with the camera "
                    f"geometry of amplifier {amp.name} (data bbox {fits_section(box)})"
                )
        frame[_raw_slices(amp)] = data


def _read_detector_hdu(hdus: Any, frame: NDArray[np.float32], where: str) -> None:
    for index, hdu in enumerate(hdus):
        if hdu.is_image and hdu.data is not None and hdu.data.ndim == 2:
            if hdu.data.shape != frame.shape:
                raise RawFormatError(
                    f"raw file {where}, HDU {index}: shape {hdu.data.shape} is not the detector's raw frame "
                    f"{frame.shape} (rows, columns)"
                )
            frame[...] = hdu.data
            return
    raise RawFormatError(f"raw file {where}: no 2-D image HDU")


def _digitise(values: NDArray[Any], dtype: np.dtype[Any]) -> NDArray[Any]:
    """Round ADU to the raw integer type, clipping to its range as an ADC saturates."""
    info = np.iinfo(dtype)
    return np.clip(np.rint(np.asarray(values, dtype=np.float64)), info.min, info.max).astype(dtype)


def _amp_arrays(det: Detector, raw: Any, path: str) -> dict[str, NDArray[Any]]:
    """Split the raw frame (or check the per-amplifier mapping) into one array per amplifier."""
    if isinstance(raw, Mapping):
        missing = [a.name for a in det if a.name not in raw]
        extra = sorted(set(raw) - {a.name for a in det})
        if missing or extra:
            raise RawFormatError(f"write_raw {path}: detector {det.name} amplifiers missing {missing}, unknown {extra}")
        out = {}
        for amp in det:
            array = np.asarray(raw[amp.name])
            expected = (amp.raw_bbox.height, amp.raw_bbox.width)
            if array.shape != expected:
                raise RawFormatError(
                    f"write_raw {path}: amplifier {amp.name} array has shape {array.shape}, expected {expected}"
                )
            out[amp.name] = array
        return out
    array = np.asarray(raw)
    expected = raw_frame_shape(det)
    if array.shape != expected:
        raise RawFormatError(
            f"write_raw {path}: detector {det.name} raw frame has shape {array.shape}, expected {expected} "
            "(rows, columns: every amplifier's raw bbox at its raw_xy_offset)"
        )
    return {amp.name: array[_raw_slices(amp)] for amp in det}


def _amp_cards(amp: Amplifier, det: Detector) -> list[tuple[str, Any, str]]:
    """IRAF/LSST geometry cards of one amplifier HDU (``DTV``/``DTM`` map raw to detector pixels)."""
    data = amp.raw_data_bbox
    bbox = amp.bbox
    # Detector x = DTM1_1 * raw x + DTV1 (1-based), likewise for y.
    dtm1 = -1.0 if amp.raw_flip_x else 1.0
    dtm2 = -1.0 if amp.raw_flip_y else 1.0
    dtv1 = (bbox.x_end + data.x0 + 1) if amp.raw_flip_x else (bbox.x0 - data.x0)
    dtv2 = (bbox.y_end + data.y0 + 1) if amp.raw_flip_y else (bbox.y0 - data.y0)
    cards = [
        ("EXTNAME", None, "amplifier"),
        ("DATASEC", fits_section(data), "data section in raw pixels"),
        ("DETSEC", fits_section(bbox, amp.raw_flip_x, amp.raw_flip_y), "section in assembled detector pixels"),
        ("DETSIZE", fits_section(det.bbox), "assembled detector size"),
        ("DTV1", dtv1, "detector transformation vector"),
        ("DTV2", dtv2, "detector transformation vector"),
        ("DTM1_1", dtm1, "detector transformation matrix"),
        ("DTM2_2", dtm2, "detector transformation matrix"),
    ]
    if not amp.raw_serial_overscan_bbox.is_empty():
        cards.append(("BIASSEC", fits_section(amp.raw_serial_overscan_bbox), "serial overscan section"))
    if not amp.raw_serial_prescan_bbox.is_empty():
        cards.append(("PRESEC", fits_section(amp.raw_serial_prescan_bbox), "serial prescan section"))
    return cards


def write_raw_file(
    instrument: Instrument, path: str | os.PathLike[str], detector_id: int, raw: Any, header: Mapping[str, Any]
) -> Path:
    """Implementation of `Instrument.write_raw` for both generic formats (see there)."""
    from astropy.io import fits
    from astropy.io.fits.verify import VerifyWarning

    target = Path(path)
    where = os.fspath(target)
    det = instrument.get_detector(detector_id)
    # Merged header dumps carry per-HDU and structural cards: those are written from the geometry.
    header = {
        k: v
        for k, v in header.items()
        if k not in GEOMETRY_CARDS
        and k not in _SKIP_CARDS
        and k not in ("EXTNAME", "XTENSION", "PCOUNT", "GCOUNT", "CHECKSUM", "DATASUM")
    }
    dtype = np.dtype(instrument.raw_dtype)
    arrays = {name: _digitise(a, dtype) for name, a in _amp_arrays(det, raw, where).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # long keys become HIERARCH cards, as intended
        primary_header = fits.Header()
        for key, value in header.items():
            primary_header[key] = value
        hdus: list[Any] = [fits.PrimaryHDU(header=primary_header)]
        if instrument.raw_format == "amp_hdus":
            order = sorted(det, key=lambda a: (a.raw_hdu is None, a.raw_hdu or 0))
            for amp in order:
                hdu_header = fits.Header()
                for key, value, comment in _amp_cards(amp, det):
                    hdu_header[key] = (instrument.amp_hdu_name(amp.name) if key == "EXTNAME" else value, comment)
                hdus.append(_image_hdu(instrument, arrays[amp.name], hdu_header))
        else:
            frame = np.zeros(raw_frame_shape(det), dtype=dtype)
            for amp in det:
                frame[_raw_slices(amp)] = arrays[amp.name]
            hdus.append(_image_hdu(instrument, frame, fits.Header([("EXTNAME", det.name)])))
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


def _image_hdu(instrument: Instrument, data: NDArray[Any], header: Any) -> Any:
    from astropy.io import fits

    compression = getattr(instrument, "raw_compression", None)
    if compression:
        return fits.CompImageHDU(data=data, header=header, compression_type=compression)
    return fits.ImageHDU(data=data, header=header)
