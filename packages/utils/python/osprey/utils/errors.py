"""Root exception classes shared by every Osprey distribution.

Each package subclasses these in its own ``errors`` module. Every class pickles, because
worker processes send exceptions back to the parent.
"""

from __future__ import annotations

__all__ = ["OspreyError", "OspreyValueError", "ShapeMismatchError"]


class OspreyError(Exception):
    """Root of every exception Osprey raises on purpose."""


class OspreyValueError(OspreyError, ValueError):
    """A user-supplied value is invalid; ``except ValueError`` still catches it."""


class ShapeMismatchError(OspreyValueError):
    """Array shapes disagree; keeps what was expected and what arrived."""

    def __init__(self, message: str, expected: object = None, actual: object = None):
        super().__init__(f"{message} (expected {expected}, got {actual})")
        self.message, self.expected, self.actual = message, expected, actual

    def __reduce__(self):
        return type(self), (self.message, self.expected, self.actual)
