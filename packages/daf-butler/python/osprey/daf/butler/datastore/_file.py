"""A datastore that writes one file per dataset under a root directory."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from osprey.utils import get_logger

from .._dataset_ref import DatasetRef
from .._exceptions import DatasetNotFoundError, DatastoreError, FormatterError, StorageClassError
from .._storage_class import StorageClassFactory, import_dotted
from ..registry._database import Database
from ._base import TRANSFER_MODES, Datastore, StagedWrite
from ._templates import DEFAULT_TEMPLATE, FileTemplate
from .formatters import Formatter

__all__ = ["FileDatastore"]

_log = get_logger(__name__)

RECORDS_TABLE = "file_datastore_records"

# An ingested file keeps its own extension when it looks like one (".fits", ".fits.fz").
_EXTENSION = re.compile(r"^(\.[A-Za-z0-9_]{1,12}){1,3}$")


def _transfer_file(src: Path, dest: str, mode: str) -> None:
    """Create ``dest`` (which must not exist) from ``src`` by copy, hard link or symlink."""
    if mode == "copy":
        shutil.copyfile(src, dest)
    elif mode == "hardlink":
        os.link(src, dest)
    elif mode == "symlink":
        os.symlink(src, dest)
    elif mode == "relsymlink":
        os.symlink(os.path.relpath(src, os.path.dirname(dest)), dest)
    elif mode in ("link", "move"):
        # A hard link when source and destination share a file system; otherwise a
        # symlink ("link") or a copy ("move": the source is deleted after commit).
        try:
            os.link(src, dest)
        except OSError:
            if mode == "link":
                os.symlink(src, dest)
            else:
                shutil.copyfile(src, dest)
    else:
        raise DatastoreError(f"unknown transfer mode {mode!r}; choose one of {TRANSFER_MODES}")


def _file_checksum(path: str | Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileDatastore(Datastore):
    """Files under ``root``, one per dataset, placed by `FileTemplate` s.

    A put writes to a temporary file in the destination directory (outside the database
    lock), then, inside the registry transaction, records the file and renames it into
    place with `os.replace` (atomic on POSIX). If the transaction rolls back the file is
    deleted, and a crash before the commit leaves at most an unregistered file, never a
    registered half-written one.

    Parameters
    ----------
    db : `Database`
        The registry database (the datastore's records table lives there).
    root : `str` or `pathlib.Path`
        Directory holding the files.
    storage_classes : `StorageClassFactory`
        Storage class definitions.
    templates : mapping, optional
        Dataset type name, storage class name or ``"default"`` -> template string.
    formatters : mapping, optional
        Dataset type or storage class name -> dotted formatter path (overrides the storage
        class default).
    checksum : `str`, optional
        A `hashlib` algorithm (``"blake2b"``, ``"sha256"``): record a checksum of each file
        and verify it on read.
    records_table : `str`
        Name of the table recording the files (several file datastores in one chain
        each have their own).
    """

    def __init__(
        self,
        db: Database,
        root: str | Path,
        storage_classes: StorageClassFactory,
        templates: Mapping[str, str] | None = None,
        formatters: Mapping[str, str] | None = None,
        checksum: str | None = None,
        *,
        records_table: str = RECORDS_TABLE,
    ):
        self.db = db
        self.root = Path(root).absolute()
        self.storage_classes = storage_classes
        self.templates = {k: FileTemplate(v) for k, v in (templates or {}).items()}
        self.default_template = self.templates.get("default", FileTemplate(DEFAULT_TEMPLATE))
        self.formatters = dict(formatters or {})
        if checksum is not None and checksum not in hashlib.algorithms_available:
            raise DatastoreError(f"unknown checksum algorithm {checksum!r}")
        self.checksum = checksum
        self._formatter_classes: dict[str, type[Formatter]] = {}
        self.table = self.define_table(db.metadata, records_table)
        self._record_select = sa.select(self.table).where(self.table.c.dataset_id == sa.bindparam("dataset_id"))

    @staticmethod
    def define_table(metadata: sa.MetaData, table_name: str = RECORDS_TABLE) -> sa.Table:
        """The records table (created by `create_tables`)."""
        name = f"{metadata.schema}.{table_name}" if metadata.schema else table_name
        if name in metadata.tables:
            return metadata.tables[name]
        dataset_fk = f"{metadata.schema}.dataset.id" if metadata.schema else "dataset.id"
        return sa.Table(
            table_name,
            metadata,
            sa.Column("dataset_id", sa.Uuid(), sa.ForeignKey(dataset_fk, ondelete="CASCADE"), primary_key=True),
            sa.Column("path", sa.String(1024), nullable=False, unique=True),
            sa.Column("formatter", sa.String(256), nullable=False),
            sa.Column("storage_class", sa.String(64), nullable=False),
            sa.Column("checksum", sa.String(128), nullable=True),
            sa.Column("file_size", sa.BigInteger(), nullable=False),
        )

    def create_tables(self) -> None:
        """Create the records table if it does not exist."""
        with self.db.transaction() as conn:
            self.table.create(conn, checkfirst=True)

    # ------------------------------------------------------------------ helpers
    def _template(self, ref: DatasetRef) -> FileTemplate:
        for key in (ref.dataset_type.name, ref.dataset_type.storage_class):
            if key in self.templates:
                return self.templates[key]
        return self.default_template

    def _formatter_path(self, ref: DatasetRef) -> str:
        for key in (ref.dataset_type.name, ref.dataset_type.storage_class):
            if key in self.formatters:
                return self.formatters[key]
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        if storage_class.formatter is None:
            raise StorageClassError(
                f"storage class {storage_class.name!r} has no formatter, so {ref.dataset_type.name!r} datasets "
                "cannot be written to files; configure one under datastore.formatters"
            )
        return storage_class.formatter

    def _formatter(self, path: str) -> Formatter:
        cls = self._formatter_classes.get(path)
        if cls is None:
            cls = import_dotted(path)
            if not (isinstance(cls, type) and issubclass(cls, Formatter)):
                raise StorageClassError(f"{path!r} is not a Formatter subclass")
            self._formatter_classes[path] = cls
        return cls()

    def path_of(self, ref: DatasetRef, extension: str) -> tuple[str, Path]:
        """Relative and absolute path where ``ref`` would be written."""
        template = self._template(ref)
        template.validate(ref)
        relative = f"{template.format(ref)}.{extension}"
        absolute = (self.root / relative).absolute()
        if os.path.commonpath([absolute, self.root]) != str(self.root):
            raise DatastoreError(f"path {relative!r} for {ref} escapes the datastore root {self.root}")
        return relative, absolute

    def is_inside(self, path: str | Path) -> bool:
        """True when ``path`` (made absolute) lies under the datastore root."""
        absolute = os.path.abspath(path)
        return os.path.commonpath([absolute, str(self.root)]) == str(self.root)

    # ------------------------------------------------------------------ writes
    def stage_ingest(
        self, path: str | Path, ref: DatasetRef, formatter: str | None, transfer: str | None
    ) -> StagedWrite:
        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        src = Path(os.path.abspath(path))
        if not src.is_file():
            raise DatastoreError(f"cannot ingest {ref}: {src} is not an existing file")
        formatter_path = formatter or self._formatter_path(ref)
        formatter_obj = self._formatter(formatter_path)
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        inside = self.is_inside(src)
        if transfer == "auto":
            transfer = None if inside else "copy"
        tmp: str | None = None
        move_from: str | None = None
        if transfer is None or transfer == "direct":
            if transfer is None and not inside:
                raise DatastoreError(
                    f"cannot ingest {src} in place: it is outside the datastore root {self.root} "
                    "(use transfer='copy', 'link', 'direct', ...)"
                )
            # In place: a relative path (owned by the datastore, deleted with the
            # dataset); "direct" outside the root: the absolute path, never deleted.
            relative = src.relative_to(self.root).as_posix() if inside else str(src)
            final = src
        else:
            suffixes = "".join(src.suffixes)
            extension = suffixes[1:] if _EXTENSION.match(suffixes) else formatter_obj.extension
            relative, final = self.path_of(ref, extension)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = str(final.parent / f".{final.name}.{uuid.uuid4().hex}.tmp")
            try:
                _transfer_file(src, tmp, transfer)
            except OSError as err:
                raise DatastoreError(f"cannot {transfer} {src} to {final} for {ref}: {err}") from None
            if transfer == "move":
                move_from = str(src)
        row = {
            "dataset_id": ref.id,
            "path": relative,
            "formatter": formatter_path,
            "storage_class": storage_class.name,
            "checksum": _file_checksum(src, self.checksum) if self.checksum else None,
            "file_size": src.stat().st_size,
        }
        return StagedWrite(ref, {"tmp": tmp, "final": str(final), "row": row, "move_from": move_from})

    def stage(self, obj: Any, ref: DatasetRef) -> StagedWrite:
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        storage_class.validate_instance(obj, f"put of {ref.dataset_type.name!r} {ref.data_id}")
        formatter_path = self._formatter_path(ref)
        formatter = self._formatter(formatter_path)
        relative, final = self.path_of(ref, formatter.extension)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        os.close(fd)
        try:
            formatter.write(obj, tmp)
        except Exception as err:
            os.unlink(tmp)
            raise FormatterError(f"{formatter_path} failed to write {ref} to {final}: {err}") from err
        payload = {
            "tmp": tmp,
            "final": str(final),
            "row": {
                "dataset_id": ref.id,
                "path": relative,
                "formatter": formatter_path,
                "storage_class": storage_class.name,
                "checksum": _file_checksum(tmp, self.checksum) if self.checksum else None,
                "file_size": os.path.getsize(tmp),
            },
        }
        return StagedWrite(ref, payload)

    def commit(self, staged: Iterable[StagedWrite]) -> None:
        staged = list(staged)
        if not staged:
            return
        with self.db.transaction(savepoint=False) as conn:
            try:
                with self.db.transaction():
                    conn.execute(self.table.insert(), [s.payload["row"] for s in staged])
            except sa.exc.IntegrityError as err:
                paths = [s.payload["row"]["path"] for s in staged]
                raise DatastoreError(
                    f"cannot record files {paths[:3]}{'...' if len(paths) > 3 else ''}: a path is already used by "
                    f"another dataset (check the file templates) ({getattr(err, 'orig', err)})"
                ) from None
            moved: list[str] = []
            for item in staged:
                tmp = item.payload["tmp"]
                if tmp is None:  # ingested in place: nothing to rename, nothing to undo
                    continue
                final = item.payload["final"]
                if os.path.lexists(final):
                    # No registered dataset owns this path (its record was just inserted
                    # under a UNIQUE constraint): it is the file of a dataset removed
                    # earlier in this transaction, or a leftover of a crashed write. Keep
                    # it aside until the commit, so a rollback can put it back.
                    aside = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.{uuid.uuid4().hex}.old")
                    os.replace(final, aside)
                    self.db.register_undo(lambda final=final, aside=aside: os.replace(aside, final))
                    self.db.on_commit(lambda aside=aside: os.unlink(aside) if os.path.lexists(aside) else None)
                os.replace(tmp, final)
                self.db.register_undo(lambda final=final: os.unlink(final) if os.path.lexists(final) else None)
                if item.payload.get("move_from"):
                    moved.append(item.payload["move_from"])
            if moved:
                self.db.on_commit(lambda: [os.unlink(p) for p in moved if os.path.lexists(p)])

    def discard(self, staged: Iterable[StagedWrite]) -> None:
        for item in staged:
            tmp = item.payload["tmp"]
            if tmp is not None and os.path.lexists(tmp):
                os.unlink(tmp)

    # ------------------------------------------------------------------ reads
    def _record(self, ref: DatasetRef) -> Mapping[str, Any] | None:
        with self.db.connection() as conn:
            return conn.execute(self._record_select, {"dataset_id": ref.id}).mappings().first()

    def records(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """Records (path, formatter, storage_class, checksum, file_size) of many datasets."""
        ids = list(ids)
        out: dict[uuid.UUID, dict[str, Any]] = {}
        with self.db.connection() as conn:
            for start in range(0, len(ids), 500):
                stmt = sa.select(self.table).where(self.table.c.dataset_id.in_(ids[start : start + 500]))
                out.update((row["dataset_id"], dict(row)) for row in conn.execute(stmt).mappings())
        return out

    def absolute_path(self, relative: str) -> Path:
        """Absolute path of a recorded file (recorded paths are relative to the root, or absolute)."""
        return self.root / relative

    def get_path(self, ref: DatasetRef) -> Path:
        """Absolute path of the file holding ``ref``."""
        record = self._record(ref)
        if record is None:
            raise DatasetNotFoundError(f"dataset {ref} has no file in the datastore at {self.root}")
        return self.root / record["path"]

    def get(self, ref: DatasetRef, parameters: Mapping[str, Any] | None = None) -> Any:
        record = self._record(ref)
        if record is None:
            raise DatasetNotFoundError(f"dataset {ref} has no file in the datastore at {self.root}")
        storage_class = self.storage_classes[record["storage_class"]]
        storage_class.validate_parameters(parameters, f"reading {ref}")
        if ref.component is not None and ref.component not in storage_class.components:
            raise StorageClassError(
                f"storage class {storage_class.name!r} of {ref.dataset_type.name!r} has no component "
                f"{ref.component!r} (components: {sorted(storage_class.components) or 'none'})"
            )
        with self._local_file(record, ref) as path:
            if self.checksum and record["checksum"]:
                actual = _file_checksum(path, self.checksum)
                if actual != record["checksum"]:
                    raise DatastoreError(
                        f"checksum mismatch for {self._location(record)} ({ref}): file changed since it was written"
                    )
            return self._read(path, record, ref, parameters)

    def _location(self, record: Mapping[str, Any]) -> str:
        """Where a recorded file is, for messages."""
        return str(self.root / record["path"])

    @contextmanager
    def _local_file(self, record: Mapping[str, Any], ref: DatasetRef) -> Iterator[str]:
        """A local path holding the recorded file (here: the file itself)."""
        path = self.root / record["path"]
        if not path.exists():
            raise DatasetNotFoundError(f"dataset {ref} is registered but its file {path} is missing")
        yield str(path)

    def _read(self, path: str, record: Mapping[str, Any], ref: DatasetRef, parameters: Any) -> Any:
        formatter = self._formatter(record["formatter"])
        try:
            if ref.component is not None:
                return formatter.read_component(path, ref.component, parameters)
            return formatter.read(path, parameters)
        except (DatastoreError, StorageClassError):
            raise
        except Exception as err:
            raise FormatterError(
                f"{record['formatter']} failed to read {self._location(record)} ({ref}): {err}"
            ) from err

    def exists(self, ref: DatasetRef) -> bool:
        record = self._record(ref)
        return record is not None and (self.root / record["path"]).exists()

    def remove(self, ids: Iterable[Any]) -> None:
        """Delete the records now and the files once the outermost transaction commits.

        Each file is deleted only if the path still holds the same file (device and
        inode) as when it was removed, so a dataset written to the same path later in the
        same transaction (``pipetask --clobber``: prune, then put again) survives.
        """
        ids = list(ids)
        if not ids:
            return
        doomed: list[tuple[Path, tuple[int, int] | None]] = []
        with self.db.transaction() as conn:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                rows = conn.execute(sa.select(self.table.c.path).where(self.table.c.dataset_id.in_(part)))
                # Absolute paths were ingested with transfer="direct": not ours to delete.
                for relative in rows.scalars():
                    if os.path.isabs(relative):
                        continue
                    path = self.root / relative
                    try:
                        st = path.lstat()
                        doomed.append((path, (st.st_dev, st.st_ino)))
                    except FileNotFoundError:
                        doomed.append((path, None))
                conn.execute(self.table.delete().where(self.table.c.dataset_id.in_(part)))

        def unlink_all() -> None:
            for path, identity in doomed:
                try:
                    st = path.lstat()
                except FileNotFoundError:
                    _log.warning("file %s was already gone", path)
                    continue
                if identity is not None and (st.st_dev, st.st_ino) != identity:
                    _log.verbose("not deleting %s: it was replaced by a newer dataset's file", path)
                    continue
                path.unlink()

        self.db.on_commit(unlink_all)
