"""The repository configuration file, ``butler.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from ._exceptions import ButlerConfigError

__all__ = ["ButlerConfig", "DatastoreConfig", "RegistryConfig"]

CONFIG_NAME = "butler.yaml"
DEFAULT_SQLITE_NAME = "registry.sqlite3"


class RegistryConfig(pydantic.BaseModel):
    """Where the registry database is."""

    model_config = pydantic.ConfigDict(extra="forbid")

    db: str | None = None
    """SQLAlchemy URL; None means ``sqlite:///<repo root>/registry.sqlite3``."""
    namespace: str | None = None
    """Database schema holding the tables (PostgreSQL)."""
    busy_timeout_s: float = 60.0
    """How long SQLite waits for another writer before giving up."""


class DatastoreConfig(pydantic.BaseModel):
    """Where dataset content goes and how it is written."""

    model_config = pydantic.ConfigDict(extra="forbid")

    cls: Literal["file", "inmemory"] = "file"
    root: str = "."
    """Datastore root, relative to the repository root unless absolute."""
    templates: dict[str, str] = {}
    """Dataset type name, storage class name or ``default`` -> path template."""
    formatters: dict[str, str] = {}
    """Dataset type or storage class name -> dotted formatter path."""
    checksum: str | None = None
    """hashlib algorithm for file checksums (None: no checksums)."""


class ButlerConfig(pydantic.BaseModel):
    """Content of ``butler.yaml``."""

    model_config = pydantic.ConfigDict(extra="forbid")

    registry: RegistryConfig = RegistryConfig()
    datastore: DatastoreConfig = DatastoreConfig()
    dimensions: str | None = None
    """Path of a dimension universe YAML; None for the one shipped with the package."""
    storage_classes: list[str] = []
    """Extra storage class YAML files."""

    @classmethod
    def read(cls, path: str | Path) -> ButlerConfig:
        """Load and validate a ``butler.yaml``."""
        try:
            data: Any = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ButlerConfigError(f"cannot read Butler configuration {path}: {err}") from None
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as err:
            raise ButlerConfigError(f"invalid Butler configuration {path}: {err}") from None

    def write(self, path: str | Path) -> None:
        """Write as YAML."""
        Path(path).write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))

    def db_url(self, root: Path) -> str:
        """The registry URL, with the default SQLite file resolved against ``root``."""
        return self.registry.db or f"sqlite:///{root / DEFAULT_SQLITE_NAME}"
