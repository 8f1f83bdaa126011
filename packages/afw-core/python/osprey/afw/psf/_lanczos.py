"""Lanczos-5 interpolation used by the pixelised PSF code (private)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LANCZOS_ORDER", "interpolation_matrix", "lanczos_kernel", "lanczos_shift", "shift_taps"]

LANCZOS_ORDER = 5
"""Order ``a`` of the Lanczos kernel ``sinc(x) sinc(x / a)``, ``|x| < a``."""

_M = np.arange(-LANCZOS_ORDER, LANCZOS_ORDER + 1, dtype=np.float64)


def lanczos_kernel(x: ArrayLike) -> NDArray[np.float64]:
    """``sinc(x) sinc(x / 5)`` inside ``|x| < 5``, zero outside."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.abs(x) < LANCZOS_ORDER, np.sinc(x) * np.sinc(x / LANCZOS_ORDER), 0.0)


def shift_taps(shift: float) -> NDArray[np.float64]:
    """Taps ``w[m]``, m = -5..5, with ``out[i] = sum_m in[i + m] w[m]`` moving a profile by ``+shift`` pixels.

    The raw Lanczos-5 taps neither sum to exactly 1 nor move the first moment by exactly
    ``shift`` (the truncated window leaves errors of ~1e-2 pixel). A least-norm linear
    correction ``w + l0 + l1 m`` (changes of ~1e-4 per tap) fixes both, so a shift
    conserves flux and moves the centroid of any profile that stays inside the array
    by exactly ``shift``.
    """
    w = lanczos_kernel(-_M - shift)
    n = _M.size
    l0 = (1.0 - w.sum()) / n
    l1 = (-shift - _M @ w) / (_M @ _M)
    return w + l0 + l1 * _M


def _shift_axis(array: NDArray[np.float64], shift: float, axis: int) -> NDArray[np.float64]:
    if shift == 0.0:
        return array
    w = shift_taps(shift)
    a = LANCZOS_ORDER
    pad = [(0, 0), (0, 0)]
    pad[axis] = (a, a)
    padded = np.pad(array, pad)  # zero outside the model
    n = array.shape[axis]
    out = np.zeros_like(array)
    for k, weight in enumerate(w):  # 11 vectorised slices, not a loop over pixels
        out += weight * np.take(padded, np.arange(k, k + n), axis=axis)
    return out


def lanczos_shift(array: ArrayLike, dx: float, dy: float) -> NDArray[np.float64]:
    """Move the content of a 2-D array by ``(dx, dy)`` pixels with separable, moment-corrected Lanczos-5.

    Meant for ``|dx|, |dy| <= 0.5``. Outside the array counts as zero. See `shift_taps`.
    """
    arr = np.asarray(array, dtype=np.float64)
    return _shift_axis(_shift_axis(arr, float(dx), 1), float(dy), 0)


def interpolation_matrix(n: int, positions: ArrayLike) -> NDArray[np.float64]:
    """``M[p, j] = L5(positions[p] - j)``: samples at ``positions`` from values at ``0..n-1``."""
    pos = np.asarray(positions, dtype=np.float64)
    return lanczos_kernel(pos[:, None] - np.arange(n)[None, :])
