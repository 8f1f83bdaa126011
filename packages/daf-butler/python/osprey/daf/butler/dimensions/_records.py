"""Dimension records: the rows of dimension-element tables as Python objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import DataIdError
from .._timespan import Timespan
from ._universe import DimensionElement

__all__ = ["DimensionRecord"]


class DimensionRecord:
    """One record of a dimension element, with attribute access to its fields.

    Parameters
    ----------
    element : `DimensionElement`
        The element the record belongs to.
    **values
        One value per field of ``element.record_fields``. Keys of required dimensions use
        the element's key name for its own value (``visit`` records have ``id``, not
        ``visit``) and the dimension name for the others (``instrument``). ``region`` is an
        `osprey.geom.Region`, ``timespan`` a `Timespan`; metadata fields default to None.
    """

    __slots__ = ("element", "_values")

    def __init__(self, element: DimensionElement, **values: Any):
        fields = element.record_fields
        unknown = set(values) - set(fields)
        if unknown:
            raise DataIdError(
                f"unknown field(s) {sorted(unknown)} for a {element.name!r} record; fields are {list(fields)}"
            )
        for d in element.required:
            name = element.column_name(d)
            if values.get(name) is None:
                raise DataIdError(f"a {element.name!r} record needs a value for {name!r}: got {values}")
        timespan = values.get("timespan")
        if timespan is not None and not isinstance(timespan, Timespan):
            raise DataIdError(f"'timespan' of a {element.name!r} record must be a Timespan, got {timespan!r}")
        self.element = element
        self._values = {name: _plain(values.get(name)) for name in fields}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self.element.name!r} records have no field {name!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """All fields as a new dict (region and timespan objects included)."""
        return dict(self._values)

    @property
    def data_id_values(self) -> dict[str, Any]:
        """The record's required-dimension values keyed by dimension name."""
        return {d: self._values[self.element.column_name(d)] for d in self.element.required}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DimensionRecord)
            and other.element.name == self.element.name
            and other._values == self._values
        )

    def __hash__(self) -> int:
        return hash((self.element.name, tuple(self.data_id_values.values())))

    def __reduce__(self) -> tuple[Any, ...]:
        from ._universe import DimensionUniverse

        return _rebuild_record, (self.element.name, self._values, DimensionUniverse.default())

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._values.items() if v is not None)
        return f"{self.element.name}.RecordClass({shown})"


def _rebuild_record(name: str, values: Mapping[str, Any], universe: Any) -> DimensionRecord:
    return DimensionRecord(universe[name], **values)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones so records compare and serialise cleanly."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    return value
