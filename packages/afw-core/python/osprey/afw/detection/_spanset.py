"""`SpanSet`: a set of pixels stored as horizontal runs, with set algebra and morphology in C++."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Extent2I, Point2D, Point2I

from .._afw import (  # type: ignore[attr-defined]
    det_clip,
    det_contains,
    det_difference,
    det_dilate,
    det_erode,
    det_flatten,
    det_from_mask,
    det_intersection,
    det_normalize,
    det_paint,
    det_pixels,
    det_stats,
    det_unflatten,
    det_union,
)
from ._errors import DetectionError

__all__ = ["SpanSet"]

_SHAPES = {"circle": 0, "manhattan": 1}
_INT32 = np.iinfo(np.int32)
# Pixel types moved by flatten/unflatten without conversion (bool travels as uint8).
_PIXEL_DTYPES = (np.float32, np.float64, np.int32, np.int64, np.uint16, np.uint8)


def shape_code(shape: str) -> int:
    """The C++ code of a structuring-element name, or `DetectionError` naming the choices."""
    try:
        return _SHAPES[shape]
    except (KeyError, TypeError):
        raise DetectionError(f"shape must be 'circle' or 'manhattan', got {shape!r}") from None


def check_radius(r: Any, what: str = "radius") -> int:
    """``r`` as a non-negative int (pixels)."""
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
        raise DetectionError(f"{what} must be an int >= 0 (pixels), got {r!r}")
    return int(r)


def _column(values: ArrayLike, name: str) -> NDArray[np.int32]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DetectionError(f"span column {name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise DetectionError(f"span column {name} must hold integers, got {arr.dtype}")
    if arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
        raise DetectionError(f"span column {name} does not fit in int32")
    return np.ascontiguousarray(arr, dtype=np.int32)


def _frozen(arr: NDArray[Any]) -> NDArray[Any]:
    arr.flags.writeable = False
    return arr


def pixel_array(values: Any) -> tuple[NDArray[Any], Point2I]:
    """The array behind an `Image`/`Mask` (or a bare array, origin 0) and its ``xy0``."""
    if hasattr(values, "array") and hasattr(values, "xy0"):
        return values.array, values.xy0
    arr = np.asarray(values)
    return arr, Point2I(0, 0)


def kernel_array(arr: NDArray[Any], what: str) -> tuple[NDArray[Any], np.dtype[Any]]:
    """A view of ``arr`` that the C++ kernels take (native byte order; bool as uint8)."""
    if arr.ndim != 2:
        raise DetectionError(f"{what} must be 2-D, got shape {arr.shape}")
    dtype = arr.dtype
    if dtype == np.bool_:
        return arr.view(np.uint8), dtype
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
        dtype = arr.dtype
    if dtype.type not in _PIXEL_DTYPES:
        raise DetectionError(
            f"{what} has dtype {dtype}; supported: float32, float64, int32, int64, uint16, uint8, bool"
        )
    return arr, dtype


class SpanSet:
    """A set of pixels as horizontal runs ``(y, x0, x1)``, ``x1`` inclusive (the LSST convention).

    The runs are kept *normalized*: sorted by ``(y, x0)``, and the runs of one row neither
    overlap nor abut. Each set of pixels therefore has one representation, and two span
    sets are equal exactly when their arrays are equal. Span sets are immutable; every
    operation returns a new one. Set algebra, morphology, statistics and pixel transfer run
    in C++ on the runs, never on a rasterized image, with the GIL released.

    Coordinates are parent pixel positions ``(x, y)``; pixel ``(x, y)`` of an image with
    origin ``xy0`` is ``array[y - y0, x - x0]``.

    Parameters
    ----------
    y, x0, x1 : array_like of int, shape (n,)
        Row and first/last column (inclusive) of each run, in any order; overlapping or
        touching runs are merged and empty ones (``x1 < x0``) dropped.

    Examples
    --------
    >>> s = SpanSet([0, 0, 1], [0, 2, 5], [1, 3, 5])
    >>> s.y, s.x0, s.x1, s.area
    (array([0, 1], dtype=int32), array([0, 5], dtype=int32), array([3, 5], dtype=int32), 5)
    """

    __slots__ = ("_stats", "_x0", "_x1", "_y")

    def __init__(self, y: ArrayLike = (), x0: ArrayLike = (), x1: ArrayLike = ()) -> None:
        cy, c0, c1 = _column(y, "y"), _column(x0, "x0"), _column(x1, "x1")
        if not (cy.shape == c0.shape == c1.shape):
            raise DetectionError(f"span columns y, x0, x1 must have one length, got {cy.size}, {c0.size}, {c1.size}")
        self._set(*det_normalize(cy, c0, c1))

    def _set(self, y: NDArray[np.int32], x0: NDArray[np.int32], x1: NDArray[np.int32]) -> None:
        self._y, self._x0, self._x1 = _frozen(y), _frozen(x0), _frozen(x1)
        self._stats: tuple[int, Box2I, tuple[float, float]] | None = None

    @classmethod
    def _wrap(cls, y: NDArray[np.int32], x0: NDArray[np.int32], x1: NDArray[np.int32]) -> SpanSet:
        """A span set from columns already normalized (kernel output): no checks, no copy."""
        obj = cls.__new__(cls)
        obj._set(y, x0, x1)
        return obj

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_box(cls, box: Box2I) -> SpanSet:
        """Every pixel of ``box`` (one run per row)."""
        if box.is_empty():
            return cls()
        ys = np.arange(box.begin.y, box.end.y, dtype=np.int32)
        return cls._wrap(ys, np.full_like(ys, box.begin.x), np.full_like(ys, box.end.x - 1))

    @classmethod
    def from_shape(cls, radius: int, shape: str = "circle", center: Point2I | tuple[int, int] = (0, 0)) -> SpanSet:
        """The structuring element of `dilated`: offsets with ``dx² + dy² <= r²`` (circle) or
        ``|dx| + |dy| <= r`` (manhattan), centred on ``center``."""
        r = check_radius(radius)
        c = Point2I(center)
        seed = cls._wrap(np.array([c.y], np.int32), np.array([c.x], np.int32), np.array([c.x], np.int32))
        return seed.dilated(r, shape)

    @classmethod
    def from_mask(cls, mask: Any, xy0: Point2I | tuple[int, int] | None = None) -> SpanSet:
        """The true (non-zero) pixels of a 2-D boolean array, or of a `Mask`/`Image` (non-zero).

        ``xy0`` is the parent position of ``array[0, 0]``; for `Mask`/`Image` their own.
        """
        arr, origin = pixel_array(mask)
        if xy0 is not None:
            origin = Point2I(xy0)
        if arr.ndim != 2:
            raise DetectionError(f"mask must be a 2-D array, got shape {arr.shape}")
        if arr.dtype != np.bool_:
            arr = arr != 0
        return cls._wrap(*det_from_mask(arr, int(origin.x), int(origin.y)))

    @classmethod
    def from_arrays(cls, arrays: dict[str, ArrayLike]) -> SpanSet:
        """Inverse of `to_arrays` (persistence): a mapping with ``y``, ``x0``, ``x1``."""
        try:
            return cls(arrays["y"], arrays["x0"], arrays["x1"])
        except KeyError as err:
            raise DetectionError(f"span arrays need keys 'y', 'x0', 'x1'; missing {err}") from None

    def to_arrays(self) -> dict[str, NDArray[np.int32]]:
        """``{"y", "x0", "x1"}`` int32 columns (read-only views), e.g. for a FITS table."""
        return {"y": self._y, "x0": self._x0, "x1": self._x1}

    # -- properties ---------------------------------------------------------------------------
    @property
    def y(self) -> NDArray[np.int32]:
        """Row of each run (read-only)."""
        return self._y

    @property
    def x0(self) -> NDArray[np.int32]:
        """First column of each run (read-only)."""
        return self._x0

    @property
    def x1(self) -> NDArray[np.int32]:
        """Last column of each run, inclusive (read-only)."""
        return self._x1

    def _compute_stats(self) -> tuple[int, Box2I, tuple[float, float]]:
        if self._stats is None:
            offsets = np.array([0, self._y.size], np.int64)
            area, bbox, cen = det_stats(self._y, self._x0, self._x1, offsets)
            n = int(area[0])
            lo, hi = bbox[0, :2].tolist(), bbox[0, 2:].tolist()
            box = Box2I() if n == 0 else Box2I.from_min_max(Point2I(*lo), Point2I(*hi))
            self._stats = (n, box, (float(cen[0, 0]), float(cen[0, 1])))
        return self._stats

    @property
    def area(self) -> int:
        """Number of pixels."""
        return self._compute_stats()[0]

    @property
    def bbox(self) -> Box2I:
        """Smallest box holding every pixel (empty box for an empty set)."""
        return self._compute_stats()[1]

    @property
    def centroid(self) -> Point2D:
        """Unweighted mean pixel position ``(x, y)``; `DetectionError` for an empty set."""
        if self.is_empty():
            raise DetectionError("an empty span set has no centroid")
        return Point2D(*self._compute_stats()[2])

    def __len__(self) -> int:
        """Number of runs (use `area` for pixels)."""
        return int(self._y.size)

    def is_empty(self) -> bool:
        """True when the set holds no pixel."""
        return self._y.size == 0

    def pixels(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """``(x, y)`` of every pixel, in span order (the order of `flatten`)."""
        ys, xs = det_pixels(self._y, self._x0, self._x1)
        return xs, ys

    # -- queries ------------------------------------------------------------------------------
    def contains(self, x: Any, y: ArrayLike | None = None) -> Any:
        """Whether pixels are in the set: ``contains(Point2I)``, ``contains(x, y)`` (scalars or arrays).

        A real position belongs to pixel ``floor(p + 0.5)`` (pixel ``i`` covers
        ``[i - 0.5, i + 0.5)``); non-finite positions are outside. Arrays give a bool array.
        """
        if y is None:
            p = Point2D(x)
            return bool(self.contains(np.array([p.x]), np.array([p.y]))[0])
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        scalar = xs.ndim == 0 and ys.ndim == 0
        try:
            bx, by = np.broadcast_arrays(xs, ys)
        except ValueError as err:
            raise DetectionError(f"x and y must broadcast together, got shapes {xs.shape} and {ys.shape}") from err
        flat = det_contains(
            self._y, self._x0, self._x1, np.ascontiguousarray(bx.ravel()), np.ascontiguousarray(by.ravel())
        )
        return bool(flat[0]) if scalar else flat.reshape(bx.shape)

    def overlaps(self, other: SpanSet) -> bool:
        """True when the two sets share a pixel."""
        return not self.intersection(other).is_empty()

    # -- algebra and morphology ---------------------------------------------------------------
    def _binary(self, op: Any, other: SpanSet) -> SpanSet:
        if not isinstance(other, SpanSet):
            raise DetectionError(f"expected a SpanSet, got {type(other).__name__}")
        return SpanSet._wrap(*op(self._y, self._x0, self._x1, other._y, other._x0, other._x1))

    def union(self, other: SpanSet) -> SpanSet:
        """Pixels in either set (also ``a | b``)."""
        return self._binary(det_union, other)

    def intersection(self, other: SpanSet) -> SpanSet:
        """Pixels in both sets (also ``a & b``)."""
        return self._binary(det_intersection, other)

    def difference(self, other: SpanSet) -> SpanSet:
        """Pixels in this set and not in ``other`` (also ``a - b``)."""
        return self._binary(det_difference, other)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def dilated(self, radius: int, shape: str = "circle") -> SpanSet:
        """Minkowski sum with a disk (``dx² + dy² <= r²``) or diamond (``|dx| + |dy| <= r``), r = ``radius`` pixels.

        Equal to ``scipy.ndimage.binary_dilation`` with that structuring element on an image
        large enough to hold the result.
        """
        return SpanSet._wrap(*det_dilate(self._y, self._x0, self._x1, check_radius(radius), shape_code(shape)))

    def eroded(self, radius: int, shape: str = "circle") -> SpanSet:
        """Pixels whose whole structuring element (see `dilated`) lies in the set.

        Pixels outside the set count as unset, as in ``scipy.ndimage.binary_erosion`` with
        ``border_value=0``.
        """
        return SpanSet._wrap(*det_erode(self._y, self._x0, self._x1, check_radius(radius), shape_code(shape)))

    def shifted(self, dx: int, dy: int) -> SpanSet:
        """The set moved by ``(dx, dy)`` pixels."""
        if self.is_empty():
            return self
        dx, dy = int(dx), int(dy)
        lo = min(int(self._x0.min()) + dx, int(self._y.min()) + dy)
        hi = max(int(self._x1.max()) + dx, int(self._y.max()) + dy)
        if lo < _INT32.min or hi > _INT32.max:
            raise DetectionError(f"shifting by ({dx}, {dy}) leaves the int32 pixel range")
        return SpanSet._wrap(
            (self._y + np.int32(dy)).astype(np.int32),
            (self._x0 + np.int32(dx)).astype(np.int32),
            (self._x1 + np.int32(dx)).astype(np.int32),
        )

    def clipped_to(self, bbox: Box2I) -> SpanSet:
        """The pixels inside ``bbox``."""
        if bbox.is_empty():
            return SpanSet()
        return SpanSet._wrap(
            *det_clip(self._y, self._x0, self._x1, bbox.begin.x, bbox.begin.y, bbox.end.x - 1, bbox.end.y - 1)
        )

    # -- pixels -------------------------------------------------------------------------------
    def to_mask(self, bbox: Box2I | None = None) -> NDArray[np.bool_]:
        """Boolean array over ``bbox`` (default: `bbox`), true on the set's pixels inside it."""
        box = self.bbox if bbox is None else bbox
        out = np.zeros((box.height, box.width), dtype=np.bool_)
        if not box.is_empty() and not self.is_empty():
            det_paint(out, box.begin.x, box.begin.y, self._y, self._x0, self._x1, self._offsets(), 1, 2)
        return out

    def _offsets(self) -> NDArray[np.int64]:
        return np.array([0, self._y.size], np.int64)

    def _mask_target(self, mask: Any, xy0: Any) -> tuple[NDArray[np.int32], Point2I]:
        arr, origin = pixel_array(mask)
        if xy0 is not None:
            origin = Point2I(xy0)
        if arr.ndim != 2 or arr.dtype != np.int32:
            raise DetectionError(f"mask must be a Mask or a 2-D int32 array, got {arr.dtype} with shape {arr.shape}")
        return arr, origin

    def set_mask(self, mask: Any, bits: int | str | list[str], xy0: Point2I | tuple[int, int] | None = None) -> None:
        """OR ``bits`` into the set's pixels of ``mask`` (a `Mask` or int32 array) that it covers.

        ``bits`` is an int bit pattern, or plane name(s) when ``mask`` is a `Mask`.
        Pixels of the set outside the mask are ignored.
        """
        arr, origin = self._mask_target(mask, xy0)
        det_paint(arr, origin.x, origin.y, self._y, self._x0, self._x1, self._offsets(), _bits(mask, bits), 0)

    def clear_mask(self, mask: Any, bits: int | str | list[str], xy0: Point2I | tuple[int, int] | None = None) -> None:
        """Clear ``bits`` in the set's pixels of ``mask`` (see `set_mask`)."""
        arr, origin = self._mask_target(mask, xy0)
        det_paint(arr, origin.x, origin.y, self._y, self._x0, self._x1, self._offsets(), _bits(mask, bits), 1)

    def flatten(self, array: Any, xy0: Point2I | tuple[int, int] | None = None) -> NDArray[Any]:
        """Values of the set's pixels in span order (the order of `pixels`), a new 1-D array.

        ``array`` is an `Image`/`Mask` (its ``xy0`` is used) or a 2-D numpy array with origin
        ``xy0`` (default (0, 0)). The set must lie inside it.
        """
        arr, origin = pixel_array(array)
        if xy0 is not None:
            origin = Point2I(xy0)
        karr, dtype = kernel_array(arr, "array")
        box = Box2I(origin, _extent(arr))
        if not self.is_empty() and not box.contains(self.bbox):
            raise DetectionError(f"span set with bbox {self.bbox} reaches outside the array's box {box}")
        out = det_flatten(karr, origin.x, origin.y, self._y, self._x0, self._x1)
        return out.view(dtype) if dtype != out.dtype else out

    def unflatten(
        self, values: ArrayLike, out: Any = None, xy0: Point2I | tuple[int, int] | None = None
    ) -> NDArray[Any]:
        """Write ``values`` (span order, one per pixel) into ``out``; pixels off ``out`` are skipped.

        ``out`` is an `Image`/`Mask` or a writable 2-D array with origin ``xy0``; when omitted,
        a zero array over `bbox` of ``values``' dtype is made. Returns the array written.
        """
        vals = np.asarray(values)
        if vals.ndim != 1 or vals.size != self.area:
            raise DetectionError(f"values must be 1-D with one entry per pixel ({self.area}), got shape {vals.shape}")
        if out is None:
            box = self.bbox
            target = np.zeros((box.height, box.width), dtype=vals.dtype)
            origin = box.begin
        else:
            target, origin = pixel_array(out)
            if xy0 is not None:
                origin = Point2I(xy0)
        if not target.dtype.isnative:
            raise DetectionError(f"out has a non-native byte order ({target.dtype}); convert it first")
        karr, dtype = kernel_array(target, "out")
        if not karr.flags.writeable:
            raise DetectionError("out must be writable")
        kvals = np.ascontiguousarray(vals, dtype=dtype).view(karr.dtype)
        det_unflatten(karr, origin.x, origin.y, self._y, self._x0, self._x1, kvals)
        return target

    # -- protocol -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpanSet):
            return NotImplemented
        return (
            np.array_equal(self._y, other._y)
            and np.array_equal(self._x0, other._x0)
            and np.array_equal(self._x1, other._x1)
        )

    def __hash__(self) -> int:
        return hash((self._y.tobytes(), self._x0.tobytes(), self._x1.tobytes()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (SpanSet, (self._y.copy(), self._x0.copy(), self._x1.copy()))

    def __repr__(self) -> str:
        if self.is_empty():
            return "SpanSet(empty)"
        return f"SpanSet({len(self)} spans, area={self.area}, bbox={self.bbox})"


def _extent(arr: NDArray[Any]) -> Extent2I:
    return Extent2I(int(arr.shape[1]), int(arr.shape[0]))


def _bits(mask: Any, bits: int | str | list[str]) -> int:
    """An int32 bit pattern from an int or plane name(s) of a `Mask`."""
    if isinstance(bits, (str, list, tuple)):
        if not hasattr(mask, "get_plane_bitmask"):
            raise DetectionError("plane names need a Mask; pass an int bit pattern with a bare array")
        value = int(mask.get_plane_bitmask(bits))
    elif isinstance(bits, (int, np.integer)) and not isinstance(bits, bool):
        value = int(bits)
    else:
        raise DetectionError(f"bits must be an int or plane name(s), got {bits!r}")
    if not -(2**31) <= value < 2**32:
        raise DetectionError(f"bit pattern {value} does not fit in 32 bits")
    return value - 2**32 if value >= 2**31 else value
