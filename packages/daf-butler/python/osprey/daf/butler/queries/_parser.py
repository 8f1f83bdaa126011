"""The ``where`` expression language: a tokenizer and a recursive-descent parser.

The grammar, loosest binding first::

    expr       := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | comparison
    comparison := sum (cmp_op sum | ["NOT"] "IN" "(" items ")")?
    cmp_op     := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "OVERLAPS"
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := ("-" | "+") unary | primary
    primary    := NUMBER | STRING | TIME | BIND | "NULL" | "TRUE" | "FALSE"
                | NAME ("." NAME)* | NAME "(" [expr ("," expr)*] ")"
                | "(" expr ")" | "(" expr "," expr ")"
    items      := item ("," item)*
    item       := INT ".." INT [":" INT] | expr

Keywords are case-insensitive. Strings use single or double quotes (no escapes: a
string cannot contain its own quote character). Time literals are ``T'...'`` (see
`parse_time_literal`). The parser only builds a tree: nothing here touches a database.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import InvalidQueryError

__all__ = [
    "BinaryOp",
    "Bind",
    "Call",
    "Identifier",
    "InList",
    "Literal",
    "Node",
    "RangeItem",
    "TimeLiteral",
    "TupleNode",
    "UnaryOp",
    "parse_expression",
    "parse_time_literal",
    "query_error",
]

KEYWORDS = {"AND", "OR", "NOT", "IN", "OVERLAPS", "NULL", "TRUE", "FALSE"}


def query_error(message: str, text: str, column: int) -> InvalidQueryError:
    """An `InvalidQueryError` whose message ends with the expression and a caret line.

    ``column`` is 1-based.
    """
    caret = " " * (column - 1) + "^"
    where = f" at column {column}"
    cut = message.find(" (did you mean")
    message = message + where if cut < 0 else message[:cut] + where + message[cut:]
    return InvalidQueryError(f"{message}\n  {text}\n  {caret}", column=column, expression=text)


@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER, STRING, TIME, BIND, NAME, KEYWORD, OP, END
    value: Any
    pos: int  # 0-based offset
    text: str  # source text of the token


# ---------------------------------------------------------------------------- AST
@dataclass
class Node:
    """Base of the expression tree; ``pos`` is the 0-based offset of the node's start."""

    pos: int


@dataclass
class Literal(Node):
    """A number, string, boolean or NULL (``value`` is None)."""

    value: Any


@dataclass
class TimeLiteral(Node):
    """``T'...'``: ``value`` is TAI nanoseconds since 1970."""

    value: int


@dataclass
class Bind(Node):
    """``:name``, replaced by ``bind[name]`` at compile time."""

    name: str


@dataclass
class Identifier(Node):
    """``visit`` or ``visit.exposure_time`` or ``visit.timespan.begin``."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass
class UnaryOp(Node):
    op: str  # "NOT", "-", "+"
    operand: Node


@dataclass
class BinaryOp(Node):
    op: str  # AND OR = != < <= > >= OVERLAPS + - * / %
    lhs: Node
    rhs: Node
    op_pos: int = 0


@dataclass
class RangeItem(Node):
    """``start..stop[:stride]`` inside an IN list, inclusive of ``stop``."""

    start: int
    stop: int
    stride: int = 1


@dataclass
class InList(Node):
    lhs: Node
    items: list[Node]
    negated: bool = False


@dataclass
class TupleNode(Node):
    """``(a, b)``: a timespan when both are times (or NULL)."""

    items: list[Node] = field(default_factory=list)


@dataclass
class Call(Node):
    """``NAME(args...)``: only ``POINT(ra, dec)`` is known."""

    name: str
    args: list[Node] = field(default_factory=list)


# ---------------------------------------------------------------------------- time literals
# TAI - UTC in seconds from each date on (IERS Bulletin C); UTC before 1972 is refused.
_LEAP_SECONDS = [
    ((1972, 1, 1), 10), ((1972, 7, 1), 11), ((1973, 1, 1), 12), ((1974, 1, 1), 13), ((1975, 1, 1), 14),
    ((1976, 1, 1), 15), ((1977, 1, 1), 16), ((1978, 1, 1), 17), ((1979, 1, 1), 18), ((1980, 1, 1), 19),
    ((1981, 7, 1), 20), ((1982, 7, 1), 21), ((1983, 7, 1), 22), ((1985, 7, 1), 23), ((1988, 1, 1), 24),
    ((1990, 1, 1), 25), ((1991, 1, 1), 26), ((1992, 7, 1), 27), ((1993, 7, 1), 28), ((1994, 7, 1), 29),
    ((1996, 1, 1), 30), ((1997, 7, 1), 31), ((1999, 1, 1), 32), ((2006, 1, 1), 33), ((2009, 1, 1), 34),
    ((2012, 7, 1), 35), ((2015, 7, 1), 36), ((2017, 1, 1), 37),
]  # fmt: skip
_EPOCH = datetime.datetime(1970, 1, 1)
_MJD_EPOCH_NS = -40587 * 86_400 * 10**9  # MJD 0 relative to 1970-01-01


def parse_time_literal(text: str) -> int:
    """TAI nanoseconds since 1970-01-01 of the body of a ``T'...'`` literal.

    Accepted: ``2025-06-01T03:00``, ``2025-06-01 03:00:00.5``, ``2025-06-01`` (ISO-8601,
    TAI by default), an optional ``/tai`` or ``/utc`` scale suffix (UTC is converted
    with the leap-second table, 1972 onwards), or a bare number, which is an MJD (TAI).

    Raises
    ------
    ValueError
        The text is not one of these forms.
    """
    body, _, scale = text.strip().partition("/")
    scale = scale.strip().lower() or "tai"
    if scale not in ("tai", "utc"):
        raise ValueError(f"unknown time scale {scale!r} (use tai or utc)")
    body = body.strip()
    try:
        mjd = float(body)
    except ValueError:
        mjd = None
    if mjd is not None:
        if scale != "tai":
            raise ValueError("an MJD time literal must be TAI")
        return _MJD_EPOCH_NS + round(mjd * 86_400 * 10**9)
    when = datetime.datetime.fromisoformat(body)
    if when.tzinfo is not None:
        raise ValueError("time literals take a /tai or /utc scale, not a time-zone offset")
    delta = when - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if scale == "utc":
        if when < datetime.datetime(1972, 1, 1):
            raise ValueError("UTC times before 1972 are not supported; give TAI")
        offset = max(s for (ymd, s) in _LEAP_SECONDS if datetime.datetime(*ymd) <= when)
        ns += offset * 10**9
    return ns


# ---------------------------------------------------------------------------- tokenizer
_OPS2 = ("<=", ">=", "!=", "<>", "..")
_OPS1 = "=<>()+-*/%,.:"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raises `InvalidQueryError` at the first bad character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "Tt" and i + 1 < n and text[i + 1] in "'\"":
            quote = text[i + 1]
            end = text.find(quote, i + 2)
            if end < 0:
                raise query_error("unterminated time literal", text, start + 1)
            body = text[i + 2 : end]
            try:
                value = parse_time_literal(body)
            except ValueError as err:
                raise query_error(f"invalid time literal T{quote}{body}{quote}: {err}", text, start + 1) from None
            tokens.append(Token("TIME", value, start, text[start : end + 1]))
            i = end + 1
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise query_error(f"unterminated string (no closing {c})", text, start + 1)
            tokens.append(Token("STRING", text[i + 1 : end], start, text[start : end + 1]))
            i = end + 1
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit() and text[i - 1 : i] != "."):
            i = _scan_number(text, i)
            raw = text[start:i]
            if i < n and (text[i].isalpha() or text[i] == "_"):
                raise query_error(f"invalid number {text[start : i + 1]!r}", text, start + 1)
            value: Any = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            tokens.append(Token("NUMBER", value, start, raw))
        elif c == ":" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] == "_"):
            i += 1
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("BIND", text[start + 1 : i], start, text[start:i]))
        elif c.isalpha() or c == "_":
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            if word.upper() in KEYWORDS:
                tokens.append(Token("KEYWORD", word.upper(), start, word))
            else:
                tokens.append(Token("NAME", word, start, word))
        elif text[i : i + 2] in _OPS2:
            op = text[i : i + 2]
            tokens.append(Token("OP", "!=" if op == "<>" else op, start, op))
            i += 2
        elif c in _OPS1:
            tokens.append(Token("OP", c, start, c))
            i += 1
        else:
            raise query_error(f"unexpected character {c!r}", text, start + 1)
    tokens.append(Token("END", None, n, ""))
    return tokens


def _scan_number(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isdigit():
        i += 1
    # "100..200" is a range: do not eat the first dot of ".."
    if i < n and text[i] == "." and text[i + 1 : i + 2] != ".":
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isdigit():
            i = j
            while i < n and text[i].isdigit():
                i += 1
    return i


# ---------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> InvalidQueryError:
        tok = tok or self.tok
        return query_error(message, self.text, tok.pos + 1)

    def describe(self, tok: Token) -> str:
        return "end of expression" if tok.kind == "END" else repr(tok.text)

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "OP" and self.tok.value in ops

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "KEYWORD" and self.tok.value in words

    def expect_op(self, op: str, context: str) -> Token:
        if not self.is_op(op):
            raise self.error(f"expected {op!r} {context}, found {self.describe(self.tok)}")
        return self.advance()

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self.error("empty expression")
        node = self.or_expr()
        if self.tok.kind != "END":
            raise self.error(f"unexpected {self.describe(self.tok)} after a complete expression")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.is_kw("OR"):
            op = self.advance()
            node = BinaryOp(node.pos, "OR", node, self.and_expr(), op.pos)
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.is_kw("AND"):
            op = self.advance()
            node = BinaryOp(node.pos, "AND", node, self.not_expr(), op.pos)
        return node

    def not_expr(self) -> Node:
        if self.is_kw("NOT"):
            tok = self.advance()
            return UnaryOp(tok.pos, "NOT", self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        lhs = self.sum()
        if self.is_op("=", "!=", "<", "<=", ">", ">=") or self.is_kw("OVERLAPS"):
            op = self.advance()
            return BinaryOp(lhs.pos, str(op.value), lhs, self.sum(), op.pos)
        negated = False
        if self.is_kw("NOT") and self.tokens[self.i + 1].kind == "KEYWORD" and self.tokens[self.i + 1].value == "IN":
            self.advance()
            negated = True
        if self.is_kw("IN"):
            self.advance()
            self.expect_op("(", "after IN")
            items = [self.in_item()]
            while self.is_op(","):
                self.advance()
                items.append(self.in_item())
            self.expect_op(")", "to close the IN list")
            return InList(lhs.pos, lhs, items, negated)
        if negated:
            raise self.error("expected IN after NOT")
        return lhs

    def in_item(self) -> Node:
        start = self.tok
        if (start.kind == "NUMBER" or self.is_op("-")) and self._looks_like_range():
            lo = self._signed_int("range start")
            self.expect_op("..", "in a range")
            hi = self._signed_int("range stop")
            stride = 1
            if self.is_op(":"):
                self.advance()
                stride_tok = self.tok
                stride = self._signed_int("range stride")
                if stride <= 0:
                    raise self.error(f"range stride must be a positive integer, got {stride}", stride_tok)
            if hi < lo:
                raise self.error(f"empty range {lo}..{hi}: the stop must not be below the start", start)
            return RangeItem(start.pos, lo, hi, stride)
        return self.sum()

    def _looks_like_range(self) -> bool:
        j = self.i + (2 if self.is_op("-") else 1)
        tok = self.tokens[j]
        return tok.kind == "OP" and tok.value == ".."

    def _signed_int(self, what: str) -> int:
        sign = 1
        if self.is_op("-"):
            self.advance()
            sign = -1
        tok = self.tok
        if tok.kind != "NUMBER" or not isinstance(tok.value, int):
            raise self.error(f"{what} must be an integer, found {self.describe(tok)}")
        self.advance()
        return sign * tok.value

    def sum(self) -> Node:
        node = self.product()
        while self.is_op("+", "-"):
            op = self.advance()
            node = BinaryOp(node.pos, op.value, node, self.product(), op.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.advance()
            node = BinaryOp(node.pos, op.value, node, self.unary(), op.pos)
        return node

    def unary(self) -> Node:
        if self.is_op("-", "+"):
            tok = self.advance()
            operand = self.unary()
            if isinstance(operand, Literal) and isinstance(operand.value, (int, float)) and tok.value == "-":
                return Literal(tok.pos, -operand.value)
            return UnaryOp(tok.pos, tok.value, operand) if tok.value == "-" else operand
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "NUMBER" or tok.kind == "STRING":
            self.advance()
            return Literal(tok.pos, tok.value)
        if tok.kind == "TIME":
            self.advance()
            return TimeLiteral(tok.pos, tok.value)
        if tok.kind == "BIND":
            self.advance()
            return Bind(tok.pos, tok.value)
        if tok.kind == "KEYWORD" and tok.value in ("NULL", "TRUE", "FALSE"):
            self.advance()
            return Literal(tok.pos, {"NULL": None, "TRUE": True, "FALSE": False}[tok.value])
        if tok.kind == "NAME":
            self.advance()
            if self.is_op("("):
                self.advance()
                args: list[Node] = []
                if not self.is_op(")"):
                    args.append(self.or_expr())
                    while self.is_op(","):
                        self.advance()
                        args.append(self.or_expr())
                self.expect_op(")", f"to close {tok.value}(...)")
                return Call(tok.pos, tok.value, args)
            parts = [tok.value]
            while self.is_op("."):
                self.advance()
                if self.tok.kind not in ("NAME", "KEYWORD"):
                    raise self.error(f"expected a field name after '.', found {self.describe(self.tok)}")
                parts.append(self.advance().text)
            return Identifier(tok.pos, tuple(parts))
        if self.is_op("("):
            self.advance()
            first = self.or_expr()
            if self.is_op(","):
                items = [first]
                while self.is_op(","):
                    self.advance()
                    items.append(self.or_expr())
                self.expect_op(")", "to close the tuple")
                return TupleNode(tok.pos, items)
            self.expect_op(")", "to close the parenthesis")
            return first
        if tok.kind == "KEYWORD":
            raise self.error(f"unexpected keyword {tok.value} where a value was expected")
        raise self.error(f"expected a value, found {self.describe(tok)}")


def parse_expression(text: str) -> Node:
    """Parse a ``where`` string into a tree of `Node` objects.

    Raises
    ------
    InvalidQueryError
        With the 1-based column of the offending token and a caret line.
    """
    if not isinstance(text, str):
        raise InvalidQueryError(f"a where expression must be a string, got {type(text).__name__}")
    return _Parser(text).parse()
