"""`MaskedImage`: image, mask and variance planes over one bbox, with error propagation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwValueError
from ._image import Image
from ._mask import Mask
from ._mask_planes import MaskPlaneDict
from ._pixels import as_bbox, as_point, is_scalar

if TYPE_CHECKING:
    from astropy.nddata import CCDData, NDData

__all__ = ["MaskedImage"]

_F32 = np.dtype(np.float32)


def _as_float32(array: ArrayLike) -> NDArray[np.float32]:
    return np.asarray(array, dtype=np.float32)  # copies only when the dtype differs


class MaskedImage:
    """Science pixels with their mask bits and variance, all over the same bbox.

    The image and variance are float32 `Image` objects and the mask an int32 `Mask`;
    all three share one ``xy0``. ``mi[box]`` is a view of all three planes.

    Arithmetic with another MaskedImage (same bbox), an `Image` (treated as exact:
    zero variance, no mask bits) or a real scalar propagates the variance to first order,
    assuming the operands are independent, and ORs the masks:

    ========  ===============================  ==========================
    result    variance                         scalar ``c``
    ========  ===============================  ==========================
    a + b     va + vb                          unchanged
    a - b     va + vb                          unchanged
    a * b     vb a² + va b²                    va c²
    a / b     (va + vb (a/b)²) / b²            va / c²
    ========  ===============================  ==========================

    In-place forms (``+=`` ...) update all three planes of the left operand. Dividing by
    zero gives inf/NaN with numpy's usual warning, and should be masked by the caller.

    Parameters
    ----------
    bbox : `Box2I` or `Extent2I` or tuple of int
        Region in the parent frame, or ``(width, height)`` at ``xy0 = (0, 0)``; the
        planes start at zero.
    planes : `MaskPlaneDict`, optional
        Mask plane dictionary (`DEFAULT_MASK_PLANES` by default).
    units : `str`, optional
        Unit of the image pixels; the variance is in ``units**2``.
    """

    __slots__ = ("_image", "_mask", "_variance")
    __hash__ = None  # type: ignore[assignment]
    __array_ufunc__ = None

    _image: Image
    _mask: Mask
    _variance: Image

    def __init__(
        self,
        bbox: Box2I | Extent2I | tuple[int, int],
        *,
        planes: MaskPlaneDict | dict[str, int] | None = None,
        units: str | None = None,
    ) -> None:
        box = as_bbox(bbox)
        self._image = Image(box, units=units)
        self._mask = Mask(box, planes=planes)
        self._variance = Image(box)

    @classmethod
    def _from_parts(cls, image: Image, mask: Mask, variance: Image) -> MaskedImage:
        out = object.__new__(cls)
        out._image, out._mask, out._variance = image, mask, variance
        return out

    @classmethod
    def from_images(cls, image: Image, mask: Mask | None = None, variance: Image | None = None) -> MaskedImage:
        """Assemble from existing planes without copying them.

        ``image`` and ``variance`` must be float32 `Image` objects and ``mask`` a `Mask`,
        all with the same bbox; a missing mask or variance starts at zero.
        """
        if not isinstance(image, Image) or image.dtype != _F32:
            raise AfwValueError(f"MaskedImage image must be a float32 Image, got {image!r}")
        if mask is None:
            mask = Mask(image.bbox)
        if variance is None:
            variance = Image(image.bbox)
        if not isinstance(mask, Mask):
            raise AfwValueError(f"MaskedImage mask must be a Mask, got {mask!r}")
        if not isinstance(variance, Image) or variance.dtype != _F32:
            raise AfwValueError(f"MaskedImage variance must be a float32 Image, got {variance!r}")
        for name, plane in (("mask", mask), ("variance", variance)):
            if plane.bbox != image.bbox:
                raise AfwValueError(f"MaskedImage {name} bbox {plane.bbox!r} differs from image bbox {image.bbox!r}")
        return cls._from_parts(image, mask, variance)

    @classmethod
    def from_arrays(
        cls,
        image: ArrayLike,
        mask: ArrayLike | None = None,
        variance: ArrayLike | None = None,
        *,
        xy0: Point2I | tuple[int, int] | None = None,
        planes: MaskPlaneDict | dict[str, int] | None = None,
        units: str | None = None,
    ) -> MaskedImage:
        """Wrap numpy arrays (``[y, x]`` indexed, all the same shape).

        float32 image/variance and int32 mask arrays are used without copying; other
        dtypes are converted (copied). A missing mask or variance starts at zero.
        """
        origin = as_point(xy0)
        img = Image.from_array(_as_float32(image), xy0=origin, units=units)
        msk = None if mask is None else Mask.from_array(mask, xy0=origin, planes=planes)
        if msk is None and planes is not None:
            msk = Mask(img.bbox, planes=planes)
        var = None if variance is None else Image.from_array(_as_float32(variance), xy0=origin)
        return cls.from_images(img, msk, var)

    # -- planes and geometry ---------------------------------------------------------------
    @property
    def image(self) -> Image:
        """Science pixels (float32)."""
        return self._image

    @property
    def mask(self) -> Mask:
        """Mask bit planes (int32)."""
        return self._mask

    @property
    def variance(self) -> Image:
        """Per-pixel variance (float32) in ``units**2``."""
        return self._variance

    @property
    def bbox(self) -> Box2I:
        """Box in parent coordinates (end exclusive), common to the three planes."""
        return self._image.bbox

    @property
    def xy0(self) -> Point2I:
        """Parent position of pixel ``[0, 0]``; setting it moves all three planes."""
        return self._image.xy0

    @xy0.setter
    def xy0(self, value: Point2I | tuple[int, int]) -> None:
        self._image.xy0 = self._mask.xy0 = self._variance.xy0 = as_point(value)

    @property
    def dimensions(self) -> Extent2I:
        """``Extent2I(width, height)`` in pixels."""
        return self._image.dimensions

    @property
    def width(self) -> int:
        """Number of columns."""
        return self._image.width

    @property
    def height(self) -> int:
        """Number of rows."""
        return self._image.height

    @property
    def units(self) -> str | None:
        """Unit string of the image pixels (the image plane's `Image.units`)."""
        return self._image.units

    def __getitem__(self, bbox: Box2I) -> MaskedImage:
        """View of the three planes inside ``bbox`` (parent coordinates), sharing pixels."""
        return MaskedImage._from_parts(self._image[bbox], self._mask[bbox], self._variance[bbox])

    def __setitem__(self, bbox: Box2I, value: MaskedImage | Sequence[Any]) -> None:
        """Copy a MaskedImage of the box's dimensions, or an ``(image, mask, variance)``
        triple of scalars/arrays, into the region ``bbox``."""
        if isinstance(value, MaskedImage):
            parts: Sequence[Any] = (value._image, value._mask, value._variance)
        elif isinstance(value, (tuple, list)) and len(value) == 3:
            parts = value
        else:
            raise AfwValueError(f"assign a MaskedImage or an (image, mask, variance) triple, got {value!r}")
        self._image[bbox], self._mask[bbox], self._variance[bbox] = parts

    # -- copies, comparison ----------------------------------------------------------------
    def clone(self) -> MaskedImage:
        """Deep copy of all three planes."""
        return MaskedImage._from_parts(self._image.clone(), self._mask.clone(), self._variance.clone())

    def __copy__(self) -> MaskedImage:
        return self.clone()

    def __deepcopy__(self, memo: dict[int, Any]) -> MaskedImage:
        return self.clone()

    def equals(self, other: object) -> bool:
        """True when image, mask (with planes) and variance are all equal (NaN equals NaN)."""
        return (
            isinstance(other, MaskedImage)
            and self._image.equals(other._image)
            and self._mask.equals(other._mask)
            and self._variance.equals(other._variance)
        )

    def __repr__(self) -> str:
        units = f", units={self.units!r}" if self.units else ""
        return f"MaskedImage(bbox={self.bbox!r}{units})"

    # -- arithmetic ------------------------------------------------------------------------
    def _propagate(self, other: Any, symbol: str, reflected: bool = False) -> Any:
        """(image, variance, other mask or None) arrays of ``self <symbol> other``, or NotImplemented."""
        a, va = self._image.array, self._variance.array
        if is_scalar(other):
            c = float(other)  # a Python float keeps float32 arithmetic in float32
            if symbol == "+":
                return a + c, va.copy(), None
            if symbol == "-":
                return (c - a if reflected else a - c), va.copy(), None
            if symbol == "*":
                return a * c, va * (c * c), None
            if reflected:  # c / a
                out = c / a
                return out, va * (out / a) ** 2, None
            return a / c, va / (c * c), None
        if isinstance(other, MaskedImage):
            b, vb, mb = other._image.array, other._variance.array, other._mask
        elif isinstance(other, Image):
            if other.dtype != _F32:
                raise AfwValueError(f"MaskedImage {symbol} Image needs a float32 image, got {other.dtype}")
            b, vb, mb = other.array, None, None
        else:
            return NotImplemented
        if self.bbox != other.bbox:
            raise AfwValueError(
                f"MaskedImage {symbol} needs identical bounding boxes, got {self.bbox!r} and {other.bbox!r}"
            )
        if symbol in "+-":
            out = a + b if symbol == "+" else a - b
            var = va + vb if vb is not None else va.copy()
        elif symbol == "*":
            out = a * b
            var = va * (b * b) if vb is None else vb * (a * a) + va * (b * b)
        else:
            out = a / b
            var = va / (b * b) if vb is None else (va + vb * (out * out)) / (b * b)
        return out, var, mb

    def _binary(self, other: Any, symbol: str, reflected: bool = False) -> Any:
        parts = self._propagate(other, symbol, reflected)
        if parts is NotImplemented:
            return NotImplemented
        out, var, other_mask = parts
        mask = self._mask.clone() if other_mask is None else self._mask | other_mask
        image = Image.from_array(out, xy0=self.xy0, units=self.units)
        return MaskedImage._from_parts(image, mask, Image.from_array(var, xy0=self.xy0))

    def _inplace(self, other: Any, symbol: str) -> Any:
        parts = self._propagate(other, symbol)
        if parts is NotImplemented:
            return NotImplemented
        out, var, other_mask = parts
        if other_mask is not None:
            self._mask |= other_mask  # checks plane compatibility before any pixel changes
        self._image.array[...] = out
        self._variance.array[...] = var
        return self

    def __add__(self, other: Any) -> Any:
        return self._binary(other, "+")

    def __radd__(self, other: Any) -> Any:
        return self._binary(other, "+") if is_scalar(other) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        return self._binary(other, "-")

    def __rsub__(self, other: Any) -> Any:
        return self._binary(other, "-", reflected=True) if is_scalar(other) else NotImplemented

    def __mul__(self, other: Any) -> Any:
        return self._binary(other, "*")

    def __rmul__(self, other: Any) -> Any:
        return self._binary(other, "*") if is_scalar(other) else NotImplemented

    def __truediv__(self, other: Any) -> Any:
        return self._binary(other, "/")

    def __rtruediv__(self, other: Any) -> Any:
        return self._binary(other, "/", reflected=True) if is_scalar(other) else NotImplemented

    def __iadd__(self, other: Any) -> Any:
        return self._inplace(other, "+")

    def __isub__(self, other: Any) -> Any:
        return self._inplace(other, "-")

    def __imul__(self, other: Any) -> Any:
        return self._inplace(other, "*")

    def __itruediv__(self, other: Any) -> Any:
        return self._inplace(other, "/")

    # -- resampling ------------------------------------------------------------------------
    def binned(self, factor: int) -> MaskedImage:
        """Bin by block means: image mean, variance of that mean (sum of variances / factor⁴),
        mask OR. Remainder rows/columns are dropped; ``xy0`` becomes ``xy0 // factor``."""
        image = self._image.binned(factor)
        variance = self._variance.binned(factor)
        variance /= factor * factor  # mean(v)/f² == sum(v)/f⁴, the variance of a mean of f² pixels
        return MaskedImage._from_parts(image, self._mask.binned(factor), variance)

    # -- astropy ---------------------------------------------------------------------------
    def to_ccddata(self, unit: Any = None, *, bad_planes: Sequence[str] | None = None) -> CCDData:
        """Convert to `astropy.nddata.CCDData`, sharing the pixel arrays (no copy).

        ``data`` is the image, ``uncertainty`` a `~astropy.nddata.VarianceUncertainty` of
        the variance, ``flags`` the int32 mask bits, ``mask`` the boolean OR of
        ``bad_planes`` (default `DEFAULT_BAD_PLANES`: BAD, SAT, CR, NO_DATA, EDGE), and
        ``meta`` a FITS header with ``MP_<NAME>`` plane bits and ``LTV1/LTV2 = -xy0``.
        ``unit`` defaults to `units`, else dimensionless. `from_ccddata` reverses this
        exactly.
        """
        from ._astropy import masked_image_to_ccddata

        return masked_image_to_ccddata(self, unit=unit, bad_planes=bad_planes)

    @classmethod
    def from_ccddata(cls, ccd: CCDData) -> MaskedImage:
        """Build from `astropy.nddata.CCDData` (the inverse of `to_ccddata`).

        Mask bits come from ``flags`` when present, else the boolean ``mask`` becomes the
        BAD plane; plane names from ``MP_*`` meta keys; xy0 from ``LTV1/LTV2``; the
        variance from any astropy uncertainty type (zero when absent). float32 arrays
        are shared, others converted.
        """
        from ._astropy import masked_image_from_ccddata

        return masked_image_from_ccddata(ccd)

    def to_nddata(self, unit: Any = None, *, bad_planes: Sequence[str] | None = None) -> NDData:
        """Convert to `astropy.nddata.NDData` (boolean mask only; see `to_ccddata`)."""
        from ._astropy import masked_image_to_nddata

        return masked_image_to_nddata(self, unit=unit, bad_planes=bad_planes)
