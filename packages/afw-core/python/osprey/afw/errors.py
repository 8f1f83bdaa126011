"""Exceptions raised by ``osprey.afw``.

Every class derives from the shared Osprey roots in `osprey.utils.errors`, and from the
matching builtin (``ValueError``, ``KeyError``) so generic handlers keep working. All of
them take a single message, so they pickle across worker processes.
"""

from __future__ import annotations

from osprey.utils.errors import OspreyError, OspreyValueError, ShapeMismatchError

__all__ = [
    "AfwError",
    "AfwKeyError",
    "AfwShapeError",
    "AfwValueError",
    "BoxOutsideImageError",
    "MaskPlaneConflictError",
]


class AfwError(OspreyError):
    """Root of every exception raised on purpose by ``osprey.afw``."""


class AfwValueError(AfwError, OspreyValueError):
    """A value handed to ``osprey.afw`` is invalid (bad key, dtype, unit, operand...)."""


class AfwKeyError(AfwError, KeyError):
    """A metadata key or mask plane name is not present."""

    def __str__(self) -> str:
        # KeyError quotes its message; these messages are sentences, so show them plainly.
        return str(self.args[0]) if self.args else ""


class BoxOutsideImageError(AfwValueError):
    """A bounding box reaches outside the image it indexes; the message names both boxes."""


class MaskPlaneConflictError(AfwValueError):
    """Two masks assign different bits to one plane name, or one bit to two names."""


class AfwShapeError(AfwValueError, ShapeMismatchError):
    """An array's shape disagrees with the image it is used with; keeps both shapes."""
