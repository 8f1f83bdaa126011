"""`ImagePsf`: a PSF given as a pixelised image, shifted to sub-pixel positions by Lanczos-5 interpolation."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Point2D

from ..errors import AfwShapeError, AfwValueError
from ..image import Image
from ._base import Psf
from ._lanczos import lanczos_shift

__all__ = ["ImagePsf"]


class ImagePsf(Psf):
    """A spatially constant PSF given as a pixelised kernel image.

    The image must have odd dimensions with the PSF centred on its middle pixel; it is
    normalised to sum 1. `compute_image` at a sub-pixel position shifts the kernel by the
    fractional offset with a separable Lanczos-5 interpolant whose taps are corrected to
    conserve flux and to move the centroid by exactly the shift (see `lanczos_shift`);
    the interpolation adds a little width (second moments grow by ~1e-3 pixel^2 for a
    well-sampled PSF). Moments and aperture fluxes are measured on the pixels.

    Parameters
    ----------
    image : `Image` or array_like, shape (height, width)
        The kernel pixels (only the values are used, not ``xy0``).
    """

    def __init__(self, image: Image | ArrayLike) -> None:
        arr = np.array(image.array if isinstance(image, Image) else image, dtype=np.float64)
        if arr.ndim != 2:
            raise AfwShapeError("an ImagePsf needs a 2-D kernel image", "(height, width), both odd", arr.shape)
        super().__init__(arr.shape[1], arr.shape[0])
        total = arr.sum()
        if not (np.all(np.isfinite(arr)) and total > 0):
            raise AfwValueError(f"ImagePsf pixels must be finite with a positive sum, got sum {total}")
        arr /= total
        arr.setflags(write=False)
        self._array = arr

    @classmethod
    def from_psf(cls, psf: Psf, point: Any = None) -> ImagePsf:
        """Freeze another PSF's kernel image (at ``point``) into an ImagePsf."""
        return cls(psf.compute_kernel_image(point))

    @property
    def array(self) -> NDArray[np.float64]:
        """Normalised kernel pixels, read-only, indexed ``[y, x]``."""
        return self._array

    def _realize(self, dx: float, dy: float, point: Point2D) -> NDArray[np.float64]:
        return lanczos_shift(self._array, dx, dy)

    def _params(self) -> dict[str, Any]:
        return {"image": self._array.tolist()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImagePsf):
            return NotImplemented if not isinstance(other, Psf) else False
        return bool(np.array_equal(self._array, other._array))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ImagePsf(<{self.height}x{self.width} kernel>)"
