"""Dataset types: a name, the dimensions of its data IDs and a storage class."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pydantic

from ._exceptions import DatasetTypeError
from .dimensions import DimensionGroup, DimensionUniverse

__all__ = ["DatasetType", "SerializedDatasetType"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SerializedDatasetType(pydantic.BaseModel):
    """Plain form of a `DatasetType` for YAML/JSON."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str
    dimensions: list[str]
    storage_class: str
    is_calibration: bool = False


class DatasetType:
    """The kind of a dataset: name, dimensions of its data IDs and storage class.

    Parameters
    ----------
    name : `str`
        Letters, digits and underscores; a dot separates a component (``calexp.wcs``)
        and is only valid through `component_of`.
    dimensions : `DimensionGroup` or iterable of `str`
        Dimensions of the data IDs (closed under requires/implies automatically).
    storage_class : `str`
        Name of the storage class (e.g. ``"NumpyArray"``).
    universe : `DimensionUniverse`, optional
        Needed when ``dimensions`` are names; the default universe otherwise.
    is_calibration : `bool`
        Whether datasets of this type may be certified in CALIBRATION collections.
    """

    __slots__ = ("name", "dimensions", "storage_class", "is_calibration")

    def __init__(
        self,
        name: str,
        dimensions: DimensionGroup | Iterable[str],
        storage_class: str,
        universe: DimensionUniverse | None = None,
        *,
        is_calibration: bool = False,
    ):
        if not isinstance(name, str) or not _NAME.match(name):
            raise DatasetTypeError(
                f"dataset type name {name!r} must start with a letter or underscore and contain only "
                "letters, digits and underscores"
            )
        if not isinstance(dimensions, DimensionGroup):
            dimensions = (universe or DimensionUniverse.default()).group(dimensions)
        if not isinstance(storage_class, str) or not storage_class:
            raise DatasetTypeError(f"dataset type {name!r}: storage class must be a name, got {storage_class!r}")
        self.name = name
        self.dimensions = dimensions
        self.storage_class = storage_class
        self.is_calibration = bool(is_calibration)

    @staticmethod
    def split_component_name(name: str) -> tuple[str, str | None]:
        """Split ``"calexp.wcs"`` into ``("calexp", "wcs")``; no dot gives ``(name, None)``."""
        parent, _, component = name.partition(".")
        return parent, (component or None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetType):
            return NotImplemented
        return (self.name, self.dimensions, self.storage_class, self.is_calibration) == (
            other.name,
            other.dimensions,
            other.storage_class,
            other.is_calibration,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.dimensions, self.storage_class))

    def to_simple(self) -> SerializedDatasetType:
        """The serializable form."""
        return SerializedDatasetType(
            name=self.name,
            dimensions=list(self.dimensions.required),
            storage_class=self.storage_class,
            is_calibration=self.is_calibration,
        )

    @classmethod
    def from_simple(cls, simple: SerializedDatasetType, universe: DimensionUniverse) -> DatasetType:
        """Inverse of `to_simple`."""
        return cls(simple.name, simple.dimensions, simple.storage_class, universe, is_calibration=simple.is_calibration)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.name, self.dimensions.required, self.storage_class, self.is_calibration)

    def __repr__(self) -> str:
        calib = ", is_calibration=True" if self.is_calibration else ""
        return f"DatasetType({self.name!r}, {list(self.dimensions.required)}, {self.storage_class!r}{calib})"


def _rebuild(name: str, dims: tuple[str, ...], storage_class: str, is_calibration: bool) -> DatasetType:
    return DatasetType(name, dims, storage_class, is_calibration=is_calibration)
