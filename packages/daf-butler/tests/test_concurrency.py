"""Several processes writing to one SQLite repository: nothing lost, nothing duplicated."""

from __future__ import annotations

import multiprocessing

from osprey.daf.butler import Butler, ConflictingDefinitionError

N_PROC = 4
PER_PROC = 10


def _worker(root: str, worker: int, queue) -> None:
    try:
        butler = Butler.from_config(root, run="shared")
        for i in range(PER_PROC):
            detector = worker * PER_PROC + i
            butler.put({"worker": worker, "i": i}, "calexp_meta", instrument="Cam", visit=100, detector=detector)
        try:
            butler.put({"winner": worker}, "calexp_meta", instrument="Cam", visit=101, detector=0, run="contested")
            queue.put(("won", worker))
        except ConflictingDefinitionError:
            queue.put(("lost", worker))
        butler.close()
    except BaseException as err:  # report, so the parent fails with the cause
        queue.put(("error", f"{type(err).__name__}: {err}"))


def _populate(butler):
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": "Cam"})
    reg.insert_dimension_data("band", {"name": "r"})
    reg.insert_dimension_data("physical_filter", {"instrument": "Cam", "name": "Cam-R", "band": "r"})
    reg.insert_dimension_data("detector", *[{"instrument": "Cam", "id": d} for d in range(N_PROC * PER_PROC)])
    reg.insert_dimension_data(
        "visit", *[{"instrument": "Cam", "id": v, "physical_filter": "Cam-R"} for v in (100, 101)]
    )
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")


def test_concurrent_puts_from_processes(make_butler):
    butler = make_butler()
    _populate(butler)
    root = str(butler.root)
    butler.close()  # no pooled connections may cross the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(root, w, queue)) for w in range(N_PROC)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=120)
    assert not [r for r in results if r[0] == "error"], results
    assert sorted(r[0] for r in results) == ["lost"] * (N_PROC - 1) + ["won"]

    check = Butler.from_config(root)
    try:
        refs = check.registry.query_datasets("calexp_meta", "shared", find_first=False)
        assert sorted(r.data_id["detector"] for r in refs) == list(range(N_PROC * PER_PROC))
        assert len({r.id for r in refs}) == len(refs)
        for ref in refs:
            content = check.get(ref)
            assert content["worker"] * PER_PROC + content["i"] == ref.data_id["detector"]
        [winner] = check.registry.query_datasets("calexp_meta", "contested")
        won = next(w for kind, w in results if kind == "won")
        assert check.get(winner) == {"winner": won}
        files = [p for p in check.root.rglob("*.yaml") if p.name != "butler.yaml"]
        assert len(files) == N_PROC * PER_PROC + 1  # the losers' temporary files were removed
        assert not [p for p in check.root.rglob("*.tmp")]
    finally:
        check.close()
