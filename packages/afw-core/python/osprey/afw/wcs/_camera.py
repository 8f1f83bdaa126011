"""A detector's WCS from camera geometry and the telescope pointing (a raw frame's first guess).

Pixels go to field angle through the camera description (`Detector.transform`, including the
focal-plane distortion); field angles are then the intermediate world coordinates of a TAN
projection centred on the boresight, as in the LSST pipelines' camera-based WCS.
"""

from __future__ import annotations

import math

import numpy as np

from osprey.geom import Angle, SpherePoint

from ._skywcs import FunctionPixelTransform, SkyWcs

__all__ = ["make_camera_wcs"]


def make_camera_wcs(detector, boresight: SpherePoint, orientation: Angle, *, flip_x: bool = False) -> SkyWcs:
    """The WCS of ``detector`` when the optical axis points at ``boresight``.

    Parameters
    ----------
    detector : `osprey.afw.camera_geom.Detector`
        Supplies the PIXELS -> FIELD_ANGLE transform (radians, with distortion).
    boresight : `SpherePoint`
        Sky position of field angle (0, 0).
    orientation : `Angle`
        Position angle of the focal plane's +y axis, from North through East.
    flip_x : `bool`, optional
        False: at zero orientation +x points West (the sky seen from inside the sphere, as
        on a detector looking up); True: +x points East.

    Returns
    -------
    `SkyWcs`
        ``pixel -> sky``; the pixel -> field-angle step runs in Python (vectorised) before
        the compiled TAN step, so this WCS has no FITS-header form (fit a TAN-SIP for that).
    """
    theta = orientation.as_radians()
    c, s = math.cos(theta), math.sin(theta)
    east_sign = 1.0 if flip_x else -1.0
    # Intermediate world coordinates (degrees, xi east, eta north) of field angle (fx, fy).
    cd = math.degrees(1.0) * np.array([[east_sign * c, s], [-east_sign * s, c]])
    tangent = SkyWcs.from_tan((0.0, 0.0), boresight, cd)

    def to_field_angle(x, y):
        fa = detector.transform(np.stack([x, y], axis=-1), "PIXELS", "FIELD_ANGLE")
        return fa[..., 0], fa[..., 1]

    def to_pixels(fx, fy):
        px = detector.transform(np.stack([fx, fy], axis=-1), "FIELD_ANGLE", "PIXELS")
        return px[..., 0], px[..., 1]

    return tangent.with_pixel_transform(FunctionPixelTransform(to_field_angle, to_pixels))
