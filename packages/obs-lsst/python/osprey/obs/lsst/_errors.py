"""Exceptions of osprey.obs.lsst."""

from __future__ import annotations

from osprey.obs.base import ObsBaseError

__all__ = ["ObsLsstError"]


class ObsLsstError(ObsBaseError):
    """A shipped LSST camera description or calibration is unusable; the message names the file."""
