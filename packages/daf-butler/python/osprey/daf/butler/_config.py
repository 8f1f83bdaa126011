"""The repository configuration file, ``butler.yaml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from ._exceptions import ButlerConfigError

__all__ = ["ButlerConfig", "DatastoreConfig", "DatastoreConstraints", "RegistryConfig"]

CONFIG_NAME = "butler.yaml"
DEFAULT_SQLITE_NAME = "registry.sqlite3"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class RegistryConfig(pydantic.BaseModel):
    """Where the registry database is."""

    model_config = pydantic.ConfigDict(extra="forbid")

    db: str | None = None
    """SQLAlchemy URL; None means ``sqlite:///<repo root>/registry.sqlite3``."""
    namespace: str | None = None
    """Database schema holding the tables (PostgreSQL)."""
    busy_timeout_s: float = 60.0
    """How long SQLite waits for another writer before giving up."""


class DatastoreConstraints(pydantic.BaseModel):
    """Which datasets a datastore (a child of a chained one) accepts.

    Each entry is a dataset type name or a storage class name, or a shell pattern
    (``"calexp*"``) matched against both. A dataset is accepted when ``accept`` is None or
    one of its entries matches, and none of ``reject`` matches.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    accept: list[str] | None = None
    reject: list[str] = []


class DatastoreConfig(pydantic.BaseModel):
    """Where dataset content goes and how it is written.

    ``cls`` is ``file`` (a local directory, or an S3 bucket when ``root`` is an
    ``s3://bucket/prefix`` URI), ``s3`` (same, but ``root`` must be an S3 URI),
    ``inmemory``, or ``chained`` (``children``, each a datastore configuration).
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    cls: Literal["file", "inmemory", "s3", "chained"] = "file"
    name: str | None = None
    """Label of a datastore (chained children: default ``child<i>``); it also names the
    records table (``file_datastore_records_<name>``) of a named file or S3 datastore."""
    root: str = "."
    """Datastore root, relative to the repository root unless absolute; or ``s3://bucket/prefix``."""
    templates: dict[str, str] = {}
    """Dataset type name, storage class name or ``default`` -> path template."""
    formatters: dict[str, str] = {}
    """Dataset type or storage class name -> dotted formatter path."""
    checksum: str | None = None
    """hashlib algorithm for file checksums (None: no checksums)."""
    constraints: DatastoreConstraints | None = None
    """Which datasets this datastore accepts (meaningful for chained children)."""
    children: list[DatastoreConfig] = []
    """The child datastores of a chained datastore, in read order."""
    endpoint_url: str | None = None
    """S3 endpoint (e.g. a MinIO or Ceph server); boto3's default (AWS, or the
    ``AWS_ENDPOINT_URL`` environment variable) when None."""

    @pydantic.field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"datastore name {value!r} must match {_NAME.pattern} (it names a table)")
        return value

    @pydantic.model_validator(mode="after")
    def _check_children(self) -> DatastoreConfig:
        if self.cls == "chained":
            if not self.children:
                raise ValueError("a chained datastore needs at least one child under 'children'")
            names: set[str] = set()
            for i, child in enumerate(self.children):
                if child.name is None:
                    child.name = f"child{i}"
                if child.name in names:
                    raise ValueError(f"two chained datastore children are named {child.name!r}")
                names.add(child.name)
        elif self.children:
            raise ValueError(f"'children' is only for cls: chained (this datastore is {self.cls!r})")
        if self.cls == "s3" and not self.root.startswith("s3://"):
            raise ValueError(f"an s3 datastore needs an s3://bucket/prefix root, not {self.root!r}")
        return self

    @property
    def is_s3(self) -> bool:
        """True for a datastore in an S3 bucket."""
        return self.cls == "s3" or (self.cls == "file" and self.root.startswith("s3://"))


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
