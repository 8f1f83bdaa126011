"""`RadialDistortion`: the focal plane (mm) to field angle (radians) mapping of a camera's optics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._errors import CameraGeomError

__all__ = ["RadialDistortion"]

_NEWTON_ITERATIONS = 50


class RadialDistortion:
    """Radially symmetric polynomial from focal-plane radius (mm) to field angle (radians).

    A focal-plane point ``(x, y)`` at radius ``r = hypot(x, y)`` maps to the field angle
    ``theta(r) * (x, y) / r`` with ``theta(r) = sum_i coeffs[i] * r**i``. ``coeffs[0]``
    must be 0 (the optical axis maps to the boresight) and ``coeffs[1]`` (radians per mm
    on axis, the inverse focal length) must be > 0. The inverse is found by Newton's
    method, vectorised over all points, to 1e-15 relative.

    Parameters
    ----------
    coeffs : sequence of `float`
        Polynomial coefficients in radians per mm**i, lowest order first.

    Examples
    --------
    obs_lsst writes coefficients in mm (``c1 = 1``) with a plate scale in arcsec/mm;
    `from_plate_scale` multiplies them by the plate scale in radians per mm:

    >>> d = RadialDistortion.from_plate_scale([0.0, 1.0], 20.0)
    >>> round(float(d.forward([[100.0, 0.0]])[0, 0]) * 206264.80624709636, 9)
    2000.0
    """

    __slots__ = ("_coeffs",)

    def __init__(self, coeffs: ArrayLike) -> None:
        c = np.array(coeffs, dtype=np.float64).ravel()
        if c.size < 2 or not np.all(np.isfinite(c)):
            raise CameraGeomError(f"radial distortion needs finite coefficients [0, c1, ...], got {list(c)}")
        if c[0] != 0.0:
            raise CameraGeomError(f"radial distortion coeffs[0] must be 0 (the axis maps to the boresight), got {c[0]}")
        if not c[1] > 0:
            raise CameraGeomError(f"radial distortion coeffs[1] (rad/mm on axis) must be > 0, got {c[1]}")
        c.setflags(write=False)
        self._coeffs = c

    @classmethod
    def from_plate_scale(cls, coeffs_mm: ArrayLike, plate_scale_arcsec_per_mm: float) -> RadialDistortion:
        """From a polynomial in mm (``c1 == 1`` for a pure plate scale) and a plate scale in arcsec/mm."""
        if not (plate_scale_arcsec_per_mm > 0 and math.isfinite(plate_scale_arcsec_per_mm)):
            raise CameraGeomError(f"plate scale must be > 0 arcsec/mm, got {plate_scale_arcsec_per_mm!r}")
        rad_per_mm = math.radians(plate_scale_arcsec_per_mm / 3600.0)
        return cls(np.asarray(coeffs_mm, dtype=np.float64) * rad_per_mm)

    @property
    def coeffs(self) -> NDArray[np.float64]:
        """Coefficients in radians per mm**i (read-only array)."""
        return self._coeffs

    def radial(self, r: ArrayLike) -> NDArray[np.float64]:
        """Field angle in radians at focal-plane radius ``r`` in mm."""
        return np.polynomial.polynomial.polyval(np.asarray(r, dtype=np.float64), self._coeffs)

    def radial_inverse(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Focal-plane radius in mm at field angle ``theta`` in radians (Newton's method)."""
        t = np.asarray(theta, dtype=np.float64)
        deriv = np.polynomial.polynomial.polyder(self._coeffs)
        r = t / self._coeffs[1]
        for _ in range(_NEWTON_ITERATIONS):
            step = (np.polynomial.polynomial.polyval(r, self._coeffs) - t) / np.polynomial.polynomial.polyval(r, deriv)
            r = r - step
            if np.all(np.abs(step) <= 1e-15 * (1.0 + np.abs(r))):
                break
        return r

    def forward(self, xy: ArrayLike) -> NDArray[np.float64]:
        """Focal-plane ``(n, 2)`` mm to field angle ``(n, 2)`` radians."""
        p = np.asarray(xy, dtype=np.float64)
        r = np.hypot(p[..., 0], p[..., 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(r > 0, self.radial(r) / r, self._coeffs[1])
        return p * scale[..., None]

    def inverse(self, angles: ArrayLike) -> NDArray[np.float64]:
        """Field angle ``(n, 2)`` radians to focal-plane ``(n, 2)`` mm."""
        a = np.asarray(angles, dtype=np.float64)
        t = np.hypot(a[..., 0], a[..., 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(t > 0, self.radial_inverse(t) / t, 1.0 / self._coeffs[1])
        return a * scale[..., None]

    def to_dict(self) -> dict[str, Any]:
        """``{"radial_coeffs_rad": [...]}``."""
        return {"radial_coeffs_rad": [float(c) for c in self._coeffs]}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RadialDistortion):
            return NotImplemented
        return bool(np.array_equal(self._coeffs, other._coeffs))

    def __hash__(self) -> int:
        return hash(tuple(self._coeffs))

    def __repr__(self) -> str:
        return f"RadialDistortion({[float(c) for c in self._coeffs]!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (list(self._coeffs),)
