"""A datastore made of several child datastores, each with its own constraints."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from osprey.utils import get_logger

from .._dataset_ref import DatasetRef
from .._exceptions import DatasetNotFoundError, DatastoreError
from ._base import Datastore, StagedWrite

__all__ = ["ChainedDatastore", "Constraints"]

_log = get_logger(__name__)


class Constraints:
    """Accept/reject rules on dataset type and storage class names (shell patterns allowed).

    Parameters
    ----------
    accept : iterable of `str`, optional
        A dataset is accepted only if one entry matches its dataset type name or storage
        class name; None accepts everything.
    reject : iterable of `str`
        A dataset matching any entry is refused (reject wins over accept).
    """

    __slots__ = ("accept", "reject")

    def __init__(self, accept: Iterable[str] | None = None, reject: Iterable[str] = ()):
        self.accept = tuple(accept) if accept is not None else None
        self.reject = tuple(reject)

    @staticmethod
    def _matches(patterns: Sequence[str], ref: DatasetRef) -> bool:
        names = (ref.dataset_type.name, ref.dataset_type.storage_class)
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in names)

    def accepts(self, ref: DatasetRef) -> bool:
        """True when ``ref``'s dataset type may be stored under these rules."""
        if self.reject and self._matches(self.reject, ref):
            return False
        return self.accept is None or self._matches(self.accept, ref)

    def __repr__(self) -> str:
        return f"Constraints(accept={self.accept!r}, reject={self.reject!r})"


class ChainedDatastore(Datastore):
    """Several datastores in order: writes go to every child that accepts, reads to the first that has it.

    A put stages the object in each accepting child (outside the database lock) and
    commits all of them in the caller's transaction, so either every accepting child
    holds the dataset or none does. A dataset no child accepts is refused with
    `DatastoreError`. Removal removes from every child.

    Parameters
    ----------
    children : sequence of (`str`, `Datastore`, `Constraints`)
        Name, datastore and constraints of each child, in read order.
    """

    def __init__(self, children: Sequence[tuple[str, Datastore, Constraints]]):
        if not children:
            raise DatastoreError("a chained datastore needs at least one child")
        self.children = list(children)

    def _accepting(self, ref: DatasetRef) -> list[int]:
        accepting = [i for i, (_, _, constraints) in enumerate(self.children) if constraints.accepts(ref)]
        if not accepting:
            rules = {name: constraints for name, _, constraints in self.children}
            raise DatastoreError(
                f"no datastore in the chain accepts {ref.dataset_type.name!r} (storage class "
                f"{ref.dataset_type.storage_class!r}) for {ref.data_id}; constraints: {rules}"
            )
        return accepting

    def _stage_each(self, ref: DatasetRef, make: Any) -> StagedWrite:
        staged: list[tuple[int, StagedWrite]] = []
        try:
            for position, i in enumerate(self._accepting(ref)):
                staged.append((i, make(self.children[i][1], position)))
        except BaseException:
            self.discard([StagedWrite(ref, staged)])
            raise
        return StagedWrite(ref, staged)

    def stage(self, obj: Any, ref: DatasetRef) -> StagedWrite:
        return self._stage_each(ref, lambda child, _: child.stage(obj, ref))

    def stage_ingest(
        self, path: str | Path, ref: DatasetRef, formatter: str | None, transfer: str | None
    ) -> StagedWrite:
        """Ingest into every accepting child.

        The first accepting child gets ``transfer`` as given; later ones copy the file
        (``"auto"`` stays ``"auto"``), since a file can be used in place, or moved, once.
        Staging reads the original before any ``"move"`` deletes it (after the commit).
        """

        def make(child: Datastore, position: int) -> StagedWrite:
            mode = transfer if position == 0 or transfer == "auto" else "copy"
            return child.stage_ingest(path, ref, formatter, mode)

        return self._stage_each(ref, make)

    def _by_child(self, staged: Iterable[StagedWrite]) -> dict[int, list[StagedWrite]]:
        out: dict[int, list[StagedWrite]] = {}
        for item in staged:
            for i, child_item in item.payload:
                out.setdefault(i, []).append(child_item)
        return out

    def commit(self, staged: Iterable[StagedWrite]) -> None:
        for i, items in sorted(self._by_child(staged).items()):
            self.children[i][1].commit(items)

    def discard(self, staged: Iterable[StagedWrite]) -> None:
        for i, items in sorted(self._by_child(staged).items()):
            try:
                self.children[i][1].discard(items)
            except Exception as err:  # discard the other children's copies too
                _log.warning("datastore %r could not discard staged writes: %s", self.children[i][0], err)

    def get(self, ref: DatasetRef, parameters: Mapping[str, Any] | None = None) -> Any:
        """Read from the first child (in order) that holds the dataset."""
        reasons = []
        for name, child, _ in self.children:
            try:
                return child.get(ref, parameters)
            except DatasetNotFoundError as err:
                reasons.append(f"{name}: {err}")
        raise DatasetNotFoundError(f"dataset {ref} is in no datastore of the chain ({'; '.join(reasons)})")

    def exists(self, ref: DatasetRef) -> bool:
        return any(child.exists(ref) for _, child, _ in self.children)

    def remove(self, ids: Iterable[Any]) -> None:
        ids = list(ids)
        for _, child, _ in self.children:
            child.remove(ids)

    def child_holding(self, ref: DatasetRef) -> Datastore | None:
        """The first child that holds ``ref``, or None."""
        for _, child, _ in self.children:
            if child.exists(ref):
                return child
        return None
