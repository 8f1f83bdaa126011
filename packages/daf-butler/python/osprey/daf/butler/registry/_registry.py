"""The SQL registry: dimension records, dataset types, collections and datasets."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from osprey.utils import get_logger

from .._collection_type import CollectionType
from .._dataset_ref import DatasetIdGenEnum, DatasetRef, make_dataset_id
from .._dataset_type import DatasetType
from .._exceptions import (
    ButlerConfigError,
    CalibrationOverlapError,
    CollectionCycleError,
    CollectionTypeError,
    ConflictingDefinitionError,
    DataIdError,
    DataIdValueError,
    DatasetNotFoundError,
    DatasetTypeError,
    MissingCollectionError,
    MissingDatasetTypeError,
    OrphanedRecordError,
    SchemaVersionError,
)
from .._timespan import Timespan
from ..dimensions import (
    DataCoordinate,
    DimensionElement,
    DimensionGroup,
    DimensionRecord,
    DimensionUniverse,
)
from ..dimensions._coordinate import normalize_value
from ._database import Database
from ._migrations import MIGRATIONS, SCHEMA_VERSION
from ._schema import StaticTables, make_dynamic_tables, tags_table_name

__all__ = ["CollectionSearch", "Registry"]

_log = get_logger(__name__)


CollectionSearch = str | Sequence[str]
"""One collection name or an ordered sequence of them (CHAINED ones are expanded)."""


_PLAIN_TYPES = frozenset({int, str, float, bool, bytes, type(None)})
_FIELD_SETS: dict[int, tuple[DimensionElement, frozenset[str]]] = {}


def _field_set(element: DimensionElement) -> frozenset[str]:
    """``frozenset(element.record_fields)``, computed once per element object."""
    cached = _FIELD_SETS.get(id(element))
    if cached is None or cached[0] is not element:
        cached = _FIELD_SETS[id(element)] = (element, frozenset(element.record_fields))
    return cached[1]


class _DatasetTypeStorage:
    __slots__ = ("dataset_type", "id", "tags", "calibs")

    def __init__(self, dataset_type: DatasetType, id: int, tags: sa.Table, calibs: sa.Table | None):
        self.dataset_type, self.id, self.tags, self.calibs = dataset_type, id, tags, calibs


class Registry:
    """Everything the Butler knows about datasets except their content.

    Create one with `Registry.create` (new repository) or `Registry.open`; the Butler
    does both for you. Every method that writes runs in a transaction of its own, or in
    the enclosing `transaction` (as a savepoint).
    """

    def __init__(self, db: Database, universe: DimensionUniverse):
        self.db = db
        self.universe = universe
        self.tables = StaticTables(db.metadata, universe)
        self._dataset_types: dict[str, _DatasetTypeStorage] = {}
        self._collections: dict[str, tuple[int, CollectionType]] = {}
        # Statements built once and executed with bound parameters (SQLAlchemy then also
        # reuses their compiled form): the per-dataset paths of put/get/ingest.
        self._statements: dict[tuple, Any] = {}
        # Records of elements without space or time (instrument, detector, physical_filter,
        # band, ...) found once per process: every put expands a data ID. Local inserts
        # clear it; records are not expected to change under a running process.
        self._static_records: dict[tuple, DimensionRecord] = {}

    # ------------------------------------------------------------------ set-up
    @classmethod
    def create(cls, db: Database, universe: DimensionUniverse) -> Registry:
        """Create the schema in an empty database and return the registry."""
        registry = cls(db, universe)
        with db.transaction() as conn:
            if db.namespace and not db.is_sqlite:
                conn.execute(sa.schema.CreateSchema(db.namespace, if_not_exists=True))
            db.metadata.create_all(conn)
            existing = conn.execute(sa.select(registry.tables.attributes.c.name)).scalars().all()
            if existing:
                raise ButlerConfigError(f"database {db.url} already holds a Butler registry")
            conn.execute(
                registry.tables.attributes.insert(),
                [
                    {"name": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"name": "dimensions_namespace", "value": universe.namespace},
                    {"name": "dimensions_version", "value": str(universe.version)},
                ],
            )
        return registry

    @classmethod
    def _attributes(cls, db: Database, universe: DimensionUniverse) -> tuple[Registry, dict[str, str]]:
        registry = cls(db, universe)
        try:
            with db.connection() as conn:
                rows = {r.name: r.value for r in conn.execute(sa.select(registry.tables.attributes))}
        except sa.exc.DBAPIError as err:
            raise ButlerConfigError(f"{db.url} does not hold a Butler registry: {err.orig}") from None
        if "schema_version" not in rows:
            raise ButlerConfigError(f"{db.url} does not hold a Butler registry (no schema_version attribute)")
        return registry, rows

    @staticmethod
    def _version(db: Database, rows: Mapping[str, str]) -> int:
        try:
            return int(rows["schema_version"])
        except ValueError:
            raise ButlerConfigError(
                f"registry {db.url} has an unreadable schema_version {rows['schema_version']!r}"
            ) from None

    @classmethod
    def open(cls, db: Database, universe: DimensionUniverse) -> Registry:
        """Open an existing registry, checking the schema and universe versions.

        Raises
        ------
        SchemaVersionError
            The repository's schema is older (upgrade it with ``butler migrate``) or newer
            (upgrade osprey-daf-butler) than this software's `SCHEMA_VERSION`.
        ButlerConfigError
            Not a registry, or another dimension universe.
        """
        registry, rows = cls._attributes(db, universe)
        version = cls._version(db, rows)
        if version < SCHEMA_VERSION:
            raise SchemaVersionError(
                f"registry {db.url} has schema version {version}, older than this software's {SCHEMA_VERSION}; "
                "upgrade it in place with `butler migrate REPO` (Butler.migrate)"
            )
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"registry {db.url} has schema version {version}, newer than this software's {SCHEMA_VERSION}; "
                "upgrade osprey-daf-butler to open it"
            )
        expected = {"dimensions_namespace": universe.namespace, "dimensions_version": str(universe.version)}
        for key, value in expected.items():
            if rows.get(key) != value:
                raise ButlerConfigError(
                    f"registry {db.url} has {key}={rows.get(key)!r} but this software expects {value!r}"
                )
        return registry

    @classmethod
    def migrate(cls, db: Database, universe: DimensionUniverse) -> list[tuple[int, int, str]]:
        """Upgrade the registry's schema in place to `SCHEMA_VERSION`, one step per transaction.

        Returns
        -------
        steps : `list` [`tuple` [`int`, `int`, `str`]]
            (from, to, description) of each step applied; empty when already current.

        Raises
        ------
        SchemaVersionError
            The schema is newer than this software, or no step exists from its version.
        """
        registry, rows = cls._attributes(db, universe)
        version = cls._version(db, rows)
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"registry {db.url} has schema version {version}, newer than this software's {SCHEMA_VERSION}; "
                "it cannot be migrated down"
            )
        attributes = registry.tables.attributes
        applied = []
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise SchemaVersionError(f"no migration from schema version {version} of registry {db.url}")
            with db.transaction() as conn:
                # Re-read under the write lock: another process may have migrated meanwhile.
                current = int(
                    conn.execute(
                        sa.select(attributes.c.value).where(attributes.c.name == "schema_version")
                    ).scalar_one()
                )
                if current == version:
                    step.apply(conn, db.metadata, registry.tables.dataset_type)
                    conn.execute(
                        attributes.update()
                        .where(attributes.c.name == "schema_version", attributes.c.value == str(version))
                        .values(value=str(version + 1))
                    )
                    applied.append((version, version + 1, step.description))
                    _log.info("migrated registry %s from schema version %d to %d: %s", db.url, version,
                              version + 1, step.description)  # fmt: skip
            version = version + 1 if current == version else current  # else: migrated by someone else
        return applied

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction (a savepoint when nested); rows and registered files roll back together."""
        with self.db.transaction():
            yield

    # ------------------------------------------------------------------ dimension records
    def _element(self, name: str) -> DimensionElement:
        element = self.universe[name]
        if not isinstance(element, DimensionElement):
            raise DataIdError(f"{name!r} is a skypix dimension; it has no records")
        return element

    def _record_to_row(self, element: DimensionElement, record: DimensionRecord | Mapping[str, Any]) -> dict:
        return self._records_to_rows(element, [record])[0]

    def _records_to_rows(
        self, element: DimensionElement, records: Iterable[DimensionRecord | Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Table rows of records, with the checks of `DimensionRecord` (mappings are not turned into one).

        Everything that depends only on the element is worked out once per call, so bulk
        inserts spend their time per row on dict building and key checks only.
        """
        fields = element.record_fields
        field_set = _field_set(element)
        keys = [(element.column_name(d), d, self.universe[d].key) for d in element.required]
        spatial, temporal = element.spatial, element.temporal
        universe = self.universe
        rows = []
        for record in records:
            if isinstance(record, DimensionRecord):
                if record.element.name != element.name:
                    raise DataIdError(f"a {record.element.name!r} record cannot be inserted as {element.name!r}")
                values = record.to_dict()
            else:
                if not record.keys() <= field_set:
                    DimensionRecord(element, **record)  # raises the error that names the unknown fields
                values = dict(zip(fields, map(record.get, fields), strict=True))
                if not _PLAIN_TYPES.issuperset(map(type, values.values())):
                    values = {k: v.item() if type(v).__module__ == "numpy" else v for k, v in values.items()}
                timespan = values.get("timespan")
                if timespan is not None and not isinstance(timespan, Timespan):
                    raise DataIdError(f"'timespan' of a {element.name!r} record must be a Timespan, got {timespan!r}")
            for column, dimension, key in keys:
                value = values[column]
                if value is None:
                    raise DataIdError(f"a {element.name!r} record needs a value for {column!r}: got {record}")
                # Plain ints and short strs are already normal; anything else goes through the full check.
                if (
                    (type(value) is not int)
                    if key.type == "int"
                    else (type(value) is not str or len(value) > key.length)
                ):
                    values[column] = normalize_value(universe, dimension, value)
            if spatial:
                region = values.pop("region")
                values["region"] = region.encode() if region is not None else None
            if temporal:
                span: Timespan | None = values.pop("timespan")
                values["timespan_begin"] = span.db_begin if span is not None else None
                values["timespan_end"] = span.db_end if span is not None else None
            rows.append(values)
        return rows

    def _row_to_record(self, element: DimensionElement, row: Mapping[str, Any]) -> DimensionRecord:
        values = dict(row)
        if element.spatial:
            from osprey.geom import Region

            data = values.pop("region")
            values["region"] = Region.decode(data) if data is not None else None
        if element.temporal:
            values["timespan"] = Timespan.from_db(values.pop("timespan_begin"), values.pop("timespan_end"))
        return DimensionRecord(element, **values)

    def _overlap_rows(self, element: DimensionElement, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
        from osprey.geom import Region

        pixelization = self.universe.common_skypix.pixelization
        out = []
        keys = [element.column_name(d) for d in element.required]
        for row in rows:
            if row.get("region") is None:
                continue
            ranges = pixelization.envelope(Region.decode(row["region"])).ranges()
            base = {k: row[k] for k in keys}
            for begin, end in ranges:
                out.extend({**base, "skypix_index": int(i)} for i in range(int(begin), int(end)))
        return out

    def insert_dimension_data(
        self,
        element: str,
        *records: DimensionRecord | Mapping[str, Any],
        replace: bool = False,
        skip_existing: bool = False,
    ) -> None:
        """Insert dimension records in bulk (one executemany).

        Parameters
        ----------
        element : `str`
            Element name (``"visit"``, ``"visit_detector_region"``).
        *records
            `DimensionRecord` objects or mappings of their fields.
        replace : `bool`
            Overwrite records that already exist (an update).
        skip_existing : `bool`
            Leave existing records alone instead of raising.

        Raises
        ------
        ConflictingDefinitionError
            A record with the same key exists (and neither option was given).
        """
        self._static_records.clear()
        dim_element = self._element(element)
        rows = self._records_to_rows(dim_element, records)
        if not rows:
            return
        table = self.tables.elements[element]
        overlap = self.tables.overlaps.get(element)
        keys = [dim_element.column_name(d) for d in dim_element.required]
        with self.db.transaction(savepoint=False) as conn:
            if replace or skip_existing:
                existing = self._existing_keys(conn, table, keys, rows)
                new_rows = [r for r in rows if tuple(r[k] for k in keys) not in existing]
                if replace:
                    old_rows = [r for r in rows if tuple(r[k] for k in keys) in existing]
                    for row in old_rows:
                        self._update_row(conn, dim_element, row)
                rows = new_rows
            if rows:
                try:
                    with self.db.transaction():
                        self.db.insert_many(conn, table, rows)
                except sa.exc.IntegrityError as err:
                    raise self._explain_record_conflict(conn, dim_element, rows, err) from None
                if overlap is not None:
                    overlap_rows = self._overlap_rows(dim_element, rows)
                    if overlap_rows:
                        self.db.insert_many(conn, overlap, overlap_rows)

    def _existing_keys(
        self, conn: sa.Connection, table: sa.Table, keys: list[str], rows: Sequence[Mapping[str, Any]]
    ) -> set[tuple]:
        found: set[tuple] = set()
        wanted = {tuple(r[k] for k in keys) for r in rows}
        chunk = 400
        wanted_list = sorted(wanted, key=repr)
        for start in range(0, len(wanted_list), chunk):
            part = wanted_list[start : start + chunk]
            if len(keys) == 1:
                cond = table.c[keys[0]].in_([p[0] for p in part])
            else:
                cond = sa.tuple_(*[table.c[k] for k in keys]).in_(part)
            stmt = sa.select(*[table.c[k] for k in keys]).where(cond)
            found.update(tuple(r) for r in conn.execute(stmt))
        return found & wanted

    def _explain_record_conflict(
        self, conn: sa.Connection, element: DimensionElement, rows: list[dict], err: Exception
    ) -> Exception:
        table = self.tables.elements[element.name]
        keys = [element.column_name(d) for d in element.required]
        existing = self._existing_keys(conn, table, keys, rows)
        if existing:
            shown = [dict(zip(keys, k, strict=True)) for k in sorted(existing, key=repr)[:5]]
            return ConflictingDefinitionError(
                f"{element.name} record(s) {shown} already exist; use replace=True to update or "
                "skip_existing=True to keep them"
            )
        return DataIdValueError(
            f"cannot insert {element.name} records: a dimension they refer to has no record "
            f"(insert those first): {getattr(err, 'orig', err)}"
        )

    def _key_condition(self, table: sa.Table, element: DimensionElement, row: Mapping[str, Any]) -> Any:
        keys = [element.column_name(d) for d in element.required]
        return sa.and_(*[table.c[k] == row[k] for k in keys])

    def _update_row(self, conn: sa.Connection, element: DimensionElement, row: Mapping[str, Any]) -> None:
        table = self.tables.elements[element.name]
        keys = {element.column_name(d) for d in element.required}
        values = {k: v for k, v in row.items() if k not in keys}
        if values:
            conn.execute(table.update().where(self._key_condition(table, element, row)).values(values))
        overlap = self.tables.overlaps.get(element.name)
        if overlap is not None and "region" in row:
            conn.execute(overlap.delete().where(self._key_condition(overlap, element, row)))
            overlap_rows = self._overlap_rows(element, [row])
            if overlap_rows:
                conn.execute(overlap.insert(), overlap_rows)

    def sync_dimension_data(
        self, element: str, record: DimensionRecord | Mapping[str, Any], update: bool = False
    ) -> bool | dict[str, Any]:
        """Insert a record unless an identical one exists.

        Returns
        -------
        inserted_or_updated : `bool` or `dict`
            True if inserted, False if an identical record existed, or (``update=True``)
            a dict of the old values of the fields that were changed.

        Raises
        ------
        ConflictingDefinitionError
            A different record with the same key exists and ``update`` is False; the
            message lists the fields that differ.
        """
        self._static_records.clear()
        dim_element = self._element(element)
        row = self._record_to_row(dim_element, record)
        table = self.tables.elements[element]
        with self.db.transaction() as conn:
            existing = (
                conn.execute(sa.select(table).where(self._key_condition(table, dim_element, row))).mappings().first()
            )
            if existing is None:
                self.insert_dimension_data(element, record)
                return True
            diffs = {k: existing[k] for k, v in row.items() if existing[k] != v}
            if not diffs:
                return False
            if not update:
                shown = {k: (existing[k], row[k]) for k in diffs if k != "region"}
                if "region" in diffs:
                    shown["region"] = ("<old region>", "<new region>")
                key = {c: row[c] for c in (dim_element.column_name(d) for d in dim_element.required)}
                raise ConflictingDefinitionError(
                    f"{element} record {key}"
                    f" exists with different values (existing, new): {shown}; pass update=True to replace them"
                )
            self._update_row(conn, dim_element, row)
            old = dict(existing)
            if "region" in diffs:
                from osprey.geom import Region

                diffs["region"] = Region.decode(old["region"]) if old["region"] is not None else None
            return diffs

    def query_dimension_records(
        self, element: str, data_id: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[DimensionRecord]:
        """Records of ``element`` whose fields equal the given values.

        Keys may be dimension names (``instrument``, ``visit``) or field names of the
        element (``id``, ``physical_filter``, ``exposure_time``); values are compared for
        equality through bound parameters.
        """
        dim_element = self._element(element)
        table = self.tables.elements[element]
        constraints = dict(data_id or {})
        constraints.update(kwargs)
        conditions = []
        for key, value in constraints.items():
            column_name = dim_element.column_name(key) if key in dim_element.required else key
            if column_name in ("region", "timespan") or column_name not in table.c:
                raise DataIdError(
                    f"cannot constrain {element!r} records on {key!r}: not one of its fields "
                    f"{list(dim_element.record_fields)} (richer queries come with the query language)"
                )
            if key in self.universe and self.universe[key].is_dimension and key != "name":
                value = normalize_value(self.universe, key, value)
            conditions.append(table.c[column_name] == value)
        keys = [table.c[dim_element.column_name(d)] for d in dim_element.required]
        stmt = sa.select(table).where(*conditions).order_by(*keys)
        with self.db.connection() as conn:
            return [self._row_to_record(dim_element, r) for r in conn.execute(stmt).mappings()]

    def expand_data_id(
        self,
        data_id: Mapping[str, Any] | None = None,
        *,
        dimensions: DimensionGroup | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> DataCoordinate:
        """Validate a data ID and attach its dimension records and implied values.

        ``{instrument, visit, detector}`` gains the visit, detector and instrument records,
        ``physical_filter`` and ``day_obs`` from the visit record and ``band`` from the
        physical_filter record.

        Raises
        ------
        DataIdValueError
            A required dimension value has no record.
        """
        coordinate = DataCoordinate.standardize(data_id, universe=self.universe, dimensions=dimensions, **kwargs)
        if coordinate.has_records():
            return coordinate
        with self.db.connection() as conn:
            return self._expand(conn, coordinate, {})

    def _expand(
        self, conn: sa.Connection, coordinate: DataCoordinate, cache: dict[tuple, DimensionRecord | None]
    ) -> DataCoordinate:
        """`expand_data_id` on an open connection; ``cache`` keeps records across calls."""
        group = coordinate.dimensions
        values: dict[str, Any] = dict(coordinate)
        records: dict[str, DimensionRecord | None] = {}
        pending = [n for n in group.names if self.universe[n].has_table]
        while pending:
            progressed = False
            for name in list(pending):
                element = self._element(name)
                if not all(d in values for d in element.required):
                    continue
                pending.remove(name)
                progressed = True
                record = self._cached_record(conn, element, values, cache)
                if record is None:
                    key = {d: values[d] for d in element.required}
                    raise DataIdValueError(f"no {name} record for {key} (data ID {coordinate})")
                records[name] = record
                for implied in element.implied:
                    value = getattr(record, implied)
                    if value is None:
                        continue
                    if implied in values and values[implied] != value:
                        raise DataIdError(
                            f"data ID {coordinate} says {implied}={values[implied]!r} but the "
                            f"{name} record says {implied}={value!r}"
                        )
                    values[implied] = value
            if not progressed:
                break
        for name in group.elements:
            element = self._element(name)
            if name not in records and not element.is_dimension:
                records[name] = self._cached_record(conn, element, values, cache)
        for name in group.elements:
            records.setdefault(name, None)
        return DataCoordinate(group, values, records)

    def _cached_record(
        self,
        conn: sa.Connection,
        element: DimensionElement,
        values: Mapping[str, Any],
        cache: dict[tuple, DimensionRecord | None],
    ) -> DimensionRecord | None:
        key = (element.name, *(values[d] for d in element.required))
        if key in self._static_records:
            return self._static_records[key]
        if key not in cache:
            cache[key] = record = self._fetch_record(conn, element, values)
            if record is not None and not (element.spatial or element.temporal):
                self._static_records[key] = record
                if self.db.in_transaction:  # the row may be this transaction's and roll back
                    self.db.register_undo(self._static_records.clear)
        return cache[key]

    def _fetch_record(
        self, conn: sa.Connection, element: DimensionElement, values: Mapping[str, Any]
    ) -> DimensionRecord | None:
        key = ("record", element.name)
        stmt = self._statements.get(key)
        if stmt is None:  # built once per element; values are bound parameters
            table = self.tables.elements[element.name]
            cond = [table.c[element.column_name(d)] == sa.bindparam(f"k_{d}") for d in element.required]
            stmt = self._statements[key] = sa.select(table).where(*cond)
        row = conn.execute(stmt, {f"k_{d}": values[d] for d in element.required}).mappings().first()
        return None if row is None else self._row_to_record(element, row)

    # ------------------------------------------------------------------ spatial queries
    def query_spatial_overlaps(
        self,
        element1: str,
        element2: str,
        data_id1: Mapping[str, Any] | None = None,
        data_id2: Mapping[str, Any] | None = None,
        *,
        refine: bool = True,
    ) -> list[tuple[DataCoordinate, DataCoordinate]]:
        """Pairs of records of two spatial elements whose regions overlap.

        The candidate pairs come from one SQL join of the two elements' htm7 overlap
        tables; with ``refine`` (the default) pairs whose regions are provably disjoint
        are then dropped with exact region tests.

        Parameters
        ----------
        element1, element2 : `str`
            Spatial elements, e.g. ``"visit_detector_region"`` and ``"patch"``.
        data_id1, data_id2 : mapping, optional
            Equality constraints on the key columns of each side (``{"instrument": ...}``,
            ``{"skymap": ..., "tract": ...}``).

        Returns
        -------
        pairs : `list` [`tuple` [`DataCoordinate`, `DataCoordinate`]]
            Data IDs of each overlapping pair, sorted.
        """
        from osprey.geom import Region

        sides = []
        for name, constraint in ((element1, data_id1), (element2, data_id2)):
            element = self._element(name)
            if not element.spatial:
                raise DataIdError(f"{name!r} has no regions; spatial elements are {self._spatial_names()}")
            overlap = self.tables.overlaps[name].alias()
            table = self.tables.elements[name].alias()
            conds = []
            for key, value in (constraint or {}).items():
                if key not in element.required:
                    raise DataIdError(f"{key!r} is not a key of {name!r} (keys: {list(element.required)})")
                conds.append(overlap.c[element.column_name(key)] == normalize_value(self.universe, key, value))
            sides.append((element, overlap, table, conds))
        (e1, o1, t1, c1), (e2, o2, t2, c2) = sides
        k1 = [o1.c[e1.column_name(d)] for d in e1.required]
        k2 = [o2.c[e2.column_name(d)] for d in e2.required]
        labels1 = [f"a_{i}" for i in range(len(k1))]
        labels2 = [f"b_{i}" for i in range(len(k2))]
        pairs = (
            sa.select(
                *[c.label(lbl) for c, lbl in zip(k1, labels1, strict=True)],
                *[c.label(lbl) for c, lbl in zip(k2, labels2, strict=True)],
            )
            .select_from(o1.join(o2, o1.c.skypix_index == o2.c.skypix_index))
            .where(*c1, *c2)
            .distinct()
            .subquery()
        )
        join1 = sa.and_(*[t1.c[e1.column_name(d)] == pairs.c[lbl] for d, lbl in zip(e1.required, labels1, strict=True)])
        join2 = sa.and_(*[t2.c[e2.column_name(d)] == pairs.c[lbl] for d, lbl in zip(e2.required, labels2, strict=True)])
        stmt = (
            sa.select(*[pairs.c[lbl] for lbl in labels1 + labels2], t1.c.region.label("r1"), t2.c.region.label("r2"))
            .select_from(pairs.join(t1, join1).join(t2, join2))
            .order_by(*[pairs.c[lbl] for lbl in labels1 + labels2])
        )
        out = []
        with self.db.connection() as conn:
            for row in conn.execute(stmt).mappings():
                if refine and Region.decode(row["r1"]).is_disjoint_from(Region.decode(row["r2"])):
                    continue
                id1 = DataCoordinate.standardize(
                    {d: row[lbl] for d, lbl in zip(e1.required, labels1, strict=True)}, universe=self.universe
                )
                id2 = DataCoordinate.standardize(
                    {d: row[lbl] for d, lbl in zip(e2.required, labels2, strict=True)}, universe=self.universe
                )
                out.append((id1, id2))
        return out

    def _spatial_names(self) -> list[str]:
        return [e.name for e in self.universe.elements if e.spatial]

    # ------------------------------------------------------------------ dataset types
    def register_dataset_type(self, dataset_type: DatasetType) -> bool:
        """Register a dataset type (and create its tables); True if it was new.

        Raises
        ------
        ConflictingDefinitionError
            A dataset type of that name exists with a different definition.
        """
        if dataset_type.dimensions.universe != self.universe:
            raise DatasetTypeError(f"{dataset_type} uses a different dimension universe from this registry")
        existing = self._find_dataset_type(dataset_type.name)
        if existing is not None:
            self._check_same(existing.dataset_type, dataset_type)
            return False
        table = self.tables.dataset_type
        tags, calibs = make_dynamic_tables(
            self.db.metadata, self.tables, dataset_type.dimensions, dataset_type.is_calibration
        )
        with self.db.transaction() as conn:
            tags.create(conn, checkfirst=True)
            if calibs is not None:
                calibs.create(conn, checkfirst=True)
            try:
                with self.db.transaction():
                    conn.execute(
                        table.insert().values(
                            name=dataset_type.name,
                            dimensions=",".join(dataset_type.dimensions.required),
                            storage_class=dataset_type.storage_class,
                            is_calibration=dataset_type.is_calibration,
                            tag_table=tags.name,
                            calib_table=calibs.name if calibs is not None else None,
                        )
                    )
            except sa.exc.IntegrityError:
                # Registered concurrently by another process: compare definitions.
                self._dataset_types.pop(dataset_type.name, None)
                other = self._find_dataset_type(dataset_type.name)
                if other is None:
                    raise
                self._check_same(other.dataset_type, dataset_type)
                return False
        return True

    @staticmethod
    def _check_same(existing: DatasetType, new: DatasetType) -> None:
        if existing != new:
            raise ConflictingDefinitionError(
                f"dataset type {new.name!r} is already registered as {existing}; cannot redefine it as {new}"
            )

    def _find_dataset_type(self, name: str) -> _DatasetTypeStorage | None:
        storage = self._dataset_types.get(name)
        if storage is not None:
            return storage
        table = self.tables.dataset_type
        with self.db.connection() as conn:
            row = conn.execute(sa.select(table).where(table.c.name == name)).mappings().first()
        if row is None:
            return None
        dims = [d for d in row["dimensions"].split(",") if d]
        dataset_type = DatasetType(
            row["name"], dims, row["storage_class"], self.universe, is_calibration=row["is_calibration"]
        )
        tags, calibs = make_dynamic_tables(
            self.db.metadata, self.tables, dataset_type.dimensions, row["is_calibration"]
        )
        storage = _DatasetTypeStorage(dataset_type, row["dataset_type_id"], tags, calibs)
        self._dataset_types[name] = storage
        if self.db.in_transaction:  # the row may yet be rolled back: forget it then
            self.db.register_undo(lambda: self._dataset_types.pop(name, None))
        return storage

    def _storage(self, dataset_type: DatasetType | str) -> _DatasetTypeStorage:
        name = dataset_type if isinstance(dataset_type, str) else dataset_type.name
        storage = self._find_dataset_type(name)
        if storage is None:
            raise MissingDatasetTypeError(
                f"dataset type {name!r} is not registered; register it with Registry.register_dataset_type"
            )
        if isinstance(dataset_type, DatasetType):
            self._check_same(storage.dataset_type, dataset_type)
        return storage

    def get_dataset_type(self, name: str) -> DatasetType:
        """The registered dataset type called ``name`` (`MissingDatasetTypeError` if none)."""
        return self._storage(name).dataset_type

    def query_dataset_types(self) -> list[DatasetType]:
        """All registered dataset types, sorted by name."""
        with self.db.connection() as conn:
            names = conn.execute(sa.select(self.tables.dataset_type.c.name).order_by("name")).scalars().all()
        return [self.get_dataset_type(n) for n in names]

    # ------------------------------------------------------------------ collections
    def register_collection(
        self, name: str, type: CollectionType = CollectionType.TAGGED, doc: str | None = None
    ) -> bool:
        """Register a collection; True if new, False if it exists with the same type."""
        if not isinstance(name, str) or not name or len(name) > 256:
            raise CollectionTypeError(f"collection name must be a non-empty string of <= 256 characters: {name!r}")
        type = CollectionType(type)
        table = self.tables.collection
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(table.c.collection_id, table.c.type).where(table.c.name == name)).first()
            if row is None:
                try:
                    with self.db.transaction():
                        conn.execute(table.insert().values(name=name, type=int(type), doc=doc))
                    return True
                except sa.exc.IntegrityError:
                    row = conn.execute(
                        sa.select(table.c.collection_id, table.c.type).where(table.c.name == name)
                    ).first()
                    if row is None:
                        raise
            if CollectionType(row.type) is not type:
                raise ConflictingDefinitionError(
                    f"collection {name!r} already exists as {CollectionType(row.type).name}, not {type.name}"
                )
            return False

    def register_run(self, name: str, doc: str | None = None) -> bool:
        """Register a RUN collection; True if new."""
        return self.register_collection(name, CollectionType.RUN, doc)

    def _collection(self, name: str) -> tuple[int, CollectionType]:
        cached = self._collections.get(name)
        if cached is not None:
            return cached
        table = self.tables.collection
        with self.db.connection() as conn:
            row = conn.execute(sa.select(table.c.collection_id, table.c.type).where(table.c.name == name)).first()
        if row is None:
            raise MissingCollectionError(f"collection {name!r} is not registered")
        result = (row.collection_id, CollectionType(row.type))
        self._collections[name] = result
        if self.db.in_transaction:  # the row may yet be rolled back: forget it then
            self.db.register_undo(lambda: self._collections.pop(name, None))
        return result

    def get_collection_type(self, name: str) -> CollectionType:
        """Type of a registered collection."""
        return self._collection(name)[1]

    def _collection_names(self, conn: sa.Connection, ids: Iterable[int]) -> dict[int, str]:
        table = self.tables.collection
        ids = list(set(ids))
        if not ids:
            return {}
        rows = conn.execute(sa.select(table.c.collection_id, table.c.name).where(table.c.collection_id.in_(ids)))
        return {r.collection_id: r.name for r in rows}

    def get_collection_chain(self, parent: str) -> tuple[str, ...]:
        """Direct children of a CHAINED collection, in search order."""
        parent_id, type = self._collection(parent)
        if type is not CollectionType.CHAINED:
            raise CollectionTypeError(f"collection {parent!r} is {type.name}, not CHAINED")
        chain = self.tables.collection_chain
        with self.db.connection() as conn:
            children = (
                conn.execute(sa.select(chain.c.child).where(chain.c.parent == parent_id).order_by(chain.c.position))
                .scalars()
                .all()
            )
            names = self._collection_names(conn, children)
        return tuple(names[c] for c in children)

    def set_collection_chain(self, parent: str, children: Sequence[str]) -> None:
        """Replace the children of a CHAINED collection (search order = given order).

        Raises
        ------
        CollectionCycleError
            ``parent`` would be reachable from one of its children.
        """
        if isinstance(children, str):
            children = [children]
        parent_id, type = self._collection(parent)
        if type is not CollectionType.CHAINED:
            raise CollectionTypeError(f"collection {parent!r} is {type.name}, not CHAINED")
        child_ids = [self._collection(c)[0] for c in children]
        chain = self.tables.collection_chain
        with self.db.transaction() as conn:
            if self.db.is_sqlite is False:
                conn.execute(sa.select(chain.c.parent).with_for_update())
            for child in children:
                path = self._reaches(conn, child, parent)
                if path is not None:
                    raise CollectionCycleError(
                        f"cannot put {child!r} in CHAINED collection {parent!r}: it would form a cycle "
                        f"({' -> '.join([parent, *path])})"
                    )
            conn.execute(chain.delete().where(chain.c.parent == parent_id))
            if child_ids:
                conn.execute(
                    chain.insert(),
                    [{"parent": parent_id, "position": i, "child": c} for i, c in enumerate(child_ids)],
                )

    def _reaches(self, conn: sa.Connection, start: str, target: str) -> list[str] | None:
        """Path of names from ``start`` to ``target`` through chain links, or None."""
        if start == target:
            return [start]
        chain = self.tables.collection_chain
        coll = self.tables.collection
        seen = {start}
        stack = [[start]]
        while stack:
            path = stack.pop()
            rows = (
                conn.execute(
                    sa.select(coll.c.name)
                    .select_from(chain.join(coll, chain.c.child == coll.c.collection_id))
                    .where(
                        chain.c.parent
                        == sa.select(coll.c.collection_id).where(coll.c.name == path[-1]).scalar_subquery()
                    )
                    .order_by(chain.c.position)
                )
                .scalars()
                .all()
            )
            for name in rows:
                if name == target:
                    return [*path, name]
                if name not in seen:
                    seen.add(name)
                    stack.append([*path, name])
        return None

    def resolve_collections(self, collections: CollectionSearch) -> list[tuple[str, int, CollectionType]]:
        """The flat search path: CHAINED collections replaced by their children, in order.

        A collection reached twice is searched at its first position only.
        """
        if isinstance(collections, str):
            collections = [collections]
        out: list[tuple[str, int, CollectionType]] = []
        seen: set[int] = set()

        def visit(name: str) -> None:
            cid, type = self._collection(name)
            if type is CollectionType.CHAINED:
                for child in self.get_collection_chain(name):
                    visit(child)
            elif cid not in seen:
                seen.add(cid)
                out.append((name, cid, type))

        for name in collections:
            visit(name)
        return out

    def query_collections(
        self, pattern: str = "*", collection_types: Iterable[CollectionType] | None = None
    ) -> list[str]:
        """Names of collections matching a shell-style ``pattern``, sorted."""
        import fnmatch

        table = self.tables.collection
        stmt = sa.select(table.c.name, table.c.type).order_by(table.c.name)
        wanted = {CollectionType(t) for t in collection_types} if collection_types is not None else None
        with self.db.connection() as conn:
            rows = conn.execute(stmt).all()
        return [
            r.name
            for r in rows
            if fnmatch.fnmatchcase(r.name, pattern) and (wanted is None or CollectionType(r.type) in wanted)
        ]

    def _parents_of(self, conn: sa.Connection, collection_id: int) -> list[str]:
        chain, coll = self.tables.collection_chain, self.tables.collection
        rows = conn.execute(
            sa.select(coll.c.name)
            .select_from(chain.join(coll, chain.c.parent == coll.c.collection_id))
            .where(chain.c.child == collection_id)
        )
        return sorted(set(rows.scalars().all()))

    def remove_collection(self, name: str) -> None:
        """Remove a TAGGED, CALIBRATION or CHAINED collection (not its datasets).

        RUN collections own datasets: remove them with `Butler.remove_runs`.
        """
        cid, type = self._collection(name)
        if type is CollectionType.RUN:
            raise CollectionTypeError(f"{name!r} is a RUN collection; use Butler.remove_runs")
        with self.db.transaction() as conn:
            parents = self._parents_of(conn, cid)
            if parents:
                raise OrphanedRecordError(f"collection {name!r} is still in CHAINED collection(s) {parents}")
            conn.execute(self.tables.collection.delete().where(self.tables.collection.c.collection_id == cid))
        self._collections.pop(name, None)

    # ------------------------------------------------------------------ datasets
    def make_refs(
        self,
        dataset_type: DatasetType | str,
        data_ids: Iterable[Mapping[str, Any]],
        run: str,
        id_generation: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
        expand: bool = True,
    ) -> list[DatasetRef]:
        """Resolved refs (new UUIDs, validated and expanded data IDs) without inserting them."""
        storage = self._storage(dataset_type)
        dt = storage.dataset_type
        refs = []
        cache: dict[tuple, DimensionRecord | None] = {}  # records shared by many data IDs are read once
        coordinates = [
            DataCoordinate.standardize(data_id, universe=self.universe, dimensions=dt.dimensions)
            for data_id in data_ids
        ]
        with self.db.connection() as conn:
            if expand and len(coordinates) > 1:
                self._prefetch_records(conn, dt.dimensions, coordinates, cache)
            for coordinate in coordinates:
                if expand and not coordinate.has_records():
                    coordinate = self._expand(conn, coordinate, cache)
                refs.append(DatasetRef(dt, coordinate, run, make_dataset_id(dt, coordinate, run, id_generation)))
        return refs

    def _prefetch_records(
        self,
        conn: sa.Connection,
        group: DimensionGroup,
        coordinates: Sequence[DataCoordinate],
        cache: dict[tuple, DimensionRecord | None],
    ) -> None:
        """Fill ``cache`` for many data IDs at once: one IN query per element (in chunks).

        Covers the elements whose keys are all required dimensions of ``group`` (their
        values are in every data ID); the rest are looked up one by one as they appear.
        """
        required = set(group.required)
        for name in group.names:
            element = self.universe[name]
            if not isinstance(element, DimensionElement) or not set(element.required) <= required:
                continue
            wanted = {tuple(c[d] for d in element.required) for c in coordinates}
            wanted -= {key[1:] for key in cache if key[0] == name}
            if not wanted:
                continue
            table = self.tables.elements[name]
            columns = [table.c[element.column_name(d)] for d in element.required]
            ordered = sorted(wanted, key=repr)
            for start in range(0, len(ordered), 500):
                part = ordered[start : start + 500]
                if len(columns) == 1:
                    cond = columns[0].in_([k[0] for k in part])
                else:
                    cond = sa.tuple_(*columns).in_(part)
                for row in conn.execute(sa.select(table).where(cond)).mappings():
                    key = tuple(row[c.name] for c in columns)
                    cache[(name, *key)] = self._row_to_record(element, row)
            for key in wanted:
                cache.setdefault((name, *key), None)

    def insert_datasets(
        self,
        dataset_type: DatasetType | str,
        data_ids: Iterable[Mapping[str, Any]],
        run: str,
        id_generation: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
    ) -> list[DatasetRef]:
        """Register new datasets (no content) in a RUN collection, in bulk.

        Raises
        ------
        ConflictingDefinitionError
            A dataset with the same dataset type, run and data ID exists; the message
            names all three.
        """
        refs = self.make_refs(dataset_type, data_ids, run, id_generation)
        self.insert_refs(refs)
        return refs

    def insert_refs(self, refs: Sequence[DatasetRef]) -> None:
        """Insert already-resolved refs (all of one dataset type and run), in bulk."""
        if not refs:
            return
        storage = self._storage(refs[0].dataset_type)
        run = refs[0].run
        run_id, type = self._collection(run)
        if type is not CollectionType.RUN:
            raise CollectionTypeError(f"datasets can only be written to RUN collections; {run!r} is {type.name}")
        if any(r.run != run or r.dataset_type.name != storage.dataset_type.name for r in refs):
            raise DatasetTypeError("insert_refs needs refs of one dataset type and one run")
        now = time.time_ns()
        dataset_rows = [{"id": r.id, "dataset_type_id": storage.id, "run_id": run_id, "ingest_date": now} for r in refs]
        tag_rows = [
            {"dataset_type_id": storage.id, "dataset_id": r.id, "collection_id": run_id, **r.data_id.required}
            for r in refs
        ]
        with self.db.transaction(savepoint=False) as conn:
            try:
                with self.db.transaction():
                    conn.execute(self.tables.dataset.insert(), dataset_rows)
                    conn.execute(storage.tags.insert(), tag_rows)
            except sa.exc.IntegrityError as err:
                raise self._explain_dataset_conflict(conn, storage, run, run_id, refs, err) from None

    def _explain_dataset_conflict(
        self,
        conn: sa.Connection,
        storage: _DatasetTypeStorage,
        collection: str,
        collection_id: int,
        refs: Sequence[DatasetRef],
        err: Exception,
    ) -> Exception:
        dims = list(storage.dataset_type.dimensions.required)
        tags = storage.tags
        for ref in refs:
            cond = [tags.c.dataset_type_id == storage.id, tags.c.collection_id == collection_id]
            cond += [tags.c[d] == ref.data_id[d] for d in dims]
            existing = conn.execute(sa.select(tags.c.dataset_id).where(*cond)).scalar()
            if existing is not None:
                return ConflictingDefinitionError(
                    f"a dataset of type {storage.dataset_type.name!r} with data ID {ref.data_id} already exists "
                    f"in collection {collection!r} (id {existing}); one dataset per dataset type, run and data ID"
                )
        ids = [r.id for r in refs]
        clash = conn.execute(sa.select(self.tables.dataset.c.id).where(self.tables.dataset.c.id.in_(ids))).first()
        if clash is not None:
            return ConflictingDefinitionError(f"a dataset with id {clash.id} already exists")
        return ConflictingDefinitionError(
            f"cannot insert datasets of type {storage.dataset_type.name!r} into {collection!r}: "
            f"{getattr(err, 'orig', err)}"
        )

    def _ref_from_row(self, storage: _DatasetTypeStorage, row: Mapping[str, Any], run: str) -> DatasetRef:
        dt = storage.dataset_type
        data_id = DataCoordinate(dt.dimensions, {d: row[d] for d in dt.dimensions.required})
        return DatasetRef(dt, data_id, run, row["dataset_id"])

    def get_dataset(self, id: uuid.UUID) -> DatasetRef | None:
        """The dataset with this UUID, or None."""
        ds, dt, coll = self.tables.dataset, self.tables.dataset_type, self.tables.collection
        with self.db.connection() as conn:
            row = conn.execute(
                sa.select(dt.c.name, coll.c.name.label("run"), ds.c.run_id)
                .select_from(
                    ds.join(dt, ds.c.dataset_type_id == dt.c.dataset_type_id).join(
                        coll, ds.c.run_id == coll.c.collection_id
                    )
                )
                .where(ds.c.id == id)
            ).first()
            if row is None:
                return None
            storage = self._storage(row.name)
            tags = storage.tags
            tag_row = (
                conn.execute(sa.select(tags).where(tags.c.dataset_id == id, tags.c.collection_id == row.run_id))
                .mappings()
                .first()
            )
        assert tag_row is not None
        return self._ref_from_row(storage, tag_row, row.run)

    def _resolve_constraints(self, group: DimensionGroup, constraints: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in constraints.items():
            if key not in self.universe or not self.universe[key].is_dimension:
                raise DataIdError(f"{key!r} is not a dimension; data ID constraints must use dimension names")
            if key not in group.names:
                raise DataIdError(
                    f"{key!r} is not one of the dimensions {group}; constraints on other dimensions "
                    "(and spatial/temporal joins) come with the query language"
                )
            out[key] = normalize_value(self.universe, key, value)
        return out

    def _dataset_select(
        self,
        storage: _DatasetTypeStorage,
        search: list[tuple[str, int, CollectionType]],
        constraints: Mapping[str, Any],
        timespan: Timespan | None,
        find_first: bool,
    ) -> sa.Select | None:
        """SELECT of (dataset_id, run_id, rank, <dims>) over the search path."""
        dt = storage.dataset_type
        dims = list(dt.dimensions.required)
        rank_of = {cid: i for i, (_, cid, _) in enumerate(search)}
        tagged_ids = [cid for _, cid, t in search if t in (CollectionType.RUN, CollectionType.TAGGED)]
        calib_ids = [cid for _, cid, t in search if t is CollectionType.CALIBRATION]
        if calib_ids and not dt.is_calibration:
            calib_ids = []
        if calib_ids and timespan is None and find_first:
            names = [n for n, _, t in search if t is CollectionType.CALIBRATION]
            raise DataIdError(
                f"searching CALIBRATION collection(s) {names} for {dt.name!r} needs a time: pass timespan=... "
                "or a data ID with an exposure or visit that has one"
            )
        parts = []
        for table, ids in ((storage.tags, tagged_ids), (storage.calibs, calib_ids)):
            if not ids or table is None:
                continue
            rank = sa.case({cid: rank_of[cid] for cid in ids}, value=table.c.collection_id)
            conds = [table.c.dataset_type_id == storage.id, table.c.collection_id.in_(ids)]
            if table is storage.calibs and timespan is not None:
                conds += [table.c.validity_begin < timespan.db_end, table.c.validity_end > timespan.db_begin]
            parts.append(
                sa.select(
                    table.c.dataset_id.label("dataset_id"),
                    rank.label("rank"),
                    *[table.c[d].label(d) for d in dims],
                ).where(*conds)
            )
        if not parts:
            return None
        union = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("found")
        base = self._join_constraints(union, dt.dimensions, constraints)
        if find_first:
            rn = sa.func.row_number().over(partition_by=[union.c[d] for d in dims] or None, order_by=union.c.rank)
            inner = sa.select(union.c.dataset_id, union.c.rank, *[union.c[d] for d in dims], rn.label("rn"))
            inner = base(inner).subquery("ranked")
            return sa.select(inner.c.dataset_id, inner.c.rank, *[inner.c[d] for d in dims]).where(inner.c.rn == 1)
        return base(sa.select(union.c.dataset_id, union.c.rank, *[union.c[d] for d in dims]))

    def _join_constraints(self, source: Any, group: DimensionGroup, constraints: Mapping[str, Any]) -> Any:
        """A function adding joins/where clauses so ``constraints`` (incl. implied dims) apply."""
        columns: dict[str, Any] = {d: source.c[d] for d in group.required}
        joins: list[tuple[Any, Any]] = []

        def resolve(dim: str) -> Any:
            if dim in columns:
                return columns[dim]
            for name in group.names:
                element = self.universe[name]
                if dim in element.implied and element.has_table:
                    table = self.tables.elements[name].alias()
                    on = sa.and_(*[table.c[element.column_name(r)] == resolve(r) for r in element.required])
                    joins.append((table, on))
                    columns[dim] = table.c[dim]
                    return columns[dim]
            raise DataIdError(f"cannot relate {dim!r} to the dimensions {group}")

        conds = [resolve(k) == v for k, v in constraints.items()]

        def apply(stmt: sa.Select) -> sa.Select:
            from_clause = source
            for table, on in joins:
                from_clause = from_clause.join(table, on)
            return stmt.select_from(from_clause).where(*conds)

        return apply

    def query_datasets(
        self,
        dataset_type: DatasetType | str,
        collections: CollectionSearch,
        data_id: Mapping[str, Any] | None = None,
        *,
        find_first: bool = True,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> list[DatasetRef]:
        """Datasets of one type in the given collections, with equality constraints.

        Parameters
        ----------
        dataset_type : `DatasetType` or `str`
            The dataset type.
        collections : `str` or sequence of `str`
            Search path; CHAINED collections are expanded in order.
        data_id : mapping, optional
            Equality constraints on dimensions of the dataset type, required or implied
            (``{"band": "r"}`` joins through the visit and physical_filter records).
        find_first : `bool`
            Keep, per data ID, only the dataset of the first collection that has one.
        timespan : `Timespan`, optional
            For CALIBRATION collections: keep certifications whose validity overlaps it.
        **kwargs
            More equality constraints.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            Sorted by data ID (then by search order).
        """
        storage = self._storage(dataset_type)
        dt = storage.dataset_type
        constraints = dict(data_id or {})
        constraints.update(kwargs)
        constraints = self._resolve_constraints(dt.dimensions, constraints)
        search = self.resolve_collections(collections)
        stmt = self._dataset_select(storage, search, constraints, timespan, find_first)
        if stmt is None:
            return []
        sub = stmt.subquery("result")
        ds, coll = self.tables.dataset, self.tables.collection
        dims = list(dt.dimensions.required)
        final = (
            sa.select(sub, coll.c.name.label("run_name"))
            .select_from(sub.join(ds, ds.c.id == sub.c.dataset_id).join(coll, coll.c.collection_id == ds.c.run_id))
            .order_by(*[sub.c[d] for d in dims], sub.c.rank)
        )
        with self.db.connection() as conn:
            rows = conn.execute(final).mappings().all()
        return [self._ref_from_row(storage, row, row["run_name"]) for row in rows]

    def find_dataset(
        self,
        dataset_type: DatasetType | str,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: CollectionSearch,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DatasetRef | None:
        """The first dataset along the search path with exactly this data ID, or None.

        For a calibration dataset type searched in CALIBRATION collections, the
        certification whose validity range contains ``timespan`` (or the timespan of an
        ``exposure``/``visit`` given in the data ID) is found; two matching ranges in the
        same collection raise `DataIdError`.
        """
        storage = self._storage(dataset_type)
        dt = storage.dataset_type
        values = dict(data_id or {})
        values.update(kwargs)
        extra = {k: v for k, v in values.items() if k not in dt.dimensions.names}
        if extra:
            full = self.expand_data_id(values)
            if timespan is None:
                timespan = full.timespan
            coordinate = full.subset(dt.dimensions)
        else:
            coordinate = DataCoordinate.standardize(values, universe=self.universe, dimensions=dt.dimensions)
        search = self.resolve_collections(collections)
        if not any(t is CollectionType.CALIBRATION for _, _, t in search):
            return self._find_in_tagged(storage, coordinate, search)
        stmt = self._dataset_select(storage, search, coordinate.required, timespan, find_first=False)
        if stmt is None:
            return None
        sub = stmt.subquery("result")
        ds, coll = self.tables.dataset, self.tables.collection
        final = (
            sa.select(sub, coll.c.name.label("run_name"))
            .select_from(sub.join(ds, ds.c.id == sub.c.dataset_id).join(coll, coll.c.collection_id == ds.c.run_id))
            .order_by(sub.c.rank)
        )
        with self.db.connection() as conn:
            rows = conn.execute(final).mappings().all()
        if not rows:
            return None
        best = [r for r in rows if r["rank"] == rows[0]["rank"]]
        if len(best) > 1:
            raise DataIdError(
                f"{len(best)} {dt.name!r} datasets for {coordinate} in collection {search[best[0]['rank']][0]!r} "
                f"have validity ranges overlapping {timespan}; give a narrower time"
            )
        ref = self._ref_from_row(storage, best[0], best[0]["run_name"])
        return DatasetRef(dt, coordinate, ref.run, ref.id)

    def _find_in_tagged(
        self, storage: _DatasetTypeStorage, coordinate: DataCoordinate, search: list[tuple[str, int, CollectionType]]
    ) -> DatasetRef | None:
        """`find_dataset` when the search path has only RUN/TAGGED collections: one cached SELECT."""
        dt = storage.dataset_type
        dims = list(dt.dimensions.required)
        if not search:
            return None
        key = ("find", dt.name)
        stmt = self._statements.get(key)
        if stmt is None:
            tags, ds, coll = storage.tags, self.tables.dataset, self.tables.collection
            stmt = self._statements[key] = (
                sa.select(tags.c.dataset_id, tags.c.collection_id, coll.c.name.label("run_name"))
                .select_from(
                    tags.join(ds, ds.c.id == tags.c.dataset_id).join(coll, coll.c.collection_id == ds.c.run_id)
                )
                .where(
                    tags.c.dataset_type_id == sa.bindparam("dataset_type_id"),
                    tags.c.collection_id.in_(sa.bindparam("collection_ids", expanding=True)),
                    *[tags.c[d] == sa.bindparam(f"d_{d}") for d in dims],
                )
            )
        rank_of = {cid: i for i, (_, cid, _) in enumerate(search)}
        params = {"dataset_type_id": storage.id, "collection_ids": list(rank_of)}
        params.update({f"d_{d}": coordinate[d] for d in dims})
        with self.db.connection() as conn:
            rows = conn.execute(stmt, params).all()
        if not rows:
            return None
        best = min(rows, key=lambda r: rank_of[r.collection_id])
        return DatasetRef(dt, coordinate, best.run_name, best.dataset_id)

    def associate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Add datasets to a TAGGED collection (one per dataset type and data ID)."""
        cid, type = self._collection(collection)
        if type is not CollectionType.TAGGED:
            raise CollectionTypeError(f"{collection!r} is {type.name}, not TAGGED")
        by_type: dict[str, list[DatasetRef]] = {}
        for ref in refs:
            by_type.setdefault(ref.dataset_type.name, []).append(ref)
        with self.db.transaction() as conn:
            for name, group in by_type.items():
                storage = self._storage(name)
                rows = [
                    {"dataset_type_id": storage.id, "dataset_id": r.id, "collection_id": cid, **r.data_id.required}
                    for r in group
                ]
                try:
                    with self.db.transaction():
                        conn.execute(storage.tags.insert(), rows)
                except sa.exc.IntegrityError as err:
                    raise self._explain_dataset_conflict(conn, storage, collection, cid, group, err) from None

    def disassociate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Remove datasets from a TAGGED collection."""
        cid, type = self._collection(collection)
        if type is not CollectionType.TAGGED:
            raise CollectionTypeError(f"{collection!r} is {type.name}, not TAGGED")
        with self.db.transaction() as conn:
            for ref in refs:
                tags = self._storage(ref.dataset_type.name).tags
                conn.execute(tags.delete().where(tags.c.dataset_id == ref.id, tags.c.collection_id == cid))

    def certify(self, collection: str, refs: Iterable[DatasetRef], timespan: Timespan) -> None:
        """Associate calibration datasets with a validity range in a CALIBRATION collection.

        The check that no two ranges for the same dataset type and data ID overlap runs
        inside the transaction: on SQLite the write lock (``BEGIN IMMEDIATE``) serialises
        it, on PostgreSQL the collection's row is locked (``SELECT ... FOR UPDATE``) first,
        so concurrent certifications into one collection cannot both pass the check.

        Raises
        ------
        CalibrationOverlapError
            A range would overlap an existing one (or another in ``refs``).
        """
        if not isinstance(timespan, Timespan):
            raise DataIdError(f"certify needs a Timespan, got {timespan!r}")
        cid, type = self._collection(collection)
        if type is not CollectionType.CALIBRATION:
            raise CollectionTypeError(f"{collection!r} is {type.name}, not CALIBRATION")
        refs = list(refs)
        coll = self.tables.collection
        with self.db.transaction() as conn:
            conn.execute(sa.select(coll.c.collection_id).where(coll.c.collection_id == cid).with_for_update())
            seen: set[tuple] = set()
            for ref in refs:
                storage = self._storage(ref.dataset_type.name)
                if not storage.dataset_type.is_calibration or storage.calibs is None:
                    raise DatasetTypeError(f"dataset type {storage.dataset_type.name!r} is not a calibration type")
                key = (storage.dataset_type.name, tuple(ref.data_id.required.values()))
                if key in seen:
                    raise CalibrationOverlapError(
                        f"two {key[0]!r} datasets for {ref.data_id} in one certify call would overlap in {timespan}"
                    )
                seen.add(key)
                calibs = storage.calibs
                cond = [calibs.c.dataset_type_id == storage.id, calibs.c.collection_id == cid]
                cond += [calibs.c[d] == v for d, v in ref.data_id.required.items()]
                cond += [calibs.c.validity_begin < timespan.db_end, calibs.c.validity_end > timespan.db_begin]
                clash = conn.execute(
                    sa.select(calibs.c.dataset_id, calibs.c.validity_begin, calibs.c.validity_end).where(*cond)
                ).first()
                if clash is not None:
                    existing = Timespan.from_db(clash.validity_begin, clash.validity_end)
                    raise CalibrationOverlapError(
                        f"cannot certify {storage.dataset_type.name!r} {ref.data_id} in {collection!r} for "
                        f"{timespan}: dataset {clash.dataset_id} is already certified for {existing}, which overlaps"
                    )
                conn.execute(
                    calibs.insert().values(
                        dataset_type_id=storage.id,
                        dataset_id=ref.id,
                        collection_id=cid,
                        validity_begin=timespan.db_begin,
                        validity_end=timespan.db_end,
                        **ref.data_id.required,
                    )
                )

    def query_certifications(self, collection: str) -> list[tuple[DatasetRef, Timespan]]:
        """Every (dataset, validity range) certified in a CALIBRATION collection, sorted by type and range."""
        cid, type = self._collection(collection)
        if type is not CollectionType.CALIBRATION:
            raise CollectionTypeError(f"{collection!r} is {type.name}, not CALIBRATION")
        ds, coll = self.tables.dataset, self.tables.collection
        out: list[tuple[DatasetRef, Timespan]] = []
        with self.db.connection() as conn:
            for dataset_type in self.query_dataset_types():
                storage = self._storage(dataset_type.name)
                calibs = storage.calibs
                if calibs is None:
                    continue
                stmt = (
                    sa.select(calibs, coll.c.name.label("run_name"))
                    .select_from(
                        calibs.join(ds, ds.c.id == calibs.c.dataset_id).join(coll, coll.c.collection_id == ds.c.run_id)
                    )
                    .where(calibs.c.collection_id == cid, calibs.c.dataset_type_id == storage.id)
                    .order_by(calibs.c.validity_begin, *[calibs.c[d] for d in dataset_type.dimensions.required])
                )
                for row in conn.execute(stmt).mappings():
                    ref = self._ref_from_row(storage, row, row["run_name"])
                    out.append((ref, Timespan.from_db(row["validity_begin"], row["validity_end"])))
        return out

    def existing_dataset_ids(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``ids`` that are registered datasets."""
        ids = list(ids)
        ds = self.tables.dataset
        found: set[uuid.UUID] = set()
        with self.db.connection() as conn:
            for start in range(0, len(ids), 500):
                found.update(conn.execute(sa.select(ds.c.id).where(ds.c.id.in_(ids[start : start + 500]))).scalars())
        return found

    def run_dataset_ids(self, run: str) -> list[uuid.UUID]:
        """IDs of all datasets that belong to a RUN collection."""
        run_id, _ = self._collection(run)
        ds = self.tables.dataset
        with self.db.connection() as conn:
            return list(conn.execute(sa.select(ds.c.id).where(ds.c.run_id == run_id)).scalars())

    def resolve_existing(self, refs: Iterable[DatasetRef]) -> list[DatasetRef]:
        """Check that each ref is a registered dataset with its dataset type and run; return the parents.

        Component refs are replaced by their parent dataset's ref; duplicates are dropped
        (first one kept).

        Raises
        ------
        DatasetNotFoundError
            Some refs are not in this repository, or are registered with another dataset
            type or run; the message names up to five of them (type, data ID, run, id).
        """
        unique: dict[uuid.UUID, DatasetRef] = {}
        for ref in refs:
            if not isinstance(ref, DatasetRef):
                raise DatasetTypeError(f"expected DatasetRef objects, got {type(ref).__name__}: {ref!r}")
            unique.setdefault(ref.id, ref.parent)
        ids = list(unique)
        ds, dt, coll = self.tables.dataset, self.tables.dataset_type, self.tables.collection
        found: dict[uuid.UUID, tuple[str, str]] = {}
        with self.db.connection() as conn:
            for start in range(0, len(ids), 500):
                stmt = (
                    sa.select(ds.c.id, dt.c.name, coll.c.name.label("run"))
                    .select_from(
                        ds.join(dt, ds.c.dataset_type_id == dt.c.dataset_type_id).join(
                            coll, ds.c.run_id == coll.c.collection_id
                        )
                    )
                    .where(ds.c.id.in_(ids[start : start + 500]))
                )
                found.update((row.id, (row.name, row.run)) for row in conn.execute(stmt))
        bad = []
        for id_, ref in unique.items():
            if id_ not in found:
                bad.append(f"{ref.dataset_type.name!r} {ref.data_id} in run {ref.run!r} (id {id_}): not registered")
            elif found[id_] != (ref.dataset_type.name, ref.run):
                name, run = found[id_]
                bad.append(
                    f"{ref.dataset_type.name!r} {ref.data_id} in run {ref.run!r} (id {id_}): that id is a "
                    f"{name!r} dataset in run {run!r}"
                )
        if bad:
            shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
            raise DatasetNotFoundError(f"{len(bad)} of {len(unique)} dataset(s) are not in this repository: {shown}")
        return list(unique.values())

    def disassociate_everywhere(self, refs: Sequence[DatasetRef]) -> None:
        """Remove datasets from every TAGGED and CALIBRATION collection (not from their RUN).

        The refs must be registered (see `resolve_existing`).
        """
        by_type: dict[str, list[uuid.UUID]] = {}
        for ref in refs:
            by_type.setdefault(ref.dataset_type.name, []).append(ref.id)
        ds = self.tables.dataset
        with self.db.transaction(savepoint=False) as conn:
            for name, ids in by_type.items():
                storage = self._storage(name)
                for start in range(0, len(ids), 500):
                    part = ids[start : start + 500]
                    tags = storage.tags
                    # Every membership except the one in the dataset's own RUN.
                    own_run = sa.select(ds.c.run_id).where(ds.c.id == tags.c.dataset_id).scalar_subquery()
                    conn.execute(tags.delete().where(tags.c.dataset_id.in_(part), tags.c.collection_id != own_run))
                    if storage.calibs is not None:
                        calibs = storage.calibs
                        conn.execute(calibs.delete().where(calibs.c.dataset_id.in_(part)))

    def remove_datasets(self, refs: Sequence[DatasetRef]) -> None:
        """Delete datasets from the registry entirely: their RUN, TAGGED and CALIBRATION rows.

        Rows that refer to the datasets in other tables (datastore records) are removed
        by ``ON DELETE CASCADE``; callers that must delete content remove those first.
        """
        by_type: dict[str, list[uuid.UUID]] = {}
        for ref in refs:
            by_type.setdefault(ref.dataset_type.name, []).append(ref.id)
        ds = self.tables.dataset
        with self.db.transaction(savepoint=False) as conn:
            for name, ids in by_type.items():
                storage = self._storage(name)
                for start in range(0, len(ids), 500):
                    part = ids[start : start + 500]
                    conn.execute(storage.tags.delete().where(storage.tags.c.dataset_id.in_(part)))
                    if storage.calibs is not None:
                        conn.execute(storage.calibs.delete().where(storage.calibs.c.dataset_id.in_(part)))
                    conn.execute(ds.delete().where(ds.c.id.in_(part)))

    def remove_run(self, run: str, *, unlink_from_chains: bool = False) -> list[uuid.UUID]:
        """Delete a RUN collection and its datasets' rows; return the dataset IDs removed."""
        run_id, type = self._collection(run)
        if type is not CollectionType.RUN:
            raise CollectionTypeError(f"{run!r} is {type.name}, not a RUN collection")
        ds, chain, coll = self.tables.dataset, self.tables.collection_chain, self.tables.collection
        with self.db.transaction() as conn:
            parents = self._parents_of(conn, run_id)
            if parents and not unlink_from_chains:
                raise OrphanedRecordError(
                    f"run {run!r} is in CHAINED collection(s) {parents}; pass unlink_from_chains=True"
                )
            for parent in parents:
                remaining = [c for c in self.get_collection_chain(parent) if c != run]
                self.set_collection_chain(parent, remaining)
            ids = list(conn.execute(sa.select(ds.c.id).where(ds.c.run_id == run_id)).scalars())
            conn.execute(ds.delete().where(ds.c.run_id == run_id))
            conn.execute(chain.delete().where(chain.c.parent == run_id))
            conn.execute(coll.delete().where(coll.c.collection_id == run_id))
        self._collections.pop(run, None)
        return ids

    def tags_table_name(self, dataset_type: DatasetType) -> str:
        """Name of the SQL table holding this dataset type's collection memberships."""
        return tags_table_name(dataset_type.dimensions)
