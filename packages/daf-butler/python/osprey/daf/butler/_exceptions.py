"""The exception hierarchy of the Data Butler.

Every class derives from `ButlerError` (itself an `osprey.utils.OspreyError`) and, where a
builtin category fits, from that builtin too, so ``except LookupError`` keeps working. All
take a single message argument and therefore pickle, which matters because worker
processes send their exceptions back to the parent.
"""

from __future__ import annotations

from osprey.utils import OspreyError, OspreyValueError

__all__ = [
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
]


class ButlerError(OspreyError):
    """Root of every exception the Butler raises on purpose."""


class ButlerConfigError(ButlerError, OspreyValueError):
    """A repository or Butler configuration is missing, malformed or incompatible."""


class ButlerUsageError(ButlerError, OspreyValueError):
    """Arguments that contradict each other (e.g. ``purge`` without ``unstore``)."""


class SchemaVersionError(ButlerConfigError):
    """A repository's registry schema is older (run ``butler migrate``) or newer than the software."""


class ConflictingDefinitionError(ButlerError):
    """A definition (dataset, dataset type, record, collection) clashes with an existing one."""


class CalibrationOverlapError(ConflictingDefinitionError):
    """Certifying a dataset would give two validity ranges that overlap for one data ID."""


class CollectionCycleError(ButlerError, OspreyValueError):
    """A CHAINED collection would (directly or through nesting) contain itself."""


class CollectionTypeError(ButlerError, OspreyValueError):
    """A collection of the wrong type (e.g. a TAGGED collection used as a RUN)."""


class MissingCollectionError(ButlerError, LookupError):
    """A collection name is not registered."""


class DatasetTypeError(ButlerError, OspreyValueError):
    """A dataset type is malformed or used inconsistently with its definition."""


class MissingDatasetTypeError(ButlerError, LookupError):
    """A dataset type name is not registered."""


class DatasetNotFoundError(ButlerError, LookupError):
    """No dataset matches the dataset type, data ID and collections asked for."""


class DataIdError(ButlerError, OspreyValueError):
    """A data ID has unknown or missing keys, or values of the wrong type."""


class DataIdValueError(DataIdError, LookupError):
    """A data ID value has no dimension record (e.g. a visit that was never defined)."""


class InvalidQueryError(ButlerError, OspreyValueError):
    """A ``where`` expression, ordering or query argument that cannot be parsed or compiled.

    ``column`` (1-based) and ``expression`` locate the offending part when known; the
    message then ends with the expression and a caret line under that column.
    """

    def __init__(self, message: str, column: int | None = None, expression: str | None = None):
        super().__init__(message)
        self.column = column
        self.expression = expression

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.column, self.expression))


class InvalidTimespanError(ButlerError, OspreyValueError):
    """A timespan whose end is not after its begin, or of the wrong type."""


class OrphanedRecordError(ButlerError):
    """Removing something would leave other rows referring to it (e.g. a run in a chain)."""


class StorageClassError(ButlerError, OspreyValueError):
    """Unknown storage class, wrong Python type for it, or an unsupported read parameter."""


class DatastoreError(ButlerError):
    """A datastore could not write, find or read an artifact."""


class FileTemplateError(DatastoreError, OspreyValueError):
    """A file path template is malformed or cannot give a unique path for a dataset."""


class FormatterError(DatastoreError):
    """A formatter failed to write or read a file; the message names the file."""
