"""Pure-numpy reference of the compiled TAN(-SIP) kernels, written from the papers' formulas.

Slow but obviously correct: the spherical-trigonometry route of Calabretta & Greisen (2002)
eqs. (2), (5), (54) and (55) -- native (phi, theta) then celestial (alpha, delta) --
where the kernels use a rotation matrix on unit vectors. Tests and the benchmark check
the kernels against it; no library code path calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _poly

if TYPE_CHECKING:
    from ._skywcs import SkyWcs

__all__ = ["reference_pixel_to_sky", "reference_sky_to_pixel"]


def _core(wcs: SkyWcs) -> dict:
    return wcs._core_parameters()


def reference_pixel_to_sky(wcs: SkyWcs, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Pixel (0-based) -> (ra, dec) radians, for a WCS without non-affine pixel transforms."""
    p = _core(wcs)
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    (a00, a01, a10, a11, tx, ty) = p["affine"]
    u = a00 * x + a01 * y + tx - p["crpix"][0]
    v = a10 * x + a11 * y + ty - p["crpix"][1]
    if p["a"] is not None:
        u, v = u + _poly.evaluate(p["a"], u, v), v + _poly.evaluate(p["b"], u, v)
    cd = p["cd"]
    xw = cd[0, 0] * u + cd[0, 1] * v  # intermediate world coordinates, degrees
    yw = cd[1, 0] * u + cd[1, 1] * v
    # TAN deprojection (C&G 2002 eqs. 14, 15, 54): R = (180/pi) cot(theta)
    r = np.hypot(xw, yw)
    phi = np.arctan2(xw, -yw)
    theta = np.arctan2(180.0 / np.pi, r)
    # native -> celestial (C&G 2002 eq. 2)
    ap, dp = p["crval"]
    php = np.radians(p["lonpole"])
    dphi = phi - php
    cx = -np.cos(theta) * np.sin(dphi)  # cos(dec) sin(ra - ra_p)
    cy = np.sin(theta) * np.cos(dp) - np.cos(theta) * np.sin(dp) * np.cos(dphi)  # cos(dec) cos(ra - ra_p)
    sz = np.sin(theta) * np.sin(dp) + np.cos(theta) * np.cos(dp) * np.cos(dphi)  # sin(dec)
    ra = ap + np.arctan2(cx, cy)
    dec = np.arctan2(sz, np.hypot(cx, cy))
    return np.mod(ra, 2.0 * np.pi), dec


def reference_sky_to_pixel(
    wcs: SkyWcs, ra: ArrayLike, dec: ArrayLike, *, iterations: int = 30
) -> tuple[NDArray, NDArray]:
    """(ra, dec) radians -> pixel; SIP is inverted by Newton iteration started from AP/BP when given."""
    p = _core(wcs)
    ra, dec = np.broadcast_arrays(np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64))
    ap, dp = p["crval"]
    php = np.radians(p["lonpole"])
    da = ra - ap
    # celestial -> native (C&G 2002 eq. 5), keeping cos(theta) * (sin, cos)(phi - phi_p) and
    # sin(theta) apart so theta near 90 degrees loses no precision
    cx = -np.cos(dec) * np.sin(da)
    cy = np.sin(dec) * np.cos(dp) - np.cos(dec) * np.sin(dp) * np.cos(da)
    sz = np.sin(dec) * np.sin(dp) + np.cos(dec) * np.cos(dp) * np.cos(da)
    phi = php + np.arctan2(cx, cy)
    sz = np.where(sz > 0.0, sz, np.nan)
    r = np.degrees(np.hypot(cx, cy) / sz)  # (180 / pi) cot(theta)
    xw, yw = r * np.sin(phi), -r * np.cos(phi)
    ci = np.linalg.inv(p["cd"])
    uu = ci[0, 0] * xw + ci[0, 1] * yw
    vv = ci[1, 0] * xw + ci[1, 1] * yw
    u, v = uu, vv
    if p["ap"] is not None:
        u, v = uu + _poly.evaluate(p["ap"], uu, vv), vv + _poly.evaluate(p["bp"], uu, vv)
    if p["a"] is not None and (p["refine"] or p["ap"] is None):
        for _ in range(iterations):
            fa, fb = _poly.evaluate(p["a"], u, v), _poly.evaluate(p["b"], u, v)
            (au, av), (bu, bv) = _poly.gradient(p["a"], u, v), _poly.gradient(p["b"], u, v)
            r0, r1 = u + fa - uu, v + fb - vv
            j00, j01, j10, j11 = 1.0 + au, av, bu, 1.0 + bv
            det = j00 * j11 - j01 * j10
            u = u - (j11 * r0 - j01 * r1) / det
            v = v - (j00 * r1 - j10 * r0) / det
    xp, yp = u + p["crpix"][0], v + p["crpix"][1]
    (b00, b01, b10, b11, sx, sy) = p["affine_inverse"]
    return b00 * xp + b01 * yp + sx, b10 * xp + b11 * yp + sy
