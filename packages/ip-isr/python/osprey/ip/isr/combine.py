"""Clipped-mean combination of a stack of exposures (the core of cpBias, cpDark and cpFlat).

`combine_exposures` stacks the inputs in blocks of rows (bounded memory: about
``n_inputs × chunk_rows × width × 4`` bytes at a time) and, per pixel, clips outliers
around the median with a MAD-based sigma, then iterates mean ± ``n_sigma`` × standard
deviation of the kept values. For float32 images with int32 masks (the standard planes)
the whole frame goes to one C++ pass (``osprey.ip.isr._isr.clipped_mean_combine``: per
pixel, the n values in a scratch buffer, ``nth_element`` medians, no n × H × W
temporaries, GIL released); `clipped_mean_stack` is the numpy reference it matches, and
the path for other dtypes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.afw.image import Exposure, MaskedImage

from . import _isr
from .errors import IsrValueError
from .steps import new_exposure

__all__ = ["clipped_mean_stack", "combine_exposures"]

_MAD_TO_SIGMA = 1.482602218505602


def clipped_mean_stack(
    stack: NDArray[Any], valid: NDArray[np.bool_] | None = None, n_sigma: float = 3.0, n_iter: int = 3
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """Per-pixel sigma-clipped mean along axis 0 of ``stack`` (shape ``(n, ...)``).

    First pass: centre = median, sigma = 1.4826 × MAD; later passes: centre = mean and
    sigma = standard deviation of the values kept so far. ``valid`` (same shape) excludes
    values from the start (masked pixels).

    Returns
    -------
    mean, stdev, n_kept : `numpy.ndarray`, shape ``stack.shape[1:]``
        Clipped mean, standard deviation of the kept values (ddof=1; NaN where fewer than
        two are kept) and how many were kept (mean is NaN where none).
    """
    data = np.asarray(stack, dtype=np.float32)
    if data.ndim < 2 or data.shape[0] < 1:
        raise IsrValueError(f"clipped_mean_stack needs a stack of shape (n, ...), got {data.shape}")
    if valid is None:
        center = np.median(data, axis=0)
        mad = np.median(np.abs(data - center), axis=0)
        keep = np.ones(data.shape, dtype=bool)
    else:
        masked = np.where(valid, data, np.float32(np.nan))
        with np.errstate(all="ignore"):
            center = np.nanmedian(masked, axis=0)
            mad = np.nanmedian(np.abs(masked - center), axis=0)
        keep = valid.copy()
    sigma = _MAD_TO_SIGMA * mad
    for it in range(max(n_iter, 1) + 1):
        if it > 0 or data.shape[0] > 2:
            # with two values the median is their mean and both are always kept
            new_keep = keep & ~(np.abs(data - center) > n_sigma * sigma)
            # a pixel with MAD = 0 (e.g. integer-valued data) keeps every value equal to the centre
            keep = new_keep
        n = keep.sum(axis=0)
        s1 = np.where(keep, data, 0).sum(axis=0, dtype=np.float64)
        with np.errstate(all="ignore"):
            mean = s1 / n
            dev = np.where(keep, data - mean.astype(np.float32), 0)
            var = (dev.astype(np.float64) ** 2).sum(axis=0) / (n - 1)
        if it == max(n_iter, 1):
            break
        center = mean.astype(np.float32)
        sigma = np.sqrt(var).astype(np.float32)
        sigma = np.where(np.isfinite(sigma), sigma, np.float32(np.inf))
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32), n.astype(np.int32)


def combine_exposures(
    exposures: Sequence[Exposure],
    *,
    scales: Sequence[float] | None = None,
    n_sigma: float = 3.0,
    n_iter: int = 3,
    bad_planes: Sequence[str] = ("SAT", "NO_DATA"),
    chunk_rows: int = 256,
) -> Exposure:
    """Clipped mean of exposures of one detector, each divided by its scale first.

    Parameters
    ----------
    exposures : sequence of `Exposure`
        Same bounding box; their pixels are read, never modified.
    scales : sequence of `float`, optional
        Each input is divided by its scale (dark time for darks, the median level for
        flats); 1 by default.
    n_sigma, n_iter : `float`, `int`
        Clipping threshold and number of mean ± sigma passes after the median/MAD pass.
    bad_planes : sequence of `str`
        Mask planes whose pixels are left out (present planes only).
    chunk_rows : `int`
        Rows per block (numpy path only).

    Returns
    -------
    combined : `Exposure`
        Image = clipped mean; variance = (stdev of the kept values)² / n_kept; mask NO_DATA
        where nothing was kept. Detector and visit info of the first input; metadata
        ``CP_NINPUT``.
    """
    if not exposures:
        raise IsrValueError("combine_exposures: no input exposures")
    first = exposures[0]
    bbox = first.bbox
    for i, exp in enumerate(exposures):
        if exp.bbox != bbox:
            raise IsrValueError(f"combine_exposures: input {i} has bbox {exp.bbox}, input 0 has {bbox}")
    n = len(exposures)
    s = np.ones(n) if scales is None else np.asarray(scales, dtype=np.float64)
    if s.shape != (n,) or not np.all(np.isfinite(s)) or np.any(s == 0):
        raise IsrValueError(f"combine_exposures: need {n} finite non-zero scales, got {scales}")
    inv = (1.0 / s).astype(np.float32)
    bits = [_plane_bits(exp, bad_planes) for exp in exposures]
    native = all(e.image.array.dtype == np.float32 and e.mask.array.dtype == np.int32 for e in exposures)
    planes = _combine_native if native else _combine_numpy
    out_image, out_var, out_n = planes(exposures, inv, bits, n_sigma, n_iter, chunk_rows)
    mi = MaskedImage.from_arrays(out_image, variance=out_var, units=first.image.units, xy0=(bbox.x0, bbox.y0))
    empty = out_n == 0
    if empty.any():
        mi.mask.array[empty] |= mi.mask.get_plane_bitmask("NO_DATA")
    combined = new_exposure(mi, detector=first.detector, visit_info=first.visit_info)
    combined.metadata["CP_NINPUT"] = n
    return combined


def _combine_native(
    exposures: Sequence[Exposure],
    inv: NDArray[np.float32],
    bits: list[int],
    n_sigma: float,
    n_iter: int,
    chunk_rows: int,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """(clipped mean, variance of the mean, n kept) in one C++ pass over the pixels."""
    del chunk_rows  # no blocks: the kernel holds only the n values of one pixel at a time
    height, width = exposures[0].image.array.shape
    out_image = np.empty((height, width), np.float32)
    std = np.empty((height, width), np.float32)
    out_n = np.empty((height, width), np.int32)
    masks = [e.mask.array for e in exposures] if any(bits) else []
    _isr.clipped_mean_combine(
        [e.image.array for e in exposures],
        masks,
        [int(b) for b in bits] if masks else [],
        [float(v) for v in inv],
        float(n_sigma),
        int(n_iter),
        out_image,
        std,
        out_n,
    )
    out_var = np.empty((height, width), np.float32)
    with np.errstate(all="ignore"):
        np.divide(std * std, out_n, out=out_var, casting="unsafe")  # float64 division, as numpy's path
    return out_image, out_var, out_n


def _combine_numpy(
    exposures: Sequence[Exposure],
    inv: NDArray[np.float32],
    bits: list[int],
    n_sigma: float,
    n_iter: int,
    chunk_rows: int,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """numpy reference of `_combine_native`: `clipped_mean_stack` on blocks of ``chunk_rows`` rows."""
    n = len(exposures)
    height, width = exposures[0].image.array.shape
    out_image = np.empty((height, width), np.float32)
    out_var = np.empty((height, width), np.float32)
    out_n = np.empty((height, width), np.int32)
    for y0 in range(0, height, chunk_rows):
        y1 = min(y0 + chunk_rows, height)
        stack = np.empty((n, y1 - y0, width), np.float32)
        for i, exp in enumerate(exposures):
            np.multiply(exp.image.array[y0:y1], inv[i], out=stack[i], casting="unsafe")
        valid = None
        if any(bits):
            valid = np.ones(stack.shape, bool)
            for i, exp in enumerate(exposures):
                if bits[i]:
                    valid[i] = (exp.mask.array[y0:y1] & bits[i]) == 0
        mean, std, kept = clipped_mean_stack(stack, valid, n_sigma, n_iter)
        out_image[y0:y1] = mean
        with np.errstate(all="ignore"):
            out_var[y0:y1] = std * std / kept
        out_n[y0:y1] = kept
    return out_image, out_var, out_n


def _plane_bits(exposure: Exposure, planes: Sequence[str]) -> int:
    mask = exposure.mask
    bits = 0
    for plane in planes:
        try:
            bits |= mask.get_plane_bitmask(plane)
        except Exception:  # plane not defined in this mask: nothing to exclude
            continue
    return bits
