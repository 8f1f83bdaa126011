"""The ``butler`` command-line interface (click); plugins use entry-point group ``osprey.butler.cli``."""

from ._cli import ENTRY_POINT_GROUP, OneLineErrorGroup, cli, format_table, main

__all__ = ["ENTRY_POINT_GROUP", "OneLineErrorGroup", "cli", "format_table", "main"]
