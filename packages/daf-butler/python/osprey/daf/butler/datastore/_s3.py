"""A datastore that keeps one object per dataset in an S3 bucket (boto3).

Needs the ``s3`` extra (``pip install osprey-daf-butler[s3]``); boto3 is imported when the
datastore first talks to S3, so repositories without one never load it.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from osprey.utils import get_logger

from .._dataset_ref import DatasetRef
from .._exceptions import DatasetNotFoundError, DatastoreError, FormatterError
from .._storage_class import StorageClassFactory
from ..registry._database import Database
from ._base import TRANSFER_MODES, StagedWrite
from ._file import _EXTENSION, RECORDS_TABLE, FileDatastore, _file_checksum

__all__ = ["S3Datastore", "parse_s3_uri"]

_log = get_logger(__name__)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``"bucket"``, ``"some/prefix/"``); the prefix may be empty."""
    if not uri.startswith("s3://"):
        raise DatastoreError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise DatastoreError(f"S3 URI {uri!r} has no bucket name")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _is_missing(err: Exception) -> bool:
    code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Datastore(FileDatastore):
    """Objects under ``s3://bucket/prefix``, placed by the same templates and formatters as files.

    Formatters write and read local files, so a put serialises to a local temporary file
    and uploads it to a temporary key next to the final one (outside the database lock).
    Inside the registry transaction the record is inserted and the object is copied
    server-side to its final key, then the temporary key is deleted; if the transaction
    rolls back the final key is deleted. A final key therefore only ever holds a
    complete object, and only while (or just before) its record is committed.

    Removal deletes the records at once and the objects after the outermost commit. A
    dataset put to the same key later in the same transaction (prune then put) keeps
    its object: the old object is copied aside first (restored on rollback) and is no
    longer scheduled for deletion.

    Parameters
    ----------
    db : `Database`
        The registry database (the records table lives there).
    root : `str`
        ``s3://bucket/prefix``.
    storage_classes, templates, formatters, checksum, records_table
        As for `FileDatastore`.
    endpoint_url : `str`, optional
        S3 endpoint (MinIO, Ceph, a test server); boto3's default otherwise.
    client : optional
        A boto3 S3 client to use instead of creating one.
    """

    def __init__(
        self,
        db: Database,
        root: str,
        storage_classes: StorageClassFactory,
        templates: Mapping[str, str] | None = None,
        formatters: Mapping[str, str] | None = None,
        checksum: str | None = None,
        *,
        records_table: str = RECORDS_TABLE,
        endpoint_url: str | None = None,
        client: Any = None,
    ):
        self.bucket, self.prefix = parse_s3_uri(root)
        self.uri = f"s3://{self.bucket}/{self.prefix}"
        super().__init__(db, ".", storage_classes, templates, formatters, checksum, records_table=records_table)
        self.root = Path("/nonexistent-s3-root")  # never a local directory; see key_of
        self.endpoint_url = endpoint_url
        self._client = client
        self._pending = threading.local()

    # ------------------------------------------------------------------ S3 plumbing
    @property
    def client(self) -> Any:
        """The boto3 S3 client (created on first use)."""
        if self._client is None:
            try:
                import boto3
            except ImportError:
                raise DatastoreError(
                    f"the datastore at {self.uri} needs boto3: pip install 'osprey-daf-butler[s3]'"
                ) from None
            self._client = boto3.client("s3", endpoint_url=self.endpoint_url)
        return self._client

    def _s3_error(self, what: str, key: str, ref: DatasetRef | None, err: Exception) -> DatastoreError:
        about = f" for {ref}" if ref is not None else ""
        return DatastoreError(f"cannot {what} s3://{self.bucket}/{key}{about}: {err}")

    def key_of(self, relative: str) -> str:
        """The object key of a path relative to the datastore root."""
        return self.prefix + relative

    def uri_of(self, relative: str) -> str:
        """``s3://bucket/key`` of a path relative to the datastore root."""
        return f"s3://{self.bucket}/{self.key_of(relative)}"

    def _pending_deletes(self) -> set[str]:
        pending = getattr(self._pending, "keys", None)
        if pending is None:
            pending = self._pending.keys = set()
        return pending

    def _upload(self, local: str, key: str, ref: DatasetRef) -> None:
        try:
            self.client.upload_file(local, self.bucket, key)
        except Exception as err:
            raise self._s3_error("upload to", key, ref, err) from err

    def _copy(self, src: str, dest: str, ref: DatasetRef | None) -> None:
        try:
            self.client.copy({"Bucket": self.bucket, "Key": src}, self.bucket, dest)
        except Exception as err:
            raise self._s3_error(f"copy s3://{self.bucket}/{src} to", dest, ref, err) from err

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in part], "Quiet": True}
            )
            for error in response.get("Errors", []):
                _log.warning("cannot delete s3://%s/%s: %s", self.bucket, error.get("Key"), error.get("Message"))

    def _exists_key(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as err:
            if _is_missing(err):
                return False
            raise self._s3_error("look up", key, None, err) from err
        return True

    # ------------------------------------------------------------------ paths
    def path_of(self, ref: DatasetRef, extension: str) -> tuple[str, Path]:
        """Relative path and (pseudo) absolute path; use `key_of` for the object key."""
        template = self._template(ref)
        template.validate(ref)
        relative = f"{template.format(ref)}.{extension}"
        normal = posixpath.normpath(relative)
        if normal != relative or normal.startswith(("../", "/")):
            raise DatastoreError(f"path {relative!r} for {ref} is not a plain relative key under {self.uri}")
        return relative, Path("/") / relative

    def is_inside(self, path: str | Path) -> bool:
        """Local files are never inside an S3 datastore."""
        return False

    def absolute_path(self, relative: str) -> Path:
        raise DatastoreError(f"datasets in {self.uri} are S3 objects, not local files (use uri_of)")

    def get_path(self, ref: DatasetRef) -> Path:
        raise DatastoreError(f"dataset {ref} is an S3 object in {self.uri}, not a local file; use get_uri")

    def get_uri(self, ref: DatasetRef) -> str:
        """``s3://bucket/key`` of the object holding ``ref``."""
        record = self._record(ref)
        if record is None:
            raise DatasetNotFoundError(f"dataset {ref} has no object in the datastore at {self.uri}")
        return self.uri_of(record["path"])

    def _location(self, record: Mapping[str, Any]) -> str:
        return self.uri_of(record["path"])

    # ------------------------------------------------------------------ writes
    def _stage_file(self, local: str, ref: DatasetRef, relative: str, row: dict[str, Any], **extra: Any) -> StagedWrite:
        final = self.key_of(relative)
        head, _, name = final.rpartition("/")
        tmp = f"{head}/.{name}.{uuid.uuid4().hex}.tmp" if head else f".{name}.{uuid.uuid4().hex}.tmp"
        self._upload(local, tmp, ref)
        return StagedWrite(ref, {"tmp": tmp, "final": final, "row": row, **extra})

    def stage(self, obj: Any, ref: DatasetRef) -> StagedWrite:
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        storage_class.validate_instance(obj, f"put of {ref.dataset_type.name!r} {ref.data_id}")
        formatter_path = self._formatter_path(ref)
        formatter = self._formatter(formatter_path)
        relative, _ = self.path_of(ref, formatter.extension)
        with tempfile.TemporaryDirectory(prefix="osprey-s3-") as scratch:
            local = os.path.join(scratch, f"dataset.{formatter.extension}")
            try:
                formatter.write(obj, local)
            except Exception as err:
                raise FormatterError(
                    f"{formatter_path} failed to write {ref} for {self.uri_of(relative)}: {err}"
                ) from err
            row = {
                "dataset_id": ref.id,
                "path": relative,
                "formatter": formatter_path,
                "storage_class": storage_class.name,
                "checksum": _file_checksum(local, self.checksum) if self.checksum else None,
                "file_size": os.path.getsize(local),
            }
            return self._stage_file(local, ref, relative, row)

    def stage_ingest(
        self, path: str | Path, ref: DatasetRef, formatter: str | None, transfer: str | None
    ) -> StagedWrite:
        """Upload a local file (``transfer`` ``"copy"``, ``"move"`` or ``"auto"``, which copies)."""
        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        if transfer not in ("auto", "copy", "move"):
            raise DatastoreError(
                f"cannot ingest {path} into the S3 datastore {self.uri} with transfer={transfer!r}: local files "
                "can only be uploaded (transfer='copy', 'move' or 'auto')"
            )
        src = Path(os.path.abspath(path))
        if not src.is_file():
            raise DatastoreError(f"cannot ingest {ref}: {src} is not an existing file")
        formatter_path = formatter or self._formatter_path(ref)
        formatter_obj = self._formatter(formatter_path)
        storage_class = self.storage_classes[ref.dataset_type.storage_class]
        suffixes = "".join(src.suffixes)
        extension = suffixes[1:] if _EXTENSION.match(suffixes) else formatter_obj.extension
        relative, _ = self.path_of(ref, extension)
        row = {
            "dataset_id": ref.id,
            "path": relative,
            "formatter": formatter_path,
            "storage_class": storage_class.name,
            "checksum": _file_checksum(src, self.checksum) if self.checksum else None,
            "file_size": src.stat().st_size,
        }
        return self._stage_file(str(src), ref, relative, row, move_from=str(src) if transfer == "move" else None)

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
                    f"cannot record objects {paths[:3]}{'...' if len(paths) > 3 else ''} in {self.uri}: a key is "
                    f"already used by another dataset (check the file templates) ({getattr(err, 'orig', err)})"
                ) from None
            pending = self._pending_deletes()
            moved: list[str] = []
            for item in staged:
                tmp, final = item.payload["tmp"], item.payload["final"]
                if final in pending:
                    # The object of a dataset removed earlier in this transaction: keep a
                    # copy until the commit (a rollback restores it), and stop its deletion.
                    pending.discard(final)
                    self.db.register_undo(lambda final=final: pending.add(final))
                    head, _, name = final.rpartition("/")
                    aside = f"{head}/.{name}.{uuid.uuid4().hex}.old" if head else f".{name}.{uuid.uuid4().hex}.old"
                    self._copy(final, aside, item.ref)
                    self.db.register_undo(lambda final=final, aside=aside: self._restore(aside, final))
                    self.db.on_commit(lambda aside=aside: self._delete([aside]))
                self._copy(tmp, final, item.ref)
                self.db.register_undo(lambda final=final: self._delete([final]))
                self._delete([tmp])
                if item.payload.get("move_from"):
                    moved.append(item.payload["move_from"])
            if moved:
                self.db.on_commit(lambda: [os.unlink(p) for p in moved if os.path.lexists(p)])

    def _restore(self, aside: str, final: str) -> None:
        self._copy(aside, final, None)
        self._delete([aside])

    def discard(self, staged: Iterable[StagedWrite]) -> None:
        keys = [item.payload["tmp"] for item in staged if item.payload.get("tmp")]
        if keys:
            self._delete(keys)

    # ------------------------------------------------------------------ reads
    @contextmanager
    def _local_file(self, record: Mapping[str, Any], ref: DatasetRef) -> Iterator[str]:
        """Download the object to a temporary local file for the formatter."""
        key = self.key_of(record["path"])
        with tempfile.TemporaryDirectory(prefix="osprey-s3-") as scratch:
            local = os.path.join(scratch, posixpath.basename(key))
            try:
                self.client.download_file(self.bucket, key, local)
            except Exception as err:
                if _is_missing(err):
                    raise DatasetNotFoundError(
                        f"dataset {ref} is registered but its object {self.uri_of(record['path'])} is missing"
                    ) from None
                raise self._s3_error("download", key, ref, err) from err
            yield local

    def exists(self, ref: DatasetRef) -> bool:
        record = self._record(ref)
        return record is not None and self._exists_key(self.key_of(record["path"]))

    def remove(self, ids: Iterable[Any]) -> None:
        """Delete the records now and the objects after the outermost commit."""
        ids = list(ids)
        if not ids:
            return
        keys: list[str] = []
        with self.db.transaction() as conn:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                rows = conn.execute(sa.select(self.table.c.path).where(self.table.c.dataset_id.in_(part)))
                keys.extend(self.key_of(p) for p in rows.scalars())
                conn.execute(self.table.delete().where(self.table.c.dataset_id.in_(part)))
        if not keys:
            return
        pending = self._pending_deletes()
        if not self.db.in_transaction:
            self._delete(keys)
            return
        pending.update(keys)
        self.db.register_undo(lambda: pending.difference_update(keys))

        def delete_still_pending() -> None:
            doomed = [k for k in keys if k in pending]
            pending.difference_update(keys)
            self._delete(doomed)

        self.db.on_commit(delete_still_pending)
