"""The query system: the ``where`` expression language and data-ID/record/dataset queries."""

from ._engine import QueryEngine, QueryResults
from ._parser import parse_expression, parse_time_literal
from ._wildcards import expand_wildcards, is_pattern

__all__ = ["QueryEngine", "QueryResults", "expand_wildcards", "is_pattern", "parse_expression", "parse_time_literal"]
