"""Exceptions raised by ``osprey.ip.isr``.

Every class derives from the shared Osprey roots in `osprey.utils.errors` (and from the
matching builtin), takes a single message and therefore pickles across worker processes.
"""

from __future__ import annotations

from osprey.utils.errors import OspreyError, OspreyValueError

__all__ = ["CalibFormatError", "IsrError", "IsrValueError"]


class IsrError(OspreyError):
    """Root of every exception raised on purpose by ``osprey.ip.isr``."""


class IsrValueError(IsrError, OspreyValueError):
    """An input to an ISR step is invalid (wrong frame, mismatched bbox, missing calibration...)."""


class CalibFormatError(IsrValueError):
    """A calibration product (dict or ECSV file) does not have the expected content; names the source."""
