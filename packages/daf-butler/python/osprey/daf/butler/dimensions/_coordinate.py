"""Data coordinates (data IDs): validated mappings from dimension names to values."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._exceptions import DataIdError
from .._timespan import Timespan
from ._records import DimensionRecord
from ._universe import DimensionGroup, DimensionUniverse

__all__ = ["DataCoordinate", "DataIdValue", "normalize_value"]

DataIdValue = int | str


def normalize_value(universe: DimensionUniverse, dimension: str, value: Any) -> DataIdValue:
    """Check and convert one data ID value to the dimension's key type.

    Integer keys accept any integral value (numpy integers included) but not bool or
    float; string keys accept `str` (numpy ``str_`` included). The value is never
    interpreted: a string is stored and compared as exactly that string.
    """
    key = universe[dimension].key
    assert key is not None
    if key.type == "int":
        if isinstance(value, bool):
            raise DataIdError(f"data ID value for {dimension!r} must be an integer, got {value!r}")
        try:
            return operator.index(value)
        except TypeError:
            raise DataIdError(
                f"data ID value for {dimension!r} must be an integer, got {value!r} ({type(value).__name__})"
            ) from None
    if not isinstance(value, str):
        raise DataIdError(f"data ID value for {dimension!r} must be a string, got {value!r} ({type(value).__name__})")
    if len(value) > key.length:
        raise DataIdError(f"data ID value for {dimension!r} is longer than {key.length} characters: {value!r}")
    return str(value)


class DataCoordinate(Mapping[str, DataIdValue]):
    """An immutable, validated data ID over a `DimensionGroup`.

    Always holds the group's required values; a *full* coordinate also holds the implied
    values, an *expanded* one also the dimension records (see `has_full`, `has_records`).
    As a mapping it exposes every value it knows. Use `standardize` to build one.
    """

    __slots__ = ("_dimensions", "_values", "_records")

    def __init__(
        self,
        dimensions: DimensionGroup,
        values: Mapping[str, DataIdValue],
        records: Mapping[str, DimensionRecord | None] | None = None,
    ):
        self._dimensions = dimensions
        self._values = {n: values[n] for n in dimensions.names if n in values}
        self._records = dict(records) if records is not None else None

    @classmethod
    def _from_trusted(cls, dimensions: DimensionGroup, values: dict[str, DataIdValue]) -> DataCoordinate:
        """Build from values already checked, normalised and keyed by names of ``dimensions``.

        For query results read back from the registry; the dict is used as it is.
        """
        self = object.__new__(cls)
        self._dimensions = dimensions
        self._values = values
        self._records = None
        return self

    @classmethod
    def standardize(
        cls,
        data_id: Mapping[str, Any] | None = None,
        *,
        universe: DimensionUniverse | None = None,
        dimensions: DimensionGroup | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> DataCoordinate:
        """Validate a mapping (plus keyword values) against a dimension group.

        Parameters
        ----------
        data_id : mapping, optional
            Dimension name -> value; a `DataCoordinate` keeps its records if usable.
        universe : `DimensionUniverse`, optional
            Defaults to the universe of ``dimensions`` or of ``data_id``, else the default.
        dimensions : `DimensionGroup` or names, optional
            The group to conform to; inferred from the keys when omitted.
        **kwargs
            More values, overriding ``data_id``.

        Raises
        ------
        DataIdError
            Unknown keys, keys outside ``dimensions``, missing required keys, or values of
            the wrong type; the message names the key.
        """
        values: dict[str, Any] = dict(data_id) if data_id is not None else {}
        values.update(kwargs)
        if universe is None:
            if isinstance(dimensions, DimensionGroup):
                universe = dimensions.universe
            elif isinstance(data_id, DataCoordinate):
                universe = data_id.universe
            else:
                universe = DimensionUniverse.default()
        for key in values:
            element = universe[key]
            if not element.is_dimension:
                raise DataIdError(f"data ID key {key!r} is a join element, not a dimension")
        if dimensions is None:
            group = universe.group(values)
        elif isinstance(dimensions, DimensionGroup):
            group = dimensions
        else:
            group = universe.group(dimensions)
        extra = [k for k in values if k not in group.names]
        if extra:
            raise DataIdError(f"data ID {values} has key(s) {extra} that are not in the dimensions {group}")
        missing = [d for d in group.required if d not in values]
        if missing:
            raise DataIdError(f"data ID {values} is missing required key(s) {missing} of dimensions {group}")
        normalized = {k: normalize_value(universe, k, v) for k, v in values.items()}
        records = None
        if isinstance(data_id, DataCoordinate) and data_id._records is not None and not kwargs:
            if all(e in data_id._records for e in group.elements):
                records = {e: data_id._records[e] for e in group.elements}
        return cls(group, normalized, records)

    @classmethod
    def make_empty(cls, universe: DimensionUniverse) -> DataCoordinate:
        """The data ID of no dimensions (for dataset types such as a global config)."""
        return cls(universe.empty, {}, {})

    @property
    def universe(self) -> DimensionUniverse:
        """The universe of this coordinate's dimensions."""
        return self._dimensions.universe

    @property
    def dimensions(self) -> DimensionGroup:
        """The group this coordinate identifies a point of."""
        return self._dimensions

    @property
    def required(self) -> dict[str, DataIdValue]:
        """The required values, in dimension order."""
        return {d: self._values[d] for d in self._dimensions.required}

    def has_full(self) -> bool:
        """True when every implied value is known."""
        return all(d in self._values for d in self._dimensions.implied)

    def has_records(self) -> bool:
        """True when the records of all the group's elements are attached (see `expanded`)."""
        return self._records is not None

    @property
    def records(self) -> Mapping[str, DimensionRecord | None]:
        """Element name -> record (None for a join element with no row)."""
        if self._records is None:
            raise DataIdError(f"data ID {self} has no records; use Registry.expand_data_id first")
        return self._records

    def expanded(self, records: Mapping[str, DimensionRecord | None]) -> DataCoordinate:
        """A copy with ``records`` attached and implied values filled from them.

        Raises `DataIdError` when a value given in this coordinate disagrees with a record
        (e.g. ``band='g'`` with a visit taken through an r filter).
        """
        values = dict(self._values)
        for name in self._dimensions.names:
            record = records.get(name)
            if record is None:
                continue
            for implied in record.element.implied:
                value = getattr(record, implied)
                if implied in values and value is not None and values[implied] != value:
                    raise DataIdError(
                        f"data ID {self} says {implied}={values[implied]!r} but the "
                        f"{name} record says {implied}={value!r}"
                    )
                if value is not None:
                    values[implied] = value
        return DataCoordinate(self._dimensions, values, {e: records.get(e) for e in self._dimensions.elements})

    def subset(self, dimensions: DimensionGroup | Iterable[str]) -> DataCoordinate:
        """The coordinate restricted to a subgroup (records and implied values carried over)."""
        group = dimensions if isinstance(dimensions, DimensionGroup) else self.universe.group(dimensions)
        missing = [d for d in group.required if d not in self._values]
        if missing:
            raise DataIdError(f"cannot take a {group} subset of {self}: no value for {missing}")
        records = None
        if self._records is not None and all(e in self._records for e in group.elements):
            records = {e: self._records[e] for e in group.elements}
        return DataCoordinate(group, {k: v for k, v in self._values.items() if k in group.names}, records)

    @property
    def timespan(self) -> Timespan | None:
        """The timespan of the first temporal record attached (exposure, visit, day_obs)."""
        if self._records is None:
            return None
        for name in ("exposure", "visit", "day_obs"):
            record = self._records.get(name)
            if record is not None and record.timespan is not None:
                return record.timespan
        return None

    @property
    def region(self) -> Any:
        """The region of the most specific spatial record attached, or None."""
        if self._records is None:
            return None
        for name in ("visit_detector_region", "patch", "visit", "tract"):
            record = self._records.get(name)
            if record is not None and record.region is not None:
                return record.region
        return None

    # Mapping interface ----------------------------------------------------------------
    def __getitem__(self, key: str) -> DataIdValue:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(f"data ID {self} has no value for {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DataCoordinate):
            return self._dimensions.required == other._dimensions.required and self.required == other.required
        if isinstance(other, Mapping):
            return dict(self._values) == dict(other) or self.required == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._dimensions.required, tuple(self.required.values())))

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k}: {v!r}" for k, v in self._values.items()) + "}"

    def to_simple(self) -> dict[str, DataIdValue]:
        """A plain dict of every known value (JSON/YAML friendly)."""
        return dict(self._values)
