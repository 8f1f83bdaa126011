"""The Osprey Data Butler: dimensions, SQL registry (SQLite, PostgreSQL) and file datastore.

Algorithmic code reads and writes datasets through `Butler` by dataset type and data ID;
it never knows where files are, what format they have, or where outputs go.
"""

# Each module keeps a sorted __all__. Lifted here: the user-facing types. Not lifted:
# the subpackages' building blocks (registry.Database, datastore formatters/templates,
# dimensions.DimensionElement...), which stay importable from their subpackage.
#
# The lifted names are imported on first use (PEP 562 ``__getattr__``): ``import
# osprey.daf.butler`` itself loads neither SQLAlchemy nor pydantic, and
# ``from osprey.daf.butler import Timespan`` loads only what Timespan needs.
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Butler": "._butler",
    "CollectionType": "._collection_type",
    "ButlerConfig": "._config",
    "DatastoreConfig": "._config",
    "RegistryConfig": "._config",
    "DatasetIdGenEnum": "._dataset_id_gen",
    "DatasetRef": "._dataset_ref",
    "SerializedDatasetRef": "._dataset_ref",
    "make_dataset_id": "._dataset_ref",
    "DatasetType": "._dataset_type",
    "SerializedDatasetType": "._dataset_type",
    "FileDataset": "._file_dataset",
    "StorageClass": "._storage_class",
    "StorageClassFactory": "._storage_class",
    "Timespan": "._timespan",
    "tai_ns_from_iso": "._timespan",
    "DataCoordinate": ".dimensions",
    "DimensionGroup": ".dimensions",
    "DimensionRecord": ".dimensions",
    "DimensionUniverse": ".dimensions",
    "Registry": ".registry",
}
_ERRORS = (
    "ButlerConfigError",
    "ButlerError",
    "ButlerUsageError",
    "CalibrationOverlapError",
    "CollectionCycleError",
    "CollectionTypeError",
    "ConflictingDefinitionError",
    "DataIdError",
    "DataIdValueError",
    "DatasetNotFoundError",
    "DatasetTypeError",
    "DatastoreError",
    "FileTemplateError",
    "FormatterError",
    "InvalidQueryError",
    "InvalidTimespanError",
    "MissingCollectionError",
    "MissingDatasetTypeError",
    "OrphanedRecordError",
    "SchemaVersionError",
    "StorageClassError",
)
_WHERE.update(dict.fromkeys(_ERRORS, "._exceptions"))
_SUBPACKAGES = frozenset({"cli", "datastore", "dimensions", "queries", "registry"})

if TYPE_CHECKING:  # what static checkers and IDEs see
    from ._butler import Butler
    from ._collection_type import CollectionType
    from ._config import ButlerConfig, DatastoreConfig, RegistryConfig
    from ._dataset_id_gen import DatasetIdGenEnum
    from ._dataset_ref import DatasetRef, SerializedDatasetRef, make_dataset_id
    from ._dataset_type import DatasetType, SerializedDatasetType
    from ._exceptions import (
        ButlerConfigError,
        ButlerError,
        ButlerUsageError,
        CalibrationOverlapError,
        CollectionCycleError,
        CollectionTypeError,
        ConflictingDefinitionError,
        DataIdError,
        DataIdValueError,
        DatasetNotFoundError,
        DatasetTypeError,
        DatastoreError,
        FileTemplateError,
        FormatterError,
        InvalidQueryError,
        InvalidTimespanError,
        MissingCollectionError,
        MissingDatasetTypeError,
        OrphanedRecordError,
        SchemaVersionError,
        StorageClassError,
    )
    from ._file_dataset import FileDataset
    from ._storage_class import StorageClass, StorageClassFactory
    from ._timespan import Timespan, tai_ns_from_iso
    from .dimensions import DataCoordinate, DimensionGroup, DimensionRecord, DimensionUniverse
    from .registry import Registry

    __version__: str


def __getattr__(name: str) -> Any:
    import importlib

    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("osprey-daf-butler")
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Butler",
    "ButlerConfig",
    "ButlerConfigError",
    "ButlerError",
    "ButlerUsageError",
    "CalibrationOverlapError",
    "CollectionCycleError",
    "CollectionType",
    "CollectionTypeError",
    "ConflictingDefinitionError",
    "DataCoordinate",
    "DataIdError",
    "DataIdValueError",
    "DatasetIdGenEnum",
    "DatasetNotFoundError",
    "DatasetRef",
    "DatasetType",
    "DatasetTypeError",
    "DatastoreConfig",
    "DatastoreError",
    "DimensionGroup",
    "DimensionRecord",
    "DimensionUniverse",
    "FileDataset",
    "FileTemplateError",
    "FormatterError",
    "InvalidQueryError",
    "InvalidTimespanError",
    "MissingCollectionError",
    "MissingDatasetTypeError",
    "OrphanedRecordError",
    "Registry",
    "RegistryConfig",
    "SchemaVersionError",
    "SerializedDatasetRef",
    "SerializedDatasetType",
    "StorageClass",
    "StorageClassError",
    "StorageClassFactory",
    "Timespan",
    "__version__",
    "make_dataset_id",
    "tai_ns_from_iso",
]
