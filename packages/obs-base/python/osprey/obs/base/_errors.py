"""Exceptions of osprey.obs.base; every one pickles, so worker processes can send them back."""

from __future__ import annotations

from osprey.utils.errors import OspreyError

__all__ = [
    "IngestError",
    "InstrumentError",
    "ObsBaseError",
    "RawFormatError",
    "TranslationError",
    "VisitDefinitionError",
]


class ObsBaseError(OspreyError):
    """Base of every error raised by osprey.obs.base."""


class TranslationError(ObsBaseError, ValueError):
    """A header cannot be translated: a required card is missing or malformed, or no translator fits.

    The message names the header file (when known) and the card.
    """


class InstrumentError(ObsBaseError, LookupError):
    """An instrument is unknown, cannot be loaded, or is asked for something it does not have."""


class RawFormatError(ObsBaseError, ValueError):
    """A raw file cannot be read or written: the message names the file, HDU and the problem."""


class IngestError(ObsBaseError):
    """Raw ingest failed as a whole (individual bad files are reported, not raised)."""


class VisitDefinitionError(ObsBaseError):
    """Visits cannot be defined: missing exposures, inconsistent groups, no pointing."""
