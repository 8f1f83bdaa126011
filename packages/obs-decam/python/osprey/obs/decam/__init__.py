"""DECam for Osprey: camera geometry, translator, multi-extension raw formatter, crosstalk and curated calibrations."""

from importlib.metadata import version as _version

__version__ = _version("osprey-obs-decam")

__all__ = ["__version__"]
