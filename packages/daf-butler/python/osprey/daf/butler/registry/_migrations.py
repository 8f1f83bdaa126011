"""Registry schema versions and the steps that upgrade a repository from one to the next.

The schema version is the integer stored as ``schema_version`` in the
``butler_attributes`` table. `Registry.open` refuses a repository with another version:
an older one names ``butler migrate``, a newer one asks for newer software. Each step in
`MIGRATIONS` upgrades version ``n`` to ``n + 1`` inside one transaction (DDL is
transactional on SQLite and PostgreSQL), so a failed step leaves the repository at ``n``.

History
-------
1. The first released layout.
2. Index on ``dataset_id`` of every calibration (``dataset_calibs_*``) table, so pruning or
   purging calibration datasets (``Butler.prune_datasets``) and the ``ON DELETE CASCADE``
   from ``dataset`` do not scan whole certification tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from osprey.utils import get_logger

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "calib_dataset_index_name"]

_log = get_logger(__name__)

SCHEMA_VERSION = 2
"""The schema version this software writes and reads."""


def calib_dataset_index_name(table_name: str) -> str:
    """Name of the index on ``dataset_id`` of a calibration table (schema version >= 2)."""
    return f"{table_name}_dataset"


@dataclass(frozen=True)
class Migration:
    """One upgrade step from ``version`` to ``version + 1``."""

    version: int
    description: str
    apply: Callable[[sa.Connection, sa.MetaData, sa.Table], None]
    """``apply(conn, metadata, dataset_type_table)``, run inside the migration transaction."""


def _index_calib_dataset_ids(conn: sa.Connection, metadata: sa.MetaData, dataset_type: sa.Table) -> None:
    names = conn.execute(
        sa.select(dataset_type.c.calib_table).where(dataset_type.c.calib_table.is_not(None)).distinct()
    ).scalars()
    reflected = sa.MetaData(schema=metadata.schema)
    for name in sorted(set(names)):
        table = sa.Table(name, reflected, autoload_with=conn)
        index = sa.Index(calib_dataset_index_name(name), table.c.dataset_id)
        index.create(conn, checkfirst=True)
        _log.info("created index %s", index.name)


MIGRATIONS: dict[int, Migration] = {
    1: Migration(1, "index dataset_id of the calibration tables", _index_calib_dataset_ids),
}
