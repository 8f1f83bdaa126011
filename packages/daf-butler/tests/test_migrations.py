"""Schema versions: checked on open, and ``butler migrate`` upgrading a version-1 repository."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from osprey.daf.butler import Butler, SchemaVersionError, Timespan
from osprey.daf.butler.cli import cli
from osprey.daf.butler.registry._migrations import SCHEMA_VERSION, calib_dataset_index_name

T0 = 1_750_000_000 * 10**9


def _engine_and_schema(butler: Butler) -> tuple[sa.Engine, str | None]:
    db = butler.registry.db
    return sa.create_engine(db.url), db.namespace


def _indexes(engine: sa.Engine, schema: str | None, table: str) -> set[str]:
    return {ix["name"] for ix in sa.inspect(engine).get_indexes(table, schema=schema)}


def _set_version(engine: sa.Engine, schema: str | None, version: int) -> None:
    attributes = sa.Table("butler_attributes", sa.MetaData(schema=schema), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(attributes.update().where(attributes.c.name == "schema_version").values(value=str(version)))


@pytest.fixture
def calib_repo(make_butler, populate_repo):
    """A repository with a certified calibration; returns (root, calib table name, engine, schema)."""
    butler = make_butler(run="run1")
    populate_repo(butler)
    butler.register_dataset_type("bias", ["instrument", "detector"], "StructuredDataDict", is_calibration=True)
    refs = [butler.put({"d": d}, "bias", instrument="Cam", detector=d) for d in range(3)]
    butler.certify("calib", refs, Timespan(T0, T0 + 10**12))
    calib_table = butler.registry._storage("bias").calibs.name
    engine, schema = _engine_and_schema(butler)
    root = butler.root
    butler.close()
    yield root, calib_table, engine, schema
    engine.dispose()


def _downgrade_to_version_1(engine: sa.Engine, schema: str | None, calib_table: str) -> None:
    """Give the repository exactly the version-1 layout: no dataset_id index on calibration tables."""
    table = sa.Table(calib_table, sa.MetaData(schema=schema), autoload_with=engine)
    with engine.begin() as conn:
        sa.Index(calib_dataset_index_name(calib_table), table.c.dataset_id).drop(conn)
    _set_version(engine, schema, 1)


def test_new_repositories_have_the_current_version(calib_repo):
    root, calib_table, engine, schema = calib_repo
    assert SCHEMA_VERSION == 2
    assert calib_dataset_index_name(calib_table) in _indexes(engine, schema, calib_table)
    attributes = sa.Table("butler_attributes", sa.MetaData(schema=schema), autoload_with=engine)
    with engine.connect() as conn:
        version = conn.execute(sa.select(attributes.c.value).where(attributes.c.name == "schema_version")).scalar()
    assert version == "2"
    assert Butler.migrate(root) == []


def test_older_repository_is_refused_then_migrated(calib_repo):
    root, calib_table, engine, schema = calib_repo
    _downgrade_to_version_1(engine, schema, calib_table)
    assert calib_dataset_index_name(calib_table) not in _indexes(engine, schema, calib_table)
    with pytest.raises(SchemaVersionError, match=r"schema version 1, older than this software's 2.*butler migrate"):
        Butler.from_config(root)

    result = CliRunner().invoke(cli, ["migrate", str(root)])
    assert result.exit_code == 0, result.output
    assert "schema version 1 -> 2: index dataset_id of the calibration tables" in result.output
    assert calib_dataset_index_name(calib_table) in _indexes(engine, schema, calib_table)

    with Butler.from_config(root, collections="calib") as butler:  # opens, data intact
        for d in range(3):
            assert butler.get("bias", instrument="Cam", detector=d, timespan=Timespan.at(T0 + 1)) == {"d": d}
        # The purge path that the index serves works on the migrated repository.
        [ref] = butler.query_datasets("bias", "calib", where="detector = 1", timespan=Timespan.at(T0 + 1))
        butler.prune_datasets([ref], purge=True)
        assert len(butler.registry.query_certifications("calib")) == 2
    result = CliRunner().invoke(cli, ["migrate", str(root)])
    assert result.exit_code == 0 and "nothing to do" in result.output


def test_newer_repository_is_refused(calib_repo):
    root, _, engine, schema = calib_repo
    _set_version(engine, schema, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaVersionError, match="schema version 3, newer than this software's 2.*upgrade osprey"):
        Butler.from_config(root)
    with pytest.raises(SchemaVersionError, match="cannot be migrated down"):
        Butler.migrate(root)
    result = CliRunner().invoke(cli, ["migrate", str(root)])
    assert result.exit_code == 1 and "SchemaVersionError" in result.output
