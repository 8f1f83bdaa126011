"""Building a datastore (possibly a chain of them) from a `DatastoreConfig`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._base import Datastore
from ._file import RECORDS_TABLE

if TYPE_CHECKING:
    from .._config import DatastoreConfig
    from .._storage_class import StorageClassFactory
    from ..registry._database import Database

__all__ = ["make_datastore"]


def _records_table(config: DatastoreConfig) -> str:
    return RECORDS_TABLE if config.name is None else f"{RECORDS_TABLE}_{config.name}"


def make_datastore(
    config: DatastoreConfig,
    db: Database,
    storage_classes: StorageClassFactory,
    repo_root: Path,
    *,
    create: bool = False,
) -> Datastore:
    """The datastore described by ``config`` (``create``: also create its tables).

    Parameters
    ----------
    config : `DatastoreConfig`
        ``cls`` file (a local root, or an ``s3://`` root), s3, inmemory or chained.
    db : `Database`
        The registry database; file and S3 datastores keep their records there.
    storage_classes : `StorageClassFactory`
        Storage class definitions.
    repo_root : `pathlib.Path`
        Repository root; relative local roots start there.
    create : `bool`
        Create the records tables (a new repository).
    """
    if config.cls == "chained":
        from ._chained import ChainedDatastore, Constraints

        children = []
        for child in config.children:
            rules = child.constraints
            constraints = Constraints(rules.accept, rules.reject) if rules is not None else Constraints()
            assert child.name is not None  # DatastoreConfig names chained children
            children.append(
                (child.name, make_datastore(child, db, storage_classes, repo_root, create=create), constraints)
            )
        return ChainedDatastore(children)
    if config.cls == "inmemory":
        from ._in_memory import InMemoryDatastore

        return InMemoryDatastore(db, storage_classes)
    datastore: Datastore
    if config.is_s3:
        from ._s3 import S3Datastore

        datastore = S3Datastore(
            db,
            config.root,
            storage_classes,
            config.templates,
            config.formatters,
            config.checksum,
            records_table=_records_table(config),
            endpoint_url=config.endpoint_url,
        )
    else:
        from ._file import FileDatastore

        root = Path(config.root)
        if not root.is_absolute():
            root = repo_root / root
        datastore = FileDatastore(
            db,
            root,
            storage_classes,
            config.templates,
            config.formatters,
            config.checksum,
            records_table=_records_table(config),
        )
    if create:
        datastore.create_tables()
    return datastore
