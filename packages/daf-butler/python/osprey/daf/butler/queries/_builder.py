"""Compile a parsed ``where`` tree plus query arguments into one SQLAlchemy SELECT.

Everything here produces SQLAlchemy expression objects: values from the expression or
from ``bind`` become bound parameters, names become columns of the registry's tables,
and nothing is ever formatted into SQL text.

The FROM clause is built from the dimension-element tables a query needs. The first
table (or dataset search) that provides a dimension's value defines its column; every
later table that has that dimension is joined on equality with it. Implied dimensions
(``band`` of a visit query) are looked up through LEFT JOINs on the element tables that
imply them. Region ``OVERLAPS`` terms become EXISTS joins on the ``<element>_htm7_overlap``
tables and are refined afterwards in Python with exact region tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .._collection_type import CollectionType
from .._exceptions import DataIdError, InvalidQueryError
from .._timespan import INT64_MAX, INT64_MIN, Timespan
from ..dimensions import DimensionGroup
from ..dimensions._coordinate import normalize_value
from ._parser import (
    BinaryOp,
    Bind,
    Call,
    Identifier,
    InList,
    Literal,
    Node,
    RangeItem,
    TimeLiteral,
    TupleNode,
    UnaryOp,
    query_error,
)
from ._wildcards import suggest

if TYPE_CHECKING:
    from ..registry._registry import Registry, _DatasetTypeStorage

__all__ = ["DatasetSearch", "QueryBuilder", "Term", "split_terms"]

_NUMERIC = {"int", "float"}
_KIND_WORDS = {"int": "an integer", "float": "a number", "string": "a string", "bool": "a boolean", "null": "NULL"}


@dataclass
class Term:
    """One top-level AND term of a where expression, with its source text and column."""

    node: Node
    text: str
    column: int


def split_terms(node: Node, text: str) -> list[Term]:
    """Split a tree at its top-level ANDs, keeping each term's source text."""
    pieces: list[Node] = []
    cuts: list[int] = []

    def walk(n: Node) -> None:
        if isinstance(n, BinaryOp) and n.op == "AND":
            walk(n.lhs)
            cuts.append(n.op_pos)
            walk(n.rhs)
        else:
            pieces.append(n)

    walk(node)
    bounds = [*cuts, len(text)]
    terms = []
    for piece, end in zip(pieces, bounds, strict=True):
        snippet = text[piece.pos : end].strip()
        while snippet.startswith("(") and snippet.count("(") > snippet.count(")"):
            snippet = snippet[1:].strip()
        while snippet.endswith(")") and snippet.count(")") > snippet.count("("):
            snippet = snippet[:-1].strip()
        terms.append(Term(piece, snippet, piece.pos + 1))
    return terms


@dataclass
class DatasetSearch:
    """A dataset type searched in a flattened list of collections."""

    storage: _DatasetTypeStorage
    search: list[tuple[str, int, CollectionType]]
    timespan: Timespan | None = None


# ---------------------------------------------------------------------------- compiled values
@dataclass
class _Scalar:
    expr: Any
    kind: str  # int float string bool null any
    node: Node
    literal: Any = None
    is_literal: bool = False
    dim: str | None = None
    name: str = ""


@dataclass
class _Span:
    begin: Any
    end: Any
    node: Node
    name: str = "a timespan"


@dataclass
class _RegionSide:
    node: Node
    element: str | None = None
    region: Any = None
    label: str | None = None


@dataclass
class _ListValue:
    values: list[Any]
    node: Node


@dataclass
class _Pred:
    expr: Any


@dataclass(frozen=True)
class _Ref:
    kind: str  # dim field timespan region
    element: str | None
    name: str
    sub: str | None = None
    type: str = "any"


@dataclass
class RegionTest:
    """A region pair to refine in Python: each side is a result label or a constant region."""

    left: _RegionSide
    right: _RegionSide
    text: str


@dataclass
class _Join:
    table: Any
    on: Any
    outer: bool


@dataclass
class QueryBuilder:
    """Accumulates the FROM clause, columns and conditions of one query."""

    registry: Registry
    text: str = ""
    bind: Mapping[str, Any] = field(default_factory=dict)
    cols: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, Any] = field(default_factory=dict)
    joins: list[_Join] = field(default_factory=list)
    conditions: list[Any] = field(default_factory=list)
    region_tests: list[RegionTest] = field(default_factory=list)
    region_labels: dict[str, Any] = field(default_factory=dict)
    group: DimensionGroup | None = None

    @property
    def universe(self) -> Any:
        return self.registry.universe

    # ------------------------------------------------------------------ identifiers
    def error(self, message: str, pos: int) -> InvalidQueryError:
        if not self.text:
            return InvalidQueryError(message)
        return query_error(message, self.text, pos + 1)

    def resolve_identifier(self, ident: Identifier) -> _Ref:
        """What a name in the expression refers to (no SQL yet)."""
        universe = self.universe
        parts = ident.parts
        head = parts[0]
        element_names = [e.name for e in universe.elements]
        if len(parts) == 1:
            if head in element_names and universe[head].is_dimension:
                return _Ref("dim", None, head)
            if head in element_names:
                raise self.error(
                    f"{head!r} is a join element, not a dimension: name one of its fields "
                    f"({', '.join(universe[head].record_fields)})",
                    ident.pos,
                )
            if head in universe:
                raise self.error(
                    f"skypix dimension {head!r} cannot be used in a where clause; use a region OVERLAPS test",
                    ident.pos,
                )
            raise self.error(f"unknown dimension {head!r}{suggest(head, universe.dimension_names)}", ident.pos)
        if head not in element_names:
            raise self.error(f"unknown dimension element {head!r}{suggest(head, element_names)}", ident.pos)
        element = universe[head]
        name = parts[1]
        field_pos = ident.pos + len(head) + 1
        if len(parts) > 2 and not (name == "timespan" and len(parts) == 3 and parts[2] in ("begin", "end")):
            raise self.error(f"{ident.dotted!r} has too many parts (only TIMESPAN.begin/.end nest)", ident.pos)
        if element.key is not None and name == element.key.name:
            return _Ref("dim", None, head)
        if name in element.required or name in element.implied:
            return _Ref("dim", None, name)
        for spec in element.metadata:
            if spec.name == name:
                return _Ref("field", head, name, type=spec.type)
        if name == "region" and element.spatial:
            return _Ref("region", head, name)
        if name == "timespan" and element.temporal:
            return _Ref("timespan", head, name, sub=parts[2] if len(parts) == 3 else None)
        raise self.error(
            f"{head!r} has no field {name!r}{suggest(name, element.record_fields)}; its fields are "
            f"{', '.join(element.record_fields)}",
            field_pos,
        )

    def collect(self, node: Node | None, dims: set[str], elements: set[str]) -> None:
        """Add the dimensions and elements that ``node`` refers to."""
        if node is None:
            return
        if isinstance(node, Identifier):
            ref = self.resolve_identifier(node)
            if ref.kind == "dim":
                dims.add(ref.name)
            else:
                assert ref.element is not None
                element = self.universe[ref.element]
                dims.update(element.required)
                elements.add(ref.element)
            return
        for child in _children(node):
            self.collect(child, dims, elements)

    # ------------------------------------------------------------------ FROM clause
    def add_relation(self, table: Any, provides: Mapping[str, Any], outer: bool = False) -> None:
        """Join a table/subquery providing the given dimension columns."""
        on = []
        for dim, column in provides.items():
            if dim in self.cols:
                on.append(column == self.cols[dim])
            else:
                self.cols[dim] = column
        self.joins.append(_Join(table, sa.and_(*on) if on else sa.true(), outer))

    def join_element(self, name: str, outer: bool = False) -> Any:
        """Join an element's table (once) and return its alias."""
        if name in self.aliases:
            return self.aliases[name]
        element = self.universe[name]
        table = self.registry.tables.elements[name].alias(f"e_{name}")
        on = []
        for dim in element.required:
            column = table.c[element.column_name(dim)]
            if dim in self.cols:
                on.append(column == self.cols[dim])
            else:
                self.cols[dim] = column
        for dim in element.implied:
            if dim in self.cols:
                if not outer:
                    on.append(table.c[dim] == self.cols[dim])
            else:
                self.cols[dim] = table.c[dim]
        self.aliases[name] = table
        self.joins.append(_Join(table, sa.and_(*on) if on else sa.true(), outer))
        return table

    def resolve(self, dim: str) -> Any:
        """The column holding ``dim``'s value, joining tables as needed."""
        if dim in self.cols:
            return self.cols[dim]
        assert self.group is not None
        if dim in self.group.required:
            self.join_element(dim)
            return self.cols[dim]
        for name in self.group.names:
            element = self.universe[name]
            if dim in element.implied and element.has_table:
                for required in element.required:
                    self.resolve(required)
                self.join_element(name, outer=True)
                if dim in self.cols:
                    return self.cols[dim]
        raise InvalidQueryError(f"cannot relate {dim!r} to the query's dimensions {self.group}")

    def from_clause(self) -> Any:
        if not self.joins:
            raise InvalidQueryError("the query has no dimensions or datasets to select from")
        clause = self.joins[0].table
        for join in self.joins[1:]:
            clause = clause.join(join.table, join.on, isouter=join.outer)
        return clause

    # ------------------------------------------------------------------ datasets
    def dataset_relation(self, ds: DatasetSearch, name: str, find_first_dims: bool = False) -> Any:
        """The union over tags/calibs tables of one dataset type in the searched collections.

        Columns: ``dataset_id``, ``rank`` (search position), ``validity_begin``,
        ``validity_end`` (unbounded for non-calibration rows) and one per required
        dimension of the dataset type.
        """
        storage = ds.storage
        dims = list(storage.dataset_type.dimensions.required)
        rank_of = {cid: i for i, (_, cid, _) in enumerate(ds.search)}
        tagged = [cid for _, cid, t in ds.search if t in (CollectionType.RUN, CollectionType.TAGGED)]
        calib = [cid for _, cid, t in ds.search if t is CollectionType.CALIBRATION]
        if not storage.dataset_type.is_calibration:
            calib = []
        parts = []
        for table, ids in ((storage.tags, tagged), (storage.calibs, calib)):
            if not ids or table is None:
                continue
            rank = sa.case({cid: rank_of[cid] for cid in ids}, value=table.c.collection_id)
            conds = [table.c.dataset_type_id == storage.id, table.c.collection_id.in_(ids)]
            if table is storage.calibs:
                begin, end = table.c.validity_begin, table.c.validity_end
                if ds.timespan is not None:
                    conds += [begin < ds.timespan.db_end, end > ds.timespan.db_begin]
            else:
                begin = sa.literal(INT64_MIN, sa.BigInteger())
                end = sa.literal(INT64_MAX, sa.BigInteger())
            parts.append(
                sa.select(
                    table.c.dataset_id.label("dataset_id"),
                    rank.label("rank"),
                    begin.label("validity_begin"),
                    end.label("validity_end"),
                    *[table.c[d].label(d) for d in dims],
                ).where(*conds)
            )
        if not parts:
            return None
        union = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery(name)
        self.add_relation(union, {d: union.c[d] for d in dims})
        return union

    def calibration_time(self, union: Any, ds: DatasetSearch, find_first: bool) -> None:
        """Constrain calibration validity ranges by the exposure/visit timespan of each row."""
        dt = ds.storage.dataset_type
        has_calib = any(t is CollectionType.CALIBRATION for _, _, t in ds.search) and dt.is_calibration
        if not has_calib or ds.timespan is not None:
            return
        assert self.group is not None
        for temporal in ("exposure", "visit"):
            if temporal in self.group.required and temporal not in dt.dimensions.names:
                table = self.join_element(temporal)
                self.conditions.append(union.c.validity_begin < table.c.timespan_end)
                self.conditions.append(union.c.validity_end > table.c.timespan_begin)
                return
        if find_first:
            names = [n for n, _, t in ds.search if t is CollectionType.CALIBRATION]
            raise InvalidQueryError(
                f"a find-first search of CALIBRATION collection(s) {names} for {dt.name!r} needs a time: pass "
                'timespan=..., or constrain an exposure or visit in the where clause (e.g. "exposure = 12")'
            )

    # ------------------------------------------------------------------ constraints
    def add_constraints(self, constraints: Mapping[str, Any]) -> None:
        for key, value in constraints.items():
            self.conditions.append(self.resolve(key) == value)

    def compile_term(self, term: Term) -> None:
        """Compile one top-level AND term into a condition (region terms allowed here)."""
        value = self.compile(term.node, spatial_ok=True, term_text=term.text)
        if not isinstance(value, _Pred):
            raise self.error("this is a value, not a condition (compare it with something)", term.node.pos)
        self.conditions.append(value.expr)

    # ------------------------------------------------------------------ expression compiler
    def compile(self, node: Node, spatial_ok: bool = False, term_text: str = "") -> Any:
        if isinstance(node, Literal):
            return self._literal(node.value, node)
        if isinstance(node, TimeLiteral):
            return _Span(node.value, node.value + 1, node, "a time")
        if isinstance(node, Bind):
            return self._bind(node)
        if isinstance(node, Identifier):
            return self._identifier(node)
        if isinstance(node, TupleNode):
            return self._tuple(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, UnaryOp):
            if node.op == "NOT":
                operand = self.compile(node.operand)
                if not isinstance(operand, _Pred):
                    raise self.error("NOT needs a condition", node.operand.pos)
                return _Pred(sa.not_(operand.expr))
            operand = self.compile(node.operand)
            if not isinstance(operand, _Scalar) or operand.kind not in _NUMERIC:
                raise self.error("unary minus needs a number", node.operand.pos)
            return _Scalar(-operand.expr, operand.kind, node)
        if isinstance(node, InList):
            return self._in_list(node)
        if isinstance(node, BinaryOp):
            if node.op in ("AND", "OR"):
                inner_ok = spatial_ok and node.op == "AND"
                lhs = self.compile(node.lhs, inner_ok, term_text)
                rhs = self.compile(node.rhs, inner_ok, term_text)
                for side, sub in ((lhs, node.lhs), (rhs, node.rhs)):
                    if not isinstance(side, _Pred):
                        raise self.error(f"{node.op} needs conditions on both sides", sub.pos)
                return _Pred((sa.and_ if node.op == "AND" else sa.or_)(lhs.expr, rhs.expr))
            if node.op == "OVERLAPS":
                return self._overlaps(node, spatial_ok, term_text)
            lhs = self.compile(node.lhs)
            rhs = self.compile(node.rhs)
            if node.op in ("+", "-", "*", "/", "%"):
                return self._arithmetic(node, lhs, rhs)
            return self._compare(node, lhs, rhs)
        raise self.error(f"unsupported expression {type(node).__name__}", node.pos)

    def _literal(self, value: Any, node: Node) -> _Scalar:
        if value is None:
            return _Scalar(sa.null(), "null", node, None, True, name="NULL")
        if isinstance(value, bool):
            return _Scalar(sa.literal(value, sa.Boolean()), "bool", node, value, True, name=repr(value))
        if isinstance(value, int):
            return _Scalar(sa.literal(value, sa.BigInteger()), "int", node, value, True, name=repr(value))
        if isinstance(value, float):
            return _Scalar(sa.literal(value, sa.Double()), "float", node, value, True, name=repr(value))
        if isinstance(value, str):
            return _Scalar(sa.literal(value, sa.String()), "string", node, value, True, name=repr(value))
        raise self.error(f"unsupported value {value!r} ({type(value).__name__})", node.pos)

    def _bind(self, node: Bind) -> Any:
        if node.name not in self.bind:
            known = ", ".join(sorted(self.bind)) or "none given"
            raise self.error(
                f"unknown bind parameter ':{node.name}'{suggest(node.name, self.bind)} (bind keys: {known})", node.pos
            )
        value = self.bind[node.name]
        from osprey.geom import Region

        if isinstance(value, Region):
            return _RegionSide(node, region=value)
        if isinstance(value, Timespan):
            return _Span(value.db_begin, value.db_end, node, f":{node.name}")
        if hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
            value = value.item()
        if isinstance(value, (list, tuple, set, frozenset, range)) or hasattr(value, "tolist"):
            items = value.tolist() if hasattr(value, "tolist") else list(value)
            return _ListValue(sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items, node)
        if not isinstance(value, (bool, str, float)) and value is not None:
            try:
                value = value.__index__()
            except (AttributeError, TypeError):
                raise self.error(
                    f"bind parameter ':{node.name}' has unsupported type {type(value).__name__}", node.pos
                ) from None
        scalar = self._literal(value, node)
        scalar.name = f":{node.name}"
        return scalar

    def _identifier(self, node: Identifier) -> Any:
        ref = self.resolve_identifier(node)
        if ref.kind == "dim":
            key = self.universe[ref.name].key
            return _Scalar(self.resolve(ref.name), key.type, node, dim=ref.name, name=ref.name)
        assert ref.element is not None
        table = self.join_element(ref.element)
        if ref.kind == "field":
            return _Scalar(table.c[ref.name], ref.type, node, name=node.dotted)
        if ref.kind == "timespan":
            if ref.sub == "begin":
                return _Scalar(table.c.timespan_begin, "int", node, name=node.dotted)
            if ref.sub == "end":
                return _Scalar(table.c.timespan_end, "int", node, name=node.dotted)
            return _Span(table.c.timespan_begin, table.c.timespan_end, node, node.dotted)
        label = f"r_{ref.element}"
        self.region_labels[label] = table.c.region
        return _RegionSide(node, element=ref.element, label=label)

    def _tuple(self, node: TupleNode) -> _Span:
        if len(node.items) != 2:
            raise self.error("a tuple must be a timespan: (begin, end)", node.pos)
        bounds = []
        for item in node.items:
            value = self.compile(item)
            if isinstance(value, _Scalar) and value.kind == "null":
                bounds.append(None)
            elif isinstance(value, _Span) and isinstance(value.begin, int):
                bounds.append(value.begin)
            else:
                raise self.error("timespan bounds must be time literals (T'...'), bound times or NULL", item.pos)
        try:
            span = Timespan(bounds[0], bounds[1])
        except Exception as err:
            raise self.error(str(err), node.pos) from None
        return _Span(span.db_begin, span.db_end, node)

    def _call(self, node: Call) -> _RegionSide:
        if node.name.upper() != "POINT" or len(node.args) != 2:
            raise self.error(
                f"unknown function {node.name}(); the only function is POINT(ra, dec) in degrees", node.pos
            )
        coords = []
        for arg in node.args:
            value = self.compile(arg)
            if not isinstance(value, _Scalar) or not value.is_literal or value.kind not in _NUMERIC:
                raise self.error("POINT takes two numbers (ra, dec in degrees)", arg.pos)
            coords.append(float(value.literal))
        from osprey.geom import Angle, Circle, SpherePoint, degrees

        return _RegionSide(node, region=Circle(SpherePoint(coords[0], coords[1], degrees), Angle(0.0)))

    def _check_kinds(self, node: BinaryOp, lhs: _Scalar, rhs: _Scalar) -> tuple[_Scalar, _Scalar]:
        for a, b in ((lhs, rhs), (rhs, lhs)):
            if a.dim is not None and b.is_literal and b.kind != "null":
                try:
                    value = normalize_value(self.universe, a.dim, b.literal)
                except DataIdError:
                    raise self.error(
                        f"{a.name} is {_KIND_WORDS[a.kind]} dimension; {b.name} is {_KIND_WORDS[b.kind]}"
                        + (" that is too long" if a.kind == b.kind else ""),
                        b.node.pos,
                    ) from None
                b.expr = sa.literal(value, a.expr.type)
                return lhs, rhs
        ok = (
            lhs.kind == rhs.kind
            or {lhs.kind, rhs.kind} <= _NUMERIC
            or "null" in (lhs.kind, rhs.kind)
            or "any" in (lhs.kind, rhs.kind)
        )
        if not ok:
            raise self.error(
                f"cannot compare {lhs.name} ({_KIND_WORDS[lhs.kind]}) with {rhs.name} ({_KIND_WORDS[rhs.kind]})",
                node.op_pos,
            )
        return lhs, rhs

    def _compare(self, node: BinaryOp, lhs: Any, rhs: Any) -> _Pred:
        op = node.op
        if isinstance(lhs, _Span) or isinstance(rhs, _Span):
            if not (isinstance(lhs, _Span) and isinstance(rhs, _Span)):
                other = rhs if isinstance(lhs, _Span) else lhs
                raise self.error(
                    "a time or timespan can only be compared with another time or timespan", other.node.pos
                )
            if op == "<":
                return _Pred(lhs.end <= rhs.begin)
            if op == ">":
                return _Pred(lhs.begin >= rhs.end)
            raise self.error(f"timespans support OVERLAPS, < and >, not {op}", node.op_pos)
        for side in (lhs, rhs):
            if not isinstance(side, _Scalar):
                raise self.error(f"{op} needs two values here", side.node.pos)
        lhs, rhs = self._check_kinds(node, lhs, rhs)
        if "null" in (lhs.kind, rhs.kind):
            value = lhs if rhs.kind == "null" else rhs
            if op == "=":
                return _Pred(value.expr.is_(None))
            if op == "!=":
                return _Pred(value.expr.is_not(None))
            raise self.error(f"NULL can only be compared with = or !=, not {op}", node.op_pos)
        ops = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return _Pred(ops[op](lhs.expr, rhs.expr))

    def _arithmetic(self, node: BinaryOp, lhs: Any, rhs: Any) -> _Scalar:
        for side in (lhs, rhs):
            if not isinstance(side, _Scalar) or side.kind not in _NUMERIC:
                raise self.error(f"{node.op} needs numbers on both sides", side.node.pos)
        kind = "int" if lhs.kind == rhs.kind == "int" and node.op != "/" else "float"
        a, b = lhs.expr, rhs.expr
        expr = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "%": a % b}[node.op]
        return _Scalar(expr, kind, node, name="an arithmetic expression")

    def _in_list(self, node: InList) -> _Pred:
        lhs = self.compile(node.lhs)
        if not isinstance(lhs, _Scalar):
            raise self.error("IN needs a value on its left", node.lhs.pos)
        values: list[Any] = []
        conds: list[Any] = []
        for item in node.items:
            if isinstance(item, RangeItem):
                if lhs.kind not in ("int", "any"):
                    raise self.error(f"a range needs an integer on the left of IN; {lhs.name} is not", item.pos)
                if item.stride == 1:
                    conds.append(lhs.expr.between(item.start, item.stop))
                elif (item.stop - item.start) // item.stride < 1000:
                    values.extend(range(item.start, item.stop + 1, item.stride))
                else:
                    conds.append(
                        sa.and_(lhs.expr.between(item.start, item.stop), (lhs.expr - item.start) % item.stride == 0)
                    )
                continue
            value = self.compile(item)
            raw: list[Any]
            if isinstance(value, _ListValue):
                raw = value.values
            elif isinstance(value, _Scalar) and value.is_literal:
                raw = [value.literal]
            elif isinstance(value, _Scalar):
                conds.append(lhs.expr == value.expr)
                continue
            else:
                raise self.error("IN lists hold values, ranges (a..b:stride) or a bound list", item.pos)
            for v in raw:
                if hasattr(v, "item") and not isinstance(v, (str, bytes)):
                    v = v.item()
                probe = self._literal(v, item)
                self._check_kinds(BinaryOp(node.pos, "=", node.lhs, item, item.pos), _copy(lhs), probe)
                values.append(normalize_value(self.universe, lhs.dim, v) if lhs.dim is not None else v)
        if values:
            conds.append(lhs.expr.in_(values))
        if not conds:
            raise self.error("empty IN list", node.pos)
        expr = sa.or_(*conds) if len(conds) > 1 else conds[0]
        return _Pred(sa.not_(expr) if node.negated else expr)

    def _overlaps(self, node: BinaryOp, spatial_ok: bool, term_text: str) -> _Pred:
        lhs = self.compile(node.lhs)
        rhs = self.compile(node.rhs)
        if isinstance(lhs, _Span) and isinstance(rhs, _Span):
            return _Pred(sa.and_(lhs.begin < rhs.end, rhs.begin < lhs.end))
        if isinstance(lhs, _RegionSide) and isinstance(rhs, _RegionSide):
            if not spatial_ok:
                raise self.error(
                    "region OVERLAPS can only be combined with AND (not under OR or NOT): it is refined "
                    "with exact region tests after the SQL query",
                    node.pos,
                )
            return _Pred(self.spatial(lhs, rhs, term_text or self.text))
        raise self.error(
            "OVERLAPS needs two timespans (ELEMENT.timespan, T'...', (T'...', T'...'), a bound Timespan) "
            "or two regions (ELEMENT.region, POINT(ra, dec), a bound Region)",
            node.op_pos,
        )

    def spatial(self, lhs: _RegionSide, rhs: _RegionSide, text: str) -> Any:
        """An EXISTS over the htm7 overlap tables, plus a Python refinement test."""
        if lhs.element is None and rhs.element is None:
            return sa.true() if not lhs.region.is_disjoint_from(rhs.region) else sa.false()
        self.region_tests.append(RegionTest(lhs, rhs, text))
        sides = [s for s in (lhs, rhs) if s.element is not None]
        overlaps = []
        conds = []
        for side in sides:
            element = self.universe[side.element]
            table = self.aliases[side.element]
            overlap = self.registry.tables.overlaps[side.element].alias()
            overlaps.append(overlap)
            conds += [overlap.c[element.column_name(d)] == table.c[element.column_name(d)] for d in element.required]
        if len(overlaps) == 2:
            conds.append(overlaps[0].c.skypix_index == overlaps[1].c.skypix_index)
        else:
            constant = lhs.region if lhs.element is None else rhs.region
            pixelization = self.universe.common_skypix.pixelization
            ranges = [(int(b), int(e) - 1) for b, e in pixelization.envelope(constant).ranges()]
            if not ranges:
                return sa.false()
            column = overlaps[0].c.skypix_index
            conds.append(sa.or_(*[column.between(b, e) if b != e else column == b for b, e in ranges]))
        subquery = sa.select(sa.literal(1)).select_from(overlaps[0])
        for extra in overlaps[1:]:
            subquery = subquery.join(extra, sa.true())
        return subquery.where(*conds).exists()

    def implicit_spatial_join(self) -> None:
        """Join observation and skymap regions when the query spans both and no test links them."""
        assert self.group is not None
        required = set(self.group.required)
        obs = "visit_detector_region" if {"visit", "detector"} <= required else "visit" if "visit" in required else None
        sky = "patch" if "patch" in required else "tract" if "tract" in required else None
        if obs is None or sky is None:
            return
        if any(t.left.element is not None and t.right.element is not None for t in self.region_tests):
            return
        sides = []
        for name in (obs, sky):
            table = self.join_element(name)
            label = f"r_{name}"
            self.region_labels[label] = table.c.region
            sides.append(_RegionSide(Literal(0, None), element=name, label=label))
        self.conditions.append(self.spatial(sides[0], sides[1], f"{obs}.region OVERLAPS {sky}.region (implicit)"))

    def order_term(self, item: str) -> tuple[Any, bool]:
        """(column expression, descending) for an ``order_by`` item like ``-visit``."""
        from ._parser import parse_expression

        text = item.strip()
        descending = text.startswith("-")
        text = text.lstrip("-").strip()
        node = parse_expression(text)
        if not isinstance(node, Identifier):
            raise InvalidQueryError(f"order_by items are names like 'visit' or '-visit.exposure_time'; got {item!r}")
        saved = self.text
        self.text = text
        try:
            ref = self.resolve_identifier(node)
            needed = {ref.name} if ref.kind == "dim" else set(self.universe[ref.element].required)
            assert self.group is not None
            if not needed <= set(self.group.names):
                raise InvalidQueryError(
                    f"cannot order by {text!r}: it needs {sorted(needed - set(self.group.names))}, which are not "
                    f"among the query's dimensions {self.group}"
                )
            value = self._identifier(node)
        finally:
            self.text = saved
        if isinstance(value, _Span):
            return value.begin, descending
        if not isinstance(value, _Scalar):
            raise InvalidQueryError(f"cannot order by the region {text!r}")
        return value.expr, descending


def _children(node: Node) -> list[Node]:
    if isinstance(node, BinaryOp):
        return [node.lhs, node.rhs]
    if isinstance(node, UnaryOp):
        return [node.operand]
    if isinstance(node, InList):
        return [node.lhs, *node.items]
    if isinstance(node, (TupleNode,)):
        return list(node.items)
    if isinstance(node, Call):
        return list(node.args)
    return []


def _copy(value: _Scalar) -> _Scalar:
    return _Scalar(value.expr, value.kind, value.node, value.literal, value.is_literal, value.dim, value.name)
