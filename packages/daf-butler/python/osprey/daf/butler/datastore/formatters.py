"""Formatters: read and write one file format. No pickle anywhere.

A formatter is named by its dotted path in storage-class or datastore configuration, so
packages higher in the stack (afw) add formatters without this package importing them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml

from .._exceptions import FormatterError

__all__ = ["Formatter", "JsonFormatter", "NumpyFormatter", "ParquetFormatter", "YamlFormatter", "extract_component"]


def extract_component(obj: Any, component: str) -> Any:
    """Get a component from an in-memory object: mapping key, then attribute, then getter."""
    if isinstance(obj, Mapping) and component in obj:
        return obj[component]
    if hasattr(obj, component):
        return getattr(obj, component)
    getter = getattr(obj, f"get_{component}", None)
    if callable(getter):
        return getter()
    raise FormatterError(f"a {type(obj).__qualname__} has no component {component!r}")


class Formatter(ABC):
    """Writes an object to a path and reads it back, with optional parameters/components."""

    extension: ClassVar[str]
    """File extension, without the dot."""

    @abstractmethod
    def write(self, obj: Any, path: str) -> None:
        """Write ``obj`` to ``path`` (a temporary name; the datastore renames it)."""

    @abstractmethod
    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Read the whole object, applying read ``parameters``."""

    def read_component(self, path: str, component: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Read one component; the default reads everything and extracts it."""
        return extract_component(self.read(path, parameters), component)


class YamlFormatter(Formatter):
    """Plain data (dict, list, scalars) as YAML with the safe loader and dumper."""

    extension = "yaml"

    # libyaml's safe loader/dumper when PyYAML was built with it (several times faster,
    # same safe subset of YAML); the pure-Python ones otherwise.
    _dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    _loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def write(self, obj: Any, path: str) -> None:
        with open(path, "w") as stream:
            yaml.dump(obj, stream, Dumper=self._dumper, sort_keys=False)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        with open(path) as stream:
            return yaml.load(stream, Loader=self._loader)


class JsonFormatter(Formatter):
    """Plain data as JSON."""

    extension = "json"

    def write(self, obj: Any, path: str) -> None:
        with open(path, "w") as stream:
            json.dump(obj, stream)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        with open(path) as stream:
            return json.load(stream)


class NumpyFormatter(Formatter):
    """numpy arrays as ``.npy`` (``allow_pickle=False``; object arrays are refused).

    Read parameter ``slices``: a tuple of slices/indices applied through a memory map, so
    only the requested part is read.
    """

    extension = "npy"

    def write(self, obj: Any, path: str) -> None:
        import numpy as np

        with open(path, "wb") as stream:
            np.save(stream, obj, allow_pickle=False)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        import numpy as np

        slices = (parameters or {}).get("slices")
        if slices is None:
            return np.load(path, allow_pickle=False)
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        return np.array(mapped[slices])

    def read_component(self, path: str, component: str, parameters: Mapping[str, Any] | None = None) -> Any:
        import numpy as np

        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        if component == "shape":
            return tuple(mapped.shape)
        if component == "dtype":
            return mapped.dtype
        return super().read_component(path, component, parameters)


class ParquetFormatter(Formatter):
    """pyarrow Tables as Parquet (pyarrow is imported only when used).

    Read parameter ``columns``: the list of column names to read.
    """

    extension = "parquet"

    @staticmethod
    def _pq() -> Any:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise FormatterError("the Parquet formatter needs pyarrow: pip install pyarrow") from None
        return pq

    def write(self, obj: Any, path: str) -> None:
        self._pq().write_table(obj, path)

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        columns = (parameters or {}).get("columns")
        return self._pq().read_table(path, columns=list(columns) if columns is not None else None)

    def read_component(self, path: str, component: str, parameters: Mapping[str, Any] | None = None) -> Any:
        pq = self._pq()
        if component == "schema":
            return pq.read_schema(path)
        if component == "num_rows":
            return pq.ParquetFile(path).metadata.num_rows
        return super().read_component(path, component, parameters)
