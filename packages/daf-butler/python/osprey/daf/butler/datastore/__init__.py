"""Datastores (where dataset content lives), file templates and formatters."""

from ._base import Datastore, StagedWrite
from ._chained import ChainedDatastore, Constraints
from ._factory import make_datastore
from ._file import FileDatastore
from ._in_memory import InMemoryDatastore
from ._s3 import S3Datastore
from ._templates import DEFAULT_TEMPLATE, FileTemplate
from .formatters import Formatter, JsonFormatter, NumpyFormatter, ParquetFormatter, YamlFormatter

__all__ = [
    "DEFAULT_TEMPLATE",
    "ChainedDatastore",
    "Constraints",
    "Datastore",
    "FileDatastore",
    "FileTemplate",
    "Formatter",
    "InMemoryDatastore",
    "JsonFormatter",
    "NumpyFormatter",
    "ParquetFormatter",
    "S3Datastore",
    "StagedWrite",
    "YamlFormatter",
    "make_datastore",
]
