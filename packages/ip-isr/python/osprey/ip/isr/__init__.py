"""Osprey instrument signature removal: IsrTaskLSST steps, IsrMockLSST, amplifier offsets and calibration-product construction."""

from importlib.metadata import version as _version

__version__ = _version("osprey-ip-isr")

__all__ = ["__version__"]
