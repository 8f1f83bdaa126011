"""Registry and datastore workloads: osprey-daf-butler against lsst-daf-butler, SQLite and PostgreSQL, one thread.

python bench/bench_butler.py [--quick] [--only WORKLOAD ...] [--postgres URL]

Workloads (same sizes, same file repositories for both, each on a fresh repository;
setup is not timed; best of --repeats). With ``--postgres URL`` (or
``OSPREY_BENCH_POSTGRES_URL``; ``postgresql+psycopg://user:pw@host/db``) every workload
also runs with both registries on that PostgreSQL server, each repository in a fresh
schema that is dropped afterwards; those rows are named ``<workload>@postgresql``.

* put_get: put then get N small dicts (StructuredDataDict, YAML files) one by one.
* query_datasets: one query with a where clause matching half of M registered datasets
  (after a one-row warm-up query, so that imports and first compilation are not timed).
* insert_records: insert M detector records in one call.
* ingest: ingest K existing YAML files (copy) in one call.

If lsst-daf-butler cannot be imported, only our times are printed (peer_s is NaN).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from osprey.utils.bench import Comparison, report

SIZES = {
    "full": {"put_get": 5000, "query_datasets": 100_000, "insert_records": 100_000, "ingest": 1000},
    "quick": {"put_get": 300, "query_datasets": 10_000, "insert_records": 10_000, "ingest": 200},
}


# ---------------------------------------------------------------------------- ours
def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    engine.dispose()


class Ours:
    name = "osprey"

    def __init__(self, root: Path, db_url: str | None = None):
        from osprey.daf.butler import Butler

        self.db_url, self.schema = db_url, f"bench_osprey_{uuid.uuid4().hex[:10]}"
        Butler.make_repo(root, db_url, config={"registry": {"namespace": self.schema}} if db_url else None)
        self.butler = Butler.from_config(root, run="run")
        self.butler.registry.insert_dimension_data("instrument", {"name": "Cam", "detector_max": 10**6})
        self.butler.register_dataset_type("meta", ["instrument", "detector"], "StructuredDataDict")

    def insert_detectors(self, ids: range) -> None:
        self.butler.registry.insert_dimension_data(
            "detector", *[{"instrument": "Cam", "id": i, "full_name": f"D{i}"} for i in ids]
        )

    def put_get(self, n: int) -> None:
        for i in range(n):
            self.butler.put({"detector": i, "value": i * 0.5}, "meta", instrument="Cam", detector=i)
        for i in range(n):
            assert self.butler.get("meta", instrument="Cam", detector=i)["detector"] == i

    def register_datasets(self, n: int) -> None:
        self.butler.registry.insert_datasets("meta", [{"instrument": "Cam", "detector": i} for i in range(n)], "run")

    def query(self, lo: int, hi: int) -> int:
        return len(
            self.butler.query_datasets(
                "meta", "run", where=f"instrument = 'Cam' AND detector >= {lo} AND detector < {hi}"
            )
        )

    def ingest(self, paths: list[Path]) -> None:
        from osprey.daf.butler import FileDataset

        self.butler.ingest(
            *[
                FileDataset(p, dataset_type="meta", data_id={"instrument": "Cam", "detector": i})
                for i, p in enumerate(paths)
            ],
            transfer="copy",
        )

    def close(self) -> None:
        self.butler.close()
        if self.db_url:
            _drop_schema(self.db_url, self.schema)


# ---------------------------------------------------------------------------- lsst
class Lsst:
    name = "lsst-daf-butler"

    def __init__(self, root: Path, db_url: str | None = None):
        from lsst.daf.butler import Butler, Config, DatasetType

        self.db_url, self.schema = db_url, f"bench_lsst_{uuid.uuid4().hex[:10]}"
        config = None
        if db_url:
            import sqlalchemy as sa

            # lsst-daf-butler's PostgreSQL backend needs btree_gist (calibration exclusion
            # constraints); creating it needs a privileged role.
            engine = sa.create_engine(db_url)
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            engine.dispose()
            config = Config({"registry": {"db": db_url, "namespace": self.schema}})
        Butler.makeRepo(str(root), config=config)
        self.butler = Butler.from_config(str(root), writeable=True, run="run")
        self.butler.registry.insertDimensionData(
            "instrument",
            {
                "name": "Cam",
                "class_name": "bench.Cam",
                "detector_max": 10**6,
                "visit_max": 10**6,
                "exposure_max": 10**6,
            },
        )
        self.dataset_type = DatasetType(
            "meta", ["instrument", "detector"], "StructuredDataDict", universe=self.butler.dimensions
        )
        self.butler.registry.registerDatasetType(self.dataset_type)

    def insert_detectors(self, ids: range) -> None:
        self.butler.registry.insertDimensionData(
            "detector", *[{"instrument": "Cam", "id": i, "full_name": f"D{i}"} for i in ids]
        )

    def put_get(self, n: int) -> None:
        for i in range(n):
            self.butler.put({"detector": i, "value": i * 0.5}, "meta", instrument="Cam", detector=i)
        for i in range(n):
            assert self.butler.get("meta", instrument="Cam", detector=i)["detector"] == i

    def register_datasets(self, n: int) -> None:
        self.butler.registry.insertDatasets("meta", [{"instrument": "Cam", "detector": i} for i in range(n)], "run")

    def query(self, lo: int, hi: int) -> int:
        refs = self.butler.query_datasets(
            "meta", collections="run", where=f"instrument = 'Cam' AND detector >= {lo} AND detector < {hi}", limit=None
        )
        return len(refs)

    def ingest(self, paths: list[Path]) -> None:
        from lsst.daf.butler import DataCoordinate, DatasetRef, FileDataset

        universe = self.butler.dimensions
        datasets = []
        for i, path in enumerate(paths):
            data_id = DataCoordinate.standardize({"instrument": "Cam", "detector": i}, universe=universe)
            datasets.append(FileDataset(path=str(path), refs=[DatasetRef(self.dataset_type, data_id, run="run")]))
        self.butler.ingest(*datasets, transfer="copy")

    def close(self) -> None:
        self.butler.close()
        if self.db_url:
            _drop_schema(self.db_url, self.schema)


# ---------------------------------------------------------------------------- workloads
def _timed(make: Callable[[Path], Any], setup: Callable[[Any, Path], Any], work: Callable[[Any, Any], Any],
           repeats: int) -> float:  # fmt: skip
    best = math.inf
    for _ in range(repeats):
        tmp = Path(tempfile.mkdtemp(prefix="bench_butler_"))
        try:
            impl = make(tmp / "repo")
            try:
                state = setup(impl, tmp)
                start = time.perf_counter()
                work(impl, state)
                best = min(best, time.perf_counter() - start)
            finally:
                impl.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return best


def _write_files(tmp: Path, n: int) -> list[Path]:
    directory = tmp / "incoming"
    directory.mkdir()
    paths = []
    for i in range(n):
        path = directory / f"meta_{i}.yaml"
        path.write_text(yaml.safe_dump({"detector": i, "value": i * 0.5}))
        paths.append(path)
    return paths


def workloads(sizes: dict[str, int]) -> dict[str, tuple[Callable, Callable]]:
    n_put, n_query, n_rec, n_ingest = (
        sizes["put_get"], sizes["query_datasets"], sizes["insert_records"], sizes["ingest"]
    )  # fmt: skip
    return {
        "put_get": (lambda b, tmp: b.insert_detectors(range(n_put)), lambda b, _: b.put_get(n_put)),
        "query_datasets": (
            # setup ends with a one-row query on both sides, so one-time costs (imports,
            # first compilation) stay out of the timed query
            lambda b, tmp: (b.insert_detectors(range(n_query)), b.register_datasets(n_query), b.query(0, 1)),
            lambda b, _: _check(b.query(n_query // 4, n_query // 4 + n_query // 2), n_query // 2),
        ),
        "insert_records": (lambda b, tmp: None, lambda b, _: b.insert_detectors(range(n_rec))),
        "ingest": (
            lambda b, tmp: (b.insert_detectors(range(n_ingest)), _write_files(tmp, n_ingest))[1],
            lambda b, paths: b.ingest(paths),
        ),
    }


def _check(found: int, expected: int) -> None:
    if found != expected:
        raise AssertionError(f"query returned {found} datasets, expected {expected}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    parser.add_argument("--repeats", type=int, default=None, help="best of this many fresh repositories")
    parser.add_argument("--only", nargs="*", default=None, help="run only these workloads")
    parser.add_argument("--no-peer", action="store_true", help="time only osprey")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("OSPREY_BENCH_POSTGRES_URL"),
        help="also run every workload on this PostgreSQL server (postgresql+psycopg://...)",
    )
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    repeats = args.repeats or 2
    peer_error = None
    if not args.no_peer:
        try:
            import lsst.daf.butler  # noqa: F401
        except Exception as err:  # report why, then time ours alone
            peer_error = f"{type(err).__name__}: {err}"
            print(f"lsst-daf-butler unavailable ({peer_error}); timing osprey only")
    rows = []
    backends = [("", None)] + ([("@postgresql", args.postgres)] if args.postgres else [])
    for name, (setup, work) in workloads(sizes).items():
        if args.only and name not in args.only:
            continue
        for suffix, url in backends:
            ours = _timed(lambda root, url=url: Ours(root, url), setup, work, repeats)
            peer = math.nan
            if not args.no_peer and peer_error is None:
                peer = _timed(lambda root, url=url: Lsst(root, url), setup, work, repeats)
            rows.append(Comparison(name + suffix, ours, "lsst-daf-butler", peer))
    print("sizes: " + ", ".join(f"{k}={sizes[k]}" for k in sizes if not args.only or k in args.only))
    where = "SQLite" + (" and PostgreSQL (@postgresql rows)" if args.postgres else "")
    print(f"best of {repeats} fresh repositories per workload ({where}); single-threaded")
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
