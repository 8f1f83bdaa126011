"""The Osprey Data Butler: dimensions, SQL registry (SQLite, PostgreSQL), file datastore, query language and CLI."""

from importlib.metadata import version as _version

__version__ = _version("osprey-daf-butler")

__all__ = ["__version__"]
