"""Point-spread-function models: `Psf` and the `GaussianPsf`, `DoubleGaussianPsf` and `ImagePsf` implementations.

Every model realises normalised images at any sub-pixel position (`Psf.compute_image`,
with an ``xy0`` in the parent frame), a centred kernel image, second moments, aperture
flux fractions and boxes, and persists through ``to_dict``/``Psf.from_dict``.

Not lifted: ``measure_moments``, ``as_point2d`` and the ``_lanczos`` matrices (helpers shared
by the models).
"""

from ._base import Psf, PsfShape
from ._gaussian import DoubleGaussianPsf, GaussianPsf
from ._image_psf import ImagePsf
from ._lanczos import LANCZOS_ORDER, lanczos_shift

__all__ = [
    "LANCZOS_ORDER",
    "DoubleGaussianPsf",
    "GaussianPsf",
    "ImagePsf",
    "Psf",
    "PsfShape",
    "lanczos_shift",
]
