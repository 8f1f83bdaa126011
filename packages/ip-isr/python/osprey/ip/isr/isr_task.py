"""`IsrTaskLSST`: `run_isr` as a PipelineTask over ``instrument, exposure, detector``.

Inputs: the ``raw`` exposure and, as prerequisites found in CALIBRATION collections by the
exposure's time, each calibration its ``do_*`` switch needs: ``bias``, ``dark``, ``flat``
(per ``physical_filter``), ``defects``, ``crosstalk``, ``linearizer`` and ``bfk`` (the
brighter-fatter kernel). A connection whose step is off is removed, so the graph neither
looks for it nor requires it. Outputs: ``post_isr_image``, ``post_isr_image_binned`` and
``isr_statistics``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from osprey.afw.image import Exposure
from osprey.pipe.base import (
    Input,
    Output,
    PipelineTask,
    PipelineTaskConfig,
    PipelineTaskConnections,
    PrerequisiteInput,
    Struct,
    timed,
)

from .calibs import BrighterFatterKernel, CrosstalkCalib, Defects, IsrCalibs, Linearizer
from .errors import IsrValueError
from .pipeline import IsrConfig, run_isr
from .steps import new_exposure

__all__ = ["IsrTaskLSST", "IsrTaskLSSTConfig", "IsrTaskLSSTConnections", "plain_data"]

_DET = ("instrument", "detector")

# connection attribute -> the config switch that needs it
_CALIB_SWITCHES = {
    "bias": "do_bias",
    "dark": "do_dark",
    "flat": "do_flat",
    "defects": "do_defect",
    "crosstalk": "do_crosstalk",
    "linearizer": "do_linearize",
    "bf_kernel": "do_brighter_fatter",
}


class IsrTaskLSSTConnections(PipelineTaskConnections, dimensions=("instrument", "exposure", "detector")):
    """Connections of `IsrTaskLSST`; calibrations whose step is off are removed."""

    raw = Input("raw", "Exposure", "Raw detector exposure: every amplifier in the raw frame, ADU.")
    bias = PrerequisiteInput("bias", "Exposure", "Combined bias (electrons).", dimensions=_DET, is_calibration=True)
    dark = PrerequisiteInput(
        "dark", "Exposure", "Combined dark (electrons per second of dark time).", dimensions=_DET, is_calibration=True
    )
    flat = PrerequisiteInput(
        "flat",
        "Exposure",
        "Combined flat of the exposure's physical filter.",
        dimensions=("instrument", "physical_filter", "detector"),
        is_calibration=True,
    )
    defects = PrerequisiteInput("defects", "Defects", "Bad-pixel boxes.", dimensions=_DET, is_calibration=True)
    crosstalk = PrerequisiteInput(
        "crosstalk", "CrosstalkCalib", "Crosstalk coefficients.", dimensions=_DET, is_calibration=True
    )
    linearizer = PrerequisiteInput(
        "linearizer", "Linearizer", "Per-amplifier non-linearity.", dimensions=_DET, is_calibration=True
    )
    bf_kernel = PrerequisiteInput(
        "bfk", "BrighterFatterKernel", "Brighter-fatter kernel.", dimensions=_DET, is_calibration=True
    )
    post_isr_image = Output("post_isr_image", "Exposure", "Assembled, calibrated exposure (electrons).")
    post_isr_image_binned = Output(
        "post_isr_image_binned", "Exposure", "post_isr_image binned by config.binning_factor, for display."
    )
    isr_statistics = Output("isr_statistics", "StructuredDataDict", "Per-amplifier statistics and step records.")

    def __init__(self, *, config: Any = None):
        super().__init__(config=config)
        if config is None:
            return
        for attr, switch in _CALIB_SWITCHES.items():
            if not getattr(config, switch):
                self.remove(attr)
        if not config.do_assemble:
            # the raw frame cannot be binned into a display image of the detector
            self.remove("post_isr_image_binned")


class IsrTaskLSSTConfig(PipelineTaskConfig, IsrConfig):
    """The `IsrConfig` switches and parameters plus the connection names.

    Every ``do_*`` switch and step parameter of `run_isr` is a field here
    (``config.do_bias = False``, ``overscan_fit = "SPLINE"``).
    """

    stats_log_level: int = Field(20, description="logging level of the per-amp statistics summary line")

    def to_isr_config(self) -> IsrConfig:
        """The `IsrConfig` part of this config."""
        return IsrConfig.model_validate({name: getattr(self, name) for name in IsrConfig.model_fields})


def plain_data(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and nested mappings to YAML-safe Python data; NaN stays float."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain_data(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value)
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


class IsrTaskLSST(PipelineTask[IsrTaskLSSTConfig, IsrTaskLSSTConnections]):
    """Instrument signature removal of one detector exposure (LSST paper §5)."""

    default_name = "isr"

    @timed
    def run(
        self,
        *,
        raw: Exposure,
        bias: Exposure | None = None,
        dark: Exposure | None = None,
        flat: Exposure | None = None,
        defects: Defects | None = None,
        crosstalk: CrosstalkCalib | None = None,
        linearizer: Linearizer | None = None,
        bf_kernel: BrighterFatterKernel | None = None,
    ) -> Struct:
        """Run `run_isr` with this config; calibrations of disabled steps are ignored.

        Returns
        -------
        result : `Struct`
            ``post_isr_image`` (Exposure), ``post_isr_image_binned`` (Exposure, or None when
            ``do_assemble`` is off) and ``isr_statistics`` (dict of plain data).
        """
        if raw.detector is None:
            raise IsrValueError(f"{self.full_name}: the raw exposure has no detector; its formatter must attach one")
        calibs = IsrCalibs(
            bias=bias,
            dark=dark,
            flat=flat,
            crosstalk=crosstalk,
            linearizer=linearizer,
            defects=defects,
            bf_kernel=bf_kernel,
        )
        result = run_isr(raw, calibs, self.config.to_isr_config())
        stats = dict(result.stats)
        stats["overscan_mean_level_adu"] = {name: o.mean_level for name, o in result.overscan.items()}
        if result.amp_offset is not None:
            stats["amp_offset_pedestal_errors"] = result.amp_offset.pedestal_errors
        stats = plain_data(stats)
        amps = stats.get("amps", {})
        if amps:
            levels = [s.get("median", math.nan) for s in amps.values()]
            self.log.log(
                self.config.stats_log_level,
                "detector %s: per-amp median %.1f..%.1f e",
                raw.detector.name,
                float(np.nanmin(levels)),
                float(np.nanmax(levels)),
            )
        for key in ("n_saturated", "n_defect_pixels", "n_interpolated"):
            if key in stats:
                self.metadata[key] = stats[key]
        binned = None
        if self.config.do_assemble:
            post = result.post_isr_image
            binned = new_exposure(result.binned, visit_info=post.visit_info)
        return Struct(post_isr_image=result.post_isr_image, post_isr_image_binned=binned, isr_statistics=stats)
