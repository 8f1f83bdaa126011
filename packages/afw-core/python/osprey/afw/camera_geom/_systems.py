"""Coordinate systems of the camera: pixels, focal plane (mm) and field angle (radians)."""

from __future__ import annotations

import enum

__all__ = ["FIELD_ANGLE", "FOCAL_PLANE", "PIXELS", "CameraSys"]


class CameraSys(enum.Enum):
    """A coordinate system a camera position can be expressed in.

    ``PIXELS``
        Assembled, trimmed detector pixels; pixel centres at integers, one system per detector.
    ``FOCAL_PLANE``
        Millimetres on the focal plane, origin on the optical axis, shared by every detector.
    ``FIELD_ANGLE``
        Radians on the sky from the boresight, along the focal-plane x and y axes (after the
        camera's radial distortion), shared by every detector.
    """

    PIXELS = "PIXELS"
    FOCAL_PLANE = "FOCAL_PLANE"
    FIELD_ANGLE = "FIELD_ANGLE"


PIXELS = CameraSys.PIXELS
FOCAL_PLANE = CameraSys.FOCAL_PLANE
FIELD_ANGLE = CameraSys.FIELD_ANGLE
