"""Truth tables as Parquet (pyarrow), with the simulation settings in the file metadata."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SimsConfigError
from .scene import Catalog

__all__ = ["read_truth", "write_truth"]


def write_truth(catalog: Catalog, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a column dict as a Parquet table; ``metadata`` is stored as JSON under ``osprey.sims``.

    Columns must be 1-d and of equal length. The file is written atomically.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    lengths = {k: np.asarray(v).shape for k, v in catalog.items()}
    sizes = {s[0] if len(s) == 1 else None for s in lengths.values()}
    if None in sizes or len(sizes) > 1:
        raise SimsConfigError(f"truth table {os.fspath(path)}: columns must be 1-d and equal length, got {lengths}")
    table = pa.table({k: np.asarray(v) for k, v in catalog.items()})
    meta = {b"osprey.sims": json.dumps(dict(metadata or {}), default=str).encode()}
    table = table.replace_schema_metadata(meta)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    return target


def read_truth(path: str | os.PathLike[str]) -> tuple[Catalog, dict[str, Any]]:
    """Read a table written by `write_truth`: (columns as numpy arrays, metadata)."""
    import pyarrow.parquet as pq

    table = pq.read_table(os.fspath(path))
    meta = table.schema.metadata or {}
    info = json.loads(meta.get(b"osprey.sims", b"{}"))
    return {name: table.column(name).to_numpy() for name in table.column_names}, info
