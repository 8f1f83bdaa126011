"""`Mask`: int32 bit planes over an image, with named planes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Extent2I, Point2I

from ..errors import AfwShapeError, AfwValueError
from ..metadata import PropertyList
from ._mask_planes import DEFAULT_MASK_PLANES, MaskPlaneDict
from ._pixels import PixelGrid, as_bbox, as_point, binned_view

__all__ = ["Mask"]

_INT32_MIN, _UINT32_MAX = -(2**31), 2**32 - 1


def _as_int32_bits(array: NDArray[Any]) -> NDArray[Any]:
    """The int32 array holding ``array``'s bits: a view for int32/uint32, else a copy."""
    if array.dtype == np.int32:
        return array
    if array.dtype == np.uint32:
        return array.view(np.int32)
    if array.dtype.kind in "iu" and array.dtype.itemsize < 4:
        return array.astype(np.int32)
    if array.dtype.kind in "iu":
        if array.size and (int(array.min()) < _INT32_MIN or int(array.max()) > _UINT32_MAX):
            raise AfwValueError(f"mask values of {array.dtype} array do not fit in 32 bits")
        return array.astype(np.uint32).view(np.int32)
    raise AfwValueError(f"a Mask holds integer bit planes; got a {array.dtype} array")


def _as_bitmask_operand(value: int) -> int:
    value = int(value)
    if not _INT32_MIN <= value <= _UINT32_MAX:
        raise AfwValueError(f"mask bit pattern {value} does not fit in 32 bits")
    return value - 2**32 if value > 2**31 - 1 else value


class Mask(PixelGrid):
    """int32 bit planes over a region of the parent frame; each named plane is one bit.

    Pixel values are OR-ed combinations of ``1 << bit``; the `planes` dictionary
    (`MaskPlaneDict`) says which name each bit means. A new mask gets
    `DEFAULT_MASK_PLANES` (BAD, SAT, INTRP, CR, EDGE, DETECTED, DETECTED_NEGATIVE, SUSPECT,
    NO_DATA, CROSSTALK, STREAK, UNMASKEDNAN at bits 0-11). Views (``mask[box]``) and
    clones share the dictionary; `add_plane` and `remove_plane` give only this mask a new
    one (copy-on-write). Combining two masks (``|=``, ``&=``, MaskedImage arithmetic)
    merges their dictionaries, and raises `MaskPlaneConflictError` if they disagree.

    Geometry, views and assignment work as for `Image`.

    Parameters
    ----------
    bbox : `Box2I` or `Extent2I` or tuple of int
        Region in the parent frame, or ``(width, height)`` at ``xy0 = (0, 0)``.
    planes : `MaskPlaneDict` or mapping of str to int, optional
        Plane dictionary; `DEFAULT_MASK_PLANES` when omitted.

    Examples
    --------
    >>> mask = Mask((4, 3))
    >>> mask.set("SAT", where=Box2I.from_begin_end(0, 0, 2, 1))
    >>> mask.set(["CR", "BAD"], where=mask.array == 0)
    >>> int(mask.select("SAT").sum()), mask.get_plane_bitmask(["BAD", "CR"])
    (2, 9)
    """

    __slots__ = ("_planes",)
    _KIND = "mask"
    _planes: MaskPlaneDict

    def __init__(
        self,
        bbox: Box2I | Extent2I | tuple[int, int],
        *,
        planes: MaskPlaneDict | dict[str, int] | None = None,
    ) -> None:
        box = as_bbox(bbox)
        self._array = np.zeros((box.height, box.width), dtype=np.int32)
        self._xy0 = box.begin
        self._planes = self._as_planes(planes)

    @staticmethod
    def _as_planes(planes: Any) -> MaskPlaneDict:
        if planes is None:
            return DEFAULT_MASK_PLANES
        return planes if isinstance(planes, MaskPlaneDict) else MaskPlaneDict(planes)

    @classmethod
    def from_array(
        cls,
        array: ArrayLike,
        *,
        xy0: Point2I | tuple[int, int] | None = None,
        planes: MaskPlaneDict | dict[str, int] | None = None,
    ) -> Mask:
        """Wrap a 2-D integer array of bit planes.

        An int32 array is used as is (the mask is a view); uint32 is reinterpreted
        without copying; other integer types (uint16 from FITS files, int64) are
        converted to int32, which copies, after checking that the values fit 32 bits.
        """
        arr = np.asarray(array)
        if arr.ndim != 2:
            raise AfwShapeError("a Mask needs a 2-D array", "(height, width)", arr.shape)
        out = object.__new__(cls)
        out._array, out._xy0, out._planes = _as_int32_bits(arr), as_point(xy0), cls._as_planes(planes)
        return out

    @classmethod
    def from_fits_keywords(
        cls,
        metadata: PropertyList | Any,
        array: ArrayLike,
        *,
        xy0: Point2I | tuple[int, int] | None = None,
    ) -> Mask:
        """Mask over ``array`` whose planes are the ``MP_<NAME> = bit`` entries of ``metadata``.

        ``metadata`` is a `PropertyList`, a mapping or an astropy FITS header (other keys
        are ignored). The bits keep the file's numbering; use `conformed_to` to move them
        onto another dictionary.
        """
        return cls.from_array(array, xy0=xy0, planes=MaskPlaneDict.from_fits_keywords(metadata))

    def _copy_extras(self, other: Mask) -> None:
        other._planes = self._planes

    def _assign(self, region: NDArray[Any], value: Any, what: str) -> None:
        # Copying bits from a mask with another numbering would change their meaning.
        planes = self._planes.merged(value._planes) if isinstance(value, Mask) else self._planes
        super()._assign(region, value, what)
        self._planes = planes

    # -- planes ----------------------------------------------------------------------------
    @property
    def planes(self) -> MaskPlaneDict:
        """The (immutable) plane dictionary of this mask."""
        return self._planes

    def plane_names(self) -> list[str]:
        """Plane names in bit order."""
        return self._planes.names()

    def get_plane_bit(self, name: str) -> int:
        """Bit number (0-31) of plane ``name``; `AfwKeyError` listing the known planes if absent."""
        return self._planes[name]

    def get_plane_bitmask(self, names: str | Iterable[str]) -> int:
        """OR of the bits of ``names`` (one name or several), as an int32 value."""
        return self._planes.bitmask(names)

    def add_plane(self, name: str) -> int:
        """Define plane ``name`` at the lowest free bit for this mask; return its bit.

        Returns the existing bit if the plane is already defined. Only this mask's
        dictionary changes; other masks, including views of this one, keep theirs.
        """
        self._planes, bit = self._planes.with_plane(name)
        return bit

    def remove_plane(self, name: str) -> None:
        """Clear plane ``name`` in this mask's pixels and drop it from this mask's dictionary."""
        self.clear(name)
        self._planes = self._planes.without_plane(name)

    def to_fits_keywords(self) -> PropertyList:
        """``MP_<NAME> = bit`` cards describing this mask's planes (afw's FITS convention)."""
        return self._planes.to_fits_keywords()

    def conformed_to(self, planes: MaskPlaneDict | Mask) -> Mask:
        """A new mask with the same pixels re-encoded in another plane dictionary.

        Each plane of this mask moves to the bit it has in ``planes``; planes that
        ``planes`` lacks are added at its free bits. Bits that belong to no named plane
        cannot be mapped and are dropped. This makes two masks combinable when they were
        written with different numberings (e.g. read from files of different versions).
        """
        target = planes.planes if isinstance(planes, Mask) else self._as_planes(planes)
        for name in self._planes:
            target, _ = target.with_plane(name)
        out = np.zeros_like(self._array)
        for name, src in self._planes.items():  # one vectorized pass per plane, not per pixel
            out |= ((self._array >> src) & 1) << target[name]
        return Mask.from_array(out, xy0=self._xy0, planes=target)

    # -- setting and selecting -------------------------------------------------------------
    def _where(self, where: NDArray[np.bool_] | Box2I | None, what: str) -> tuple[NDArray[Any], Any]:
        """(array region, boolean selector or ``...``) for ``where``."""
        if where is None:
            return self._array, ...
        if isinstance(where, Box2I):
            return self._region(where), ...
        sel = np.asarray(where)
        if sel.dtype != np.bool_:
            raise AfwValueError(f"{what}: 'where' must be a boolean array or a Box2I, got {sel.dtype}")
        if sel.shape != self._array.shape:
            raise AfwShapeError(f"{what}: 'where' must match the mask's (rows, columns)", self._array.shape, sel.shape)
        return self._array, sel

    def set(self, names: str | Iterable[str], where: NDArray[np.bool_] | Box2I | None = None) -> None:
        """Turn on the planes ``names`` where ``where`` is True (boolean array of the mask's
        shape), inside a `Box2I` (parent coordinates), or everywhere when omitted."""
        bits = self.get_plane_bitmask(names)
        region, sel = self._where(where, "Mask.set")
        region[sel] |= bits

    def clear(self, names: str | Iterable[str] | None = None, where: NDArray[np.bool_] | Box2I | None = None) -> None:
        """Turn off the planes ``names`` (all bits when omitted) at ``where`` (see `set`)."""
        bits = -1 if names is None else self.get_plane_bitmask(names)
        region, sel = self._where(where, "Mask.clear")
        region[sel] &= ~np.int32(bits)

    def select(self, names: str | Iterable[str]) -> NDArray[np.bool_]:
        """Boolean array, True where any of the planes ``names`` is set."""
        return (self._array & self.get_plane_bitmask(names)) != 0

    # -- bitwise operators -----------------------------------------------------------------
    def _operand(self, other: Any, symbol: str) -> tuple[Any, MaskPlaneDict]:
        if isinstance(other, Mask):
            self._check_same_bbox(other, f"Mask {symbol} Mask")
            return other._array, self._planes.merged(other._planes)
        if isinstance(other, (int, np.integer)) and not isinstance(other, (bool, np.bool_)):
            return _as_bitmask_operand(other), self._planes
        return NotImplemented, self._planes

    def __ior__(self, other: Mask | int) -> Mask:
        rhs, planes = self._operand(other, "|")
        if rhs is NotImplemented:
            return NotImplemented
        self._array |= rhs
        self._planes = planes
        return self

    def __iand__(self, other: Mask | int) -> Mask:
        rhs, planes = self._operand(other, "&")
        if rhs is NotImplemented:
            return NotImplemented
        self._array &= rhs
        self._planes = planes
        return self

    def __or__(self, other: Mask | int) -> Mask:
        rhs, planes = self._operand(other, "|")
        if rhs is NotImplemented:
            return NotImplemented
        return Mask.from_array(self._array | rhs, xy0=self._xy0, planes=planes)

    def __and__(self, other: Mask | int) -> Mask:
        rhs, planes = self._operand(other, "&")
        if rhs is NotImplemented:
            return NotImplemented
        return Mask.from_array(self._array & rhs, xy0=self._xy0, planes=planes)

    __ror__ = __or__
    __rand__ = __and__

    def binned(self, factor: int) -> Mask:
        """OR of each ``factor`` x ``factor`` block: a binned pixel has every plane any of its
        inputs had. Remainder rows/columns are dropped and ``xy0`` becomes ``xy0 // factor``,
        as in `Image.binned`."""
        blocks = binned_view(self._array, factor)
        out = np.bitwise_or.reduce(np.bitwise_or.reduce(blocks, axis=3), axis=1)
        return Mask.from_array(out, xy0=Point2I(self._xy0.x // factor, self._xy0.y // factor), planes=self._planes)

    def equals(self, other: object) -> bool:
        """True for the same bbox, pixels and plane dictionary."""
        return super().equals(other) and self._planes == other._planes  # type: ignore[attr-defined]
