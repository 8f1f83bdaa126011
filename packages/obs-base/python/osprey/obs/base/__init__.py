"""Osprey instrument abstraction: instruments, metadata translation, raw ingest, visits, calibrations.

This first slice provides metadata translation: `translate` turns a raw FITS header into an
`ObservationInfo` with the `MetadataTranslator` subclass that recognises it (LSSTCam,
LSSTComCam, LATISS, DECam, HSC), and `ObservationInfo.to_visit_info` gives the afw `VisitInfo`.
"""

from importlib.metadata import version as _version

from ._decam import DecamTranslator
from ._errors import ObsBaseError, TranslationError
from ._hsc import HscTranslator
from ._lsst import LatissTranslator, LsstCamTranslator, LsstComCamTranslator, lsstcam_detector_num
from ._observation_info import ObservationInfo
from ._translator import MetadataTranslator, read_header, translate

__version__ = _version("osprey-obs-base")

__all__ = [
    "DecamTranslator",
    "HscTranslator",
    "LatissTranslator",
    "LsstCamTranslator",
    "LsstComCamTranslator",
    "MetadataTranslator",
    "ObsBaseError",
    "ObservationInfo",
    "TranslationError",
    "__version__",
    "lsstcam_detector_num",
    "read_header",
    "translate",
]
