"""Resolved references to datasets, and how their UUIDs are made."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic

from ._dataset_id_gen import DatasetIdGenEnum
from ._dataset_type import DatasetType, SerializedDatasetType
from .dimensions import DataCoordinate, DimensionUniverse

__all__ = ["DatasetIdGenEnum", "DatasetRef", "SerializedDatasetRef", "make_dataset_id"]

# Fixed namespace for deterministic (UUID5) dataset IDs; never change it.
_NAMESPACE = uuid.UUID("0c3a1a0e-5b6f-4c3e-9f5d-6f8e2f0b7a11")


def make_dataset_id(
    dataset_type: DatasetType, data_id: DataCoordinate, run: str, mode: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE
) -> uuid.UUID:
    """A dataset UUID: random (UUID4) or deterministic (UUID5), see `DatasetIdGenEnum`."""
    if mode is DatasetIdGenEnum.UNIQUE:
        return uuid.uuid4()
    parts = [f"dataset_type={dataset_type.name}"]
    parts += [f"{k}={v!r}" for k, v in data_id.required.items()]
    if mode is DatasetIdGenEnum.DATAID_TYPE_RUN:
        parts.append(f"run={run}")
    return uuid.uuid5(_NAMESPACE, ",".join(parts))


class SerializedDatasetRef(pydantic.BaseModel):
    """Plain form of a `DatasetRef` for YAML/JSON and for sending to other processes."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID
    dataset_type: SerializedDatasetType
    data_id: dict[str, int | str]
    run: str
    component: str | None = None


class DatasetRef:
    """A resolved reference to one dataset: its UUID, type, data ID and run.

    Parameters
    ----------
    dataset_type : `DatasetType`
        The (parent) dataset type.
    data_id : `DataCoordinate`
        Over exactly ``dataset_type.dimensions``.
    run : `str`
        The RUN collection the dataset belongs to.
    id : `uuid.UUID`
        The dataset ID.
    component : `str`, optional
        For a read of one component (``"wcs"``) of the dataset.
    """

    __slots__ = ("id", "dataset_type", "data_id", "run", "component")

    def __init__(
        self,
        dataset_type: DatasetType,
        data_id: DataCoordinate,
        run: str,
        id: uuid.UUID,
        component: str | None = None,
    ):
        self.dataset_type = dataset_type
        self.data_id = data_id
        self.run = run
        self.id = id
        self.component = component

    def make_component_ref(self, component: str) -> DatasetRef:
        """The same dataset, read as one of its components."""
        return DatasetRef(self.dataset_type, self.data_id, self.run, self.id, component)

    @property
    def parent(self) -> DatasetRef:
        """The whole dataset (this ref without its component)."""
        return self if self.component is None else DatasetRef(self.dataset_type, self.data_id, self.run, self.id)

    @property
    def dataset_type_name(self) -> str:
        """``name`` or ``name.component``."""
        return self.dataset_type.name + (f".{self.component}" if self.component else "")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetRef):
            return NotImplemented
        return (self.id, self.component) == (other.id, other.component)

    def __hash__(self) -> int:
        return hash((self.id, self.component))

    def to_simple(self) -> SerializedDatasetRef:
        """The serializable form."""
        return SerializedDatasetRef(
            id=self.id,
            dataset_type=self.dataset_type.to_simple(),
            data_id=self.data_id.required,
            run=self.run,
            component=self.component,
        )

    @classmethod
    def from_simple(cls, simple: SerializedDatasetRef, universe: DimensionUniverse) -> DatasetRef:
        """Inverse of `to_simple` (the data ID comes back unexpanded)."""
        dataset_type = DatasetType.from_simple(simple.dataset_type, universe)
        data_id = DataCoordinate.standardize(simple.data_id, dimensions=dataset_type.dimensions)
        return cls(dataset_type, data_id, simple.run, simple.id, simple.component)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.to_simple().model_dump_json(),)

    def __repr__(self) -> str:
        return f"DatasetRef({self.dataset_type_name!r}, {self.data_id}, run={self.run!r}, id={self.id})"


def _rebuild(text: str) -> DatasetRef:
    return DatasetRef.from_simple(SerializedDatasetRef.model_validate_json(text), DimensionUniverse.default())
