"""ISR steps as functions on `osprey.afw.image.Exposure` objects.

Python loops run over amplifiers only; the pixel work is vectorised or compiled. Steps
that change pixels work in place and return what they measured. Two frames appear:

* the *raw* frame: all amplifiers' raw pixels side by side, each at its ``raw_xy_offset``
  and in readout order (prescan, data, serial overscan; parallel overscan after the data
  rows), as digitised;
* the *assembled* frame: the detector's trimmed ``bbox``, each amplifier's data flipped by
  ``raw_flip_x``/``raw_flip_y`` into place (`assemble`).

Pixel arrays are indexed ``[y, x]``; boxes are `Box2I` (begin inclusive, end exclusive).

The pixel loops run in the compiled module ``osprey.ip.isr._isr`` (C++, GIL released,
float32 in place) whenever the planes have their standard dtypes (float32 image and
variance, int32 mask); the numpy implementations (``_*_numpy``) are kept as the reference
the tests compare the kernels with, and as the path for other dtypes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.afw.camera_geom import Amplifier, Detector
from osprey.afw.image import Exposure, ExposureInfo, MaskedImage
from osprey.geom import Box2I

from . import _isr
from .calibs import CrosstalkCalib, Defects, Linearizer
from .errors import IsrValueError

__all__ = [
    "OverscanResult",
    "amp_statistics",
    "apply_calibs",
    "apply_gains",
    "assemble",
    "bias_correct",
    "binned_image",
    "crosstalk_correct",
    "crosstalk_distort",
    "dark_correct",
    "disassemble",
    "flat_correct",
    "interpolate_masked",
    "linearity_correct",
    "mask_defects",
    "mask_saturation",
    "new_exposure",
    "overscan_assemble",
    "overscan_correct",
    "parallel_overscan_correct",
    "raw_frame_bbox",
    "readout_view",
    "set_variance",
]

_log = logging.getLogger(__name__)

OVERSCAN_STATISTICS = ("MEDIAN", "MEAN", "MEANCLIP")
OVERSCAN_FITS = ("NONE", "CONSTANT", "POLY", "SPLINE")


# -- geometry helpers --------------------------------------------------------------------------


def _detector(exposure: Exposure, detector: Detector | None) -> Detector:
    det = detector if detector is not None else exposure.detector
    if det is None:
        raise IsrValueError("exposure has no detector; pass detector= or set exposure.detector")
    return det


def raw_frame_bbox(detector: Detector) -> Box2I:
    """Box covering every amplifier's raw pixels at its ``raw_xy_offset`` (the raw frame)."""
    x1 = max(a.raw_xy_offset.x + a.raw_bbox.x_end for a in detector)
    y1 = max(a.raw_xy_offset.y + a.raw_bbox.y_end for a in detector)
    return Box2I.from_begin_end(0, 0, x1, y1)


def _is_raw(exposure: Exposure, detector: Detector) -> bool:
    dims = exposure.bbox.dimensions
    if dims == raw_frame_bbox(detector).dimensions:
        return True
    if dims == detector.bbox.dimensions:
        return False
    raise IsrValueError(
        f"exposure bbox {exposure.bbox!r} matches neither the raw frame {raw_frame_bbox(detector)!r} "
        f"nor the assembled bbox {detector.bbox!r} of detector {detector.name!r}"
    )


def _native_planes(*exposures: Exposure) -> bool:
    """True when every exposure has the standard plane dtypes the C++ kernels take in place."""
    return all(
        e.image.array.dtype == np.float32 and e.variance.array.dtype == np.float32 and e.mask.array.dtype == np.int32
        for e in exposures
    )


def _raw_slices(amp: Amplifier, box: Box2I) -> tuple[slice, slice]:
    """Array slices (``[y, x]``, raw-frame array with xy0 = 0) of an amp-frame raw box."""
    x0 = amp.raw_xy_offset.x + box.x0
    y0 = amp.raw_xy_offset.y + box.y0
    return slice(y0, y0 + box.height), slice(x0, x0 + box.width)


def _amp_slices(exposure: Exposure, amp: Amplifier, raw: bool, which: str = "data") -> tuple[slice, slice]:
    """Slices of an amplifier's data (or whole raw) region in either frame."""
    if raw:
        box = amp.raw_data_bbox if which == "data" else amp.raw_bbox
        return _raw_slices(amp, box)
    return amp.bbox.slices_in(exposure.bbox)


def readout_view(array: NDArray[Any], amp: Amplifier, raw: bool, slices: tuple[slice, slice]) -> NDArray[Any]:
    """A view of an amp's data in readout order: as stored in the raw frame, flipped back when assembled."""
    view = array[slices]
    if not raw:
        if amp.raw_flip_y:
            view = view[::-1, :]
        if amp.raw_flip_x:
            view = view[:, ::-1]
    return view


# -- robust statistics along an axis --------------------------------------------------------


def _line_levels(values: NDArray[Any], statistic: str, n_sigma: float, n_iter: int) -> NDArray[np.float64]:
    """Robust level of each row of ``values`` (shape (n_lines, n_samples), any strides; float64 result).

    float32 input goes to the C++ kernel (one pass per row, ``nth_element`` medians);
    anything else to `_line_levels_numpy`, the reference.
    """
    if statistic not in OVERSCAN_STATISTICS:
        raise IsrValueError(f"overscan statistic {statistic!r} unknown; use one of {OVERSCAN_STATISTICS}")
    if values.dtype != np.float32 or values.shape[1] == 0:
        return _line_levels_numpy(values.astype(np.float64), statistic, n_sigma, n_iter)
    out = np.empty(values.shape[0], np.float64)
    _isr.line_levels(values, OVERSCAN_STATISTICS.index(statistic), float(n_sigma), int(n_iter), out)
    return out


def _line_levels_numpy(values: NDArray[np.float64], statistic: str, n_sigma: float, n_iter: int) -> NDArray[np.float64]:
    """numpy reference of `_line_levels` (float64 arithmetic)."""
    if statistic == "MEDIAN":
        return np.median(values, axis=1)
    if statistic == "MEAN":
        return values.mean(axis=1)
    if statistic == "MEANCLIP":
        work = values.astype(np.float64, copy=True)
        for _ in range(n_iter):
            centre = np.nanmedian(work, axis=1, keepdims=True)
            sigma = np.nanstd(work, axis=1, ddof=1, keepdims=True)
            clipped = np.abs(work - centre) > n_sigma * sigma
            if not clipped.any():
                break
            work[clipped] = np.nan
        return np.nanmean(work, axis=1)
    raise IsrValueError(f"overscan statistic {statistic!r} unknown; use one of {OVERSCAN_STATISTICS}")


def _smooth(levels: NDArray[np.float64], fit: str, order: int, smoothing: float | None) -> NDArray[np.float64]:
    """Smooth per-line levels along the line index."""
    t = np.arange(levels.size, dtype=np.float64)
    if fit == "NONE":
        return levels.copy()
    if fit == "CONSTANT":
        return np.full_like(levels, np.median(levels))
    if fit == "POLY":
        poly = np.polynomial.Polynomial.fit(t, levels, deg=min(order, levels.size - 1))
        return poly(t)
    if fit == "SPLINE":
        from scipy.interpolate import make_smoothing_spline

        return make_smoothing_spline(t, levels, lam=smoothing)(t)
    raise IsrValueError(f"overscan fit {fit!r} unknown; use one of {OVERSCAN_FITS}")


@dataclasses.dataclass
class OverscanResult:
    """Per-amplifier overscan measurement: raw per-line levels and the smooth fit subtracted (ADU)."""

    levels: NDArray[np.float64]
    fitted: NDArray[np.float64]

    @property
    def mean_level(self) -> float:
        """Mean of the subtracted levels."""
        return float(np.mean(self.fitted))


def overscan_correct(
    exposure: Exposure,
    detector: Detector | None = None,
    *,
    statistic: str = "MEANCLIP",
    fit: str = "POLY",
    order: int = 3,
    smoothing: float | None = None,
    n_sigma: float = 3.0,
    n_iter: int = 3,
    leading_columns: int = 0,
) -> dict[str, OverscanResult]:
    """Serial overscan: subtract a smooth per-row level from each amplifier's raw pixels, in place.

    For every amp the serial-overscan box gives one robust level per raw row (``statistic``:
    MEDIAN, MEAN or MEANCLIP with ``n_sigma``/``n_iter``), skipping ``leading_columns``
    nearest the data (CTI trail). The levels are smoothed along rows (``fit``: NONE, CONSTANT,
    POLY of ``order``, or SPLINE — scipy's smoothing spline, ``smoothing`` its λ, GCV when
    `None`) and subtracted from every column of the amp's raw rows. Needs the raw frame.
    """
    det = _detector(exposure, detector)
    if not _is_raw(exposure, det):
        raise IsrValueError("overscan_correct needs the raw frame; run it before assemble()")
    arr = exposure.image.array
    out: dict[str, OverscanResult] = {}
    for amp in det:
        result, full = _serial_levels(arr, amp, statistic, fit, order, smoothing, n_sigma, n_iter, leading_columns)
        yr, xr = _raw_slices(amp, amp.raw_bbox)
        if arr.dtype == np.float32:
            _isr.subtract_levels(arr[yr, xr], full, False, 1.0)
        else:
            arr[yr, xr] -= full[:, None].astype(arr.dtype)
        out[amp.name] = result
    return out


def _serial_levels(
    arr: NDArray[Any],
    amp: Amplifier,
    statistic: str,
    fit: str,
    order: int,
    smoothing: float | None,
    n_sigma: float,
    n_iter: int,
    leading_columns: int,
) -> tuple[OverscanResult, NDArray[np.float64]]:
    """One amp's serial-overscan measurement and the fitted level of every raw row (ADU)."""
    box = amp.raw_serial_overscan_bbox
    if box.is_empty():
        raise IsrValueError(f"amplifier {amp.name!r} has no serial overscan box; disable do_overscan")
    # The overscan columns are read for every raw row, parallel-overscan rows included, even
    # where the camera description stops the box at the data rows (LSSTCam, DECam): use them all.
    raw = amp.raw_bbox
    box = Box2I.from_begin_end(box.x0, raw.y0, box.x0 + box.width, raw.y0 + raw.height)
    ys, xs = _raw_slices(amp, box)
    if amp.raw_flip_x:
        # Overscan sits after the data in readout order; "leading" columns touch the data.
        xs = slice(xs.start, xs.stop - leading_columns)
    else:
        xs = slice(xs.start + leading_columns, xs.stop)
    levels = _line_levels(arr[ys, xs], statistic, n_sigma, n_iter)
    fitted = _smooth(levels, fit, order, smoothing)
    return OverscanResult(levels, fitted), np.asarray(fitted, dtype=np.float64)


def overscan_assemble(
    exposure: Exposure,
    detector: Detector | None = None,
    *,
    statistic: str = "MEANCLIP",
    fit: str = "POLY",
    order: int = 3,
    smoothing: float | None = None,
    n_sigma: float = 3.0,
    n_iter: int = 3,
    leading_columns: int = 0,
    apply_gain: bool = True,
    gains: dict[str, float] | None = None,
) -> tuple[Exposure, dict[str, OverscanResult]]:
    """Serial overscan, gain and trim/assembly in one pass; the raw ``exposure`` is not modified.

    The same result as ``exp = exposure.clone()``, `overscan_correct` (same options),
    `apply_gains` (when ``apply_gain``; ``gains`` overrides the detector's) and `assemble`,
    without the clone or the intermediate passes: each amp's data pixels are read once
    from the raw frame and written once, flipped, into the assembled frame (C++ for the
    standard plane dtypes). Use it when no raw-frame step (crosstalk, parallel overscan)
    comes between. Returns the assembled exposure (electrons when the gain was applied)
    and the per-amp overscan results.
    """
    det = _detector(exposure, detector)
    if not _is_raw(exposure, det):
        raise IsrValueError("overscan_assemble needs the raw frame")
    if apply_gain and exposure.image.units == "electron":
        raise IsrValueError("overscan_assemble: the image is already in electrons; pass apply_gain=False")
    if not _native_planes(exposure):
        exp = exposure.clone()
        res = overscan_correct(
            exp,
            det,
            statistic=statistic,
            fit=fit,
            order=order,
            smoothing=smoothing,
            n_sigma=n_sigma,
            n_iter=n_iter,
            leading_columns=leading_columns,
        )
        if apply_gain:
            apply_gains(exp, det, gains)
        return assemble(exp, det), res
    units = "electron" if apply_gain else exposure.image.units
    out = MaskedImage(det.bbox, planes=exposure.mask.planes, units=units)
    src = (exposure.image.array, exposure.variance.array, exposure.mask.array)
    dst = (out.image.array, out.variance.array, out.mask.array)
    res: dict[str, OverscanResult] = {}
    for amp in det:
        result, full = _serial_levels(src[0], amp, statistic, fit, order, smoothing, n_sigma, n_iter, leading_columns)
        res[amp.name] = result
        g = (float(gains[amp.name]) if gains is not None else amp.gain) if apply_gain else 1.0
        d = amp.raw_data_bbox
        rows = full[d.y0 - amp.raw_bbox.y0 : d.y_end - amp.raw_bbox.y0]
        sl = _raw_slices(amp, d)
        fy = slice(None, None, -1) if amp.raw_flip_y else slice(None)
        fx = slice(None, None, -1) if amp.raw_flip_x else slice(None)
        views = [plane[sl][fy, fx] for plane in src]
        targets = [plane[amp.bbox.slices_in(det.bbox)] for plane in dst]
        _isr.overscan_gain_assemble(*views, np.ascontiguousarray(rows[fy]), g, g * g, *targets)
    info = dataclasses.replace(exposure.info, metadata=exposure.metadata.copy(), detector=det)
    return Exposure(out, info), res


def parallel_overscan_correct(
    exposure: Exposure,
    detector: Detector | None = None,
    *,
    statistic: str = "MEANCLIP",
    fit: str = "POLY",
    order: int = 1,
    smoothing: float | None = None,
    n_sigma: float = 3.0,
    n_iter: int = 3,
) -> dict[str, OverscanResult]:
    """Parallel overscan: subtract a per-column level (smoothed along columns) from each amp, in place.

    Run after the serial overscan. The parallel-overscan box must span the data columns;
    each column's robust level over the overscan rows is smoothed across columns (same
    ``statistic``/``fit`` options as `overscan_correct`) and subtracted from the amp's
    raw columns. Saturated columns (SAT mask in the parallel overscan) are excluded from the fit.
    """
    det = _detector(exposure, detector)
    if not _is_raw(exposure, det):
        raise IsrValueError("parallel_overscan_correct needs the raw frame; run it before assemble()")
    arr = exposure.image.array
    sat = exposure.mask.select(["SAT"])
    out: dict[str, OverscanResult] = {}
    for amp in det:
        box = amp.raw_parallel_overscan_bbox
        if box.is_empty():
            continue
        data = amp.raw_data_bbox
        if box.x0 > data.x0 or box.x_end < data.x_end:
            raise IsrValueError(
                f"amplifier {amp.name!r}: parallel overscan {box!r} does not span data columns {data!r}"
            )
        ys, xs = _raw_slices(amp, Box2I.from_begin_end(data.x0, box.y0, data.x_end, box.y_end))
        levels = _line_levels(arr[ys, xs].T, statistic, n_sigma, n_iter)
        bad = sat[ys, xs].any(axis=0)
        if bad.any() and (~bad).sum() > order + 1:
            good_t = np.flatnonzero(~bad)
            levels = np.interp(np.arange(levels.size), good_t, levels[good_t])
        fitted = _smooth(levels, fit, order, smoothing)
        yr, xr = _raw_slices(amp, Box2I.from_begin_end(data.x0, amp.raw_bbox.y0, data.x_end, amp.raw_bbox.y_end))
        if arr.dtype == np.float32:
            _isr.subtract_levels(arr[yr, xr], np.ascontiguousarray(fitted, np.float64), True, 1.0)
        else:
            arr[yr, xr] -= fitted[None, :].astype(arr.dtype)
        out[amp.name] = OverscanResult(levels, fitted)
    return out


# -- masking ----------------------------------------------------------------------------------


def _grow(mask: NDArray[np.bool_], radius: int) -> NDArray[np.bool_]:
    if radius <= 0 or not mask.any():
        return mask
    from scipy.ndimage import binary_dilation

    r = int(radius)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return binary_dilation(mask, structure=(xx * xx + yy * yy) <= r * r)


def mask_saturation(
    exposure: Exposure, detector: Detector | None = None, *, grow_radius: int = 0, suspect: bool = True
) -> dict[str, int]:
    """Set SAT (>= amp.saturation) and SUSPECT (>= amp.suspect_level) over each amp, grown by ``grow_radius``.

    Levels are in ADU and compare with the raw pixels *before* overscan subtraction (the ADC
    clips raw counts); in the assembled frame they compare with the image as it stands.
    Returns the number of SAT pixels per amplifier (after growing).
    """
    det = _detector(exposure, detector)
    raw = _is_raw(exposure, det)
    arr = exposure.image.array
    marr = exposure.mask.array
    sat_bit = exposure.mask.get_plane_bitmask("SAT")
    counts: dict[str, int] = {}
    for amp in det:
        sl = _amp_slices(exposure, amp, raw, "raw" if raw else "data")
        pix = arr[sl]
        mview = marr[sl]  # amp regions do not overlap: work on each amp's region only
        if np.isfinite(amp.saturation):
            sat = _grow(pix >= amp.saturation, grow_radius)
            mview[sat] |= sat_bit
            counts[amp.name] = int(np.count_nonzero(sat))
        else:
            sat = None
            counts[amp.name] = 0
        if suspect and amp.suspect_level is not None:
            sus = _grow(pix >= amp.suspect_level, grow_radius)
            if sat is not None:
                sus &= ~sat
            mview[sus] |= exposure.mask.get_plane_bitmask("SUSPECT")
    return counts


# -- gain and crosstalk ---------------------------------------------------------------------------


def apply_gains(exposure: Exposure, detector: Detector | None = None, gains: dict[str, float] | None = None) -> None:
    """Multiply each amplifier by its gain (ADU → electrons), in place; sets ``image.units = "electron"``.

    ``gains`` (e⁻/ADU per amp name, e.g. from a PTC) overrides the detector's. In the raw
    frame the whole raw box (overscans included) is scaled; the variance scales by gain².
    """
    det = _detector(exposure, detector)
    if exposure.image.units == "electron":
        raise IsrValueError("apply_gains: the image is already in electrons")
    raw = _is_raw(exposure, det)
    for amp in det:
        g = float(gains[amp.name]) if gains is not None else amp.gain
        sl = _amp_slices(exposure, amp, raw, "raw" if raw else "data")
        exposure.image.array[sl] *= g
        exposure.variance.array[sl] *= g * g
    exposure.image.units = "electron"


def _crosstalk_matrix(
    crosstalk: CrosstalkCalib, det: Detector
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    names = [a.name for a in det]
    if crosstalk.n_amp != len(names):
        raise IsrValueError(
            f"crosstalk matrix is {crosstalk.n_amp}x{crosstalk.n_amp} but detector {det.name!r} has {len(names)} amps"
        )
    if crosstalk.amp_names and list(crosstalk.amp_names) != names:
        order = [crosstalk.amp_names.index(n) for n in names]
        c = crosstalk.coeffs[np.ix_(order, order)]
        s = None if crosstalk.coeffs_sqr is None else crosstalk.coeffs_sqr[np.ix_(order, order)]
        return c, s
    return crosstalk.coeffs, crosstalk.coeffs_sqr


def _crosstalk_views(exposure: Exposure, det: Detector) -> list[NDArray[Any]]:
    """Views of every amp's data in readout order."""
    raw = _is_raw(exposure, det)
    arr = exposure.image.array
    views = [readout_view(arr, amp, raw, _amp_slices(exposure, amp, raw)) for amp in det]
    shapes = {v.shape for v in views}
    if len(shapes) != 1:
        raise IsrValueError(f"crosstalk needs equal-sized amplifier data regions, got {sorted(shapes)}")
    return views


def _crosstalk_of(
    stack: NDArray[np.float64], coeffs: NDArray[np.float64], sqr: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Crosstalk each victim receives from the sources ``stack`` (n_amp x ny x nx)."""
    signal = np.tensordot(coeffs, stack, axes=(1, 0))
    if sqr is not None and np.any(sqr):
        signal += np.tensordot(sqr, stack * stack, axes=(1, 0))
    return signal


def crosstalk_correct(
    exposure: Exposure,
    crosstalk: CrosstalkCalib,
    detector: Detector | None = None,
    *,
    mask_threshold: float | None = None,
    iterations: int = 3,
    return_signal: bool = True,
) -> NDArray[np.float64] | None:
    """Subtract intra-detector crosstalk, in place: ``victim_i -= Σ_j c_ij src_j + c2_ij src_j²``.

    Each source amplifier is read in the victim's readout order (raw frame: as stored;
    assembled frame: flipped by the amps' flips). ``iterations=1`` uses the observed
    (crosstalk-contaminated) sources, as LSST's single pass does, leaving an O(c²) error —
    1% of the direct term for a far victim whose own coefficient is ~c²/0.01; each further
    fixed-point pass ``clean = observed - C(clean)`` gains another factor of c. Works in either frame on the amps' data
    regions; units must match ``crosstalk.units``. Pixels of a victim whose source exceeds
    ``mask_threshold`` get the CROSSTALK mask plane. Returns the subtracted signal stack
    (float64, shape ``(n_amp, ny, nx)``), or `None` with ``return_signal=False`` (saves
    allocating it; `run_isr` does not need it).
    """
    det = _detector(exposure, detector)
    if exposure.image.units not in (None, crosstalk.units):
        raise IsrValueError(
            f"crosstalk coefficients are in {crosstalk.units!r} but the image is in {exposure.image.units!r}; "
            "apply the gains first (or use a matching matrix)"
        )
    views = _crosstalk_views(exposure, det)
    coeffs, sqr = _crosstalk_matrix(crosstalk, det)
    signal: NDArray[np.float64] | None
    if all(v.dtype == np.float32 for v in views):
        signal = np.empty((len(views), *views[0].shape)) if return_signal else None
        c2 = None if sqr is None or not np.any(sqr) else np.ascontiguousarray(sqr, dtype=np.float64)
        _isr.crosstalk_correct(views, np.ascontiguousarray(coeffs, dtype=np.float64), c2, int(iterations), signal)
    else:
        signal = _crosstalk_correct_numpy(views, coeffs, sqr, iterations)
    if mask_threshold is not None:
        raw = _is_raw(exposure, det)
        coeffs, _ = _crosstalk_matrix(crosstalk, det)
        bright = np.stack([v >= mask_threshold for v in views])
        victim_hit = np.tensordot(coeffs != 0, bright, axes=(1, 0)) > 0
        mask_arr = exposure.mask.array
        bit = exposure.mask.get_plane_bitmask(["CROSSTALK"])
        for amp, hit in zip(det, victim_hit, strict=True):
            mview = readout_view(mask_arr, amp, raw, _amp_slices(exposure, amp, raw))
            mview[hit] |= bit
    return signal if return_signal else None


def _crosstalk_correct_numpy(
    views: list[NDArray[Any]], coeffs: NDArray[np.float64], sqr: NDArray[np.float64] | None, iterations: int
) -> NDArray[np.float64]:
    """numpy reference of the crosstalk kernel: fixed-point passes on float64 stacks, views updated in place."""
    observed = np.stack([v.astype(np.float64) for v in views])
    clean = observed
    for _ in range(max(1, iterations)):
        clean = observed - _crosstalk_of(clean, coeffs, sqr)
    signal = observed - clean
    for view, sig in zip(views, signal, strict=True):
        view -= sig.astype(view.dtype)
    return signal


def crosstalk_distort(
    exposure: Exposure, crosstalk: CrosstalkCalib, detector: Detector | None = None
) -> NDArray[np.float64]:
    """Forward model of `crosstalk_correct` (adds the crosstalk of the current sources), in place."""
    det = _detector(exposure, detector)
    views = _crosstalk_views(exposure, det)
    coeffs, sqr = _crosstalk_matrix(crosstalk, det)
    signal = _crosstalk_of(np.stack([v.astype(np.float64) for v in views]), coeffs, sqr)
    for view, sig in zip(views, signal, strict=True):
        view += sig.astype(view.dtype)
    return signal


# -- linearity --------------------------------------------------------------------------------


def linearity_correct(exposure: Exposure, linearizer: Linearizer, detector: Detector | None = None) -> None:
    """Replace each amplifier's data by the linear signal (`Linearizer.correct`), in place."""
    det = _detector(exposure, detector)
    if exposure.image.units not in (None, linearizer.units):
        raise IsrValueError(f"linearizer is in {linearizer.units!r} but the image is in {exposure.image.units!r}")
    raw = _is_raw(exposure, det)
    arr = exposure.image.array
    for amp in det:
        sl = _amp_slices(exposure, amp, raw)
        kind, params = linearizer._model(amp.name)
        if kind == "NONE":
            continue
        if kind == "POLYNOMIAL" and arr.dtype == np.float32:
            # per-pixel Newton in C++, float64 arithmetic, in place
            _isr.linearize_polynomial(arr[sl], list(params))
        else:
            arr[sl] = linearizer.correct(amp.name, arr[sl]).astype(arr.dtype)


# -- assembly -----------------------------------------------------------------------------------


def assemble(exposure: Exposure, detector: Detector | None = None) -> Exposure:
    """Trim and assemble a raw-frame exposure into the detector frame (flips applied).

    Image, mask and variance are copied; units and the ExposureInfo (detector, visit info,
    a copy of the metadata) carry over.
    """
    det = _detector(exposure, detector)
    if not _is_raw(exposure, det):
        raise IsrValueError("assemble: the exposure is already in the assembled frame")
    out = MaskedImage(det.bbox, planes=exposure.mask.planes, units=exposure.image.units)
    for src_plane, dst_plane in (
        (exposure.image.array, out.image.array),
        (exposure.mask.array, out.mask.array),
        (exposure.variance.array, out.variance.array),
    ):
        for amp in det:
            view = src_plane[_raw_slices(amp, amp.raw_data_bbox)]
            if amp.raw_flip_y:
                view = view[::-1, :]
            if amp.raw_flip_x:
                view = view[:, ::-1]
            dst_plane[amp.bbox.slices_in(det.bbox)] = view
    info = dataclasses.replace(exposure.info, metadata=exposure.metadata.copy(), detector=det)
    return Exposure(out, info)


def disassemble(exposure: Exposure, detector: Detector | None = None, fill: float = 0.0) -> Exposure:
    """Inverse of `assemble` for the data regions: an assembled image back into the raw frame."""
    det = _detector(exposure, detector)
    if _is_raw(exposure, det):
        raise IsrValueError("disassemble: the exposure is already in the raw frame")
    out = MaskedImage(raw_frame_bbox(det), planes=exposure.mask.planes, units=exposure.image.units)
    out.image.array[:] = fill
    for src_plane, dst_plane in (
        (exposure.image.array, out.image.array),
        (exposure.mask.array, out.mask.array),
        (exposure.variance.array, out.variance.array),
    ):
        for amp in det:
            view = src_plane[amp.bbox.slices_in(exposure.bbox)]
            if amp.raw_flip_y:
                view = view[::-1, :]
            if amp.raw_flip_x:
                view = view[:, ::-1]
            dst_plane[_raw_slices(amp, amp.raw_data_bbox)] = view
    info = dataclasses.replace(exposure.info, metadata=exposure.metadata.copy(), detector=det)
    return Exposure(out, info)


# -- variance, bias, dark, flat -------------------------------------------------------------------


def set_variance(
    exposure: Exposure, detector: Detector | None = None, read_noise: dict[str, float] | None = None
) -> None:
    """Variance plane = max(image, 0) + read_noise² per amp (image in electrons: Poisson + read noise)."""
    det = _detector(exposure, detector)
    if exposure.image.units != "electron":
        raise IsrValueError(f"set_variance needs an image in electrons, got units {exposure.image.units!r}")
    raw = _is_raw(exposure, det)
    img = exposure.image.array
    var = exposure.variance.array
    for amp in det:
        rn = float(read_noise[amp.name]) if read_noise is not None else amp.read_noise
        sl = _amp_slices(exposure, amp, raw, "raw" if raw else "data")
        var[sl] = np.maximum(img[sl], 0.0) + rn * rn
    exposure.variance.units = "electron2"


def _check_calib(exposure: Exposure, calib: Exposure, what: str) -> None:
    if calib.bbox != exposure.bbox:
        raise IsrValueError(f"{what} bbox {calib.bbox!r} differs from the exposure's {exposure.bbox!r}; assemble first")


def bias_correct(exposure: Exposure, bias: Exposure) -> None:
    """Subtract the bias frame (electrons, assembled frame), in place; its variance adds."""
    apply_calibs(exposure, bias=bias)


def dark_correct(exposure: Exposure, dark: Exposure, dark_time: float | None = None) -> float:
    """Subtract ``dark × dark_time / dark's dark time`` (dark in electrons), in place; returns the scale.

    ``dark_time`` defaults to ``exposure.visit_info.dark_time``; the dark's own dark time comes
    from its visit info (1 s when absent: a dark-current-rate image).
    """
    return apply_calibs(exposure, dark=dark, dark_time=dark_time)["dark_scale"]


def flat_correct(exposure: Exposure, flat: Exposure) -> float:
    """Divide by the flat normalised to its median over finite positive pixels, in place; returns that median."""
    return apply_calibs(exposure, flat=flat)["flat_median"]


def _dark_scale(exposure: Exposure, dark: Exposure, dark_time: float | None) -> float:
    if dark_time is None:
        vi = exposure.visit_info
        if vi is None or vi.dark_time is None:
            raise IsrValueError("dark_correct: the exposure has no visit_info.dark_time; pass dark_time=")
        dark_time = vi.dark_time
    ref = dark.visit_info.dark_time if dark.visit_info is not None and dark.visit_info.dark_time else 1.0
    return float(dark_time) / float(ref)


def _flat_median(flat: Exposure) -> float:
    f = flat.image.array
    if f.dtype == np.float32:
        norm, n_good = _isr.positive_median(f)
    else:
        f64 = f.astype(np.float64)
        good = np.isfinite(f64) & (f64 > 0)
        n_good = int(good.sum())
        norm = float(np.median(f64[good])) if n_good else float("nan")
    if n_good == 0:
        raise IsrValueError("flat has no positive pixels")
    return float(norm)


def apply_calibs(
    exposure: Exposure,
    *,
    bias: Exposure | None = None,
    dark: Exposure | None = None,
    flat: Exposure | None = None,
    dark_time: float | None = None,
) -> dict[str, float]:
    """Bias, dark and flat correction in one pass over the pixels, in place (assembled frame).

    The same as `bias_correct`, then `dark_correct`, then `flat_correct` (which call this
    with one frame each): ``image = (image − bias − dark × scale) / (flat / median(flat))``;
    variances add (the dark's times scale²) and are divided by the normalised flat squared;
    the calibrations' masks are OR-ed in; flat pixels that are not finite and positive give
    NaN and BAD. ``scale = dark_time / dark's dark time`` (see `dark_correct`); the flat's
    median is over its finite positive pixels. Every frame must have the exposure's bbox and
    be in electrons. One C++ pass (float32 in place) for the standard plane dtypes.

    Returns
    -------
    measured : `dict`
        ``dark_scale`` (when a dark is given) and ``flat_median`` (when a flat is given).
    """
    out: dict[str, float] = {}
    if bias is not None:
        _check_calib(exposure, bias, "bias")
    scale = 1.0
    if dark is not None:
        _check_calib(exposure, dark, "dark")
        scale = out["dark_scale"] = _dark_scale(exposure, dark, dark_time)
    norm = 1.0
    if flat is not None:
        _check_calib(exposure, flat, "flat")
        norm = out["flat_median"] = _flat_median(flat)
    calibs = [c for c in (bias, dark) if c is not None]
    if _native_planes(exposure, *calibs) and (flat is None or flat.image.array.dtype == np.float32):
        bad_bit = exposure.mask.get_plane_bitmask("BAD") if flat is not None else 0
        none3 = (None, None, None)
        _isr.apply_calibs(
            exposure.image.array,
            exposure.variance.array,
            exposure.mask.array,
            *((bias.image.array, bias.variance.array, bias.mask.array) if bias is not None else none3),
            *((dark.image.array, dark.variance.array, dark.mask.array) if dark is not None else none3),
            scale,
            None if flat is None else flat.image.array,
            norm,
            bad_bit,
        )
        return out
    if bias is not None:
        _bias_correct_numpy(exposure, bias)
    if dark is not None:
        _dark_correct_numpy(exposure, dark, scale)
    if flat is not None:
        _flat_correct_numpy(exposure, flat, norm)
    return out


def _bias_correct_numpy(exposure: Exposure, bias: Exposure) -> None:
    """numpy reference of the bias part of `apply_calibs`."""
    exposure.image.array[...] -= bias.image.array
    exposure.variance.array[...] += bias.variance.array
    exposure.mask.array[...] |= bias.mask.array


def _dark_correct_numpy(exposure: Exposure, dark: Exposure, scale: float) -> None:
    """numpy reference of the dark part of `apply_calibs`."""
    exposure.image.array[...] -= (dark.image.array * scale).astype(np.float32)
    exposure.variance.array[...] += (dark.variance.array * scale * scale).astype(np.float32)
    exposure.mask.array[...] |= dark.mask.array


def _flat_correct_numpy(exposure: Exposure, flat: Exposure, norm: float) -> None:
    """numpy reference of the flat part of `apply_calibs` (``norm``: the flat's median)."""
    f = flat.image.array.astype(np.float64)
    good = np.isfinite(f) & (f > 0)
    fn = np.where(good, f / norm, np.nan)
    exposure.image.array[:] = exposure.image.array / fn
    exposure.variance.array[:] = exposure.variance.array / (fn * fn)
    exposure.mask.set("BAD", where=~good)


# -- defects and interpolation ----------------------------------------------------------------


def mask_defects(exposure: Exposure, defects: Defects, plane: str = "BAD") -> int:
    """Set ``plane`` on the defect pixels (assembled frame); returns their number."""
    sel = defects.to_mask_array(exposure.bbox)
    exposure.mask.set(plane, where=sel)
    return int(sel.sum())


def interpolate_masked(
    exposure: Exposure,
    planes: Sequence[str] = ("BAD", "SAT"),
    *,
    axis: str = "rows",
    fallback: float | None = None,
) -> int:
    """Linear interpolation over masked pixels from the nearest good pixel on each side.

    ``axis="rows"`` interpolates along x (fixes bad columns); ``"columns"`` along y. With one
    good side only, its value is copied; a line with no good pixel gets ``fallback`` (NaN
    when `None`) and NO_DATA. Interpolated pixels get INTRP; their variance becomes the mean
    of the two neighbours' variances. One pass over the mask in C++ (runs of bad pixels,
    float32 in place); `_interpolate_masked_numpy` is the vectorised reference.
    Returns the number of pixels interpolated.
    """
    if axis not in ("rows", "columns"):
        raise IsrValueError(f"interpolate_masked: axis must be 'rows' or 'columns', got {axis!r}")
    mask = exposure.mask
    bad_bits = mask.get_plane_bitmask(list(planes))
    if _native_planes(exposure) and {"INTRP", "NO_DATA"} <= set(mask.plane_names()):
        return int(
            _isr.interpolate_masked(
                exposure.image.array,
                exposure.variance.array,
                mask.array,
                bad_bits,
                mask.get_plane_bitmask("INTRP"),
                mask.get_plane_bitmask("NO_DATA"),
                axis == "columns",
                float("nan") if fallback is None else float(fallback),
            )
        )
    return _interpolate_masked_numpy(exposure, planes, axis=axis, fallback=fallback)


def _interpolate_masked_numpy(
    exposure: Exposure,
    planes: Sequence[str] = ("BAD", "SAT"),
    *,
    axis: str = "rows",
    fallback: float | None = None,
) -> int:
    """numpy reference of `interpolate_masked` (running max/min index scans, float64 temporaries)."""
    bad = exposure.mask.select(list(planes))
    if not bad.any():
        return 0
    img = exposure.image.array
    var = exposure.variance.array
    if axis == "columns":
        img_t, var_t, bad_t = img.T, var.T, bad.T
    elif axis == "rows":
        img_t, var_t, bad_t = img, var, bad
    else:
        raise IsrValueError(f"interpolate_masked: axis must be 'rows' or 'columns', got {axis!r}")
    n = bad_t.shape[1]
    idx = np.broadcast_to(np.arange(n), bad_t.shape)
    left = np.maximum.accumulate(np.where(~bad_t, idx, -1), axis=1)
    right = np.minimum.accumulate(np.where(~bad_t, idx, n)[:, ::-1], axis=1)[:, ::-1]
    rows = np.broadcast_to(np.arange(bad_t.shape[0])[:, None], bad_t.shape)
    has_l = left >= 0
    has_r = right < n
    li = np.clip(left, 0, n - 1)
    ri = np.clip(right, 0, n - 1)
    vl, vr = img_t[rows, li].astype(np.float64), img_t[rows, ri].astype(np.float64)
    wl, wr = var_t[rows, li].astype(np.float64), var_t[rows, ri].astype(np.float64)
    span = np.where(has_l & has_r & (right > left), right - left, 1)
    frac = np.where(has_l & has_r, (idx - left) / span, 0.0)
    value = np.where(has_l & has_r, vl + (vr - vl) * frac, np.where(has_l, vl, vr))
    variance = np.where(has_l & has_r, 0.5 * (wl + wr), np.where(has_l, wl, wr))
    none = ~(has_l | has_r)
    fill = np.nan if fallback is None else fallback
    value = np.where(none, fill, value)
    sel = bad_t
    img_t[sel] = value[sel]
    var_t[sel] = np.where(none, np.nan, variance)[sel]
    full_sel = sel.T if axis == "columns" else sel
    exposure.mask.set("INTRP", where=full_sel)
    none_full = (none & sel).T if axis == "columns" else (none & sel)
    if none_full.any():
        exposure.mask.set("NO_DATA", where=none_full)
    return int(sel.sum())


# -- statistics and display -----------------------------------------------------------------


def amp_statistics(exposure: Exposure, detector: Detector | None = None) -> dict[str, dict[str, float]]:
    """Per-amplifier MEDIAN, MEANCLIP, STDEVCLIP and NPOINT of the good pixels (assembled frame)."""
    from osprey.afw.math import Property, make_statistics

    det = _detector(exposure, detector)
    raw = _is_raw(exposure, det)
    flags = Property.MEDIAN | Property.MEANCLIP | Property.STDEVCLIP | Property.NPOINT
    out: dict[str, dict[str, float]] = {}
    for amp in det:
        if raw:
            ys, xs = _raw_slices(amp, amp.raw_data_bbox)
            box = Box2I.from_begin_end(xs.start, ys.start, xs.stop, ys.stop).shift((exposure.bbox.x0, exposure.bbox.y0))
        else:
            box = amp.bbox
        s = make_statistics(exposure.masked_image, flags, bbox=box)
        out[amp.name] = {
            "median": float(s.median),
            "meanclip": float(s.meanclip),
            "stdevclip": float(s.stdevclip),
            "npoint": int(s.npoint),
        }
    return out


def binned_image(exposure: Exposure, factor: int = 8) -> MaskedImage:
    """Block-mean binned image for display (`MaskedImage.binned`)."""
    if factor < 1:
        raise IsrValueError(f"binned_image: factor must be >= 1, got {factor}")
    return exposure.masked_image.binned(factor)


def new_exposure(masked_image: MaskedImage, **info: Any) -> Exposure:
    """Exposure with an `ExposureInfo` built from keyword fields (detector, visit_info...)."""
    return Exposure(masked_image, ExposureInfo(**info))
