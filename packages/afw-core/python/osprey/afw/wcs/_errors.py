"""The WCS error class (a subclass of the package's `AfwValueError`)."""

from __future__ import annotations

from ..errors import AfwValueError

__all__ = ["WcsError"]


class WcsError(AfwValueError):
    """A WCS cannot be built, written or evaluated; the message names the keyword or input at fault."""
