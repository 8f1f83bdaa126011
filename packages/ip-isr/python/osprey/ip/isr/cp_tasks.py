"""Calibration-product PipelineTasks (cp pipelines) and certification.

Each pipeline in ``pipelines/`` runs `IsrTaskLSST` on the calibration exposures (its
output renamed ``cp_<kind>_proc``) and then one of these tasks per detector:

=================  ===================================  ================================
task               input (multiple, per exposure)       outputs (per detector)
=================  ===================================  ================================
CpCombineTask      cp_bias_proc / cp_dark_proc          bias / dark + ``*_verify_stats``
CpFlatCombineTask  cp_flat_proc (per physical_filter)   flat + flat_verify_stats
CpDefectsTask      cp_defects_proc (darks and flats)    defects + defects_verify_stats
CpPtcTask          cp_ptc_proc (flat pairs, ADU)        ptc + ptc_verify_stats
CpLinearizerTask   cp_linearizer_proc (flat ramp)       linearizer + linearizer_verify_stats
CpCrosstalkTask    cp_crosstalk_proc (raw frame, e⁻)    crosstalk + crosstalk_verify_stats
=================  ===================================  ================================

The ``*_verify_stats`` dicts hold the residual statistics, the thresholds, a ``passed``
flag and readable ``failures``. A product that fails verification is still written (so
it can be inspected) but `certify_calibrations` refuses it unless ``force=True``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from osprey.afw.image import Exposure
from osprey.daf.butler import Butler, DatasetRef, Timespan
from osprey.pipe.base import (
    Input,
    Output,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    Struct,
    timed,
)

from .combine import combine_exposures
from .cp import (
    find_defects,
    fit_linearizer,
    fit_ptc,
    measure_crosstalk,
    measure_ptc,
    verify_combined,
)
from .errors import IsrError, IsrValueError
from .isr_task import plain_data

__all__ = [
    "CalibrationVerificationError",
    "CpCombineConfig",
    "CpCombineConnections",
    "CpCombineTask",
    "CpCrosstalkConfig",
    "CpCrosstalkConnections",
    "CpCrosstalkTask",
    "CpDefectsConfig",
    "CpDefectsConnections",
    "CpDefectsTask",
    "CpFlatCombineConnections",
    "CpFlatCombineTask",
    "CpLinearizerConfig",
    "CpLinearizerConnections",
    "CpLinearizerTask",
    "CpPtcConfig",
    "CpPtcConnections",
    "CpPtcTask",
    "certify_calibrations",
]

_log = logging.getLogger(__name__)
_DET = ("instrument", "detector")
_EXP = ("instrument", "exposure", "detector")


class CalibrationVerificationError(IsrError):
    """A calibration product failed its verification and was not certified."""


def _label(exp: Exposure, i: int) -> str:
    vi = exp.visit_info
    return f"{i}:{vi.id}" if vi is not None and vi.id is not None else str(i)


# -- bias, dark, flat ----------------------------------------------------------------------


class CpCombineConnections(PipelineTaskConnections, dimensions=_DET, templates={"calib_type": "bias"}):
    """Connections of `CpCombineTask` (``calib_type``: ``bias`` or ``dark``)."""

    input_exposures = Input(
        "cp_{calib_type}_proc", "Exposure", "Post-ISR calibration exposures.", dimensions=_EXP, multiple=True
    )
    output_calib = Output("{calib_type}", "Exposure", "The combined calibration.", is_calibration=True)
    verify_stats = Output("{calib_type}_verify_stats", "StructuredDataDict", "Residual statistics and flags.")


class CpCombineConfig(PipelineTaskConfig):
    """Config of `CpCombineTask` and `CpFlatCombineTask`."""

    calibration_type: Literal["bias", "dark", "flat"] = Field(
        "bias", description="bias: as is; dark: each input / its dark time (e/s); flat: each / its median"
    )
    n_sigma: float = Field(3.0, gt=0, description="clipping threshold (sigma)")
    n_iter: int = Field(3, ge=1, description="mean +- sigma clipping passes after the median/MAD one")
    chunk_rows: int = Field(256, ge=1, description="rows stacked at a time (memory bound)")
    max_noise_ratio: float = Field(1.2, gt=0, description="verify: residual stdev / expected noise")
    max_mean_sigma: float = Field(5.0, gt=0, description="verify: residual mean, in standard errors")
    max_mean_fraction: float = Field(0.2, ge=0, description="verify: allowance on the mean, fraction of sigma")


class CpCombineTask(PipelineTask[CpCombineConfig, CpCombineConnections]):
    """Clipped-mean combination of post-ISR biases or darks, with verification."""

    default_name = "cp_combine"

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Combine and verify; returns ``output_calib`` (Exposure) and ``verify_stats`` (dict)."""
        return _combine_and_verify(self, input_exposures)


def _scales(task: PipelineTask, exposures: Sequence[Exposure]) -> list[float]:
    """Per-input divisor: 1 (bias), dark time (dark), median level (flat)."""
    kind = task.config.calibration_type
    if kind == "bias":
        return [1.0] * len(exposures)
    if kind == "dark":
        out = []
        for i, exp in enumerate(exposures):
            t = exp.visit_info.dark_time if exp.visit_info is not None else None
            if not t or not t > 0:
                raise IsrValueError(f"{task.full_name}: dark input {_label(exp, i)} has no positive dark_time")
            out.append(float(t))
        return out
    return [float(np.median(e.image.array)) for e in exposures]


def _combine_and_verify(task: PipelineTask, input_exposures: list[Exposure]) -> Struct:
    cfg = task.config
    scales = _scales(task, input_exposures)
    combined = combine_exposures(
        input_exposures, scales=scales, n_sigma=cfg.n_sigma, n_iter=cfg.n_iter, chunk_rows=cfg.chunk_rows
    )
    if cfg.calibration_type == "flat":
        norm = float(np.median(combined.image.array))
        combined.image.array[...] /= np.float32(norm)
        combined.variance.array[...] /= np.float32(norm * norm)
        scales = [s * norm for s in scales]
    if cfg.calibration_type == "dark":
        # electrons per second: dark_correct scales it by dark_time / 1 s
        combined.info.visit_info = _with_dark_time(combined.visit_info, 1.0)
    combined.metadata["CP_TYPE"] = cfg.calibration_type
    stats = verify_combined(
        combined,
        input_exposures,
        scales,
        max_noise_ratio=cfg.max_noise_ratio,
        max_mean_sigma=cfg.max_mean_sigma,
        max_mean_fraction=cfg.max_mean_fraction,
        labels=[_label(e, i) for i, e in enumerate(input_exposures)],
    )
    stats["calibration_type"] = cfg.calibration_type
    stats["n_inputs"] = len(input_exposures)
    if not stats["passed"]:
        task.log.warning("%s verification failed: %s", cfg.calibration_type, "; ".join(stats["failures"][:3]))
    task.metadata["verify_passed"] = stats["passed"]
    return Struct(output_calib=combined, verify_stats=plain_data(stats))


def _with_dark_time(visit_info: Any, dark_time: float) -> Any:
    import dataclasses

    from osprey.afw.visit_info import VisitInfo

    if visit_info is None:
        return VisitInfo(dark_time=dark_time)
    return dataclasses.replace(visit_info, dark_time=dark_time)


class CpFlatCombineConnections(
    PipelineTaskConnections, dimensions=("instrument", "physical_filter", "detector"), templates={"calib_type": "flat"}
):
    """Connections of `CpFlatCombineTask`: one flat per physical filter."""

    input_exposures = Input(
        "cp_{calib_type}_proc", "Exposure", "Post-ISR flat exposures.", dimensions=_EXP, multiple=True
    )
    output_calib = Output("{calib_type}", "Exposure", "The combined flat, median 1.", is_calibration=True)
    verify_stats = Output("{calib_type}_verify_stats", "StructuredDataDict", "Residual statistics and flags.")


class CpFlatCombineTask(PipelineTask[CpCombineConfig, CpFlatCombineConnections]):
    """Clipped mean of median-normalised flats of one physical filter; the result has median 1."""

    default_name = "cp_flat_combine"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.config.calibration_type != "flat":
            raise IsrValueError(f"{self.full_name}: CpFlatCombineTask needs calibration_type='flat'")

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Combine, normalise to median 1 and verify."""
        return _combine_and_verify(self, input_exposures)


# -- defects -----------------------------------------------------------------------------


class CpDefectsConnections(PipelineTaskConnections, dimensions=_DET):
    """Connections of `CpDefectsTask`."""

    input_exposures = Input(
        "cp_defects_proc",
        "Exposure",
        "Post-ISR darks and flats (told apart by visit_info.observation_type).",
        dimensions=_EXP,
        multiple=True,
    )
    defects = Output("defects", "Defects", "Bad pixels and columns.", is_calibration=True)
    verify_stats = Output("defects_verify_stats", "StructuredDataDict", "Counts and flags.")


class CpDefectsConfig(PipelineTaskConfig):
    """Config of `CpDefectsTask`."""

    hot_rate_threshold: float = Field(5.0, gt=0, description="e/s above the median dark rate")
    cold_fraction: float = Field(0.5, gt=0, lt=1, description="flat pixels below 1 - this (relative) are cold")
    flat_hot_fraction: float = Field(0.5, gt=0, description="flat pixels above 1 + this (relative) are hot")
    smoothing_box: int = Field(15, ge=3, description="running-median box of the flat (pixels)")
    bad_column_fraction: float = Field(0.3, gt=0, le=1, description="fraction of an amp column to flag it whole")
    max_defect_fraction: float = Field(0.01, gt=0, description="verify: defective fraction of the detector")


class CpDefectsTask(PipelineTask[CpDefectsConfig, CpDefectsConnections]):
    """Hot pixels from darks, cold/hot pixels from flats, bad columns; verified by counts."""

    default_name = "cp_defects"

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Split the inputs by observation type, find defects, verify."""
        darks: list[Exposure] = []
        flats: list[Exposure] = []
        other: list[str] = []
        for i, exp in enumerate(input_exposures):
            kind = (exp.visit_info.observation_type or "").lower() if exp.visit_info is not None else ""
            if kind == "dark":
                darks.append(exp)
            elif kind == "flat":
                flats.append(exp)
            else:
                other.append(f"{_label(exp, i)} ({kind or 'no type'})")
        if other:
            raise IsrValueError(
                f"{self.full_name}: inputs {other} are neither darks nor flats (visit_info.observation_type); "
                "select them with a where clause such as \"exposure.observation_type IN ('dark', 'flat')\""
            )
        cfg = self.config
        defects, stats = find_defects(
            darks,
            flats,
            hot_rate_threshold=cfg.hot_rate_threshold,
            cold_fraction=cfg.cold_fraction,
            flat_hot_fraction=cfg.flat_hot_fraction,
            smoothing_box=cfg.smoothing_box,
            bad_column_fraction=cfg.bad_column_fraction,
        )
        total = input_exposures[0].image.array.size
        frac = stats["n_defect_pixels"] / total
        failures = []
        if frac > cfg.max_defect_fraction:
            failures.append(f"defective fraction {frac:.4g} > {cfg.max_defect_fraction}")
        if not darks or not flats:
            failures.append(f"{len(darks)} darks and {len(flats)} flats: both kinds are needed for a full defect map")
        stats.update(defect_fraction=frac, failures=failures, passed=not failures)
        self.metadata["verify_passed"] = not failures
        return Struct(defects=defects, verify_stats=plain_data(stats))


# -- PTC ---------------------------------------------------------------------------------


class CpPtcConnections(PipelineTaskConnections, dimensions=_DET):
    """Connections of `CpPtcTask`."""

    input_exposures = Input(
        "cp_ptc_proc",
        "Exposure",
        "Post-ISR flat pairs in ADU (no gain applied).",
        dimensions=_EXP,
        multiple=True,
        minimum=8,
    )
    ptc = Output("ptc", "PhotonTransferCurve", "Per-amp PTC and fit.", is_calibration=True)
    verify_stats = Output("ptc_verify_stats", "StructuredDataDict", "Fit quality and flags.")


class CpPtcConfig(PipelineTaskConfig):
    """Config of `CpPtcTask`."""

    n_sigma: float = Field(4.0, gt=0, description="clipping of amp statistics (sigma)")
    turnoff_drop: float = Field(0.03, gt=0, lt=1, description="variance drop that marks the turnoff (fraction)")
    max_chi2_dof: float = Field(5.0, gt=0, description="verify: reduced chi^2 of the fit")
    max_gain_relative_error: float = Field(0.02, gt=0, description="verify: gain_err / gain")


class CpPtcTask(PipelineTask[CpPtcConfig, CpPtcConnections]):
    """Photon transfer curve: gain, read noise, a00 and turnoff per amp."""

    default_name = "cp_ptc"

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Measure pairs, fit, verify."""
        cfg = self.config
        ptc = measure_ptc(input_exposures, n_sigma=cfg.n_sigma)
        det = input_exposures[0].detector
        npix = int(np.median([a.bbox.area for a in det]))
        fit_ptc(ptc, turnoff_drop=cfg.turnoff_drop, n_pixels=npix)
        failures = []
        for name, f in ptc.fits.items():
            if not (np.isfinite(f.gain) and f.gain > 0):
                failures.append(f"amp {name}: gain {f.gain}")
            elif f.gain_err / f.gain > cfg.max_gain_relative_error:
                failures.append(f"amp {name}: gain error {f.gain_err / f.gain:.3g} > {cfg.max_gain_relative_error}")
            if f.chi2_dof > cfg.max_chi2_dof:
                failures.append(f"amp {name}: chi2/dof {f.chi2_dof:.3g} > {cfg.max_chi2_dof}")
        stats = {
            "amps": {k: vars(f) for k, f in ptc.fits.items()},
            "n_pairs": len(next(iter(ptc.means.values()))),
            "failures": failures,
            "passed": not failures,
        }
        self.metadata["verify_passed"] = not failures
        return Struct(ptc=ptc, verify_stats=plain_data(stats))


# -- linearizer ------------------------------------------------------------------------


class CpLinearizerConnections(PipelineTaskConnections, dimensions=_DET):
    """Connections of `CpLinearizerTask`."""

    input_exposures = Input(
        "cp_linearizer_proc",
        "Exposure",
        "Post-ISR flat ramp (electrons, not linearized).",
        dimensions=_EXP,
        multiple=True,
        minimum=5,
    )
    linearizer = Output("linearizer", "Linearizer", "Per-amp POLYNOMIAL linearizer.", is_calibration=True)
    verify_stats = Output("linearizer_verify_stats", "StructuredDataDict", "Residuals and flags.")


class CpLinearizerConfig(PipelineTaskConfig):
    """Config of `CpLinearizerTask`."""

    order: int = Field(3, ge=2, le=6, description="polynomial degree in exposure time")
    max_signal: float | None = Field(None, description="electrons; default 0.9 x saturation x gain")
    max_fractional_residual: float = Field(1e-3, gt=0, description="verify: |linearized - linear| / linear")


class CpLinearizerTask(PipelineTask[CpLinearizerConfig, CpLinearizerConnections]):
    """Non-linearity from a flat ramp."""

    default_name = "cp_linearizer"

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Fit and verify."""
        cfg = self.config
        lin, stats = fit_linearizer(input_exposures, order=cfg.order, max_signal=cfg.max_signal)
        failures = [
            f"amp {name}: fractional residual {s['max_abs_fractional_residual']:.3g} > {cfg.max_fractional_residual}"
            for name, s in stats.items()
            if s["max_abs_fractional_residual"] > cfg.max_fractional_residual
        ]
        out = {"amps": stats, "failures": failures, "passed": not failures}
        self.metadata["verify_passed"] = not failures
        return Struct(linearizer=lin, verify_stats=plain_data(out))


# -- crosstalk -----------------------------------------------------------------------------


class CpCrosstalkConnections(PipelineTaskConnections, dimensions=_DET):
    """Connections of `CpCrosstalkTask`."""

    input_exposures = Input(
        "cp_crosstalk_proc",
        "Exposure",
        "Raw-frame exposures with bright sources, overscan-subtracted, in electrons.",
        dimensions=_EXP,
        multiple=True,
    )
    crosstalk = Output("crosstalk", "CrosstalkCalib", "Crosstalk coefficients.", is_calibration=True)
    verify_stats = Output("crosstalk_verify_stats", "StructuredDataDict", "Errors and flags.")


class CpCrosstalkConfig(PipelineTaskConfig):
    """Config of `CpCrosstalkTask`."""

    source_threshold: float = Field(3000.0, gt=0, description="electrons above background for a source pixel")
    n_sigma: float = Field(6.0, gt=0, description="clipping of the victim's own sources (sigma)")
    max_coefficient: float = Field(0.01, gt=0, description="verify: |coefficient|")
    max_error: float = Field(1e-4, gt=0, description="verify: formal 1-sigma error of every coefficient")


class CpCrosstalkTask(PipelineTask[CpCrosstalkConfig, CpCrosstalkConnections]):
    """Crosstalk coefficients from bright sources."""

    default_name = "cp_crosstalk"

    @timed
    def run(self, *, input_exposures: list[Exposure]) -> Struct:
        """Measure and verify."""
        cfg = self.config
        calib, errors, stats = measure_crosstalk(
            input_exposures, source_threshold=cfg.source_threshold, n_sigma=cfg.n_sigma
        )
        failures = []
        if np.any(np.abs(calib.coeffs) > cfg.max_coefficient):
            failures.append(f"|coefficient| up to {np.abs(calib.coeffs).max():.3g} > {cfg.max_coefficient}")
        if np.any(errors > cfg.max_error):
            failures.append(f"coefficient errors up to {errors.max():.3g} > {cfg.max_error}; add exposures")
        calib.metadata["CT_ERRORS_MAX"] = float(errors.max())
        stats.update(errors=errors, failures=failures, passed=not failures)
        self.metadata["verify_passed"] = not failures
        return Struct(crosstalk=calib, verify_stats=plain_data(stats))


# -- certification -----------------------------------------------------------------------


def certify_calibrations(
    butler: Butler,
    dataset_type: str,
    input_run: str,
    calibration_collection: str,
    begin: int | str | None = None,
    end: int | str | None = None,
    *,
    verify_dataset_type: str | None = None,
    force: bool = False,
) -> list[DatasetRef]:
    """Certify every ``dataset_type`` dataset of ``input_run`` into a CALIBRATION collection.

    Parameters
    ----------
    butler : `Butler`
        The repository (written).
    dataset_type, input_run, calibration_collection : `str`
        What to certify, from which RUN, into which CALIBRATION collection (created if needed).
    begin, end : `int` (TAI ns), `str` (ISO TAI) or `None`
        Validity range ``[begin, end)``; `None` is unbounded.
    verify_dataset_type : `str`, optional
        The ``*_verify_stats`` dataset type (default ``<dataset_type>_verify_stats``, used
        when registered): a product whose stats say ``passed: false`` is refused.
    force : `bool`
        Certify even products that failed verification.

    Returns
    -------
    refs : `list` [`DatasetRef`]
        What was certified.
    """
    refs = list(butler.query_datasets(dataset_type, collections=[input_run]))
    if not refs:
        raise IsrValueError(f"no {dataset_type!r} datasets in run {input_run!r} to certify")
    vtype = verify_dataset_type or f"{dataset_type}_verify_stats"
    if not force:
        try:
            butler.registry.get_dataset_type(vtype)
            has_verify = True
        except LookupError:
            has_verify = False
        if has_verify:
            bad = []
            for ref in refs:
                vref = butler.find_dataset(vtype, ref.data_id.required, collections=[input_run])
                if vref is not None and not butler.get(vref).get("passed", True):
                    bad.append(dict(ref.data_id.required))
            if bad:
                raise CalibrationVerificationError(
                    f"{dataset_type!r} in {input_run!r} failed verification for {bad}; see {vtype!r} "
                    "(certify anyway with force=True)"
                )

    def ns(value: int | str | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        return Timespan.from_iso(value, None).begin

    butler.certify(calibration_collection, refs, Timespan(ns(begin), ns(end)))
    _log.info("certified %d %s datasets from %s into %s", len(refs), dataset_type, input_run, calibration_collection)
    return refs
