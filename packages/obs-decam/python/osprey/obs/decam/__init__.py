"""DECam for Osprey: camera geometry, translator, multi-extension raw formatter, crosstalk and curated calibrations.

`DarkEnergyCamera` is the instrument (``Instrument.from_name("DECam")``); the pieces it is
made of are usable alone: `load_camera` (62 science CCDs from CTIO's chip centres),
`DECAM_FILTERS`, `read_raw_headers`/`raw_detectors` for raw files, `DecamCrosstalk` (the
CTIO 2013 coefficients) and the section helpers `parse_section`/`format_section`.

Not lifted: ``_build`` (regenerates the shipped resources from the CTIO files) and the
frame-conversion helpers of ``_geometry``.
"""

from importlib.metadata import version as _version

from ._crosstalk import CROSSTALK_VALID_FROM, CrosstalkTerm, DecamCrosstalk
from ._errors import DecamCrosstalkError, DecamError, DecamGeometryError, DecamRawFormatError
from ._filters import DECAM_FILTERS
from ._geometry import (
    CCD_HEIGHT,
    CCD_WIDTH,
    PIXEL_SIZE_MM,
    RAW_HEIGHT,
    RAW_WIDTH,
    ChipCenter,
    amplifiers_from_header,
    camera_description,
    format_section,
    load_camera,
    parse_section,
    read_chip_centers,
    section_cards,
)
from ._instrument import DarkEnergyCamera
from ._raw import RAW_HDU_ORDER, raw_detectors, read_raw_headers

__version__ = _version("osprey-obs-decam")

__all__ = [
    "CCD_HEIGHT",
    "CCD_WIDTH",
    "CROSSTALK_VALID_FROM",
    "DECAM_FILTERS",
    "PIXEL_SIZE_MM",
    "RAW_HDU_ORDER",
    "RAW_HEIGHT",
    "RAW_WIDTH",
    "ChipCenter",
    "CrosstalkTerm",
    "DarkEnergyCamera",
    "DecamCrosstalk",
    "DecamCrosstalkError",
    "DecamError",
    "DecamGeometryError",
    "DecamRawFormatError",
    "__version__",
    "amplifiers_from_header",
    "camera_description",
    "format_section",
    "load_camera",
    "parse_section",
    "raw_detectors",
    "read_chip_centers",
    "read_raw_headers",
    "section_cards",
]
