"""Osprey instrument abstraction: instruments, metadata translation, raw ingest, visits, calibrations.

`Instrument` is the base class every obs package subclasses (camera, filters, translator,
raw format, curated calibrations, config overrides); installed instruments are found by
name through the entry-point group ``osprey.instruments`` (`Instrument.from_name`).
`translate` turns a raw header into an `ObservationInfo` with the `MetadataTranslator`
that recognises it; `ingest_raws` and `define_visits` fill a Butler repository.

Not lifted: ``formatters`` (named by dotted path in storage classes), ``cli`` (loaded by
the ``butler`` command), ``_raw_format`` helpers other than those listed.
"""

from importlib.metadata import version as _version

from ._astro_metadata import from_astro_metadata, to_astro_metadata
from ._decam import DecamTranslator
from ._errors import (
    IngestError,
    InstrumentError,
    ObsBaseError,
    RawFormatError,
    TranslationError,
    VisitDefinitionError,
)
from ._filters import FilterDefinition
from ._hsc import HscTranslator
from ._ingest import IngestResult, RawFileFailure, exposure_record, ingest_raws, tai_ns
from ._instrument import ENTRY_POINT_GROUP, CuratedCalibration, Instrument
from ._lsst import LatissTranslator, LsstCamTranslator, LsstComCamTranslator, lsstcam_detector_num
from ._observation_info import ObservationInfo
from ._raw_format import fits_section, header_cards, open_raw_fits, parse_fits_section, raw_frame_shape
from ._translator import MetadataTranslator, read_header, translate
from ._visits import VisitDefinitionResult, define_visits, detector_sky_corners, field_angle_to_sky

__version__ = _version("osprey-obs-base")

__all__ = [
    "ENTRY_POINT_GROUP",
    "CuratedCalibration",
    "DecamTranslator",
    "FilterDefinition",
    "HscTranslator",
    "IngestError",
    "IngestResult",
    "Instrument",
    "InstrumentError",
    "LatissTranslator",
    "LsstCamTranslator",
    "LsstComCamTranslator",
    "MetadataTranslator",
    "ObsBaseError",
    "ObservationInfo",
    "RawFileFailure",
    "RawFormatError",
    "TranslationError",
    "VisitDefinitionError",
    "VisitDefinitionResult",
    "__version__",
    "define_visits",
    "detector_sky_corners",
    "exposure_record",
    "field_angle_to_sky",
    "fits_section",
    "from_astro_metadata",
    "header_cards",
    "ingest_raws",
    "lsstcam_detector_num",
    "open_raw_fits",
    "parse_fits_section",
    "raw_frame_shape",
    "read_header",
    "tai_ns",
    "to_astro_metadata",
    "translate",
]
