"""The datastore interface: where dataset content lives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._dataset_ref import DatasetRef

__all__ = ["Datastore", "StagedWrite"]

TRANSFER_MODES = ("auto", "copy", "move", "link", "symlink", "relsymlink", "hardlink", "direct", None)
"""How `Datastore.stage_ingest` brings an existing file in (None: it is already in place)."""


class StagedWrite:
    """Content written (e.g. to a temporary file) but not yet registered.

    `Datastore.commit` registers it inside the caller's transaction; `Datastore.discard`
    throws it away.
    """

    __slots__ = ("ref", "payload")

    def __init__(self, ref: DatasetRef, payload: Any):
        self.ref = ref
        self.payload = payload


class Datastore(ABC):
    """Stores and retrieves dataset content, transactionally with the registry.

    Writes happen in two steps so that slow serialisation happens outside the database
    lock: `stage` (write to a temporary place) then `commit` (make it visible and record
    it, inside the transaction; undone if the transaction rolls back).
    """

    @abstractmethod
    def stage(self, obj: Any, ref: DatasetRef) -> StagedWrite:
        """Serialise ``obj`` for ``ref`` without making it visible."""

    @abstractmethod
    def stage_ingest(
        self, path: str | Path, ref: DatasetRef, formatter: str | None, transfer: str | None
    ) -> StagedWrite:
        """Bring an existing file in for ``ref`` (see `TRANSFER_MODES`) without making it visible.

        ``formatter`` is a dotted `Formatter` path; None uses the one configured for the
        dataset type or its storage class. The user's file is never deleted here; a
        ``"move"`` removes it only after the transaction that commits it.
        """

    @abstractmethod
    def commit(self, staged: Iterable[StagedWrite]) -> None:
        """Make staged content visible and record it, inside the current transaction."""

    @abstractmethod
    def discard(self, staged: Iterable[StagedWrite]) -> None:
        """Throw away staged content that was never committed."""

    def put(self, obj: Any, ref: DatasetRef) -> None:
        """Stage and commit in one step."""
        staged = self.stage(obj, ref)
        try:
            self.commit([staged])
        except BaseException:
            self.discard([staged])
            raise

    @abstractmethod
    def get(self, ref: DatasetRef, parameters: Mapping[str, Any] | None = None) -> Any:
        """Read a dataset (or ``ref.component`` of it), applying read ``parameters``."""

    @abstractmethod
    def exists(self, ref: DatasetRef) -> bool:
        """True when the content of ``ref`` is stored."""

    @abstractmethod
    def remove(self, ids: Iterable[Any]) -> None:
        """Forget the datasets now and delete their content once the transaction commits."""
