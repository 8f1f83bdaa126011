"""LSSTCam, LSSTComCam and LATISS for Osprey: camera geometry, amplifiers, filters, translators, raw formatter, curated calibrations."""

from importlib.metadata import version as _version

__version__ = _version("osprey-obs-lsst")

__all__ = ["__version__"]
