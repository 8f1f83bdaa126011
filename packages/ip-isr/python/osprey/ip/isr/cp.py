"""Calibration-product algorithms: verification, defects, photon transfer curve, linearity, crosstalk.

Pure functions on `Exposure` lists (post-ISR, one detector); the PipelineTasks in
`cp_tasks` wrap them. Loops run over amplifiers, pairs or exposures, never over pixels.

* `verify_combined`: residuals of each input against the combined product, per amp, in
  units of the noise expected from the inputs' variance planes; flags where the ratio or
  the mean offset exceeds its threshold.
* `find_defects`: hot pixels from darks (rate above a threshold), cold/hot pixels from flats
  (relative to a smoothed flat), whole bad columns; boxes as `Defects`.
* `measure_ptc` / `fit_ptc`: flat pairs → per-amp mean and half the variance of the
  difference (ADU); fit of Astier et al. (2019) eq. 16, ``C = (exp(2 a00 μ g) − 1)/(2 g²
  a00) + n/g²``, below the turnoff (where the variance stops rising).
* `fit_linearizer`: flat ramp → per-amp means against exposure time → polynomial
  ``m = x + c2 x² + c3 x³`` (`Linearizer` POLYNOMIAL).
* `measure_crosstalk`: raw-frame exposures with bright sources → per-victim joint least
  squares on the unsaturated bright pixels of every source amp (readout order), with
  iterative clipping of the victim's own sources.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.afw.camera_geom import Detector
from osprey.afw.image import Exposure

from .calibs import CrosstalkCalib, Defects, Linearizer
from .errors import CalibFormatError, IsrValueError
from .steps import _amp_slices, _is_raw, readout_view

__all__ = [
    "PhotonTransferCurve",
    "PtcAmpFit",
    "defect_boxes_from_mask",
    "find_defects",
    "fit_linearizer",
    "fit_ptc",
    "measure_crosstalk",
    "measure_ptc",
    "pair_by_exposure_time",
    "verify_combined",
]

_log = logging.getLogger(__name__)
_MASKED = ("BAD", "SAT", "SUSPECT", "NO_DATA", "INTRP")


def _detector(exposure: Exposure, what: str) -> Detector:
    if exposure.detector is None:
        raise IsrValueError(f"{what}: input exposure has no detector attached")
    return exposure.detector


def _good(exposure: Exposure, planes: Sequence[str] = _MASKED) -> NDArray[np.bool_]:
    present = [p for p in planes if p in exposure.mask.plane_names()]
    if not present:
        return np.ones(exposure.image.array.shape, bool)
    return ~exposure.mask.select(present)


def _clipped(values: NDArray[Any], n_sigma: float = 4.0, n_iter: int = 3) -> tuple[float, float, int]:
    """Clipped mean, standard deviation and count of a 1-D array (median/MAD start)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), float("nan"), int(v.size)
    center = np.median(v)
    sigma = 1.4826 * np.median(np.abs(v - center))
    keep = np.ones(v.size, bool)
    for _ in range(n_iter):
        if not sigma > 0:
            break
        keep = np.abs(v - center) <= n_sigma * sigma
        center, sigma = v[keep].mean(), v[keep].std(ddof=1)
    return float(v[keep].mean()), float(v[keep].std(ddof=1)), int(keep.sum())


# -- verification ------------------------------------------------------------------------


def verify_combined(
    combined: Exposure,
    inputs: Sequence[Exposure],
    scales: Sequence[float],
    *,
    max_noise_ratio: float = 1.2,
    max_mean_sigma: float = 5.0,
    max_mean_fraction: float = 0.2,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per input and amp: residual (input/scale − combined) statistics against the expected noise.

    The expected standard deviation per pixel is ``sqrt(median(var_in)/scale² + median(var_combined))``
    from the variance planes. An amp fails when its clipped residual standard deviation
    exceeds ``max_noise_ratio`` times that, or its clipped mean residual exceeds
    ``max_mean_sigma`` standard errors plus ``max_mean_fraction`` of the per-pixel sigma (an
    allowance for per-amp level errors such as the overscan fit's, which the variance
    plane does not describe).

    Returns
    -------
    stats : `dict`
        ``{"passed": bool, "failures": [str], "inputs": {label: {amp: {...}}}}``, plain data.
    """
    det = _detector(combined, "verify_combined")
    labels = list(labels) if labels is not None else [str(i) for i in range(len(inputs))]
    thresholds = {
        "max_noise_ratio": max_noise_ratio,
        "max_mean_sigma": max_mean_sigma,
        "max_mean_fraction": max_mean_fraction,
    }
    out: dict[str, Any] = {"inputs": {}, "failures": [], "thresholds": thresholds}
    comb_img, comb_var = combined.image.array, combined.variance.array
    for label, exp, scale in zip(labels, inputs, scales, strict=True):
        good = _good(exp) & _good(combined)
        per_amp = {}
        for amp in det:
            sl = amp.bbox.slices_in(combined.bbox)
            g = good[sl]
            resid = (exp.image.array[sl][g] / scale - comb_img[sl][g]).astype(np.float64)
            expected = float(np.sqrt(np.median(exp.variance.array[sl][g]) / scale**2 + np.median(comb_var[sl][g])))
            mean, std, n = _clipped(resid)
            ratio = std / expected if expected > 0 else float("inf")
            mean_sigma = abs(mean) / (expected / np.sqrt(max(n, 1)))
            mean_limit = max_mean_sigma * expected / np.sqrt(max(n, 1)) + max_mean_fraction * expected
            ok = bool(ratio <= max_noise_ratio and abs(mean) <= mean_limit)
            per_amp[amp.name] = {
                "mean": mean,
                "stdev": std,
                "expected_stdev": expected,
                "noise_ratio": ratio,
                "mean_sigma": float(mean_sigma),
                "npix": n,
                "passed": ok,
            }
            if not ok:
                out["failures"].append(
                    f"input {label} amp {amp.name}: residual stdev {std:.4g} = {ratio:.2f} x expected "
                    f"{expected:.4g} (max {max_noise_ratio}), mean {mean:.3g} (max {mean_limit:.3g})"
                )
        out["inputs"][label] = per_amp
    out["passed"] = not out["failures"]
    return out


# -- defects -----------------------------------------------------------------------------


def defect_boxes_from_mask(mask: NDArray[np.bool_], x0: int = 0, y0: int = 0) -> Defects:
    """Runs of true pixels along each column as ``(x, y, 1, height)`` boxes (vectorised)."""
    m = np.asarray(mask, dtype=bool)
    padded = np.zeros((m.shape[0] + 2, m.shape[1]), np.int8)
    padded[1:-1] = m
    d = np.diff(padded, axis=0)
    sy, sx = np.nonzero(d == 1)  # run starts at row sy (in mask rows)
    ey, ex = np.nonzero(d == -1)  # run ends (exclusive) at row ey
    order_s = np.lexsort((sy, sx))
    order_e = np.lexsort((ey, ex))
    sy, sx, ey = sy[order_s], sx[order_s], ey[order_e]
    boxes = np.stack([sx + x0, sy + y0, np.ones_like(sx), ey - sy], axis=-1)
    return Defects(boxes.reshape(-1, 4))


def find_defects(
    darks: Sequence[Exposure],
    flats: Sequence[Exposure],
    *,
    hot_rate_threshold: float = 5.0,
    cold_fraction: float = 0.5,
    flat_hot_fraction: float = 0.5,
    smoothing_box: int = 15,
    bad_column_fraction: float = 0.3,
) -> tuple[Defects, dict[str, Any]]:
    """Defects from post-ISR darks (bias-subtracted, electrons) and flats.

    * hot: median over darks of ``image / dark_time`` above ``hot_rate_threshold`` (e/s)
      plus the detector's median rate;
    * cold / flat-hot: median over flats of ``image / median(image)``, divided by its
      ``smoothing_box`` running median (per amp, so amp boundaries and gradients cancel),
      below ``1 − cold_fraction`` or above ``1 + flat_hot_fraction``;
    * bad columns: a column with more than ``bad_column_fraction`` of an amp's rows
      defective is flagged over that whole amp segment.

    Returns ``(defects, stats)``; ``stats`` counts each kind.
    """
    from scipy.ndimage import median_filter

    ref = (darks or flats or [None])[0]
    if ref is None:
        raise IsrValueError("find_defects: no darks and no flats given")
    det = _detector(ref, "find_defects")
    shape = ref.image.array.shape
    hot = np.zeros(shape, bool)
    cold = np.zeros(shape, bool)
    flat_hot = np.zeros(shape, bool)
    if darks:
        rates = []
        for exp in darks:
            t = exp.visit_info.dark_time if exp.visit_info is not None else None
            if not t or not t > 0:
                raise IsrValueError("find_defects: a dark has no positive visit_info.dark_time")
            rates.append(exp.image.array / np.float32(t))
        rate = np.median(np.stack(rates), axis=0)
        hot = rate > np.median(rate) + hot_rate_threshold
    if flats:
        norm = np.median(np.stack([e.image.array / np.float32(np.median(e.image.array)) for e in flats]), axis=0)
        ratio = np.ones(shape, np.float32)
        for amp in det:
            sl = amp.bbox.slices_in(ref.bbox)
            smooth = median_filter(norm[sl], size=smoothing_box, mode="nearest")
            with np.errstate(all="ignore"):
                ratio[sl] = norm[sl] / smooth
        cold = ratio < 1.0 - cold_fraction
        flat_hot = ratio > 1.0 + flat_hot_fraction
    bad = hot | cold | flat_hot
    n_columns = 0
    for amp in det:
        sl = amp.bbox.slices_in(ref.bbox)
        seg = bad[sl]
        cols = seg.mean(axis=0) > bad_column_fraction
        if cols.any():
            seg[:, cols] = True
            n_columns += int(cols.sum())
    defects = defect_boxes_from_mask(bad, ref.bbox.x0, ref.bbox.y0)
    stats = {
        "n_hot": int(hot.sum()),
        "n_cold": int(cold.sum()),
        "n_flat_hot": int(flat_hot.sum()),
        "n_bad_columns": n_columns,
        "n_defect_pixels": int(bad.sum()),
        "n_boxes": len(defects),
        "n_darks": len(darks),
        "n_flats": len(flats),
    }
    return defects, stats


# -- photon transfer curve ----------------------------------------------------------------


def pair_by_exposure_time(exposures: Sequence[Exposure], rtol: float = 1e-4) -> list[tuple[int, int]]:
    """Pairs of input indices with equal exposure times (sorted by time; odd ones out are left)."""
    times = []
    for i, exp in enumerate(exposures):
        if exp.visit_info is None or exp.visit_info.exposure_time is None:
            raise IsrValueError(f"PTC input {i} has no visit_info.exposure_time")
        times.append(float(exp.visit_info.exposure_time))
    order = np.argsort(times, kind="stable")
    pairs = []
    i = 0
    while i + 1 < len(order):
        a, b = int(order[i]), int(order[i + 1])
        if abs(times[a] - times[b]) <= rtol * max(abs(times[a]), 1e-9):
            pairs.append((a, b))
            i += 2
        else:
            i += 1
    return pairs


@dataclasses.dataclass
class PtcAmpFit:
    """Fit of one amp's PTC: gain (e⁻/ADU), read noise (e⁻), a00 (1/e⁻), turnoff (ADU)."""

    gain: float
    gain_err: float
    noise: float
    noise_err: float
    a00: float
    a00_err: float
    turnoff: float
    n_used: int
    chi2_dof: float


@dataclasses.dataclass
class PhotonTransferCurve:
    """Per-amp PTC data (means and variances in ADU, ADU²) and fits, one detector.

    ``means[amp]``, ``variances[amp]``, ``exposure_times[amp]`` have one entry per flat pair;
    ``fits[amp]`` is a `PtcAmpFit`.
    """

    means: dict[str, list[float]]
    variances: dict[str, list[float]]
    exposure_times: dict[str, list[float]]
    fits: dict[str, PtcAmpFit] = dataclasses.field(default_factory=dict)

    @property
    def gains(self) -> dict[str, float]:
        """Fitted gains (e⁻/ADU)."""
        return {k: f.gain for k, f in self.fits.items()}

    @property
    def noise(self) -> dict[str, float]:
        """Fitted read noise (e⁻)."""
        return {k: f.noise for k, f in self.fits.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible description."""
        return {
            "means": self.means,
            "variances": self.variances,
            "exposure_times": self.exposure_times,
            "fits": {k: dataclasses.asdict(f) for k, f in self.fits.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhotonTransferCurve:
        """Inverse of `to_dict`."""
        try:
            return cls(
                {k: list(v) for k, v in data["means"].items()},
                {k: list(v) for k, v in data["variances"].items()},
                {k: list(v) for k, v in data["exposure_times"].items()},
                {k: PtcAmpFit(**v) for k, v in data.get("fits", {}).items()},
            )
        except (KeyError, TypeError) as err:
            raise CalibFormatError(f"PTC dict is malformed: {err}") from None


def measure_ptc(exposures: Sequence[Exposure], n_sigma: float = 4.0) -> PhotonTransferCurve:
    """Per flat pair and amp: mean level and half the clipped variance of the scaled difference.

    Inputs are post-ISR (overscan-subtracted, assembled) flats in ADU, paired by exposure
    time (`pair_by_exposure_time`). The second image is scaled by μ1/μ2 before differencing
    so a small flux change between the pair does not add variance.
    """
    pairs = pair_by_exposure_time(exposures)
    if not pairs:
        raise IsrValueError(f"PTC: no pairs of equal exposure time among {len(exposures)} flats")
    det = _detector(exposures[0], "measure_ptc")
    means: dict[str, list[float]] = {a.name: [] for a in det}
    variances: dict[str, list[float]] = {a.name: [] for a in det}
    times: dict[str, list[float]] = {a.name: [] for a in det}
    for ia, ib in pairs:
        ea, eb = exposures[ia], exposures[ib]
        good = _good(ea) & _good(eb)
        for amp in det:
            sl = amp.bbox.slices_in(ea.bbox)
            g = good[sl]
            a = ea.image.array[sl][g].astype(np.float64)
            b = eb.image.array[sl][g].astype(np.float64)
            mu_a, _, _ = _clipped(a, n_sigma)
            mu_b, _, _ = _clipped(b, n_sigma)
            if not (np.isfinite(mu_a) and np.isfinite(mu_b)):
                continue
            ratio = mu_a / mu_b if abs(mu_b) > 1.0 else 1.0
            _, sd, _ = _clipped(a - ratio * b, n_sigma)
            means[amp.name].append(0.5 * (mu_a + mu_b))
            variances[amp.name].append(0.5 * sd * sd)
            times[amp.name].append(float(ea.visit_info.exposure_time))
    return PhotonTransferCurve(means, variances, times)


def _ptc_model(mu: NDArray[np.float64], a00: float, gain: float, n00: float) -> NDArray[np.float64]:
    """Astier et al. 2019 eq. 16 in ADU: C = (exp(2 a00 μ g) − 1) / (2 a00 g²) + n00 / g²."""
    x = 2.0 * a00 * mu * gain
    # expm1(x)/x -> 1 as a00 -> 0
    with np.errstate(all="ignore"):
        factor = np.where(np.abs(x) > 1e-12, np.expm1(x) / np.where(x == 0, 1.0, x), 1.0)
    return mu * factor / gain + n00 / gain**2


def fit_ptc(ptc: PhotonTransferCurve, turnoff_drop: float = 0.03, n_pixels: int | None = None) -> PhotonTransferCurve:
    """Fit every amp's PTC (in place) and return it.

    The turnoff is the highest mean before the variance first falls more than
    ``turnoff_drop`` below the running maximum (saturation or blooming). Points are
    weighted by the variance of a variance estimate, ``σ²(C) = 2 C² / N`` (N pixels, or
    unweighted relative errors when ``n_pixels`` is None).
    """
    from scipy.optimize import least_squares

    for name in ptc.means:
        mu = np.asarray(ptc.means[name], dtype=np.float64)
        var = np.asarray(ptc.variances[name], dtype=np.float64)
        order = np.argsort(mu)
        mu, var = mu[order], var[order]
        run_max = np.maximum.accumulate(var)
        dropped = np.nonzero(var < (1.0 - turnoff_drop) * run_max)[0]
        last = int(dropped[0]) - 1 if dropped.size else mu.size - 1
        use = slice(0, last + 1)
        m, v = mu[use], var[use]
        if m.size < 4:
            raise IsrValueError(f"PTC amp {name}: {m.size} points below the turnoff; need at least 4")
        # starting values from a linear fit var = n00/g² + μ/g
        slope, intercept = np.polyfit(m, v, 1)
        g0 = 1.0 / slope
        n0 = max(intercept, 1e-3) * g0 * g0
        sigma = np.sqrt(2.0 / (n_pixels or 1)) * np.maximum(v, 1e-6)

        def resid(
            p: NDArray[np.float64],
            m: NDArray[np.float64] = m,
            v: NDArray[np.float64] = v,
            s: NDArray[np.float64] = sigma,
        ) -> NDArray[np.float64]:
            return (_ptc_model(m, p[0] * 1e-6, p[1], p[2]) - v) / s

        sol = least_squares(resid, x0=[0.0, g0, n0], x_scale=[1.0, g0, max(n0, 1.0)], method="lm")
        a00, gain, n00 = sol.x[0] * 1e-6, sol.x[1], sol.x[2]
        dof = max(m.size - 3, 1)
        chi2 = float(np.sum(sol.fun**2) / dof)
        try:
            cov = np.linalg.inv(sol.jac.T @ sol.jac) * (chi2 if n_pixels is None else max(chi2, 1.0))
            errs = np.sqrt(np.diag(cov))
        except np.linalg.LinAlgError:
            errs = np.full(3, np.nan)
        noise = float(np.sqrt(max(n00, 0.0)))
        noise_err = float(0.5 * errs[2] / noise) if noise > 0 else float("nan")
        ptc.fits[name] = PtcAmpFit(
            gain=float(gain),
            gain_err=float(errs[1]),
            noise=noise,
            noise_err=noise_err,
            a00=float(a00),
            a00_err=float(errs[0] * 1e-6),
            turnoff=float(mu[last]),
            n_used=int(m.size),
            chi2_dof=chi2,
        )
    return ptc


# -- linearity ---------------------------------------------------------------------------


def fit_linearizer(
    exposures: Sequence[Exposure], *, order: int = 3, max_signal: float | None = None, n_sigma: float = 4.0
) -> tuple[Linearizer, dict[str, Any]]:
    """POLYNOMIAL linearizer from a flat ramp (post-ISR, electrons, not linearized).

    Per amp, the clipped mean ``m`` of each exposure is fit as a polynomial in exposure
    time ``t``: ``m = b + k t + q t² + r t³ ...`` (degree ``order``; ``b`` absorbs any
    residual offset). The linear signal is ``x = k t``, so ``m − b = x + (q/k²) x² + (r/k³)
    x³``: the `Linearizer` coefficients are ``c_j = coeff_j / k^j``. Exposures whose mean is
    above ``max_signal`` (default: the amp's saturation × gain × 0.9) or with SAT pixels in
    more than 1% of the amp are excluded.

    Returns ``(linearizer, stats)`` with per-amp coefficients and fractional residuals.
    """
    if len(exposures) < order + 2:
        raise IsrValueError(f"fit_linearizer: {len(exposures)} exposures for a degree-{order} fit; need {order + 2}")
    det = _detector(exposures[0], "fit_linearizer")
    times = np.array([float(e.visit_info.exposure_time) for e in exposures])
    models: dict[str, tuple[str, tuple[float, ...]]] = {}
    stats: dict[str, Any] = {}
    for amp in det:
        sl = amp.bbox.slices_in(exposures[0].bbox)
        limit = max_signal if max_signal is not None else 0.9 * amp.saturation * amp.gain
        levels, sat_frac = [], []
        for exp in exposures:
            good = _good(exp)[sl]
            sat_frac.append(1.0 - good.mean())
            levels.append(_clipped(exp.image.array[sl][good], n_sigma)[0])
        levels_a = np.asarray(levels)
        use = (levels_a < limit) & (np.asarray(sat_frac) < 0.01) & np.isfinite(levels_a)
        if use.sum() < order + 2:
            raise IsrValueError(f"fit_linearizer amp {amp.name}: {int(use.sum())} usable ramp points")
        t, m = times[use], levels_a[use]
        scale = t.max()
        coeffs = np.polynomial.polynomial.polyfit(t / scale, m, order)  # b, k', q', r' in scaled time
        k = coeffs[1] / scale
        c = tuple(float(coeffs[j] / scale**j / k**j) for j in range(2, order + 1))
        models[amp.name] = ("POLYNOMIAL", c)
        x = k * t
        lin = Linearizer({amp.name: ("POLYNOMIAL", c)})
        corrected = lin.correct(amp.name, m - coeffs[0])
        frac = (corrected - x) / np.maximum(x, 1.0)
        stats[amp.name] = {
            "coeffs": list(c),
            "k_e_per_s": float(k),
            "offset_e": float(coeffs[0]),
            "n_used": int(use.sum()),
            "max_abs_fractional_residual": float(np.max(np.abs(frac[x > 0.01 * x.max()]))),
        }
    return Linearizer(models, units="electron"), stats


# -- crosstalk ---------------------------------------------------------------------------


def _readout_arrays(exposure: Exposure, det: Detector, array: NDArray[Any]) -> list[NDArray[Any]]:
    """Views of ``array`` (an image or mask plane of ``exposure``) per amp, in readout order."""
    raw = _is_raw(exposure, det)
    views = [readout_view(array, amp, raw, _amp_slices(exposure, amp, raw)) for amp in det]
    if len({v.shape for v in views}) != 1:
        raise IsrValueError(
            f"crosstalk needs equal-sized amplifier data regions, got {sorted({v.shape for v in views})}"
        )
    return views


def measure_crosstalk(
    exposures: Sequence[Exposure],
    *,
    source_threshold: float = 3000.0,
    n_sigma: float = 6.0,
    n_iter: int = 3,
) -> tuple[CrosstalkCalib, NDArray[np.float64], dict[str, Any]]:
    """Crosstalk coefficients from raw-frame exposures (overscan-subtracted, in electrons).

    For each victim amp the background-subtracted victim pixels (readout order) are fit as
    ``Σ_s c_vs (src_s − bkg_s)`` over every pixel where some other amp is brighter than
    ``source_threshold`` above its background and no amp is saturated (SAT/SUSPECT); the
    normal equations are accumulated over exposures, and pixels deviating more than
    ``n_sigma`` from the fit (the victim's own stars) are clipped, ``n_iter`` times.

    Returns ``(calib, errors, stats)``: the coefficients (victim rows, source columns), their
    formal 1σ errors from the scatter, and counts.
    """
    if not exposures:
        raise IsrValueError("measure_crosstalk: no exposures")
    det = _detector(exposures[0], "measure_crosstalk")
    names = [a.name for a in det]
    n_amp = len(names)
    rows_x: list[NDArray[np.float64]] = []  # per exposure: (n_pix, n_amp) source values
    bright_sel: list[NDArray[np.bool_]] = []
    for exp in exposures:
        stack = np.stack([v.astype(np.float64).ravel() for v in _readout_arrays(exp, det, exp.image.array)])
        bad_bits = exp.mask.get_plane_bitmask([p for p in ("SAT", "SUSPECT", "BAD") if p in exp.mask.plane_names()])
        bad = np.zeros(stack.shape[1], bool)
        for mv in _readout_arrays(exp, det, exp.mask.array):
            bad |= (mv.ravel() & bad_bits) != 0
        bkg = np.median(stack, axis=1)
        stack -= bkg[:, None]
        rows_x.append(stack)
        bright_sel.append(~bad & (stack > source_threshold).any(axis=0))
    coeffs = np.zeros((n_amp, n_amp))
    errors = np.zeros((n_amp, n_amp))
    n_used = np.zeros(n_amp, int)
    for v in range(n_amp):
        others = [s for s in range(n_amp) if s != v]
        xs, ys = [], []
        for stack, sel in zip(rows_x, bright_sel, strict=True):
            # pixels where some *other* amp is bright
            s = sel & (stack[others] > source_threshold).any(axis=0)
            xs.append(stack[others][:, s].T)
            ys.append(stack[v, s])
        x = np.concatenate(xs) if xs else np.zeros((0, n_amp - 1))
        y = np.concatenate(ys) if ys else np.zeros(0)
        if y.size < 4 * n_amp:
            raise IsrValueError(f"measure_crosstalk: victim {names[v]}: only {y.size} bright source pixels")
        # a constant column absorbs the victim's local background under the bright pixels
        x = np.column_stack([x, np.ones(y.size)])
        keep = np.ones(y.size, bool)
        for _ in range(n_iter + 1):
            sol, *_ = np.linalg.lstsq(x[keep], y[keep], rcond=None)
            resid = y - x @ sol
            center = np.median(resid[keep])
            sigma = 1.4826 * np.median(np.abs(resid[keep] - center))
            new_keep = np.abs(resid - center) <= n_sigma * sigma
            if np.array_equal(new_keep, keep):
                break
            keep = new_keep
        scatter2 = float(np.var(resid[keep], ddof=x.shape[1]))
        cov = np.linalg.inv(x[keep].T @ x[keep]) * scatter2
        coeffs[v, others] = sol[:-1]
        errors[v, others] = np.sqrt(np.diag(cov))[:-1]
        n_used[v] = int(keep.sum())
    calib = CrosstalkCalib(coeffs, amp_names=tuple(names), units="electron")
    stats = {"n_pixels": {names[v]: int(n_used[v]) for v in range(n_amp)}, "n_exposures": len(exposures)}
    return calib, errors, stats
