"""A datastore that keeps Python objects in a dict: for tests and scratch work."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._dataset_ref import DatasetRef
from .._exceptions import DatasetNotFoundError, DatastoreError, FormatterError, StorageClassError
from .._storage_class import StorageClassFactory, import_dotted
from ..registry._database import Database
from ._base import TRANSFER_MODES, Datastore, StagedWrite
from .formatters import Formatter, extract_component

__all__ = ["InMemoryDatastore"]


class InMemoryDatastore(Datastore):
    """Keeps deep copies of objects keyed by dataset ID; nothing survives the process.

    Transactions still apply: a put rolled back with the registry transaction is removed.
    """

    def __init__(self, db: Database, storage_classes: StorageClassFactory):
        self.db = db
        self.storage_classes = storage_classes
        self._objects: dict[Any, Any] = {}

    def stage(self, obj: Any, ref: DatasetRef) -> StagedWrite:
        return StagedWrite(ref, copy.deepcopy(obj))

    def stage_ingest(
        self, path: str | Path, ref: DatasetRef, formatter: str | None, transfer: str | None
    ) -> StagedWrite:
        """Read the file with its formatter and keep the object (the file itself is left alone)."""
        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        formatter_path = formatter or storage_class.formatter
        if formatter_path is None:
            raise StorageClassError(f"storage class {storage_class.name!r} has no formatter to read {path}")
        cls = import_dotted(formatter_path)
        if not (isinstance(cls, type) and issubclass(cls, Formatter)):
            raise StorageClassError(f"{formatter_path!r} is not a Formatter subclass")
        try:
            obj = cls().read(str(path))
        except Exception as err:
            raise FormatterError(f"{formatter_path} failed to read {path} for {ref}: {err}") from err
        return StagedWrite(ref, obj)

    def commit(self, staged: Iterable[StagedWrite]) -> None:
        for item in staged:
            key = item.ref.id
            self._objects[key] = item.payload
            self.db.register_undo(lambda key=key: self._objects.pop(key, None))

    def discard(self, staged: Iterable[StagedWrite]) -> None:
        return None

    def get(self, ref: DatasetRef, parameters: Mapping[str, Any] | None = None) -> Any:
        try:
            obj = self._objects[ref.id]
        except KeyError:
            raise DatasetNotFoundError(f"dataset {ref} is not in the in-memory datastore") from None
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        storage_class.validate_parameters(parameters, f"reading {ref}")
        if parameters and "slices" in parameters:
            obj = obj[parameters["slices"]]
        if parameters and "columns" in parameters:
            obj = obj.select(list(parameters["columns"]))
        if ref.component is not None:
            return copy.deepcopy(extract_component(obj, ref.component))
        return copy.deepcopy(obj)

    def exists(self, ref: DatasetRef) -> bool:
        return ref.id in self._objects

    def remove(self, ids: Iterable[Any]) -> None:
        """Drop the objects now; a rollback of the enclosing transaction restores them."""
        removed = {i: self._objects.pop(i) for i in list(ids) if i in self._objects}
        if removed and self.db.in_transaction:
            self.db.register_undo(lambda: self._objects.update(removed))
