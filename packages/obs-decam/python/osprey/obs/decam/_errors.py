"""Exceptions of osprey.obs.decam; each also derives from the matching osprey.obs.base error."""

from __future__ import annotations

from osprey.obs.base import ObsBaseError, RawFormatError

__all__ = ["DecamCrosstalkError", "DecamError", "DecamGeometryError", "DecamRawFormatError"]


class DecamError(ObsBaseError):
    """Base of every error raised by osprey.obs.decam."""


class DecamGeometryError(DecamError, ValueError):
    """A camera description, chip-centre table or raw header section is malformed (named in the message)."""


class DecamRawFormatError(DecamError, RawFormatError):
    """A DECam raw file cannot be read or written; the message names the file, the HDU and the problem."""


class DecamCrosstalkError(DecamError, ValueError):
    """The crosstalk coefficient table is malformed or asked for an amplifier it does not have."""
