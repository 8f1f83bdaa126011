"""Osprey instrument abstraction: Instrument base class and plugin discovery, metadata translation, raw formatters and ingest, visit definition, curated calibrations."""

from importlib.metadata import version as _version

__version__ = _version("osprey-obs-base")

__all__ = ["__version__"]
