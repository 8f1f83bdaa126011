"""`MaskPlaneDict`: the immutable name -> bit table that gives meaning to a `Mask`'s bits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import AfwKeyError, AfwValueError, MaskPlaneConflictError
from ..metadata import PropertyList

__all__ = ["DEFAULT_BAD_PLANES", "DEFAULT_MASK_PLANES", "MASK_PLANE_BITS", "MaskPlaneDict"]

MASK_PLANE_BITS = 32
"""Number of planes an int32 mask can hold (bits 0-31)."""

_NAME = re.compile(r"[A-Za-z0-9_]+")
_FITS_PREFIX = "MP_"


def _as_signed32(value: int) -> int:
    """The int32 holding the same 32 bits as the unsigned ``value`` (bit 31 is the sign)."""
    return value - (1 << 32) if value >= 1 << 31 else value


class MaskPlaneDict(Mapping[str, int]):
    """Immutable mapping from mask plane name to bit number (0-31).

    Masks share one of these by reference: views and clones of a mask share its
    dictionary for free, and changing the planes of one mask (`Mask.add_plane`) gives
    that mask a new dictionary, leaving every other mask as it was (copy-on-write).
    There is no process-wide mutable registry. Iteration is in bit order.

    Parameters
    ----------
    planes : mapping or iterable of (str, int)
        Plane names (letters, digits, underscore) and distinct bits in 0-31.

    Raises
    ------
    AfwValueError
        For a bad name, a bit outside 0-31, or a bit given to two names.
    """

    __slots__ = ("_bits",)
    _bits: dict[str, int]

    def __init__(self, planes: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        items = list(planes.items()) if isinstance(planes, Mapping) else list(planes)
        by_bit: dict[int, str] = {}
        for name, bit in items:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise AfwValueError(f"mask plane name {name!r} must be letters, digits and underscores")
            if isinstance(bit, bool) or not hasattr(bit, "__index__") or not 0 <= bit.__index__() < MASK_PLANE_BITS:
                raise AfwValueError(f"mask plane {name!r}: bit must be an int in 0-{MASK_PLANE_BITS - 1}, got {bit!r}")
            bit = bit.__index__()
            if bit in by_bit and by_bit[bit] != name:
                raise AfwValueError(f"mask planes {by_bit[bit]!r} and {name!r} both claim bit {bit}")
            by_bit[bit] = name
        if len(by_bit) != len({name for name, _ in items}):
            raise AfwValueError(f"a mask plane name is given two different bits in {items!r}")
        self._bits = {name: bit for bit, name in sorted(by_bit.items())}

    # -- Mapping ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> int:
        try:
            return self._bits[name]
        except KeyError:
            raise AfwKeyError(
                f"mask plane {name!r} is not defined; known planes are {self.names()} (use add_plane)"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._bits)

    def __len__(self) -> int:
        return len(self._bits)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MaskPlaneDict):
            return self._bits == other._bits
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._bits.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return MaskPlaneDict, (dict(self._bits),)

    def __repr__(self) -> str:
        return f"MaskPlaneDict({self._bits!r})"

    # -- queries ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Plane names in bit order."""
        return list(self._bits)

    def bitmask(self, names: str | Iterable[str]) -> int:
        """OR of ``1 << bit`` over ``names``, as the int32 value (bit 31 makes it negative)."""
        if isinstance(names, str):
            names = [names]
        value = 0
        for name in names:
            value |= 1 << self[name]
        return _as_signed32(value)

    # -- derived dictionaries --------------------------------------------------------------
    def with_plane(self, name: str) -> tuple[MaskPlaneDict, int]:
        """This dictionary plus ``name`` at the lowest free bit (unchanged if present), and its bit."""
        if name in self._bits:
            return self, self._bits[name]
        used = set(self._bits.values())
        free = [b for b in range(MASK_PLANE_BITS) if b not in used]
        if not free:
            raise AfwValueError(f"cannot add mask plane {name!r}: all {MASK_PLANE_BITS} bits are in use")
        return MaskPlaneDict({**self._bits, name: free[0]}), free[0]

    def without_plane(self, name: str) -> MaskPlaneDict:
        """This dictionary with ``name`` removed; `AfwKeyError` if absent."""
        self[name]
        return MaskPlaneDict({n: b for n, b in self._bits.items() if n != name})

    def merged(self, other: MaskPlaneDict) -> MaskPlaneDict:
        """Union of two compatible dictionaries.

        Compatible means every name present in both has the same bit and no bit belongs
        to two different names; then OR-ing the pixels of two masks keeps its meaning.

        Raises
        ------
        MaskPlaneConflictError
            Naming the plane and both bits; remap one mask with `Mask.conformed_to` first.
        """
        if other is self or other._bits == self._bits:
            return self
        by_bit = {b: n for n, b in self._bits.items()}
        for name, bit in other._bits.items():
            if name in self._bits and self._bits[name] != bit:
                raise MaskPlaneConflictError(
                    f"mask plane {name!r} is bit {self._bits[name]} in one mask and bit {bit} in the other; "
                    "remap one with Mask.conformed_to(other.planes)"
                )
            if by_bit.get(bit, name) != name:
                raise MaskPlaneConflictError(
                    f"bit {bit} is mask plane {by_bit[bit]!r} in one mask and {name!r} in the other; "
                    "remap one with Mask.conformed_to(other.planes)"
                )
        return MaskPlaneDict({**self._bits, **other._bits})

    # -- FITS ------------------------------------------------------------------------------
    def to_fits_keywords(self) -> PropertyList:
        """``MP_<NAME> = bit`` cards, the afw FITS convention for naming mask bits."""
        return PropertyList((f"{_FITS_PREFIX}{name}", bit, "mask plane bit") for name, bit in self._bits.items())

    @classmethod
    def from_fits_keywords(cls, metadata: Any) -> MaskPlaneDict:
        """Read the ``MP_<NAME> = bit`` entries of a `PropertyList`, mapping or FITS header.

        Other keys are ignored, so a whole header can be passed; a file without any
        ``MP_`` key gives an empty dictionary.
        """
        if not hasattr(metadata, "items"):
            raise AfwValueError(f"expected a PropertyList, a mapping or a FITS header, got {type(metadata).__name__}")
        planes = {}
        for key, bit in metadata.items():
            if isinstance(key, str) and key.startswith(_FITS_PREFIX):
                planes[key[len(_FITS_PREFIX) :]] = bit
        return cls(planes)


DEFAULT_MASK_PLANES = MaskPlaneDict(
    {
        name: bit
        for bit, name in enumerate(
            (
                "BAD",
                "SAT",
                "INTRP",
                "CR",
                "EDGE",
                "DETECTED",
                "DETECTED_NEGATIVE",
                "SUSPECT",
                "NO_DATA",
                "CROSSTALK",
                "STREAK",
                "UNMASKEDNAN",
            )
        )
    }
)
"""Standard planes of a new `Mask`: BAD=0, SAT=1, INTRP=2, CR=3, EDGE=4, DETECTED=5,
DETECTED_NEGATIVE=6, SUSPECT=7, NO_DATA=8, CROSSTALK=9, STREAK=10, UNMASKEDNAN=11."""

DEFAULT_BAD_PLANES: tuple[str, ...] = ("BAD", "SAT", "CR", "NO_DATA", "EDGE")
"""Planes whose pixels are unusable for most measurements; they make up the boolean mask
of astropy conversions (`MaskedImage.to_ccddata`). INTRP and SUSPECT pixels are kept
usable, because interpolated and near-saturated pixels still carry signal."""
