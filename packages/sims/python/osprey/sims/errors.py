"""Exceptions raised by osprey.sims (each pickles, so worker processes can send them back)."""

from __future__ import annotations

from osprey.utils import OspreyError, OspreyValueError

__all__ = ["SimsConfigError", "SimsError"]


class SimsError(OspreyError):
    """Root of the errors raised on purpose by the simulation."""


class SimsConfigError(SimsError, OspreyValueError):
    """A simulation setting or input is invalid; the message names it and the fix."""
