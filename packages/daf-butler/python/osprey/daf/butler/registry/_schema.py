"""Table definitions generated from the dimension universe (SQLAlchemy Core).

Everything uses portable SQLAlchemy types (BigInteger, String, Double, Boolean,
LargeBinary, Uuid), so the same definitions work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from ..dimensions import DimensionElement, DimensionGroup, DimensionUniverse, FieldSpec
from ._migrations import calib_dataset_index_name

__all__ = ["StaticTables", "calib_table_name", "dimension_column_type", "make_dynamic_tables", "tags_table_name"]

# An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY).
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _type(spec: FieldSpec) -> sa.types.TypeEngine:
    if spec.type == "int":
        return sa.BigInteger()
    if spec.type == "float":
        return sa.Double()
    if spec.type == "bool":
        return sa.Boolean()
    return sa.String(spec.length)


def dimension_column_type(universe: DimensionUniverse, dimension: str) -> sa.types.TypeEngine:
    """SQL type of the column holding a value of ``dimension``."""
    key = universe[dimension].key
    assert key is not None
    return _type(key)


def _fq(metadata: sa.MetaData, name: str) -> str:
    return f"{metadata.schema}.{name}" if metadata.schema else name


def _dimension_foreign_keys(
    metadata: sa.MetaData, universe: DimensionUniverse, dimensions: tuple[str, ...], column_for: dict[str, str]
) -> list[sa.ForeignKeyConstraint]:
    """FKs from our columns to each table-backed dimension in ``dimensions``."""
    out = []
    for name in dimensions:
        target = universe[name]
        if not target.has_table:
            continue
        local = [column_for[d] for d in target.required]
        remote = [_fq(metadata, f"{name}.{target.column_name(d)}") for d in target.required]
        out.append(sa.ForeignKeyConstraint(local, remote))
    return out


def _element_table(metadata: sa.MetaData, universe: DimensionUniverse, element: DimensionElement) -> sa.Table:
    columns: list[sa.SchemaItem] = []
    column_for: dict[str, str] = {}
    for d in element.required:
        name = element.column_name(d)
        column_for[d] = name
        columns.append(sa.Column(name, dimension_column_type(universe, d), primary_key=True, autoincrement=False))
    for d in element.implied:
        column_for[d] = d
        columns.append(sa.Column(d, dimension_column_type(universe, d), nullable=True))
    for spec in element.metadata:
        columns.append(sa.Column(spec.name, _type(spec), nullable=True))
    if element.spatial:
        columns.append(sa.Column("region", sa.LargeBinary(), nullable=True))
    if element.temporal:
        columns.append(sa.Column("timespan_begin", sa.BigInteger(), nullable=True))
        columns.append(sa.Column("timespan_end", sa.BigInteger(), nullable=True))
    # FKs: to each directly required dimension, and to each implied one; the implied FK
    # shares the required columns it needs (physical_filter -> (instrument, name)).
    fk_dims = tuple(element.direct_requires)
    for d in element.implied:
        for r in universe[d].required:
            column_for.setdefault(r, r)
    fks = _dimension_foreign_keys(metadata, universe, fk_dims + element.implied, column_for)
    return sa.Table(element.name, metadata, *columns, *fks)


def _overlap_table(metadata: sa.MetaData, universe: DimensionUniverse, element: DimensionElement) -> sa.Table:
    skypix = universe.common_skypix.name
    columns = [
        sa.Column(element.column_name(d), dimension_column_type(universe, d), primary_key=True, autoincrement=False)
        for d in element.required
    ]
    columns.append(sa.Column("skypix_index", sa.BigInteger(), primary_key=True, autoincrement=False))
    local = [element.column_name(d) for d in element.required]
    fk = sa.ForeignKeyConstraint(local, [_fq(metadata, f"{element.name}.{c}") for c in local], ondelete="CASCADE")
    name = f"{element.name}_{skypix}_overlap"
    return sa.Table(name, metadata, *columns, fk, sa.Index(f"{name}_skypix", "skypix_index"))


class StaticTables:
    """The tables whose definitions do not depend on registered dataset types."""

    def __init__(self, metadata: sa.MetaData, universe: DimensionUniverse):
        self.metadata = metadata
        self.attributes = sa.Table(
            "butler_attributes",
            metadata,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text(), nullable=False),
        )
        self.collection = sa.Table(
            "collection",
            metadata,
            sa.Column("collection_id", AUTO_ID, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(256), nullable=False, unique=True),
            sa.Column("type", sa.SmallInteger(), nullable=False),
            sa.Column("doc", sa.Text(), nullable=True),
        )
        self.collection_chain = sa.Table(
            "collection_chain",
            metadata,
            sa.Column(
                "parent",
                sa.BigInteger(),
                sa.ForeignKey(self.collection.c.collection_id, ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("child", sa.BigInteger(), sa.ForeignKey(self.collection.c.collection_id), nullable=False),
        )
        self.dataset_type = sa.Table(
            "dataset_type",
            metadata,
            sa.Column("dataset_type_id", AUTO_ID, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(128), nullable=False, unique=True),
            sa.Column("dimensions", sa.Text(), nullable=False),
            sa.Column("storage_class", sa.String(64), nullable=False),
            sa.Column("is_calibration", sa.Boolean(), nullable=False),
            sa.Column("tag_table", sa.String(64), nullable=False),
            sa.Column("calib_table", sa.String(64), nullable=True),
        )
        self.dataset = sa.Table(
            "dataset",
            metadata,
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column(
                "dataset_type_id", sa.BigInteger(), sa.ForeignKey(self.dataset_type.c.dataset_type_id), nullable=False
            ),
            sa.Column("run_id", sa.BigInteger(), sa.ForeignKey(self.collection.c.collection_id), nullable=False),
            sa.Column("ingest_date", sa.BigInteger(), nullable=False),
            sa.Index("dataset_run", "run_id"),
        )
        self.elements: dict[str, sa.Table] = {}
        self.overlaps: dict[str, sa.Table] = {}
        for element in universe.elements:
            self.elements[element.name] = _element_table(metadata, universe, element)
            if element.spatial:
                self.overlaps[element.name] = _overlap_table(metadata, universe, element)


def _digest(group: DimensionGroup) -> str:
    return hashlib.sha1(",".join(group.required).encode()).hexdigest()[:16]


def tags_table_name(group: DimensionGroup) -> str:
    """Name of the table holding (collection, dataset) memberships for a dimension group."""
    return f"dataset_tags_{_digest(group)}"


def calib_table_name(group: DimensionGroup) -> str:
    """Name of the table holding calibration validity ranges for a dimension group."""
    return f"dataset_calibs_{_digest(group)}"


def make_dynamic_tables(
    metadata: sa.MetaData, static: StaticTables, group: DimensionGroup, calibration: bool
) -> tuple[sa.Table, sa.Table | None]:
    """The tags (and, for calibrations, calibs) tables of a dimension group.

    The tags table's UNIQUE (dataset_type_id, collection_id, <required dimensions>)
    is the rule "one dataset per dataset type, run and data ID" (and likewise within a
    TAGGED collection).
    """
    universe = group.universe
    name = tags_table_name(group)
    tags = metadata.tables.get(_fq(metadata, name))
    if tags is None:
        dims = [sa.Column(d, dimension_column_type(universe, d), nullable=False) for d in group.required]
        column_for = {d: d for d in group.required}
        tags = sa.Table(
            name,
            metadata,
            sa.Column(
                "dataset_type_id", sa.BigInteger(), sa.ForeignKey(static.dataset_type.c.dataset_type_id), nullable=False
            ),
            sa.Column(
                "dataset_id", sa.Uuid(), sa.ForeignKey(static.dataset.c.id, ondelete="CASCADE"), primary_key=True
            ),
            sa.Column(
                "collection_id",
                sa.BigInteger(),
                sa.ForeignKey(static.collection.c.collection_id, ondelete="CASCADE"),
                primary_key=True,
            ),
            *dims,
            sa.UniqueConstraint("dataset_type_id", "collection_id", *group.required, name=f"{name}_unique"),
            *_dimension_foreign_keys(metadata, universe, group.required, column_for),
        )
    calibs = None
    if calibration:
        name = calib_table_name(group)
        calibs = metadata.tables.get(_fq(metadata, name))
        if calibs is None:
            dims = [sa.Column(d, dimension_column_type(universe, d), nullable=False) for d in group.required]
            calibs = sa.Table(
                name,
                metadata,
                sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
                sa.Column(
                    "dataset_type_id",
                    sa.BigInteger(),
                    sa.ForeignKey(static.dataset_type.c.dataset_type_id),
                    nullable=False,
                ),
                sa.Column(
                    "dataset_id", sa.Uuid(), sa.ForeignKey(static.dataset.c.id, ondelete="CASCADE"), nullable=False
                ),
                sa.Column(
                    "collection_id",
                    sa.BigInteger(),
                    sa.ForeignKey(static.collection.c.collection_id, ondelete="CASCADE"),
                    nullable=False,
                ),
                *dims,
                sa.Column("validity_begin", sa.BigInteger(), nullable=False),
                sa.Column("validity_end", sa.BigInteger(), nullable=False),
                sa.Index(f"{name}_lookup", "dataset_type_id", "collection_id", *group.required),
                sa.Index(calib_dataset_index_name(name), "dataset_id"),  # schema version 2
            )
    return tags, calibs
