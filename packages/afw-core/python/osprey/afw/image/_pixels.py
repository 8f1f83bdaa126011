"""Machinery shared by `Image` and `Mask`: a 2-D numpy array placed in the parent frame by ``xy0``.

The one place where ``(x, y)`` geometry becomes ``[y, x]`` array indexing is
`osprey.geom.Box2I.slices_in`; everything here goes through `PixelGrid._region`.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwShapeError, AfwValueError, BoxOutsideImageError

__all__ = ["PixelGrid", "as_bbox", "as_point", "binned_view", "is_scalar"]


def as_bbox(geometry: Any) -> Box2I:
    """A `Box2I` from a box, or from an `Extent2I`/``(width, height)`` placed at (0, 0)."""
    if isinstance(geometry, Box2I):
        return geometry
    try:
        dims = Extent2I(geometry)
    except (ValueError, TypeError) as err:
        raise AfwValueError(f"expected a Box2I or an Extent2I (width, height), got {geometry!r}") from err
    if dims.x < 0 or dims.y < 0:
        raise AfwValueError(f"image dimensions must be >= 0, got {dims!r}")
    return Box2I(Point2I(0, 0), dims)


def as_point(xy0: Any) -> Point2I:
    """A `Point2I` from a point, an ``(x, y)`` pair, or ``None`` for the origin."""
    if xy0 is None:
        return Point2I(0, 0)
    try:
        return Point2I(xy0)
    except (ValueError, TypeError) as err:
        raise AfwValueError(f"xy0 must be a Point2I or an (x, y) pair of ints, got {xy0!r}") from err


def is_scalar(value: Any) -> bool:
    """True for real numbers usable as arithmetic operands (``bool`` excluded)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def binned_view(array: NDArray[Any], factor: int) -> NDArray[Any]:
    """``array`` trimmed to a multiple of ``factor`` and reshaped to ``(ny, f, nx, f)`` blocks."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise AfwValueError(f"binning factor must be a positive int, got {factor!r}")
    ny, nx = array.shape[0] // factor, array.shape[1] // factor
    if ny == 0 or nx == 0:
        raise AfwShapeError(
            f"binning factor {factor} is larger than the image", f"at least ({factor}, {factor})", array.shape
        )
    return array[: ny * factor, : nx * factor].reshape(ny, factor, nx, factor)


class PixelGrid:
    """A 2-D array whose pixel ``[0, 0]`` sits at parent pixel ``xy0``.

    Base of `Image` and `Mask`; not public. Subclasses set ``_KIND`` (for messages) and
    override ``_copy_extras`` to carry their own attributes to views and clones.
    """

    __slots__ = ("_array", "_xy0")
    __hash__ = None  # type: ignore[assignment]  # mutable pixels
    # numpy must defer to our reflected operators instead of broadcasting over the object.
    __array_ufunc__ = None
    _KIND = "pixel grid"

    _array: NDArray[Any]
    _xy0: Point2I

    def _derive(self, array: NDArray[Any], xy0: Point2I) -> Self:
        """A new object of this type over ``array`` (not copied), keeping this one's extras."""
        out = object.__new__(type(self))
        out._array, out._xy0 = array, xy0
        self._copy_extras(out)
        return out

    def _copy_extras(self, other: Self) -> None:
        """Copy subclass attributes (units, mask planes) onto ``other``."""

    # -- geometry --------------------------------------------------------------------------
    @property
    def array(self) -> NDArray[Any]:
        """The pixels, indexed ``[y - y0, x - x0]``; the object's own buffer, not a copy."""
        return self._array

    @property
    def xy0(self) -> Point2I:
        """Parent-frame position of pixel ``array[0, 0]``; setting it moves the box, not pixels."""
        return self._xy0

    @xy0.setter
    def xy0(self, value: Point2I | tuple[int, int]) -> None:
        self._xy0 = as_point(value)

    @property
    def bbox(self) -> Box2I:
        """Box covered in parent coordinates: ``Box2I(xy0, dimensions)``, end exclusive."""
        return Box2I(self._xy0, self.dimensions)

    @property
    def dimensions(self) -> Extent2I:
        """``Extent2I(width, height)`` in pixels."""
        return Extent2I(self._array.shape[1], self._array.shape[0])

    @property
    def width(self) -> int:
        """Number of columns."""
        return int(self._array.shape[1])

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self._array.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype of the pixels."""
        return self._array.dtype

    def _region(self, bbox: Box2I) -> NDArray[Any]:
        """View of the pixels inside ``bbox`` (parent coordinates)."""
        if not isinstance(bbox, Box2I):
            raise AfwValueError(f"{self._KIND} regions are selected with a Box2I, got {bbox!r}")
        if not self.bbox.contains(bbox):
            raise BoxOutsideImageError(f"{bbox!r} is not contained in the {self._KIND} bbox {self.bbox!r}")
        return self._array[bbox.slices_in(self._xy0)]

    def _pixel_index(self, point: Point2I) -> tuple[int, int]:
        if not self.bbox.contains(point):
            raise BoxOutsideImageError(f"{point!r} is outside the {self._KIND} bbox {self.bbox!r}")
        return point.y - self._xy0.y, point.x - self._xy0.x

    def _check_same_bbox(self, other: PixelGrid, what: str) -> None:
        if self.bbox != other.bbox:
            raise AfwValueError(f"{what} needs identical bounding boxes, got {self.bbox!r} and {other.bbox!r}")

    def _check_shape(self, array: NDArray[Any], region: NDArray[Any], what: str) -> None:
        if array.shape != region.shape:
            raise AfwShapeError(f"{what}: array shape (rows, columns) does not match", region.shape, array.shape)

    # -- indexing --------------------------------------------------------------------------
    def __getitem__(self, key: Box2I | Point2I) -> Any:
        """``grid[box]`` is a view (shared pixels) with ``xy0 = box.begin``; ``grid[point]`` a value."""
        if isinstance(key, Point2I):
            return self._array[self._pixel_index(key)].item()
        region = self._region(key)
        return self._derive(region, key.begin)

    def __setitem__(self, key: Box2I | Point2I, value: Any) -> None:
        """Assign a scalar, an array, or another grid of the box's dimensions into the region."""
        if isinstance(key, Point2I):
            iy, ix = self._pixel_index(key)
            self._assign(self._array[iy : iy + 1, ix : ix + 1], value, f"{self._KIND}[{key!r}]")
            return
        self._assign(self._region(key), value, f"{self._KIND}[{key!r}]")

    def _assign(self, region: NDArray[Any], value: Any, what: str) -> None:
        if isinstance(value, PixelGrid):
            if type(value) is not type(self):
                raise AfwValueError(f"cannot assign a {type(value).__name__} to {what}")
            self._check_shape(value._array, region, what)
            value = value._array
        elif isinstance(value, np.ndarray):
            self._check_shape(value, region, what)
        elif not is_scalar(value):
            raise AfwValueError(f"{what}: expected a scalar, an array or a {type(self).__name__}, got {value!r}")
        try:
            np.copyto(region, value, casting="same_kind")
        except (TypeError, OverflowError) as err:
            raise AfwValueError(f"{what}: cannot store {value!r} in {region.dtype} pixels without loss") from err

    # -- copies, comparison ----------------------------------------------------------------
    def clone(self) -> Self:
        """Deep copy: new pixel buffer, same xy0 and attributes."""
        return self._derive(self._array.copy(), self._xy0)

    def __copy__(self) -> Self:
        return self.clone()

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self.clone()

    def equals(self, other: object) -> bool:
        """True when ``other`` has the same type, bbox, dtype and pixels (NaN equals NaN)."""
        if type(other) is not type(self):
            return False
        assert isinstance(other, PixelGrid)
        equal_nan = self._array.dtype.kind == "f"
        return (
            self.bbox == other.bbox
            and self.dtype == other.dtype
            and bool(np.array_equal(self._array, other._array, equal_nan=equal_nan))
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bbox={self.bbox!r}, dtype={self.dtype})"
