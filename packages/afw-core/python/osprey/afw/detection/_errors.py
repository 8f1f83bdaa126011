"""Exceptions of ``osprey.afw.detection``."""

from __future__ import annotations

from ..errors import AfwValueError

__all__ = ["DetectionError"]


class DetectionError(AfwValueError):
    """A detection input is invalid: threshold, radius, image type, span arrays or footprint geometry."""
