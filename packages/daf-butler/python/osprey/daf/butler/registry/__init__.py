"""The SQL registry: schema generated from the dimension universe, on SQLite or PostgreSQL."""

from ._database import Database
from ._registry import CollectionSearch, Registry

__all__ = ["CollectionSearch", "Database", "Registry"]
