"""The where-expression parser: precedence, ranges, literals, bind syntax and error columns."""

from __future__ import annotations

import pytest

from osprey.daf.butler import InvalidQueryError
from osprey.daf.butler.queries import parse_expression, parse_time_literal
from osprey.daf.butler.queries._parser import BinaryOp, Bind, Identifier, InList, Literal, RangeItem, UnaryOp


def show(node) -> str:
    """A fully parenthesised rendering of the tree."""
    if isinstance(node, BinaryOp):
        return f"({show(node.lhs)} {node.op} {show(node.rhs)})"
    if isinstance(node, UnaryOp):
        return f"({node.op} {show(node.operand)})"
    if isinstance(node, Identifier):
        return node.dotted
    if isinstance(node, Literal):
        return repr(node.value)
    if isinstance(node, Bind):
        return f":{node.name}"
    if isinstance(node, RangeItem):
        return f"{node.start}..{node.stop}:{node.stride}"
    if isinstance(node, InList):
        return f"({show(node.lhs)} {'NOT IN' if node.negated else 'IN'} [{', '.join(show(i) for i in node.items)}])"
    return type(node).__name__


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a = 1 OR b = 2 AND c = 3", "((a = 1) OR ((b = 2) AND (c = 3)))"),
        ("(a = 1 OR b = 2) AND c = 3", "(((a = 1) OR (b = 2)) AND (c = 3))"),
        ("NOT a = 1 AND b = 2", "((NOT (a = 1)) AND (b = 2))"),
        ("not not a = 1", "(NOT (NOT (a = 1)))"),
        ("a + 2 * 3 > 4 - 1", "((a + (2 * 3)) > (4 - 1))"),
        ("visit.exposure_time >= 30.5", "(visit.exposure_time >= 30.5)"),
        ("a <> 'x'", "(a != 'x')"),
        ("a = -5", "(a = -5)"),
        ("a and b = 1 Or c = 2", "((a AND (b = 1)) OR (c = 2))"),
    ],
)
def test_precedence(text, expected):
    assert show(parse_expression(text)) == expected


def test_ranges_and_lists():
    node = parse_expression("visit IN (100..200:2)")
    assert show(node) == "(visit IN [100..200:2])"
    node = parse_expression("detector IN (1, 2, 5..9)")
    assert show(node) == "(detector IN [1, 2, 5..9:1])"
    node = parse_expression("detector NOT IN (-3..-1, :ids)")
    assert show(node) == "(detector NOT IN [-3..-1:1, :ids])"
    assert parse_expression("x IN (1.5, 2)").items[0].value == 1.5


def test_literals_and_binds():
    node = parse_expression('band = "r" AND visit = :v AND x = 1e3 AND y = .5 AND z = NULL')
    text = show(node)
    assert "'r'" in text and ":v" in text and "1000.0" in text and "0.5" in text and "None" in text


def test_time_literals():
    base = parse_time_literal("2025-06-01T03:00")
    assert base == parse_time_literal("2025-06-01 03:00:00/tai")
    assert parse_time_literal("2025-06-01T03:00:00/utc") - base == 37 * 10**9
    assert parse_time_literal("1999-01-01T00:00/utc") - parse_time_literal("1999-01-01T00:00") == 32 * 10**9
    assert parse_time_literal("40587") == 0  # MJD of 1970-01-01
    node = parse_expression("visit.timespan OVERLAPS T'2025-06-01T03:00'")
    assert node.rhs.value == base
    with pytest.raises(InvalidQueryError, match="invalid time literal.*column 12"):
        parse_expression("a OVERLAPS T'yesterday'")
    with pytest.raises(InvalidQueryError, match="time scale"):
        parse_expression("a OVERLAPS T'2025-06-01/tt'")


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("visit = ", 9, "expected a value"),
        ("visit = 1 AND", 14, "expected a value"),
        ("(visit = 1", 11, "expected ')'"),
        ("visit = 'abc", 9, "unterminated string"),
        ("visit == 1", 8, "expected a value"),
        ("visit = 1 visit", 11, "after a complete expression"),
        ("visit IN (200..100)", 11, "empty range"),
        ("visit IN (1..9:0)", 16, "stride must be a positive"),
        ("visit = 12abc", 9, "invalid number"),
        ("visit = 1 # comment", 11, "unexpected character"),
        ("", 1, "empty expression"),
    ],
)
def test_error_columns(text, column, fragment):
    with pytest.raises(InvalidQueryError) as info:
        parse_expression(text)
    err = info.value
    assert err.column == column and fragment in str(err)
    lines = str(err).splitlines()
    assert f"at column {column}" in lines[0]
    assert lines[1] == f"  {text}" and lines[2] == "  " + " " * (column - 1) + "^"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE dataset; --",
        "visit = 1; DELETE FROM dataset",
        "instrument = 'x' OR '1'='1",
        "visit = 1 UNION SELECT * FROM dataset",
        "visit = 0x10",
        "`visit` = 1",
    ],
)
def test_malicious_strings_are_parse_errors(text):
    with pytest.raises(InvalidQueryError):
        parse_expression(text)


def test_error_pickles():
    import pickle

    with pytest.raises(InvalidQueryError) as info:
        parse_expression("visit = ;")
    again = pickle.loads(pickle.dumps(info.value))
    assert again.column == info.value.column and str(again) == str(info.value)
