"""Exceptions of osprey.obs.base."""

from __future__ import annotations

__all__ = ["ObsBaseError", "TranslationError"]


class ObsBaseError(Exception):
    """Base of every error raised by osprey.obs.base."""


class TranslationError(ObsBaseError, ValueError):
    """A header cannot be translated: a required card is missing or malformed, or no translator fits.

    The message names the header file (when known) and the card.
    """
