"""Reading raw files into the raw frame that the ISR steps work on.

* `read_lsst_raw`: an LSST multi-extension raw (one HDU per amplifier, e.g. LSSTCam's 16
  ``SegmentXY`` HDUs) placed amplifier by amplifier at ``Amplifier.raw_xy_offset`` using the
  detector's camera geometry (HDU from ``raw_hdu``); `assemble` then trims and flips.
  This is the reader to use until an obs package provides ``Instrument.read_raw``.
* `single_amp_detector`: a one-amplifier `Detector` from IRAF-style sections
  (``TRIMSEC``/``DATASEC``, ``BIASSEC``), for single-amp CCD frames such as most
  small-telescope cameras.
* `amp_hdu_layout`: the geometry an amplifier HDU header declares (DATASEC, DETSEC and
  the flips implied by reversed DETSEC ranges), to cross-check camera geometry.

Section strings are FITS/IRAF 1-based inclusive ``[x1:x2,y1:y2]``; boxes here are 0-based,
begin inclusive, end exclusive.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from osprey.afw.camera_geom import Camera, Detector
from osprey.afw.image import Exposure, ExposureInfo, MaskedImage
from osprey.afw.visit_info import VisitInfo
from osprey.geom import Box2I

from .errors import CalibFormatError, IsrValueError
from .steps import raw_frame_bbox

__all__ = ["amp_hdu_layout", "parse_section", "read_lsst_raw", "single_amp_detector"]

_SECTION = re.compile(r"^\s*\[\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*\]\s*$")


def parse_section(text: str) -> tuple[Box2I, bool, bool]:
    """``"[x1:x2,y1:y2]"`` (1-based, inclusive, possibly reversed) → ``(box, flip_x, flip_y)``."""
    match = _SECTION.match(str(text))
    if not match:
        raise CalibFormatError(f"not a FITS section '[x1:x2,y1:y2]': {text!r}")
    x1, x2, y1, y2 = (int(v) for v in match.groups())
    box = Box2I.from_begin_end(min(x1, x2) - 1, min(y1, y2) - 1, max(x1, x2), max(y1, y2))
    return box, x1 > x2, y1 > y2


def amp_hdu_layout(header: Any) -> dict[str, Any]:
    """DATASEC box (in the HDU), DETSEC box (in the detector) and the DETSEC flips of one amp HDU."""
    missing = [k for k in ("DATASEC", "DETSEC") if k not in header]
    if missing:
        raise CalibFormatError(f"amp HDU {header.get('EXTNAME', '?')!r} lacks {missing}")
    data, _, _ = parse_section(header["DATASEC"])
    det, flip_x, flip_y = parse_section(header["DETSEC"])
    return {"extname": header.get("EXTNAME"), "data_bbox": data, "det_bbox": det, "flip_x": flip_x, "flip_y": flip_y}


def _visit_info(header: Any) -> VisitInfo:
    def num(key: str) -> float | None:
        value = header.get(key)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    kind = header.get("IMGTYPE", header.get("OBSTYPE", header.get("IMAGETYP")))
    return VisitInfo(
        exposure_time=num("EXPTIME"),
        dark_time=num("DARKTIME") if num("DARKTIME") is not None else num("EXPTIME"),
        observation_type=None if kind is None else str(kind).strip().lower(),
    )


def read_lsst_raw(path: str | os.PathLike[str], detector: Detector) -> Exposure:
    """Read a multi-extension raw (one HDU per amplifier) into the raw frame of ``detector``.

    Each amplifier's HDU is ``amp.raw_hdu``; its array must have the shape of
    ``amp.raw_bbox``; it is copied to ``amp.raw_xy_offset``. When the HDU has an EXTNAME
    ``SegmentXY`` it must match the amplifier name ``CXY``. Gzip-compressed files are read
    transparently. The primary header gives the visit info (EXPTIME, DARKTIME, IMGTYPE).

    Raises
    ------
    CalibFormatError
        A missing HDU, a wrong shape or a name mismatch, naming the file and HDU.
    """
    from astropy.io import fits

    name = os.fspath(path)
    frame = raw_frame_bbox(detector)
    pixels = np.zeros((frame.height, frame.width), np.float32)
    try:
        hdus = fits.open(name, memmap=False)
    except OSError as err:
        raise CalibFormatError(f"{name}: cannot open as FITS ({err})") from None
    with hdus:
        primary = hdus[0].header
        for amp in detector:
            index = amp.raw_hdu
            if index is None or index >= len(hdus):
                raise CalibFormatError(f"{name}: amplifier {amp.name} expects HDU {index}, file has {len(hdus)}")
            hdu = hdus[index]
            extname = str(hdu.header.get("EXTNAME", ""))
            if extname.startswith("Segment") and extname[len("Segment") :] != amp.name.lstrip("C"):
                raise CalibFormatError(
                    f"{name} HDU {index}: EXTNAME {extname!r} does not match amplifier {amp.name!r} "
                    f"of detector {detector.name}"
                )
            data = hdu.data
            rb = amp.raw_bbox
            if data is None or data.shape != (rb.height, rb.width):
                shape = None if data is None else data.shape
                raise CalibFormatError(
                    f"{name} HDU {index} ({extname}): shape {shape}, amplifier {amp.name} raw bbox is "
                    f"{(rb.height, rb.width)}"
                )
            ox, oy = amp.raw_xy_offset.x, amp.raw_xy_offset.y
            pixels[oy + rb.y0 : oy + rb.y_end, ox + rb.x0 : ox + rb.x_end] = data
        visit = _visit_info(primary)
    mi = MaskedImage.from_arrays(pixels, units="adu", xy0=(frame.x0, frame.y0))
    return Exposure(mi, ExposureInfo(detector=detector, visit_info=visit))


def single_amp_detector(
    shape: tuple[int, int],
    data_section: str,
    overscan_section: str,
    *,
    gain: float = 1.0,
    read_noise: float = 0.0,
    saturation: float = 65535.0,
    name: str = "CCD",
    amp_name: str = "A",
) -> Detector:
    """A one-amplifier detector for a single-amp CCD frame of ``shape`` (rows, columns).

    ``data_section`` (TRIMSEC/DATASEC) and ``overscan_section`` (BIASSEC) are FITS
    sections; the overscan is treated as the serial overscan (a per-row level) wherever it
    lies. Gain in e⁻/ADU, read noise in e⁻, saturation in ADU.
    """
    data, fx, fy = parse_section(data_section)
    over, _, _ = parse_section(overscan_section)
    if fx or fy:
        raise IsrValueError(f"single_amp_detector: reversed data section {data_section!r}")
    frame = Box2I.from_begin_end(0, 0, int(shape[1]), int(shape[0]))
    for what, box in (("data", data), ("overscan", over)):
        if not (frame.contains(box)):
            raise IsrValueError(f"single_amp_detector: {what} section {box} is outside the {shape} frame")

    def spec(box: Box2I) -> list[list[int]]:
        return [[box.x0, box.y0], [box.width, box.height]]

    description = {
        "format_version": 1,
        "name": name,
        "plate_scale_arcsec_per_mm": 1.0,
        "detectors": [
            {
                "id": 0,
                "name": name,
                "bbox_px": [[0, 0], [data.width, data.height]],
                "orientation": {
                    "focal_plane_position_mm": [0.0, 0.0],
                    "pitch_rad": 0.0,
                    "reference_point_px": [(data.width - 1) / 2, (data.height - 1) / 2],
                    "roll_rad": 0.0,
                    "yaw_rad": 0.0,
                },
                "physical_type": "CCD",
                "pixel_size_mm": [0.015, 0.015],
                "serial": name,
                "type": "SCIENCE",
                "amplifiers": [
                    {
                        "name": amp_name,
                        "bbox_px": [[0, 0], [data.width, data.height]],
                        "gain_e_per_adu": float(gain),
                        "read_noise_e": float(read_noise),
                        "saturation_adu": float(saturation),
                        "suspect_level_adu": float(saturation),
                        "linearity": {"type": "NONE", "coeffs": []},
                        "raw": {
                            "bbox_px": spec(frame),
                            "data_bbox_px": spec(data),
                            "serial_overscan_bbox_px": spec(over),
                            "parallel_overscan_bbox_px": [[0, 0], [0, 0]],
                            "serial_prescan_bbox_px": [[0, 0], [0, 0]],
                            "parallel_prescan_bbox_px": [[0, 0], [0, 0]],
                            "flip_x": False,
                            "flip_y": False,
                            "xy_offset_px": [0, 0],
                            "hdu": 0,
                        },
                    }
                ],
            }
        ],
    }
    return Camera.from_yaml(description)[0]
