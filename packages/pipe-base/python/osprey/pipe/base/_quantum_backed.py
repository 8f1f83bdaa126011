"""Quantum-backed execution: batch workers that read and write files, never the registry.

On a batch system thousands of workers must not all hold connections to the registry
database. A graph built with ``datastore_records=True`` knows where every external input
lives, and every output's file location follows from its ref and the repository's file
templates; so a `QuantumBackedButler` can run quanta with only the repository's
``butler.yaml`` and filesystem access. What each transaction wrote is listed in a small
JSON manifest under ``<datastore root>/.qbb/<run>/``; `aggregate_graph` later registers
those files and the run's provenance with the real Butler, in one transaction per manifest.

`QuantumBackedButler` offers the part of the Butler interface the quantum executor uses
(``get``, ``put``, ``transaction``, ``prune_datasets``, ``registry.existing_dataset_ids``),
so `SingleQuantumExecutor` runs unchanged on top of it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._executor import (
    ExecutionReport,
    ProgressCallback,
    SingleQuantumExecutor,
    _blocked,
    _make_task,
    _record,
    _Schedule,
    prepare_run,
)
from ._quantum_graph import QuantumGraph
from ._utils import import_by_name
from .errors import PipeBaseError

__all__ = ["QuantumBackedButler", "aggregate_graph", "run_quantum_backed"]

MANIFEST_DIR = ".qbb"


def _manifest_dir(root: Path, run: str) -> Path:
    return root / MANIFEST_DIR / run.replace("/", "~")


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class _Registry:
    """The one registry question the executor asks, answered from records and manifests."""

    def __init__(self, qbb: QuantumBackedButler):
        self._qbb = qbb

    def existing_dataset_ids(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = set(ids)
        return {i for i in ids if self._qbb._record(i) is not None}


class QuantumBackedButler:
    """Read and write a graph's datasets as files in a repository, without its database.

    Parameters
    ----------
    repo : `str` or `pathlib.Path`
        Repository root (or its ``butler.yaml``); only the configuration is read.
    graph : `QuantumGraph`
        Built with ``datastore_records=True`` when it has inputs from outside the graph.
    """

    def __init__(self, repo: str | Path, graph: QuantumGraph):
        from osprey.daf.butler import ButlerConfig, StorageClassFactory
        from osprey.daf.butler.datastore import FileDatastore
        from osprey.daf.butler.registry import Database

        path = Path(repo)
        config_path = path / "butler.yaml" if path.is_dir() else path
        config = ButlerConfig.read(config_path)
        store = config.datastore
        if store.cls != "file" or str(store.root).startswith("s3://"):
            raise PipeBaseError(f"quantum-backed execution needs a local file datastore; {config_path} has {store.cls}")
        root = Path(store.root)
        root = root if root.is_absolute() else config_path.parent.absolute() / root
        # A scratch in-memory database only satisfies the constructor: nothing is recorded in it.
        self._datastore = FileDatastore(
            Database("sqlite://"), root, StorageClassFactory(config.storage_classes), store.templates, store.formatters
        )
        self.root = self._datastore.root
        self.graph = graph
        self.registry = _Registry(self)
        self._refs = {r.id: r for q in graph for r in q.all_outputs()}
        self._refs.update((r.id, r) for refs in graph.init_outputs.values() for r in refs.values())
        self._manifests = _manifest_dir(self.root, graph.run)
        self._records: dict[uuid.UUID, tuple[dict[str, Any], Path | None]] = {
            k: (v, None) for k, v in graph.input_records.items()
        }
        self._seen: dict[Path, float] = {}
        self._pending: list[Any] | None = None
        self._pruned: list[Any] | None = None

    # ------------------------------------------------------------------ records
    def _scan(self) -> None:
        """Load manifests written (or rewritten) since the last scan, by any process."""
        if not self._manifests.is_dir():
            return
        for path in self._manifests.glob("*.json"):
            mtime = path.stat().st_mtime
            if self._seen.get(path) == mtime:
                continue
            self._seen[path] = mtime
            for row in json.loads(path.read_text())["datasets"]:
                self._records[uuid.UUID(hex=row["id"])] = (row, path)

    def _record(self, dataset_id: uuid.UUID) -> dict[str, Any] | None:
        found = self._records.get(dataset_id)
        if found is None:
            self._scan()
            found = self._records.get(dataset_id)
        return None if found is None else found[0]

    # ------------------------------------------------------------------ butler interface
    def get(self, ref: Any) -> Any:
        """Read ``ref`` from its file (an external input, or written by a quantum of the graph)."""
        record = self._record(ref.id)
        if record is None:
            raise PipeBaseError(f"{ref} has no file record: not an external input of the graph and not written yet")
        formatter = import_by_name(record["formatter"])()
        return formatter.read(str(self.root / record["path"]), None)

    def put(self, obj: Any, ref: Any) -> Any:
        """Write ``ref``'s file (atomically, at its templated path); listed in the transaction's manifest."""
        if ref.id not in self._refs:
            raise PipeBaseError(f"{ref} is not an output of the graph for run {self.graph.run!r}")
        with self.transaction():
            assert self._pending is not None
            self._pending.append(self._datastore.stage(obj, ref))
        return ref

    def prune_datasets(self, refs: Iterable[Any], **_: Any) -> None:
        """Forget (and delete) datasets written by an earlier attempt of a quantum."""
        with self.transaction():
            assert self._pruned is not None
            self._pruned.extend(refs)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside become visible together (files renamed into place, then one manifest)."""
        if self._pending is not None:
            yield
            return
        self._pending, self._pruned = [], []
        try:
            yield
            self._commit(self._pending, self._pruned)
        except BaseException:
            self._datastore.discard(self._pending)
            raise
        finally:
            self._pending = self._pruned = None

    def _commit(self, staged: Sequence[Any], pruned: Sequence[Any]) -> None:
        gone = {r.id for r in pruned}
        for path in {self._records[i][1] for i in gone if i in self._records} - {None}:
            rows = [r for r in json.loads(path.read_text())["datasets"] if uuid.UUID(hex=r["id"]) not in gone]
            if rows:
                _write_json_atomic(path, {"datasets": rows})
            else:
                path.unlink()
                self._seen.pop(path, None)
        for dataset_id in gone:
            row, _ = self._records.pop(dataset_id, (None, None))
            if row is not None and not any(s.payload["row"]["path"] == row["path"] for s in staged):
                (self.root / row["path"]).unlink(missing_ok=True)
        if not staged:
            return
        rows = []
        for item in staged:
            os.replace(item.payload["tmp"], item.payload["final"])
            row = item.payload["row"]
            rows.append({"id": item.ref.id.hex, **{k: row[k] for k in ("path", "formatter", "storage_class")}})
        manifest = self._manifests / f"{uuid.uuid4().hex}.json"
        _write_json_atomic(manifest, {"datasets": rows})
        for row in rows:
            self._records[uuid.UUID(hex=row["id"])] = (row, manifest)
        self._seen[manifest] = manifest.stat().st_mtime


def run_quantum_backed(
    repo: str | Path,
    graph: QuantumGraph,
    quantum_ids: Iterable[uuid.UUID] | None = None,
    *,
    clobber_outputs: bool = False,
    progress: ProgressCallback | None = None,
) -> ExecutionReport:
    """Run quanta of ``graph`` (all, or ``quantum_ids``) on a `QuantumBackedButler`, upstream first.

    An upstream quantum outside ``quantum_ids`` must have succeeded in an earlier call (its
    metadata file is found through the manifests); otherwise its descendants here are
    reported blocked.
    """
    qbb = QuantumBackedButler(repo, graph)
    selected = None if quantum_ids is None else set(quantum_ids)
    with qbb.transaction():  # init-outputs first: tasks of later quanta read them at construction
        for label, refs in graph.init_outputs.items():
            missing = {a: r for a, r in refs.items() if qbb._record(r.id) is None}
            if missing and graph.quanta[label]:
                values = _make_task(qbb, graph, label).get_init_output_values()
                for attr, ref in missing.items():
                    qbb.put(values[attr], ref)
    executor = SingleQuantumExecutor(qbb, clobber_outputs=clobber_outputs)
    report = ExecutionReport()
    schedule = _Schedule(graph)
    while not schedule.finished:
        batch = schedule.ready()
        for quantum in batch:
            if selected is not None and quantum.id not in selected:
                # Another job's quantum: its metadata on disk says it succeeded; otherwise
                # (failed, or not run yet) the quanta that need it here are blocked.
                if qbb._record(quantum.metadata_ref.id) is not None:
                    schedule.skip(quantum)
                else:
                    blocked = schedule.finish(_blocked(quantum, "not run by this job"))
                    _record(report, [r for r in blocked if r.quantum_id in selected], progress)
                continue
            result = executor.execute(graph, quantum)
            _record(report, [result], progress)
            blocked = schedule.finish(result)
            _record(report, [r for r in blocked if selected is None or r.quantum_id in selected], progress)
    return report


def aggregate_graph(butler: Any, graph: QuantumGraph) -> dict[str, int]:
    """Register what quantum-backed runs of ``graph`` wrote, with the run's provenance.

    Writes the configs, package versions and init-outputs (`prepare_run`), then ingests in
    place the files of each manifest in one transaction (replacing the record of a dataset
    already registered, so it can be rerun), and deletes the manifests it registered.

    Returns
    -------
    counts : `dict`
        ``{"manifests": n, "datasets": n, "failed_quanta": n}``.
    """
    from osprey.daf.butler import FileDataset

    qbb = QuantumBackedButler(butler.root, graph)
    prepare_run(butler, graph)
    counts = {"manifests": 0, "datasets": 0, "failed_quanta": 0}
    directory = _manifest_dir(qbb.root, graph.run)
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        rows = json.loads(path.read_text())["datasets"]
        refs = {uuid.UUID(hex=r["id"]): r for r in rows}
        present = butler.registry.existing_dataset_ids(list(refs))
        datasets = [
            FileDataset(qbb.root / row["path"], qbb._refs[dataset_id], formatter=row["formatter"])
            for dataset_id, row in refs.items()
        ]
        with butler.transaction():
            # Registered already: the log of an earlier failed attempt, or a rerun of this
            # aggregation; the file on disk is the newer one, so it replaces the record.
            stale = [ds for ds in datasets if ds.ref.id in present]
            copies = []
            for ds in stale:  # a fresh inode at the path survives the pruned file's deletion
                copy = Path(ds.path).with_name(f".{Path(ds.path).name}.{uuid.uuid4().hex}.tmp")
                shutil.copy2(ds.path, copy)
                copies.append((copy, ds.path))
            if stale:
                butler.prune_datasets([ds.ref for ds in stale], disassociate=True, unstore=True, purge=True)
            for copy, final in copies:
                os.replace(copy, final)
            butler.ingest(*datasets, transfer=None)
        counts["manifests"] += 1
        counts["datasets"] += len(datasets)
        path.unlink()
    for quantum in graph:
        present = butler.registry.existing_dataset_ids([quantum.metadata_ref.id, quantum.log_ref.id])
        if quantum.log_ref.id in present and quantum.metadata_ref.id not in present:
            counts["failed_quanta"] += 1
    return counts

