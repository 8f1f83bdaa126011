"""GalSim-based simulation of raw exposures, calibration frames, reference catalogues, transients, moving objects and truth tables for any registered Osprey instrument."""

from importlib.metadata import version as _version

__version__ = _version("osprey-sims")

__all__ = ["__version__"]
