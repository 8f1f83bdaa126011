"""`Image`: a typed 2-D pixel array with an ``xy0`` origin in the parent frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwShapeError, AfwValueError
from ._pixels import PixelGrid, as_bbox, as_point, binned_view, is_scalar

__all__ = ["IMAGE_DTYPES", "Image"]

IMAGE_DTYPES: tuple[np.dtype[Any], ...] = tuple(
    np.dtype(t) for t in (np.float32, np.float64, np.int32, np.uint16, np.int64)
)
"""Pixel types an `Image` may hold: float32 (the default), float64, int32, uint16, int64."""


def _check_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    dt = np.dtype(dtype)
    if dt not in IMAGE_DTYPES:
        allowed = ", ".join(str(d) for d in IMAGE_DTYPES)
        raise AfwValueError(f"Image pixels must be one of {allowed}; got {dt}")
    return dt


def _check_units(units: Any) -> str | None:
    if units is None:
        return None
    if hasattr(units, "to_string") and not isinstance(units, str):  # an astropy UnitBase
        units = units.to_string()
        return units or None
    if not isinstance(units, str) or not units.strip():
        raise AfwValueError(f"units must be a non-empty unit string such as 'adu', 'electron' or 'nJy', got {units!r}")
    return units


def _scalar(value: Any) -> int | float:
    """Python scalar, so numpy's weak-scalar rule keeps the image dtype (float32 stays float32)."""
    return value.item() if isinstance(value, np.generic) else value


class Image(PixelGrid):
    """A 2-D pixel array placed in a parent frame by its origin ``xy0``.

    ``image.array[j, i]`` is the pixel at parent position ``(x0 + i, y0 + j)`` and
    ``image.bbox == Box2I(xy0, dimensions)`` (end exclusive). Sub-images are views:
    ``image[box]`` shares pixels with ``image`` and has ``xy0 = box.begin``, so
    coordinates stay those of the full detector however the image is cut.

    Arithmetic (``+ - * /``) works with real scalars and with images of the same bbox;
    results follow numpy's type promotion (an int32 image divided by 2 is float64) and
    in-place forms keep the dtype or raise. Operators never broadcast across different
    boxes, because pixels at different positions would be combined silently.

    Parameters
    ----------
    bbox : `Box2I` or `Extent2I` or tuple of int
        Region in the parent frame, or ``(width, height)`` in pixels at ``xy0 = (0, 0)``.
    dtype : dtype, optional
        One of `IMAGE_DTYPES`; float32 by default.
    fill : scalar, optional
        Initial value of every pixel (0).
    units : `str`, optional
        Unit of the pixel values as an astropy unit string (``"adu"``, ``"electron"``,
        ``"nJy"``). It is metadata: only `to_ccddata`-style conversions interpret it.

    Raises
    ------
    AfwValueError
        For an unsupported dtype, bad dimensions or bad units.

    Examples
    --------
    >>> from osprey.geom import Box2I
    >>> image = Image(Box2I.from_begin_end(100, 200, 104, 203))
    >>> sub = image[Box2I.from_begin_end(101, 201, 103, 203)]
    >>> sub.array[:] = 5.0
    >>> float(image.array.sum()), sub.xy0
    (20.0, Point2I(101, 201))
    """

    __slots__ = ("_units",)
    _KIND = "image"
    _units: str | None

    def __init__(
        self,
        bbox: Box2I | Extent2I | tuple[int, int],
        *,
        dtype: DTypeLike = np.float32,
        fill: float = 0,
        units: str | None = None,
    ) -> None:
        box = as_bbox(bbox)
        dt = _check_dtype(dtype)
        self._array = np.full((box.height, box.width), fill, dtype=dt)
        self._xy0 = box.begin
        self._units = _check_units(units)

    @classmethod
    def from_array(
        cls,
        array: ArrayLike,
        *,
        xy0: Point2I | tuple[int, int] | None = None,
        dtype: DTypeLike | None = None,
        units: str | None = None,
    ) -> Image:
        """Wrap a 2-D array without copying it.

        Parameters
        ----------
        array : array_like, shape (height, width)
            Pixels indexed ``[y, x]``. A numpy array of an allowed dtype is used as is
            (the image is a view of it); anything else, including a big-endian array
            read from FITS, is converted to native order, which copies.
        xy0 : `Point2I`, optional
            Parent position of ``array[0, 0]``; (0, 0) by default.
        dtype : dtype, optional
            Convert to this pixel type (copying only if it differs).
        units : `str`, optional
            Pixel unit string, see `Image`.
        """
        arr = np.asarray(array) if dtype is None else np.asarray(array, dtype=_check_dtype(dtype))
        if not arr.dtype.isnative:  # e.g. big-endian FITS data: numpy arithmetic wants native order
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.ndim != 2:
            raise AfwShapeError("an Image needs a 2-D array", "(height, width)", arr.shape)
        _check_dtype(arr.dtype)
        out = object.__new__(cls)
        out._array, out._xy0, out._units = arr, as_point(xy0), _check_units(units)
        return out

    def _copy_extras(self, other: Image) -> None:
        other._units = self._units

    @property
    def units(self) -> str | None:
        """Astropy unit string of the pixel values, or ``None`` when not recorded."""
        return self._units

    @units.setter
    def units(self, value: str | None) -> None:
        self._units = _check_units(value)

    def equals(self, other: object) -> bool:
        """True for the same bbox, dtype, units and pixels (NaN equals NaN)."""
        return super().equals(other) and self._units == other._units  # type: ignore[attr-defined]

    def allclose(self, other: Image, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        """Same bbox and pixels equal within ``atol + rtol * |other|`` (NaN equals NaN)."""
        if not isinstance(other, Image) or self.bbox != other.bbox:
            return False
        return bool(np.allclose(self._array, other._array, rtol=rtol, atol=atol, equal_nan=True))

    # -- arithmetic ------------------------------------------------------------------------
    def _operand(self, other: Any, symbol: str) -> Any:
        if isinstance(other, Image):
            self._check_same_bbox(other, f"Image {symbol} Image")
            return other._array
        if is_scalar(other):
            return _scalar(other)
        return NotImplemented

    def _result_units(self, other: Any, symbol: str) -> str | None:
        # Scalars and sums keep the unit; a product or ratio of two images has a unit we do
        # not track, so it is dropped rather than guessed.
        if isinstance(other, Image) and symbol in "*/":
            return None
        return self._units

    def _binary(self, other: Any, ufunc: Callable[..., Any], symbol: str, reflected: bool = False) -> Any:
        rhs = self._operand(other, symbol)
        if rhs is NotImplemented:
            return NotImplemented
        result = ufunc(rhs, self._array) if reflected else ufunc(self._array, rhs)
        out = Image.from_array(result, xy0=self._xy0)
        out._units = self._result_units(other, symbol)
        return out

    def _inplace(self, other: Any, ufunc: Callable[..., Any], symbol: str) -> Any:
        rhs = self._operand(other, f"{symbol}=")
        if rhs is NotImplemented:
            return NotImplemented
        try:
            ufunc(self._array, rhs, out=self._array)
        except (TypeError, OverflowError) as err:
            raise AfwValueError(
                f"Image {symbol}= {other!r} would change the {self.dtype} pixel type; use '{symbol}' to get a new image"
            ) from err
        self._units = self._result_units(other, symbol)
        return self

    def __add__(self, other: Any) -> Any:
        return self._binary(other, np.add, "+")

    def __radd__(self, other: Any) -> Any:
        return self._binary(other, np.add, "+", reflected=True)

    def __sub__(self, other: Any) -> Any:
        return self._binary(other, np.subtract, "-")

    def __rsub__(self, other: Any) -> Any:
        return self._binary(other, np.subtract, "-", reflected=True)

    def __mul__(self, other: Any) -> Any:
        return self._binary(other, np.multiply, "*")

    def __rmul__(self, other: Any) -> Any:
        return self._binary(other, np.multiply, "*", reflected=True)

    def __truediv__(self, other: Any) -> Any:
        return self._binary(other, np.true_divide, "/")

    def __rtruediv__(self, other: Any) -> Any:
        return self._binary(other, np.true_divide, "/", reflected=True)

    def __iadd__(self, other: Any) -> Any:
        return self._inplace(other, np.add, "+")

    def __isub__(self, other: Any) -> Any:
        return self._inplace(other, np.subtract, "-")

    def __imul__(self, other: Any) -> Any:
        return self._inplace(other, np.multiply, "*")

    def __itruediv__(self, other: Any) -> Any:
        return self._inplace(other, np.true_divide, "/")

    def __neg__(self) -> Image:
        return self._derive(-self._array, self._xy0)

    # -- resampling ------------------------------------------------------------------------
    def binned(self, factor: int) -> Image:
        """Mean of each ``factor`` x ``factor`` block of pixels, as a new image.

        Rows and columns that do not fill a whole block (the remainder at the high end)
        are dropped. Sums are accumulated in float64; float images keep their dtype and
        integer images become float64, because a block mean is not an integer. The
        result lives in the binned frame: ``xy0 = (x0 // factor, y0 // factor)``, which
        maps exactly onto the parent frame when ``xy0`` is a multiple of ``factor``.
        """
        blocks = binned_view(self._array, factor)
        out_dtype = self.dtype if self.dtype.kind == "f" else np.dtype(np.float64)
        mean = blocks.mean(axis=(1, 3), dtype=np.float64).astype(out_dtype, copy=False)
        out = Image.from_array(mean, xy0=Point2I(self._xy0.x // factor, self._xy0.y // factor))
        out._units = self._units
        return out

    def __repr__(self) -> str:
        units = f", units={self._units!r}" if self._units else ""
        return f"Image(bbox={self.bbox!r}, dtype={self.dtype}{units})"
