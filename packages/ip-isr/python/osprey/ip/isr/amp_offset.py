"""Amplifier-offset (pattern continuity) correction, LSST paper §5.2.

For every interface between two adjacent amplifiers, two narrow strips face each other
across the boundary (``strip_width`` pixels wide, ``inset`` pixels from it). Pixels that are
masked or belong to sources (more than ``n_sigma`` robust σ from the strip median, grown by
``grow`` pixels) are dropped; each line along the interface gives a difference of the two
strips' means and the interface difference ``d_k`` is the clipped mean of those.

With the interface matrix ``A`` (one row per interface, +1 for the amp on the low side, −1
on the high side) and length weights ``W`` (the interface length in pixels, so long sides
of non-square amps count more in 2-D layouts), the amp-offset matrix is ``Aᵀ W A`` (the
diagonal: the weighted number of neighbours; off-diagonal: minus the weighted
associations). The pedestals solve ``Aᵀ W A p = Aᵀ W d`` with the overall mean fixed by
``Σ p = 0``, and ``p`` is subtracted from each amp. Sources are excluded with a detection
on the smoothed image (`detect_sources`) since per-pixel clipping misses faint PSF wings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from osprey.afw.camera_geom import Detector
from osprey.afw.image import Exposure

from .errors import IsrValueError

__all__ = ["AmpInterface", "AmpOffsetResult", "amp_offset_correct", "detect_sources", "find_amp_interfaces"]


@dataclasses.dataclass(frozen=True)
class AmpInterface:
    """A shared edge between amps ``low`` and ``high`` (left/right when ``vertical``, bottom/top otherwise).

    ``position`` is the boundary coordinate (x for vertical, y for horizontal) and
    ``[start, stop)`` the overlap along the edge, in detector pixels.
    """

    low: int
    high: int
    vertical: bool
    position: int
    start: int
    stop: int

    @property
    def length(self) -> int:
        """Length of the shared edge in pixels."""
        return self.stop - self.start


@dataclasses.dataclass
class AmpOffsetResult:
    """Measured interface differences, the least-squares pedestals and their 1σ errors (image units)."""

    pedestals: dict[str, float]
    pedestal_errors: dict[str, float]
    interfaces: list[AmpInterface]
    differences: NDArray[np.float64]
    difference_errors: NDArray[np.float64]
    amp_offset_matrix: NDArray[np.float64]
    interface_matrix: NDArray[np.float64]
    n_strip_pixels: NDArray[np.int64]


def find_amp_interfaces(detector: Detector) -> list[AmpInterface]:
    """Every pair of amplifiers whose assembled boxes share an edge of positive length."""
    amps = list(detector)
    out = []
    for i, a in enumerate(amps):
        for j, b in enumerate(amps):
            if i == j:
                continue
            ab, bb = a.bbox, b.bbox
            if ab.x_end == bb.x0:
                lo, hi = max(ab.y0, bb.y0), min(ab.y_end, bb.y_end)
                if hi > lo:
                    out.append(AmpInterface(i, j, True, ab.x_end, lo, hi))
            if ab.y_end == bb.y0:
                lo, hi = max(ab.x0, bb.x0), min(ab.x_end, bb.x_end)
                if hi > lo:
                    out.append(AmpInterface(i, j, False, ab.y_end, lo, hi))
    return out


def _strip_line_means(
    values: NDArray[np.float64], good: NDArray[np.bool_], n_sigma: float, grow: int
) -> NDArray[np.float64]:
    """Mean per line (row of ``values``) over good, non-source pixels; NaN where none."""
    v = np.where(good, values, np.nan)
    med = np.nanmedian(v)
    mad = 1.4826 * np.nanmedian(np.abs(v - med))
    if np.isfinite(mad) and mad > 0:
        src = np.abs(v - med) > n_sigma * mad
        if grow > 0 and src.any():
            from scipy.ndimage import binary_dilation

            src = binary_dilation(src, iterations=grow)
        v = np.where(src, np.nan, v)
    with np.errstate(invalid="ignore"):
        count = np.sum(np.isfinite(v), axis=1)
        total = np.nansum(v, axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def detect_sources(
    image: NDArray[np.float64], good: NDArray[np.bool_], n_sigma: float = 3.0, grow: int = 4, smooth: float = 1.5
) -> NDArray[np.bool_]:
    """Pixels belonging to sources: the Gaussian-smoothed (``smooth`` px), median-subtracted image above
    ``n_sigma`` robust σ of the smoothed image, dilated by ``grow`` pixels (catches faint PSF wings)."""
    from scipy.ndimage import binary_dilation, gaussian_filter

    level = np.median(image[good])
    filled = np.where(good, image - level, 0.0)
    sm = gaussian_filter(filled, smooth)
    mad = 1.4826 * np.median(np.abs(sm[good] - np.median(sm[good])))
    src = sm > n_sigma * mad
    if grow > 0 and src.any():
        src = binary_dilation(src, iterations=grow)
    return src


def amp_offset_correct(
    exposure: Exposure,
    detector: Detector | None = None,
    *,
    strip_width: int = 10,
    inset: int = 1,
    mask_planes: Sequence[str] = ("BAD", "SAT", "SUSPECT", "CR", "DETECTED", "NO_DATA", "EDGE", "INTRP"),
    n_sigma: float = 4.0,
    grow: int = 2,
    detect_n_sigma: float = 3.0,
    detect_grow: int = 4,
    apply: bool = True,
) -> AmpOffsetResult:
    """Measure (and by default subtract) a pedestal per amplifier that makes the background continuous.

    Assembled frame only. See the module docstring for the algorithm. Sources are found by
    `detect_sources` (``detect_n_sigma`` ≤ 0 turns it off) and, within each strip, pixels more
    than ``n_sigma`` robust σ from the strip median are dropped and grown by ``grow``. ``pedestal_errors``
    propagate each interface difference's scatter-based error through the linear solution.
    """
    det = detector if detector is not None else exposure.detector
    if det is None:
        raise IsrValueError("amp_offset_correct: exposure has no detector; pass detector=")
    if exposure.bbox != det.bbox:
        raise IsrValueError(f"amp_offset_correct needs the assembled frame {det.bbox!r}, got {exposure.bbox!r}")
    interfaces = find_amp_interfaces(det)
    n_amp = len(det)
    if not interfaces:
        names = [a.name for a in det]
        return AmpOffsetResult(
            {n: 0.0 for n in names},
            {n: 0.0 for n in names},
            [],
            np.zeros(0),
            np.zeros(0),
            np.zeros((n_amp, n_amp)),
            np.zeros((0, n_amp)),
            np.zeros(0, np.int64),
        )
    img = exposure.image.array.astype(np.float64)
    good_all = ~exposure.mask.select(list(mask_planes)) & np.isfinite(img)
    if detect_n_sigma > 0:
        # Subtract each amp's own median first, so that the pedestals being measured do not
        # change which noise peaks are detected (that would bias the strip means).
        flat_img = img.copy()
        for amp in det:
            sl = amp.bbox.slices_in(exposure.bbox)
            sel = good_all[sl]
            if sel.any():
                flat_img[sl] -= np.median(img[sl][sel])
        good_all &= ~detect_sources(flat_img, good_all, detect_n_sigma, detect_grow)
    x0, y0 = exposure.bbox.x0, exposure.bbox.y0
    diffs, errs, npix = [], [], []
    for itf in interfaces:
        a, b = itf.start, itf.stop
        p = itf.position
        if itf.vertical:
            sl_lo = (slice(a - y0, b - y0), slice(p - inset - strip_width - x0, p - inset - x0))
            sl_hi = (slice(a - y0, b - y0), slice(p + inset - x0, p + inset + strip_width - x0))
            lo_v, lo_g = img[sl_lo], good_all[sl_lo]
            hi_v, hi_g = img[sl_hi], good_all[sl_hi]
        else:
            sl_lo = (slice(p - inset - strip_width - y0, p - inset - y0), slice(a - x0, b - x0))
            sl_hi = (slice(p + inset - y0, p + inset + strip_width - y0), slice(a - x0, b - x0))
            lo_v, lo_g = img[sl_lo].T, good_all[sl_lo].T
            hi_v, hi_g = img[sl_hi].T, good_all[sl_hi].T
        line = _strip_line_means(lo_v, lo_g, n_sigma, grow) - _strip_line_means(hi_v, hi_g, n_sigma, grow)
        line = line[np.isfinite(line)]
        if line.size < 3:
            diffs.append(0.0)
            errs.append(np.inf)
            npix.append(0)
            continue
        keep = np.ones(line.size, bool)
        for _ in range(3):
            med = np.median(line[keep])
            sd = np.std(line[keep], ddof=1)
            new = np.abs(line - med) <= 3.0 * sd if sd > 0 else keep
            if np.array_equal(new, keep):
                break
            keep = new
        diffs.append(float(np.mean(line[keep])))
        errs.append(float(np.std(line[keep], ddof=1) / np.sqrt(keep.sum())))
        npix.append(int(lo_g.sum()))
    d = np.asarray(diffs)
    e = np.asarray(errs)
    A = np.zeros((len(interfaces), n_amp))
    for k, itf in enumerate(interfaces):
        A[k, itf.low] = 1.0
        A[k, itf.high] = -1.0
    w = np.array([itf.length for itf in interfaces], dtype=np.float64)
    w[~np.isfinite(e)] = 0.0
    offset_matrix = A.T @ (w[:, None] * A)
    rhs = A.T @ (w * d)
    system = np.vstack([offset_matrix, np.ones((1, n_amp))])
    solver = np.linalg.pinv(system)[:, :n_amp]  # p = solver @ rhs, with Σp = 0 appended as the last row
    operator = solver @ (A.T * w[None, :])  # p = operator @ d
    pedestals = solver @ rhs  # == operator @ d
    e_fin = np.where(np.isfinite(e), e, 0.0)
    cov = operator @ np.diag(e_fin**2) @ operator.T
    names = [amp.name for amp in det]
    if apply:
        arr = exposure.image.array
        for amp, ped in zip(det, pedestals, strict=True):
            arr[amp.bbox.slices_in(exposure.bbox)] -= np.float32(ped)
    return AmpOffsetResult(
        pedestals=dict(zip(names, pedestals.tolist(), strict=True)),
        pedestal_errors=dict(zip(names, np.sqrt(np.diag(cov)).tolist(), strict=True)),
        interfaces=interfaces,
        differences=d,
        difference_errors=e,
        amp_offset_matrix=offset_matrix,
        interface_matrix=A,
        n_strip_pixels=np.asarray(npix, dtype=np.int64),
    )
