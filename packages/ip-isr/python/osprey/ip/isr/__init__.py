"""Osprey instrument signature removal: ISR steps, IsrMockLSST, amplifier offsets."""

from importlib.metadata import version as _version

from .amp_offset import AmpInterface, AmpOffsetResult, amp_offset_correct, find_amp_interfaces
from .brighter_fatter import brighter_fatter_correct, brighter_fatter_distort, brighter_fatter_term
from .calibs import (
    BrighterFatterKernel,
    CrosstalkCalib,
    Defects,
    IsrCalibs,
    Linearizer,
    bf_kernel_from_a_matrix,
    read_ecsv_table,
)
from .errors import CalibFormatError, IsrError, IsrValueError
from .mock import IsrMockConfig, IsrMockLSST, MockResult, MockTruth, mock_camera_description
from .pipeline import IsrConfig, IsrPipeline, IsrResult, run_isr
from .steps import (
    OverscanResult,
    amp_statistics,
    apply_gains,
    assemble,
    bias_correct,
    binned_image,
    crosstalk_correct,
    crosstalk_distort,
    dark_correct,
    disassemble,
    flat_correct,
    interpolate_masked,
    linearity_correct,
    mask_defects,
    mask_saturation,
    new_exposure,
    overscan_correct,
    parallel_overscan_correct,
    raw_frame_bbox,
    readout_view,
    set_variance,
)

__version__ = _version("osprey-ip-isr")

__all__ = [
    "AmpInterface",
    "AmpOffsetResult",
    "BrighterFatterKernel",
    "CalibFormatError",
    "CrosstalkCalib",
    "Defects",
    "IsrCalibs",
    "IsrConfig",
    "IsrError",
    "IsrMockConfig",
    "IsrMockLSST",
    "IsrPipeline",
    "IsrResult",
    "IsrValueError",
    "Linearizer",
    "MockResult",
    "MockTruth",
    "OverscanResult",
    "__version__",
    "amp_offset_correct",
    "amp_statistics",
    "apply_gains",
    "assemble",
    "bf_kernel_from_a_matrix",
    "bias_correct",
    "binned_image",
    "brighter_fatter_correct",
    "brighter_fatter_distort",
    "brighter_fatter_term",
    "crosstalk_correct",
    "crosstalk_distort",
    "dark_correct",
    "disassemble",
    "find_amp_interfaces",
    "flat_correct",
    "interpolate_masked",
    "linearity_correct",
    "mask_defects",
    "mask_saturation",
    "mock_camera_description",
    "new_exposure",
    "overscan_correct",
    "parallel_overscan_correct",
    "raw_frame_bbox",
    "read_ecsv_table",
    "readout_view",
    "run_isr",
    "set_variance",
]
