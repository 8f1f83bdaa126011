"""Exceptions raised by osprey.geom."""

from __future__ import annotations

from osprey.utils.errors import OspreyError, OspreyValueError

__all__ = ["GeomError", "GeomValueError", "RegionDecodeError"]


class GeomError(OspreyError):
    """Root of the exceptions raised on purpose by osprey.geom."""


class GeomValueError(GeomError, OspreyValueError):
    """A geometric argument is invalid (non-finite coordinate, bad level, empty box...)."""


class RegionDecodeError(GeomValueError):
    """Bytes handed to ``Region.decode`` are not a valid encoded region."""
