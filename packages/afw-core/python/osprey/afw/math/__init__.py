"""Image arithmetic for Osprey: statistics of image regions and background estimation."""

from ._background import (
    DEFAULT_BACKGROUND_BAD_PLANES,
    Background,
    BackgroundControl,
    estimate_background,
    subtract_background,
)
from ._statistics import Property, Statistics, StatisticsControl, make_statistics

__all__ = [
    "DEFAULT_BACKGROUND_BAD_PLANES",
    "Background",
    "BackgroundControl",
    "Property",
    "Statistics",
    "StatisticsControl",
    "estimate_background",
    "make_statistics",
    "subtract_background",
]

# Convolution and warping (the compiled kernels live in src/convolve.cpp and src/warp.cpp).
from ._convolve import choose_method, convolve  # noqa: E402
from ._kernels import (  # noqa: E402
    DoubleGaussianKernel,
    FixedKernel,
    GaussianKernel,
    Kernel,
    LinearCombinationKernel,
    SeparableKernel,
    polynomial_terms,
)
from ._warp import WarpResult, warp_image, warp_with_transform  # noqa: E402

__all__ += [
    "DoubleGaussianKernel",
    "FixedKernel",
    "GaussianKernel",
    "Kernel",
    "LinearCombinationKernel",
    "SeparableKernel",
    "WarpResult",
    "choose_method",
    "convolve",
    "polynomial_terms",
    "warp_image",
    "warp_with_transform",
]
