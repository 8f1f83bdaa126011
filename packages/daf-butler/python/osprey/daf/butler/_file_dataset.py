"""`FileDataset`: an existing file to ingest, with what it is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._dataset_ref import DatasetRef
from ._dataset_type import DatasetType
from ._exceptions import DatasetTypeError

__all__ = ["FileDataset"]


@dataclass
class FileDataset:
    """A file to ingest with `Butler.ingest`.

    Give either a resolved ``ref`` (its UUID and run are kept) or a ``dataset_type`` and
    ``data_id`` (a new ref is made in the ingest's run).

    Parameters
    ----------
    path : `str` or path-like
        The existing file.
    ref : `DatasetRef`, optional
        The dataset the file holds.
    dataset_type : `str` or `DatasetType`, optional
        A registered dataset type (when ``ref`` is not given).
    data_id : mapping, optional
        The data ID (when ``ref`` is not given).
    formatter : `str`, optional
        Dotted path of the `~osprey.daf.butler.datastore.Formatter` that reads the file;
        the one configured for the dataset type or its storage class otherwise.
    """

    path: str | os.PathLike[str]
    ref: DatasetRef | None = None
    dataset_type: str | DatasetType | None = None
    data_id: Mapping[str, Any] = field(default_factory=dict)
    formatter: str | None = None

    def __post_init__(self) -> None:
        if (self.ref is None) == (self.dataset_type is None):
            raise DatasetTypeError(f"FileDataset({os.fspath(self.path)!r}) needs either ref= or dataset_type=")
