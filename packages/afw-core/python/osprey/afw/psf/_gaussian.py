"""`GaussianPsf` and `DoubleGaussianPsf`: analytic, spatially constant PSF models."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Point2D

from ..errors import AfwValueError
from ._base import Psf, PsfShape

__all__ = ["DoubleGaussianPsf", "GaussianPsf"]


def _check_sigma(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value > 0:
        raise AfwValueError(f"{name} must be a positive number of pixels, got {value!r}")
    if not math.isfinite(value):
        raise AfwValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _gaussian_grid(width: int, height: int, dx: float, dy: float, sigma: float) -> NDArray[np.float64]:
    """``exp(-r^2 / 2 sigma^2)`` sampled at pixel centres, centred ``(dx, dy)`` from the middle pixel."""
    xs = np.arange(width) - width // 2 - dx
    ys = np.arange(height) - height // 2 - dy
    gx = np.exp(-0.5 * (xs / sigma) ** 2)
    gy = np.exp(-0.5 * (ys / sigma) ** 2)
    return gy[:, None] * gx[None, :]  # separable: one outer product


class GaussianPsf(Psf):
    """A round Gaussian PSF, the same everywhere on the detector.

    The profile is sampled at pixel centres (not integrated over pixels) and normalised
    to sum 1 over the ``width x height`` box, so its second moments are ``sigma**2``
    when the box is several sigma wide.

    Parameters
    ----------
    width, height : `int`
        Odd box size, pixels.
    sigma : `float`
        Gaussian sigma, pixels (FWHM = 2.3548 sigma).

    Examples
    --------
    >>> psf = GaussianPsf(41, 41, 2.0)
    >>> round(psf.compute_shape().ixx, 6)
    4.0
    """

    def __init__(self, width: int, height: int, sigma: float) -> None:
        super().__init__(width, height)
        self._sigma = _check_sigma(sigma, "sigma")

    @property
    def sigma(self) -> float:
        """Gaussian sigma, pixels."""
        return self._sigma

    def _realize(self, dx: float, dy: float, point: Point2D) -> NDArray[np.float64]:
        return _gaussian_grid(self.width, self.height, dx, dy, self._sigma)

    def _params(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "sigma": self._sigma}

    def compute_shape(self, point: Any = None) -> PsfShape:
        """Analytic moments ``(sigma^2, sigma^2, 0)``."""
        s2 = self._sigma**2
        return PsfShape(s2, s2, 0.0)

    def compute_aperture_flux(self, radius: float, point: Any = None) -> float:
        """Analytic ``1 - exp(-radius^2 / 2 sigma^2)`` (the untruncated profile)."""
        if not radius >= 0:
            raise AfwValueError(f"aperture radius must be >= 0 pixels, got {radius!r}")
        return float(-math.expm1(-0.5 * (radius / self._sigma) ** 2))


class DoubleGaussianPsf(Psf):
    """Sum of two concentric round Gaussians, the same everywhere on the detector.

    The profile is ``exp(-r^2/2 sigma1^2) + b exp(-r^2/2 sigma2^2)``: ``b`` is the ratio
    of the second component's central amplitude to the first's (as in LSST afw), so the
    second component carries the flux fraction ``b sigma2^2 / (sigma1^2 + b sigma2^2)``.
    Sampled at pixel centres and normalised to sum 1.

    Parameters
    ----------
    width, height : `int`
        Odd box size, pixels.
    sigma1, sigma2 : `float`
        Sigmas of the core and the wings, pixels.
    b : `float`
        Central amplitude ratio of the second Gaussian to the first (>= 0).
    """

    def __init__(self, width: int, height: int, sigma1: float, sigma2: float, b: float = 0.0) -> None:
        super().__init__(width, height)
        self._sigma1 = _check_sigma(sigma1, "sigma1")
        self._sigma2 = _check_sigma(sigma2, "sigma2")
        if isinstance(b, bool) or not isinstance(b, (int, float, np.floating)) or not (b >= 0 and math.isfinite(b)):
            raise AfwValueError(f"b (amplitude ratio) must be a finite number >= 0, got {b!r}")
        self._b = float(b)

    @property
    def sigma1(self) -> float:
        return self._sigma1

    @property
    def sigma2(self) -> float:
        return self._sigma2

    @property
    def b(self) -> float:
        return self._b

    @property
    def flux_fractions(self) -> tuple[float, float]:
        """Fractions of the (untruncated) flux in the first and second Gaussian."""
        f1, f2 = self._sigma1**2, self._b * self._sigma2**2
        return f1 / (f1 + f2), f2 / (f1 + f2)

    def _realize(self, dx: float, dy: float, point: Point2D) -> NDArray[np.float64]:
        core = _gaussian_grid(self.width, self.height, dx, dy, self._sigma1)
        if self._b == 0.0:
            return core
        return core + self._b * _gaussian_grid(self.width, self.height, dx, dy, self._sigma2)

    def _params(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "sigma1": self._sigma1,
            "sigma2": self._sigma2,
            "b": self._b,
        }

    def compute_shape(self, point: Any = None) -> PsfShape:
        """Analytic moments: the flux-weighted mean of ``sigma1^2`` and ``sigma2^2``."""
        w1, w2 = self.flux_fractions
        s2 = w1 * self._sigma1**2 + w2 * self._sigma2**2
        return PsfShape(s2, s2, 0.0)

    def compute_aperture_flux(self, radius: float, point: Any = None) -> float:
        """Analytic flux fraction within ``radius`` pixels (the untruncated profile)."""
        if not radius >= 0:
            raise AfwValueError(f"aperture radius must be >= 0 pixels, got {radius!r}")
        w1, w2 = self.flux_fractions
        r2 = radius * radius
        return float(-w1 * math.expm1(-0.5 * r2 / self._sigma1**2) - w2 * math.expm1(-0.5 * r2 / self._sigma2**2))
