"""Datastores (where dataset content lives), file templates and formatters."""

from ._base import Datastore, StagedWrite
from ._file import FileDatastore
from ._in_memory import InMemoryDatastore
from ._templates import DEFAULT_TEMPLATE, FileTemplate
from .formatters import Formatter, JsonFormatter, NumpyFormatter, ParquetFormatter, YamlFormatter

__all__ = [
    "DEFAULT_TEMPLATE",
    "Datastore",
    "FileDatastore",
    "FileTemplate",
    "Formatter",
    "InMemoryDatastore",
    "JsonFormatter",
    "NumpyFormatter",
    "ParquetFormatter",
    "StagedWrite",
    "YamlFormatter",
]
