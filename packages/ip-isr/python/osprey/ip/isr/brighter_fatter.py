"""Brighter-fatter effect: forward model and iterative correction (Antilogus et al. 2014; Coulton et al. 2018).

Charge collected in a pixel repels later charge, so pixel boundaries move and bright stars
broaden. With pixel-area coefficients ``a_ij`` from the photon transfer curve (Astier et
al. 2019) and the kernel ``K`` solving ``∇²K = a`` (`bf_kernel_from_a_matrix`), the observed
image is, to first order,

    I_obs = I + ½ ∇·(I ∇(K ⊛ I))

(the ½ because boundary shifts are shared by the two pixels on either side). The
correction solves ``I = I_obs − ½ ∇·(I ∇(K ⊛ I))`` by fixed-point iteration starting from
``I_obs``; each step costs one FFT convolution. Gradients are central differences and the
Laplacian the 5-point stencil — the operator whose eigenvalues the kernel's Poisson solve
used — and the image is reflect-padded by the kernel radius so edges see no zero padding.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from osprey.afw.image import Exposure

from . import _isr
from .calibs import BrighterFatterKernel
from .errors import IsrValueError

__all__ = ["brighter_fatter_correct", "brighter_fatter_distort", "brighter_fatter_term"]


def _laplacian(phi: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.pad(phi, 1, mode="edge")
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * phi


def brighter_fatter_term(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    """``½ ∇·(I ∇(K ⊛ I))`` for an image in electrons (NaNs count as 0)."""
    from scipy.signal import fftconvolve

    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    r = max(kernel.shape) // 2
    padded = np.pad(img, r, mode="reflect")
    phi = fftconvolve(padded, kernel, mode="same")[r:-r, r:-r] if r > 0 else fftconvolve(img, kernel, mode="same")
    gy, gx = np.gradient(img)
    py, px = np.gradient(phi)
    return 0.5 * (gx * px + gy * py + img * _laplacian(phi))


def brighter_fatter_distort(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    """Forward model: the image a BF-affected sensor records for the charge image ``image``."""
    return np.asarray(image, dtype=np.float64) + brighter_fatter_term(image, kernel)


def brighter_fatter_correct(
    exposure: Exposure,
    kernel: BrighterFatterKernel | NDArray[np.float64],
    *,
    max_iter: int = 10,
    threshold: float = 1e-3,
) -> tuple[int, float]:
    """Iteratively remove the brighter-fatter effect from an image in electrons, in place.

    Iterates ``I_{n+1} = I_obs − ½ ∇·(I_n ∇(K ⊛ I_n))`` until the largest change is below
    ``threshold`` electrons or ``max_iter`` steps. Returns ``(iterations, last change)``.
    For a float32 image and a square odd kernel this runs in C++ (direct convolution by the
    kernel, gradients and update fused, GIL released); `_brighter_fatter_correct_numpy` is
    the FFT reference it matches to rounding.
    """
    if exposure.image.units not in (None, "electron"):
        raise IsrValueError(f"brighter_fatter_correct needs electrons, got units {exposure.image.units!r}")
    k = kernel.kernel if isinstance(kernel, BrighterFatterKernel) else np.asarray(kernel, dtype=np.float64)
    arr = exposure.image.array
    ny, nx = arr.shape
    r = max(k.shape) // 2
    if (
        arr.dtype == np.float32
        and k.ndim == 2
        and k.shape[0] == k.shape[1]
        and k.shape[0] % 2 == 1
        and min(ny, nx) > max(r, 1)
    ):
        # C++: direct convolution by the small kernel, fused gradients and update, in place
        n, change = _isr.brighter_fatter_correct(
            arr, np.ascontiguousarray(k, np.float64), int(max_iter), float(threshold)
        )
        return int(n), float(change)
    return _brighter_fatter_correct_numpy(exposure, k, max_iter=max_iter, threshold=threshold)


def _brighter_fatter_correct_numpy(
    exposure: Exposure, k: NDArray[np.float64], *, max_iter: int, threshold: float
) -> tuple[int, float]:
    """numpy/scipy reference of `brighter_fatter_correct` (FFT convolution each pass)."""
    observed = exposure.image.array.astype(np.float64)
    current = observed.copy()
    change = np.inf
    n = 0
    for iteration in range(1, max_iter + 1):
        n = iteration
        new = observed - brighter_fatter_term(current, k)
        change = float(np.nanmax(np.abs(new - current)))
        current = new
        if change < threshold:
            break
    finite = np.isfinite(observed)
    exposure.image.array[finite] = current[finite].astype(exposure.image.array.dtype)
    return n, change
