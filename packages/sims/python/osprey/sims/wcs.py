"""The true WCS of a simulated detector: camera geometry (with its distortion) plus the pointing.

Pixels go to field angle through `Detector.transform` (the camera's focal plane -> field
angle mapping, i.e. its optical distortion); a field angle is a true angular offset from the
boresight along the focal-plane axes, so it is projected gnomonically (tangent-plane radius
``tan |θ|``) and rotated to the sky with the same convention as
`osprey.obs.base.field_angle_to_sky` (+y at position angle ``rotation``; +x 90° east of it when
``flip_x``). The result is a `SkyWcs`, so the truth WCS can be compared with any fitted one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from osprey.afw.wcs import FunctionPixelTransform, SkyWcs
from osprey.geom import SpherePoint, degrees

__all__ = ["detector_wcs", "sky_jacobians"]


def detector_wcs(detector, ra: float, dec: float, rotation: float, flip_x: bool = True) -> SkyWcs:
    """True WCS of ``detector`` with the boresight at (ra, dec) degrees and sky rotation in degrees."""
    theta = math.radians(rotation)
    c, s = math.cos(theta), math.sin(theta)
    sign = 1.0 if flip_x else -1.0
    # Intermediate world coordinates (degrees; xi east, eta north) of tangent-plane offsets (radians).
    cd = math.degrees(1.0) * np.array([[sign * c, s], [-sign * s, c]])
    tangent = SkyWcs.from_tan((0.0, 0.0), SpherePoint(ra, dec, degrees), cd)

    def to_plane(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        fa = detector.transform(np.stack([x, y], axis=-1), "PIXELS", "FIELD_ANGLE")
        r = np.hypot(fa[..., 0], fa[..., 1])
        scale = np.where(r > 0, np.tan(r) / np.where(r > 0, r, 1.0), 1.0)
        return fa[..., 0] * scale, fa[..., 1] * scale

    def to_pixels(u: NDArray[np.float64], v: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        t = np.hypot(u, v)
        scale = np.where(t > 0, np.arctan(t) / np.where(t > 0, t, 1.0), 1.0)
        px = detector.transform(np.stack([u * scale, v * scale], axis=-1), "FIELD_ANGLE", "PIXELS")
        return px[..., 0], px[..., 1]

    return tangent.with_pixel_transform(FunctionPixelTransform(to_plane, to_pixels))


def sky_jacobians(wcs: SkyWcs, x: NDArray[np.float64], y: NDArray[np.float64], step: float = 0.5) -> NDArray:
    """d(east, north)/d(x, y) in arcsec per pixel at each position, shape (n, 2, 2)."""
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    xs = np.concatenate([x + step, x - step, x, x])
    ys = np.concatenate([y, y, y + step, y - step])
    ra, dec = wcs.pixel_to_sky_array(xs, ys)
    ra, dec = ra.reshape(4, -1), dec.reshape(4, -1)
    arcsec = 180.0 / math.pi * 3600.0

    def diff(i: int, j: int) -> tuple[NDArray, NDArray]:
        dra = (ra[i] - ra[j] + math.pi) % (2 * math.pi) - math.pi
        mean_dec = 0.5 * (dec[i] + dec[j])
        return dra * np.cos(mean_dec) * arcsec / (2 * step), (dec[i] - dec[j]) * arcsec / (2 * step)

    jac = np.empty((x.size, 2, 2))
    jac[:, 0, 0], jac[:, 1, 0] = diff(0, 1)
    jac[:, 0, 1], jac[:, 1, 1] = diff(2, 3)
    return jac
