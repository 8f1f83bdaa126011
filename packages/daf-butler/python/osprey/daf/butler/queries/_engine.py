"""Data-ID, dimension-record and dataset queries with ``where`` expressions.

Each query is described by a `_Plan`; `QueryEngine._execute` turns a plan into one
SELECT (see `QueryBuilder`), runs it and refines region tests in Python. When a query
returns nothing, `QueryResults.explain_no_results` re-runs parts of the plan (no where
clause; one term at a time; without the region test) to say what removed everything.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from osprey.utils import get_logger

from .._collection_type import CollectionType
from .._dataset_ref import DatasetRef
from .._dataset_type import DatasetType
from .._exceptions import InvalidQueryError
from .._timespan import Timespan
from ..dimensions import DataCoordinate
from ..dimensions._coordinate import normalize_value
from ._builder import DatasetSearch, QueryBuilder, Term, split_terms
from ._parser import parse_expression
from ._wildcards import describe_pattern, expand_wildcards, flatten, is_pattern, suggest

if TYPE_CHECKING:
    from ..registry._registry import Registry

__all__ = ["QueryEngine", "QueryResults"]

_log = get_logger(__name__)


class QueryResults(list):
    """The rows of a query (a `list`), able to say why it is empty.

    ``explain_no_results()`` returns human-readable reasons (an empty list when there are
    results): unknown dataset types or collections, collections without datasets of the
    type, missing dimension records, the where term or data ID constraint or region test
    that removed everything.
    """

    def __init__(self, items: Iterable[Any] = (), explain: Callable[[], list[str]] | None = None):
        super().__init__(items)
        self._explain = explain
        self._reasons: list[str] | None = None

    def explain_no_results(self) -> list[str]:
        """Why the query matched nothing (computed on first call; [] if not empty)."""
        if self:
            return []
        if self._reasons is None:
            self._reasons = list(self._explain()) if self._explain is not None else []
        return self._reasons


@dataclass
class _Plan:
    kind: str  # datasets | data_ids | records
    dimensions: tuple[str, ...] = ()
    element: str | None = None
    where: str = ""
    bind: Mapping[str, Any] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)
    dataset: DatasetSearch | None = None
    find_first: bool = True
    joined: list[DatasetSearch] = field(default_factory=list)
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    notes: list[str] = field(default_factory=list)
    refine: bool = True


def _as_list(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _uuid_from_hex(
    text: str,
    _new: Callable[[type], Any] = object.__new__,
    _set: Callable[[Any, str, Any], None] = object.__setattr__,
    _unknown: uuid.SafeUUID = uuid.SafeUUID.unknown,
) -> uuid.UUID:
    """``uuid.UUID(hex=text)`` for the 32 hex digits the registry stores, about twice as fast.

    The registry wrote the text, so the general parser's checks are skipped; the object
    is filled the way `uuid.UUID.__init__` fills it (its ``int`` and ``is_safe`` slots).
    """
    if len(text) != 32:
        return uuid.UUID(text)
    value = _new(uuid.UUID)
    _set(value, "int", int(text, 16))
    _set(value, "is_safe", _unknown)
    return value


class QueryEngine:
    """Runs queries against one `Registry` (use the `Butler` methods rather than this)."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.universe = registry.universe

    # ------------------------------------------------------------------ argument resolution
    def resolve_dataset_types(self, argument: Any) -> tuple[list[DatasetType], list[str]]:
        """Registered dataset types matching ``argument`` and notes on items that matched none."""
        if isinstance(argument, DatasetType):
            return [self.registry._storage(argument).dataset_type], []
        if isinstance(argument, Iterable) and not isinstance(argument, (str, re.Pattern)):
            items = list(argument)
            if any(isinstance(i, DatasetType) for i in items):
                types = [self.registry._storage(i).dataset_type for i in items if isinstance(i, DatasetType)]
                rest_types, notes = self.resolve_dataset_types([i for i in items if not isinstance(i, DatasetType)])
                return types + rest_types, notes
            argument = items
        names = [dt.name for dt in self.registry.query_dataset_types()]
        matches = expand_wildcards(argument, names)
        notes = []
        for match in matches:
            if not match.names:
                if match.explicit:
                    notes.append(f"dataset type {match.item!r} is not registered{suggest(match.item, names)}")
                else:
                    notes.append(f"no registered dataset type matches {describe_pattern(match.item)}")
        return [self.registry.get_dataset_type(n) for n in flatten(matches)], notes

    def resolve_collections(self, argument: Any) -> tuple[list[tuple[str, int, CollectionType]], list[str]]:
        """The flattened search path for ``argument`` (patterns expanded) and notes."""
        if isinstance(argument, str) and not is_pattern(argument):
            items: Any = [argument]
        else:
            items = argument
        needs_listing = (
            items is ...
            or isinstance(items, re.Pattern)
            or any(is_pattern(i) for i in ([items] if isinstance(items, str) else items))
        )
        if needs_listing:
            available = self.registry.query_collections("*")
        else:
            available = []
            for name in items:
                with contextlib.suppress(LookupError):
                    self.registry._collection(name)
                    available.append(name)
        matches = expand_wildcards(items, available)
        notes = []
        for match in matches:
            if not match.names:
                if match.explicit:
                    known = self.registry.query_collections("*")
                    notes.append(f"collection {match.item!r} is not registered{suggest(match.item, known)}")
                else:
                    notes.append(f"no collection matches {describe_pattern(match.item)}")
        names = flatten(matches)
        return (self.registry.resolve_collections(names) if names else []), notes

    def _constraints(self, data_id: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(data_id or {})
        values.update(kwargs)
        out = {}
        for key, value in values.items():
            if key not in self.universe or not self.universe[key].is_dimension or not self.universe[key].has_table:
                raise InvalidQueryError(
                    f"data ID constraint {key!r} is not a dimension{suggest(key, self.universe.dimension_names)}"
                )
            out[key] = normalize_value(self.universe, key, value)
        return out

    def _terms(self, where: str) -> list[Term]:
        if not where or not where.strip():
            return []
        return split_terms(parse_expression(where), where)

    # ------------------------------------------------------------------ public queries
    def query_datasets(
        self,
        dataset_type: Any,
        collections: Any,
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        find_first: bool = True,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """See `Butler.query_datasets`."""
        types, type_notes = self.resolve_dataset_types(dataset_type)
        search, coll_notes = self.resolve_collections(collections)
        base = _Plan(
            "datasets",
            where=where,
            bind=dict(bind or {}),
            terms=self._terms(where),
            constraints=self._constraints(data_id, kwargs),
            find_first=find_first,
            order_by=_as_list(order_by),
            limit=limit,
            notes=type_notes + coll_notes,
        )
        plans = [replace(base, dataset=DatasetSearch(self.registry._storage(dt), search, timespan)) for dt in types]
        refs: list[DatasetRef] = []
        if search:
            for plan in plans:
                refs.extend(self._execute(plan))
                if limit is not None and len(refs) >= limit:
                    refs = refs[:limit]
                    break
        results = QueryResults(refs, lambda: self._explain(base, plans, search))
        if not results:
            _log.verbose("query_datasets(%r) matched nothing", dataset_type)
        return results

    def query_data_ids(
        self,
        dimensions: str | Iterable[str],
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        datasets: Any = None,
        collections: Any = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """See `Butler.query_data_ids`."""
        dims = _as_list(dimensions) if isinstance(dimensions, str) else tuple(dimensions)
        for d in dims:
            if d not in self.universe or not self.universe[d].is_dimension or not self.universe[d].has_table:
                raise InvalidQueryError(
                    f"{d!r} is not a queryable dimension{suggest(d, self.universe.dimension_names)}"
                )
        notes: list[str] = []
        joined: list[DatasetSearch] = []
        search: list = []
        if datasets is not None:
            types, notes = self.resolve_dataset_types(datasets)
            if collections is None:
                raise InvalidQueryError("datasets=... needs collections=...")
            search, coll_notes = self.resolve_collections(collections)
            notes += coll_notes
            joined = [DatasetSearch(self.registry._storage(dt), search) for dt in types]
        plan = _Plan(
            "data_ids",
            dimensions=dims,
            where=where,
            bind=dict(bind or {}),
            terms=self._terms(where),
            constraints=self._constraints(data_id, kwargs),
            joined=joined,
            order_by=_as_list(order_by),
            limit=limit,
            notes=notes,
        )
        rows = [] if notes else self._execute(plan)
        return QueryResults(rows, lambda: self._explain(plan, [plan], search))

    def query_dimension_records(
        self,
        element: str,
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """See `Butler.query_dimension_records`."""
        element_names = [e.name for e in self.universe.elements]
        if element not in element_names:
            raise InvalidQueryError(f"unknown dimension element {element!r}{suggest(element, element_names)}")
        plan = _Plan(
            "records",
            element=element,
            where=where,
            bind=dict(bind or {}),
            terms=self._terms(where),
            constraints=self._constraints(data_id, kwargs),
            order_by=_as_list(order_by),
            limit=limit,
        )
        rows = self._execute(plan)
        return QueryResults(rows, lambda: self._explain(plan, [plan], []))

    # ------------------------------------------------------------------ execution
    def _build(self, plan: _Plan) -> tuple[QueryBuilder, Any, bool]:
        """The builder, the final SELECT and whether Python must de-duplicate/limit."""
        builder = QueryBuilder(self.registry, plan.where, plan.bind)
        dims: set[str] = set(plan.dimensions) | set(plan.constraints)
        elements: set[str] = set()
        for term in plan.terms:
            builder.collect(term.node, dims, elements)
        if plan.element is not None:
            dims.update(self.universe[plan.element].required)
        if plan.dataset is not None:
            dims.update(plan.dataset.storage.dataset_type.dimensions.names)
        for ds in plan.joined:
            dims.update(ds.storage.dataset_type.dimensions.names)
        builder.group = self.universe.group(dims)
        group = builder.group
        unions = []
        if plan.dataset is not None:
            union = builder.dataset_relation(plan.dataset, "found")
            if union is None:
                return builder, None, False
            unions.append((union, plan.dataset))
        for i, ds in enumerate(plan.joined):
            union = builder.dataset_relation(ds, f"joined{i}")
            if union is None:
                return builder, None, False
        if plan.element is not None:
            builder.join_element(plan.element)
        if plan.kind != "datasets":
            for d in group.required:
                builder.join_element(d)
        else:
            for d in group.required:
                if d not in builder.cols:
                    builder.join_element(d)
        for name in sorted(elements):
            builder.join_element(name)
        required = set(group.required)
        for name in ("visit_definition", "visit_system_membership"):
            if name in self.universe and set(self.universe[name].required) <= required:
                builder.join_element(name)
        for union, ds in unions:
            builder.calibration_time(union, ds, plan.find_first)
        builder.add_constraints(plan.constraints)
        for term in plan.terms:
            builder.compile_term(term)
        builder.implicit_spatial_join()
        if not plan.refine:
            builder.region_tests.clear()
        order = [builder.order_term(o) for o in plan.order_by]
        outputs: dict[str, Any] = {}
        if plan.kind == "datasets":
            assert plan.dataset is not None
            dt = plan.dataset.storage.dataset_type
            union = unions[0][0]
            # SQLite keeps UUIDs as 32 hex digits: read the text and convert it in
            # `_execute` (cheaper than SQLAlchemy's per-row processor); PostgreSQL's
            # driver returns uuid.UUID objects itself.
            outputs["dataset_id"] = (
                sa.type_coerce(union.c.dataset_id, sa.String()) if self.registry.db.is_sqlite else union.c.dataset_id
            )
            outputs["rank"] = union.c.rank
            for d in dt.dimensions.names:
                outputs[f"d_{d}"] = builder.resolve(d)
        elif plan.kind == "data_ids":
            for d in self.universe.group(plan.dimensions).names:
                outputs[f"d_{d}"] = builder.resolve(d)
        else:
            assert plan.element is not None
            table = builder.aliases[plan.element]
            for column in table.c:
                outputs[f"f_{column.name}"] = column
        for i, (expr, _) in enumerate(order):
            outputs[f"o_{i}"] = expr
        outputs.update(builder.region_labels)
        select = sa.select(*[expr.label(label) for label, expr in outputs.items()]).select_from(builder.from_clause())
        select = select.where(*builder.conditions)
        extra_dims = set(group.required)
        if plan.kind == "data_ids":
            extra_dims -= set(self.universe.group(plan.dimensions).required)
        elif plan.kind == "records":
            extra_dims -= set(self.universe[plan.element].required)
        else:
            extra_dims -= set(plan.dataset.storage.dataset_type.dimensions.required)
        python_side = bool(builder.region_tests) or bool(extra_dims)
        if plan.kind == "datasets":
            # One RUN or TAGGED collection holds at most one dataset per data ID, so the
            # find-first ranking (a window function, which stops SQLite from flattening
            # the query) is only needed for longer search paths and CALIBRATION ones.
            search = plan.dataset.search
            single = len(search) == 1 and search[0][2] is not CollectionType.CALIBRATION
            ranked = plan.find_first and not single
            if ranked:
                partition = [builder.resolve(d) for d in group.required]
                rn = sa.func.row_number().over(partition_by=partition or None, order_by=union.c.rank)
                inner = select.add_columns(rn.label("rn")).subquery("ranked")
            else:
                inner = select.subquery("ranked")
            if single and search[0][2] is CollectionType.RUN:  # the run is the collection itself
                final = sa.select(
                    *[inner.c[label] for label in outputs], sa.literal(search[0][0], sa.String()).label("run_name")
                )
            else:
                ds_table, coll = self.registry.tables.dataset, self.registry.tables.collection
                final = sa.select(*[inner.c[label] for label in outputs], coll.c.name.label("run_name")).select_from(
                    inner.join(ds_table, ds_table.c.id == inner.c.dataset_id).join(
                        coll, coll.c.collection_id == ds_table.c.run_id
                    )
                )
            if ranked:
                final = final.where(inner.c.rn == 1)
            keys = [inner.c[f"o_{i}"].desc() if desc else inner.c[f"o_{i}"] for i, (_, desc) in enumerate(order)]
            keys += [inner.c[f"d_{d}"] for d in dt.dimensions.required] + [inner.c.rank]
            final = final.order_by(*keys)
        else:
            if plan.kind == "data_ids" and (extra_dims or plan.joined):
                select = select.distinct()
            keys = [sa.desc(f"o_{i}") if desc else sa.asc(f"o_{i}") for i, (_, desc) in enumerate(order)]
            if plan.kind == "data_ids":
                keys += [sa.asc(f"d_{d}") for d in self.universe.group(plan.dimensions).required]
            else:
                element = self.universe[plan.element]
                keys += [sa.asc(f"f_{element.column_name(d)}") for d in element.required]
            final = select.order_by(*keys)
        if plan.limit is not None and not python_side:
            final = final.limit(plan.limit)
        return builder, final, python_side

    def _fetch(self, plan: _Plan, probe: bool = False) -> tuple[list[Any], int]:
        """Rows after region refinement, and how many the SQL query returned.

        Rows are tuples; `_fetch_columns` gives the position of each label.
        """
        rows, count, _ = self._fetch_columns(plan, probe)
        return rows, count

    def _fetch_columns(self, plan: _Plan, probe: bool = False) -> tuple[list[Any], int, dict[str, int]]:
        builder, stmt, _ = self._build(plan)
        if stmt is None:
            return [], 0, {}
        if probe and not builder.region_tests:
            stmt = stmt.limit(1)
        with self.registry.db.connection() as conn:
            raw = self._raw_fetch(conn, stmt) if plan.kind == "datasets" and self.registry.db.is_sqlite else None
            if raw is not None:
                rows, index = raw
            else:
                result = conn.execute(stmt)
                index = {key: i for i, key in enumerate(result.keys())}
                rows = result.all()
        if not builder.region_tests:
            return rows, len(rows), index
        from osprey.geom import Region

        cache: dict[bytes, Any] = {}

        def region(side: Any, row: Any) -> Any:
            if side.element is None:
                return side.region
            data = row[index[side.label]]
            if data is None:
                return None
            if data not in cache:
                cache[data] = Region.decode(data)
            return cache[data]

        kept = []
        for row in rows:
            ok = True
            for test in builder.region_tests:
                a, b = region(test.left, row), region(test.right, row)
                if a is None or b is None or a.is_disjoint_from(b):
                    ok = False
                    break
            if ok:
                kept.append(row)
                if probe:
                    break
        return kept, len(rows), index

    @staticmethod
    def _raw_fetch(conn: sa.Connection, stmt: Any) -> tuple[list[tuple], dict[str, int]] | None:
        """Run a dataset query on SQLite's cursor directly: plain tuples, no per-row Row objects.

        Only when no bound value needs a bind processor; the columns a dataset query
        returns (hex UUID text, ints, strings) need no result processing. The statement is
        still compiled by SQLAlchemy and every value is a bound parameter. None: use the
        ordinary path.
        """
        dialect = conn.dialect
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                return None
        params = compiled.construct_params()
        values = tuple(params[name] for name in compiled.positiontup or ())
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(compiled.string, values)
            index = {column[0]: i for i, column in enumerate(cursor.description)}
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return rows, index

    def _execute(self, plan: _Plan) -> list[Any]:
        rows, _, index = self._fetch_columns(plan)
        out: list[Any] = []
        seen: set[Any] = set()
        if plan.kind == "datasets":
            assert plan.dataset is not None
            dt = plan.dataset.storage.dataset_type
            group = dt.dimensions
            columns = [(d, index[f"d_{d}"]) for d in group.names]
            id_at, run_at = index["dataset_id"], index["run_name"]
            trusted = DataCoordinate._from_trusted
            for row in rows:
                raw_id = row[id_at]
                if raw_id in seen:
                    continue
                seen.add(raw_id)
                dataset_id = _uuid_from_hex(raw_id) if isinstance(raw_id, str) else raw_id
                values = {d: row[i] for d, i in columns if row[i] is not None}
                out.append(DatasetRef(dt, trusted(group, values), row[run_at], dataset_id))
        elif plan.kind == "data_ids":
            group = self.universe.group(plan.dimensions)
            columns = [(d, index[f"d_{d}"]) for d in group.names]
            for row in rows:
                values = {d: row[i] for d, i in columns if row[i] is not None}
                key = tuple(values.get(d) for d in group.required)
                if key in seen:
                    continue
                seen.add(key)
                out.append(DataCoordinate(group, values))
        else:
            element = self.universe[plan.element]
            keys = [index[f"f_{element.column_name(d)}"] for d in element.required]
            table = self.registry.tables.elements[element.name]
            fields = [(c.name, index[f"f_{c.name}"]) for c in table.c]
            for row in rows:
                key = tuple(row[k] for k in keys)
                if key in seen:
                    continue
                seen.add(key)
                out.append(self.registry._row_to_record(element, {name: row[i] for name, i in fields}))
        if plan.limit is not None:
            out = out[: plan.limit]
        return out

    def _any(self, plan: _Plan) -> bool:
        rows, _ = self._fetch(replace(plan, limit=None, order_by=()), probe=True)
        return bool(rows)

    # ------------------------------------------------------------------ explanations
    def _explain(self, base: _Plan, plans: list[_Plan], search: list[tuple[str, int, CollectionType]]) -> list[str]:
        reasons = list(base.notes)
        if base.kind == "datasets" and not plans and not base.notes:
            reasons.append("no dataset types were given")
        if reasons and (not search and base.kind == "datasets" or base.kind == "data_ids"):
            return reasons
        if base.kind == "datasets" and not search:
            return reasons or ["no collections to search"]
        for ds in [p.dataset for p in plans if p.dataset is not None] + base.joined:
            if not self._has_datasets(ds):
                names = [n for n, _, _ in ds.search]
                reasons.append(
                    f"collection(s) {names} hold no {ds.storage.dataset_type.name!r} datasets"
                    + (f" valid in {ds.timespan}" if ds.timespan is not None else "")
                )
        if reasons:
            return reasons
        for plan in plans:
            reasons.extend(self._explain_plan(plan))
        return reasons or ["the query matched nothing, but no single cause was found"]

    def _has_datasets(self, ds: DatasetSearch) -> bool:
        builder = QueryBuilder(self.registry)
        union = builder.dataset_relation(ds, "probe")
        if union is None:
            return False
        with self.registry.db.connection() as conn:
            return conn.execute(sa.select(union.c.dataset_id).limit(1)).first() is not None

    def _explain_plan(self, plan: _Plan) -> list[str]:
        reasons = []
        builder, _, _ = self._build(replace(plan, terms=[], constraints={}, order_by=()))
        with self.registry.db.connection() as conn:
            for name in builder.aliases:
                if self.universe[name].is_dimension or name in ("visit_detector_region",):
                    table = self.registry.tables.elements[name]
                    if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None:
                        reasons.append(f"no {name!r} dimension records exist (define them before querying)")
        if reasons:
            return reasons
        bare = replace(plan, terms=[], constraints={}, refine=False)
        if not self._any(bare):
            what = "datasets and dimension records" if plan.kind == "datasets" else "dimension records"
            implicit = builder.group is not None and _spans_obs_and_sky(builder.group)
            return [
                f"no combination of {what} exists for dimensions {builder.group} even without the where clause"
                + (
                    " (the implicit spatial join of observation and skymap regions found no overlaps)"
                    if implicit
                    else ""
                )
            ]
        for key, value in plan.constraints.items():
            if not self._any(replace(bare, constraints={key: value})):
                reasons.append(f"data ID constraint {key}={value!r} matches nothing")
        for term in plan.terms:
            probe = replace(bare, terms=[term], refine=True)
            if not self._any(probe):
                dims, elements = _term_refs(self, term)
                names = ", ".join(sorted(elements | dims))
                reasons.append(f"where term {term.text!r} (column {term.column}) matches no {names} records")
        if reasons:
            return reasons
        unrefined = replace(plan, refine=False, limit=None, order_by=())
        rows, _ = self._fetch(unrefined, probe=True)
        if rows and plan.refine:
            builder, _, _ = self._build(plan)
            tests = "; ".join(t.text for t in builder.region_tests)
            return [f"the exact region-overlap test ({tests}) removed every candidate that the htm7 index matched"]
        if plan.terms or plan.constraints:
            return [
                "each where term and data ID constraint matches something, but not all together: "
                + " AND ".join([t.text for t in plan.terms] + [f"{k}={v!r}" for k, v in plan.constraints.items()])
            ]
        return []


def _term_refs(engine: QueryEngine, term: Term) -> tuple[set[str], set[str]]:
    builder = QueryBuilder(engine.registry, term.text)
    dims: set[str] = set()
    elements: set[str] = set()
    builder.collect(term.node, dims, elements)
    if elements:
        dims -= {d for e in elements for d in engine.universe[e].required}
    return dims, elements


def _spans_obs_and_sky(group: Any) -> bool:
    required = set(group.required)
    return "visit" in required and bool({"tract", "patch"} & required)
