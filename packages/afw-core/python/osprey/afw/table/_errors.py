"""Exceptions raised by ``osprey.afw.table``; each message names the column or field at fault."""

from __future__ import annotations

from ..errors import AfwKeyError, AfwValueError

__all__ = ["SchemaMismatchError", "TableError", "UnknownColumnError"]


class TableError(AfwValueError):
    """A catalog or schema operation got invalid input (bad dtype, unit, length, file...)."""


class UnknownColumnError(TableError, AfwKeyError):
    """A column, field, alias or slot name is not in the schema; the message lists near misses."""

    def __str__(self) -> str:
        # KeyError would quote the message; it is a sentence, so show it plainly.
        return str(self.args[0]) if self.args else ""


class SchemaMismatchError(TableError):
    """Two catalogs that must share a schema do not; the message lists the differing fields."""
