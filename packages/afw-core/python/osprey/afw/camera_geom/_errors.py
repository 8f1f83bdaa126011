"""`CameraGeomError`: an invalid camera description or an impossible coordinate transform."""

from __future__ import annotations

from ..errors import AfwValueError

__all__ = ["CameraGeomError"]


class CameraGeomError(AfwValueError):
    """A camera description is invalid, or a transform between camera systems is impossible.

    The message names the file and key (for descriptions) or the systems (for transforms)
    and says how to fix it.
    """
