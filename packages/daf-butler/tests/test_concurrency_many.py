"""Eight processes putting and ingesting into one repository at once (SQLite and PostgreSQL).

Each worker, started together behind a barrier:

* registers the same RUN and the same dataset type (races on registration);
* puts ``PER_PROC`` datasets into the shared run and ingests ``PER_PROC`` files into it;
* puts ``PER_PROC`` datasets into a run of its own;
* tries to put one contested data ID (exactly one worker may win) and to ingest one file
  with a deterministic dataset ID that every worker computes identically.

Afterwards every output must be registered exactly once, with the content its writer
wrote, one file per dataset and no temporary file left.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from osprey.daf.butler import Butler, ConflictingDefinitionError, DatasetIdGenEnum, FileDataset

N_PROC = 8
PER_PROC = 3


def _worker(root: str, scratch: str, worker: int, barrier, queue) -> None:
    try:
        butler = Butler.from_config(root)
        barrier.wait(timeout=60)
        butler.registry.register_run("shared")
        butler.register_dataset_type("late_meta", ["visit", "detector"], "StructuredDataDict")
        for i in range(PER_PROC):
            detector = worker * PER_PROC + i
            butler.put({"worker": worker, "i": i}, "calexp_meta", instrument="Cam", visit=100, detector=detector,
                       run="shared")  # fmt: skip
            butler.put({"own": worker, "i": i}, "late_meta", instrument="Cam", visit=102, detector=i,
                       run=f"own/{worker}")  # fmt: skip
        files = []
        for i in range(PER_PROC):
            path = Path(scratch) / f"w{worker}_{i}.yaml"
            path.write_text(f"worker: {worker}\ni: {i}\ningested: true\n")
            data_id = {"instrument": "Cam", "visit": 101, "detector": worker * PER_PROC + i}
            files.append(FileDataset(path, dataset_type="calexp_meta", data_id=data_id))
        butler.ingest(*files, transfer="copy", run="shared")
        outcomes = []
        try:
            butler.put({"winner": worker}, "calexp_meta", instrument="Cam", visit=102, detector=0, run="contested")
            outcomes.append("put-won")
        except ConflictingDefinitionError:
            outcomes.append("put-lost")
        same = Path(scratch) / f"same_{worker}.yaml"
        same.write_text(f"by: {worker}\n")
        try:
            butler.ingest(
                FileDataset(same, dataset_type="calexp_meta",
                            data_id={"instrument": "Cam", "visit": 102, "detector": 1}),
                transfer="copy", run="deterministic", id_generation=DatasetIdGenEnum.DATAID_TYPE_RUN,
            )  # fmt: skip
            outcomes.append("ingest-won")
        except ConflictingDefinitionError:
            outcomes.append("ingest-lost")
        butler.close()
        queue.put(("ok", worker, outcomes))
    except BaseException as err:  # report, so the parent fails with the cause
        queue.put(("error", worker, f"{type(err).__name__}: {err}"))


def _populate(butler: Butler) -> None:
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": "Cam"})
    reg.insert_dimension_data("band", {"name": "r"})
    reg.insert_dimension_data("physical_filter", {"instrument": "Cam", "name": "Cam-R", "band": "r"})
    reg.insert_dimension_data("detector", *[{"instrument": "Cam", "id": d} for d in range(N_PROC * PER_PROC)])
    reg.insert_dimension_data(
        "visit", *[{"instrument": "Cam", "id": v, "physical_filter": "Cam-R"} for v in (100, 101, 102)]
    )
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")


def test_eight_processes_put_and_ingest(make_butler, tmp_path):
    butler = make_butler()
    _populate(butler)
    root = str(butler.root)
    butler.close()  # no pooled connections may cross the fork
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ctx = multiprocessing.get_context("fork")
    queue, barrier = ctx.Queue(), ctx.Barrier(N_PROC)
    procs = [ctx.Process(target=_worker, args=(root, str(scratch), w, barrier, queue)) for w in range(N_PROC)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert not [r for r in results if r[0] == "error"], results
    outcomes = [o for _, _, got in results for o in got]
    assert outcomes.count("put-won") == 1 and outcomes.count("put-lost") == N_PROC - 1
    assert outcomes.count("ingest-won") == 1 and outcomes.count("ingest-lost") == N_PROC - 1

    check = Butler.from_config(root)
    try:
        reg = check.registry
        assert reg.query_collections("own/*") == [f"own/{w}" for w in range(N_PROC)]
        assert reg.query_collections("shared") == ["shared"]
        shared = reg.query_datasets("calexp_meta", "shared", find_first=False)
        expected = sorted((v, d) for v in (100, 101) for d in range(N_PROC * PER_PROC))
        assert sorted((r.data_id["visit"], r.data_id["detector"]) for r in shared) == expected  # each exactly once
        for ref in shared:
            content = check.get(ref)
            assert content["worker"] * PER_PROC + content["i"] == ref.data_id["detector"]
            assert content.get("ingested", False) is (ref.data_id["visit"] == 101)
        for w in range(N_PROC):
            own = reg.query_datasets("late_meta", f"own/{w}")
            assert [check.get(r) for r in own] == [{"own": w, "i": i} for i in range(PER_PROC)]
        [winner] = reg.query_datasets("calexp_meta", "contested")
        won = next(w for _, w, got in results if "put-won" in got)
        assert check.get(winner) == {"winner": won}
        [det] = reg.query_datasets("calexp_meta", "deterministic")
        ingest_won = next(w for _, w, got in results if "ingest-won" in got)
        assert check.get(det) == {"by": ingest_won}
        n_datasets = len(shared) + N_PROC * PER_PROC + 2
        all_ids = {r.id for c in ("shared", "contested", "deterministic") for r in reg.query_datasets("calexp_meta", c)}
        assert len(all_ids) == len(shared) + 2
        files = [p for p in Path(root).rglob("*.yaml") if p.name != "butler.yaml"]
        assert len(files) == n_datasets  # the losers' temporary files were removed
        assert not list(Path(root).rglob("*.tmp"))
    finally:
        check.close()
