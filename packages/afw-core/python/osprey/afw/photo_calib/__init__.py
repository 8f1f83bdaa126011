"""Photometric calibration: `PhotoCalib` (counts to nJy and AB magnitudes), bounded fields and `ApCorrMap`.

`BoundedField` is a scalar function over a detector box: `ConstantBoundedField` and the
2-D `ChebyshevBoundedField` (with a least-squares `ChebyshevBoundedField.fit`). A
`PhotoCalib` holds one (or a constant) as nJy per count; an `ApCorrMap` holds one per
flux algorithm as aperture corrections.
"""

from ._ap_corr_map import ApCorrMap
from ._bounded_field import BoundedField, ChebyshevBoundedField, ConstantBoundedField
from ._photo_calib import AB_ZERO_POINT_NJY_MAG, PhotoCalib, magnitude_to_nanojansky, nanojansky_to_magnitude

__all__ = [
    "AB_ZERO_POINT_NJY_MAG",
    "ApCorrMap",
    "BoundedField",
    "ChebyshevBoundedField",
    "ConstantBoundedField",
    "PhotoCalib",
    "magnitude_to_nanojansky",
    "nanojansky_to_magnitude",
]
