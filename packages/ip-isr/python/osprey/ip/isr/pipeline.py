"""`run_isr`: the ISR steps in the reverse order of the instrument model, switched by ``do_*`` configs.

Order (each step only when its switch is on and, where it needs one, its calibration is given):
saturation/suspect masking (raw ADU) → serial overscan → gain → crosstalk → parallel overscan →
linearity → assembly → bias → variance → dark → defects (mask BAD, interpolate) →
brighter-fatter → flat → amp offsets → interpolation over BAD/SAT → per-amp statistics and
binned image. The variance is set after bias subtraction so a fixed bias pattern does not
count as shot noise, and before dark subtraction so the dark's shot noise does.

This is the algorithmic core; a PipelineTask wrapper (IsrTaskLSST with connections) lives
with osprey-pipe-base and calls `IsrPipeline.run`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from osprey.afw.image import Exposure, MaskedImage

from .amp_offset import AmpOffsetResult, amp_offset_correct
from .brighter_fatter import brighter_fatter_correct
from .calibs import IsrCalibs
from .errors import IsrValueError
from .steps import (
    OverscanResult,
    amp_statistics,
    apply_gains,
    assemble,
    bias_correct,
    binned_image,
    crosstalk_correct,
    dark_correct,
    flat_correct,
    interpolate_masked,
    linearity_correct,
    mask_defects,
    mask_saturation,
    overscan_correct,
    parallel_overscan_correct,
    set_variance,
)

__all__ = ["IsrConfig", "IsrPipeline", "IsrResult", "run_isr"]

_log = logging.getLogger(__name__)


class IsrConfig(BaseModel):
    """Switches and parameters of `run_isr` (names follow IsrTaskLSSTConfig in snake_case)."""

    model_config = ConfigDict(extra="forbid")

    do_saturation: bool = True
    do_suspect: bool = True
    saturation_grow_radius: int = Field(1, ge=0, description="pixels")
    do_overscan: bool = True
    overscan_statistic: str = "MEANCLIP"
    overscan_fit: str = "POLY"
    overscan_order: int = 3
    do_apply_gains: bool = True
    do_crosstalk: bool = True
    crosstalk_mask_threshold: float | None = Field(None, description="electrons; mask victims of brighter sources")
    do_parallel_overscan: bool = True
    parallel_overscan_fit: str = "POLY"
    parallel_overscan_order: int = 1
    do_linearize: bool = True
    do_assemble: bool = True
    do_bias: bool = True
    do_variance: bool = True
    do_dark: bool = True
    do_defect: bool = True
    do_brighter_fatter: bool = False
    bf_max_iter: int = 10
    bf_threshold: float = Field(1e-3, description="electrons")
    do_flat: bool = True
    do_amp_offset: bool = False
    amp_offset_strip_width: int = 10
    do_interpolate: bool = True
    interpolate_planes: tuple[str, ...] = ("BAD", "SAT")
    do_stats: bool = True
    binning_factor: int = Field(8, ge=1)


@dataclasses.dataclass
class IsrResult:
    """Outputs of `run_isr`: the post-ISR exposure, its binned view, statistics and per-step records."""

    post_isr_image: Exposure
    binned: MaskedImage
    stats: dict[str, Any]
    overscan: dict[str, OverscanResult]
    parallel_overscan: dict[str, OverscanResult]
    amp_offset: AmpOffsetResult | None


def _need(calib: Any, name: str, switch: str) -> Any:
    if calib is None:
        raise IsrValueError(f"{switch}=True needs calibs.{name}; provide it or set {switch}=False")
    return calib


def run_isr(raw: Exposure, calibs: IsrCalibs | None = None, config: IsrConfig | None = None) -> IsrResult:
    """Instrument signature removal of one raw detector exposure (raw frame, ADU).

    The input is not modified. ``raw.detector`` supplies the amplifier geometry, gains,
    read noise and saturation levels; ``raw.visit_info.dark_time`` scales the dark.
    """
    cfg = config if config is not None else IsrConfig()
    cal = calibs if calibs is not None else IsrCalibs()
    det = raw.detector
    if det is None:
        raise IsrValueError("run_isr: the raw exposure has no detector attached")
    exp = raw.clone()
    if exp.image.units is None:
        exp.image.units = "adu"
    stats: dict[str, Any] = {}
    if cfg.do_saturation:
        stats["n_saturated"] = mask_saturation(exp, det, grow_radius=cfg.saturation_grow_radius, suspect=cfg.do_suspect)
    overscan: dict[str, OverscanResult] = {}
    if cfg.do_overscan:
        overscan = overscan_correct(
            exp, det, statistic=cfg.overscan_statistic, fit=cfg.overscan_fit, order=cfg.overscan_order
        )
    if cfg.do_apply_gains:
        apply_gains(exp, det)
    if cfg.do_crosstalk:
        crosstalk_correct(
            exp,
            _need(cal.crosstalk, "crosstalk", "do_crosstalk"),
            det,
            mask_threshold=cfg.crosstalk_mask_threshold,
            return_signal=False,
        )
    parallel: dict[str, OverscanResult] = {}
    if cfg.do_parallel_overscan:
        parallel = parallel_overscan_correct(
            exp, det, statistic=cfg.overscan_statistic, fit=cfg.parallel_overscan_fit, order=cfg.parallel_overscan_order
        )
    if cfg.do_linearize:
        linearity_correct(exp, _need(cal.linearizer, "linearizer", "do_linearize"), det)
    if not cfg.do_assemble:
        if any((cfg.do_bias, cfg.do_dark, cfg.do_flat, cfg.do_defect, cfg.do_amp_offset, cfg.do_brighter_fatter)):
            raise IsrValueError("do_assemble=False leaves the raw frame; the later steps need the assembled frame")
        return IsrResult(exp, binned_image(exp, cfg.binning_factor), stats, overscan, parallel, None)
    exp = assemble(exp, det)
    if cfg.do_bias:
        bias_correct(exp, _need(cal.bias, "bias", "do_bias"))
    if cfg.do_variance:
        set_variance(exp, det)
    if cfg.do_dark:
        stats["dark_scale"] = dark_correct(exp, _need(cal.dark, "dark", "do_dark"))
    if cfg.do_defect:
        stats["n_defect_pixels"] = mask_defects(exp, _need(cal.defects, "defects", "do_defect"))
        interpolate_masked(exp, ("BAD",))
    if cfg.do_brighter_fatter:
        n_iter, change = brighter_fatter_correct(
            exp,
            _need(cal.bf_kernel, "bf_kernel", "do_brighter_fatter"),
            max_iter=cfg.bf_max_iter,
            threshold=cfg.bf_threshold,
        )
        stats["bf_iterations"], stats["bf_last_change"] = n_iter, change
    if cfg.do_flat:
        stats["flat_median"] = flat_correct(exp, _need(cal.flat, "flat", "do_flat"))
    amp_off = None
    if cfg.do_amp_offset:
        amp_off = amp_offset_correct(exp, det, strip_width=cfg.amp_offset_strip_width)
        stats["amp_offset_pedestals"] = amp_off.pedestals
    if cfg.do_interpolate:
        stats["n_interpolated"] = interpolate_masked(exp, cfg.interpolate_planes)
    if cfg.do_stats:
        stats["amps"] = amp_statistics(exp, det)
    _log.info("ISR of detector %s done", det.name)
    return IsrResult(exp, binned_image(exp, cfg.binning_factor), stats, overscan, parallel, amp_off)


class IsrPipeline:
    """`run_isr` with a fixed config: ``IsrPipeline(IsrConfig(...)).run(raw, calibs)``."""

    def __init__(self, config: IsrConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else IsrConfig()
        self.config = IsrConfig.model_validate({**base.model_dump(), **overrides})

    def run(self, raw: Exposure, calibs: IsrCalibs | None = None) -> IsrResult:
        """Process one raw exposure."""
        return run_isr(raw, calibs, self.config)
