"""Pixel data model: `Image`, `Mask`, `MaskedImage` and `Exposure`, all placed in a parent frame by xy0.

Not lifted: ``_pixels`` (shared base class and helpers) and ``_astropy`` (conversion
functions behind the ``to_ccddata``/``from_ccddata``/``to_nddata`` methods; it imports
astropy, which this package otherwise does not need at import time).
"""

from ._exposure import Exposure, ExposureInfo
from ._image import IMAGE_DTYPES, Image
from ._mask import Mask
from ._mask_planes import DEFAULT_BAD_PLANES, DEFAULT_MASK_PLANES, MASK_PLANE_BITS, MaskPlaneDict
from ._masked_image import MaskedImage

__all__ = [
    "DEFAULT_BAD_PLANES",
    "DEFAULT_MASK_PLANES",
    "IMAGE_DTYPES",
    "MASK_PLANE_BITS",
    "Exposure",
    "ExposureInfo",
    "Image",
    "Mask",
    "MaskPlaneDict",
    "MaskedImage",
]
