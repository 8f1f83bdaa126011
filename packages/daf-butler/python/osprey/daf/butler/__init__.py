"""The Osprey Data Butler: dimensions, SQL registry (SQLite, PostgreSQL) and file datastore.

Algorithmic code reads and writes datasets through `Butler` by dataset type and data ID;
it never knows where files are, what format they have, or where outputs go.
"""

# Each module keeps a sorted __all__. Lifted here: the user-facing types. Not lifted:
# the subpackages' building blocks (registry.Database, datastore formatters/templates,
# dimensions.DimensionElement...), which stay importable from their subpackage.
from importlib.metadata import version as _version

from ._butler import Butler
from ._collection_type import CollectionType
from ._config import ButlerConfig, DatastoreConfig, RegistryConfig
from ._dataset_ref import DatasetIdGenEnum, DatasetRef, SerializedDatasetRef, make_dataset_id
from ._dataset_type import DatasetType, SerializedDatasetType
from ._exceptions import (
    ButlerConfigError,
    ButlerError,
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
    StorageClassError,
)
from ._storage_class import StorageClass, StorageClassFactory
from ._timespan import Timespan, tai_ns_from_iso
from .dimensions import DataCoordinate, DimensionGroup, DimensionRecord, DimensionUniverse
from .registry import Registry

__version__ = _version("osprey-daf-butler")

__all__ = [
    "Butler",
    "ButlerConfig",
    "ButlerConfigError",
    "ButlerError",
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
    "FileTemplateError",
    "FormatterError",
    "InvalidQueryError",
    "InvalidTimespanError",
    "MissingCollectionError",
    "MissingDatasetTypeError",
    "OrphanedRecordError",
    "Registry",
    "RegistryConfig",
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
