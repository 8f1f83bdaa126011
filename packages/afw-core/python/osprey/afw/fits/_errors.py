"""`FitsError`: a FITS file that cannot be read as (or written in) Osprey's exposure layout."""

from __future__ import annotations

from ..errors import AfwError

__all__ = ["FitsError"]


class FitsError(AfwError):
    """A FITS file is corrupt, truncated or does not follow the layout being read.

    The message starts with the file name and, when one is involved, the HDU index and
    role, e.g. ``"/data/x.fits: HDU 2 (MASK): truncated data ..."``. Problems of the
    file system itself (a missing file, no permission, a full disk) are left as the
    builtin `OSError` that reported them.
    """
