"""`ApCorrMap`: aperture corrections by flux algorithm, each a `BoundedField`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from ..errors import AfwKeyError, AfwValueError
from ._bounded_field import BoundedField

__all__ = ["ApCorrMap"]


class ApCorrMap(MutableMapping[str, BoundedField]):
    """Mapping from a flux field name (e.g. ``"base_PsfFlux_instFlux"``) to its aperture-correction field.

    Keys are strings; values must be `BoundedField` objects (a correction and its error
    are stored under two names, e.g. ``..._instFlux`` and ``..._instFluxErr``, as in LSST).
    """

    def __init__(self, items: Mapping[str, BoundedField] | None = None) -> None:
        self._fields: dict[str, BoundedField] = {}
        for name, field in (items or {}).items():
            self[name] = field

    def __getitem__(self, name: str) -> BoundedField:
        try:
            return self._fields[name]
        except KeyError:
            raise AfwKeyError(f"no aperture correction for {name!r}; have {sorted(self._fields)}") from None

    def __setitem__(self, name: str, field: BoundedField) -> None:
        if not isinstance(name, str) or not name:
            raise AfwValueError(f"aperture-correction names must be non-empty strings, got {name!r}")
        if not isinstance(field, BoundedField):
            raise AfwValueError(f"aperture correction {name!r} must be a BoundedField, got {type(field).__name__}")
        self._fields[name] = field

    def __delitem__(self, name: str) -> None:
        self[name]  # raises the explanatory AfwKeyError
        del self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApCorrMap):
            return NotImplemented
        return self._fields == other._fields

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ApCorrMap({sorted(self._fields)})"

    def to_dict(self) -> dict[str, Any]:
        """``{name: field.to_dict()}``."""
        return {name: field.to_dict() for name, field in self._fields.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApCorrMap:
        return cls({name: BoundedField.from_dict(value) for name, value in data.items()})
