"""Executors on a three-task pipeline: serial vs multi-process, failures, timeouts, memory limits."""

import pytest

from osprey.pipe.base import (
    MultiprocessGraphExecutor,
    Pipeline,
    SerialGraphExecutor,
    build_quantum_graph,
    package_versions,
)
from osprey.pipe.base.testing import TOY_INPUTS, make_toy_repo, toy_value

VISITS = (100, 101, 102)
DETECTORS = (0, 1, 2, 3)
INPUTS = TOY_INPUTS
value_of = toy_value


@pytest.fixture
def butler(tmp_path):
    b = make_toy_repo(tmp_path / "repo", VISITS, DETECTORS)
    yield b
    b.close()


def three_task_pipeline(**flaky):
    pipeline = Pipeline("three tasks")
    pipeline.add_task("osprey.pipe.base.testing.FlakyAddTask", "add", {"addend": 1.0, **flaky})
    pipeline.add_task("osprey.pipe.base.testing.ScaleTask", "scale", {"factor": 3.0})
    pipeline.add_task("osprey.pipe.base.testing.GatherTask", "gather", {})
    return pipeline


def totals(butler, run):
    refs = butler.query_datasets("toy_visit_total", collections=run)
    return {ref.data_id["visit"]: butler.get(ref)["value"] for ref in refs}


def expected_total(visit):
    return sum(3.0 * (value_of(visit, d) + 1.0) for d in DETECTORS)


def test_multiprocess_matches_serial_and_records_provenance(butler):
    pipeline = three_task_pipeline()
    serial = SerialGraphExecutor(butler).run(build_quantum_graph(pipeline, butler, [INPUTS], "out/serial"))
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/mp")
    assert graph.summary() == {"add": 12, "scale": 12, "gather": 3}
    seen = []
    parallel = MultiprocessGraphExecutor(butler, 2, progress=seen.append).run(graph)
    assert serial.ok and parallel.ok and len(parallel.succeeded) == 27 == len(seen)
    truth = {visit: expected_total(visit) for visit in VISITS}
    assert totals(butler, "out/serial") == truth == totals(butler, "out/mp")
    # Each quantum's metadata carries its resource usage; the run carries package versions.
    md = butler.get("scale_metadata", {"instrument": "Cam", "visit": 100, "detector": 1}, collections="out/mp")
    quantum = md["quantum"]
    assert quantum["status"] == "succeeded" and quantum["cpu_s"] >= 0 and quantum["max_rss_mib"] > 10
    assert quantum["start_utc"] <= quantum["end_utc"]
    assert butler.get("packages", {}, collections="out/mp") == package_versions()
    assert "osprey-pipe-base" in package_versions()


def test_failure_blocks_descendants_only_in_parallel_and_rerun_completes(butler, tmp_path):
    bad = value_of(101, 2)
    outage = tmp_path / "outage"
    pipeline = three_task_pipeline(fail_on=[bad])
    report = MultiprocessGraphExecutor(butler, 2).run(build_quantum_graph(pipeline, butler, [INPUTS], "out/f"))
    assert [(r.task_label, r.data_id["visit"], r.data_id["detector"]) for r in report.failed] == [("add", 101, 2)]
    assert sorted((r.task_label, r.data_id["visit"]) for r in report.blocked) == [("gather", 101), ("scale", 101)]
    assert report.counts() == {
        "add": {"succeeded": 11, "failed": 1},
        "scale": {"succeeded": 11, "blocked": 1},
        "gather": {"succeeded": 2, "blocked": 1},
    }
    assert totals(butler, "out/f") == {100: expected_total(100), 102: expected_total(102)}

    # A transient outage: everything fails while the file exists, then a rerun completes the rest.
    outage.touch()
    flaky = three_task_pipeline(fail_on=[value_of(100, d) for d in DETECTORS], fail_while_exists=str(outage))
    first = MultiprocessGraphExecutor(butler, 2).run(
        build_quantum_graph(flaky, butler, [INPUTS], "out/outage", where="visit = 100")
    )
    assert len(first.failed) == 4 and len(first.blocked) == 5 and not first.succeeded
    outage.unlink()
    graph = build_quantum_graph(
        flaky, butler, [INPUTS], "out/outage", where="visit = 100", skip_existing_in="out/outage"
    )
    assert graph.summary() == {"add": 4, "scale": 4, "gather": 1}
    assert MultiprocessGraphExecutor(butler, 2).run(graph).ok
    assert totals(butler, "out/outage") == {100: expected_total(100)}


def test_timeout_and_memory_limit_kill_only_their_quantum(butler):
    slow, hog = value_of(100, 1), value_of(100, 3)
    pipeline = three_task_pipeline(slow_on=[slow], sleep_s=60.0, hog_on=[hog], hog_mib=400)
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/limits", where="visit = 100")
    report = MultiprocessGraphExecutor(butler, 2, timeout_s=3.0, memory_limit_bytes=300 * 2**20).run(graph)
    failed = {r.data_id["detector"]: r for r in report.failed}
    assert sorted(failed) == [1, 3]
    assert failed[1].exception_type.endswith("QuantumKilledError") and "timed out after 3 s" in failed[1].message
    assert "over the memory limit of 300 MiB" in failed[3].message
    assert failed[1].wall_s < 20
    assert len(report.succeeded) == 4 and len(report.blocked) == 3  # scale x2, gather
    log = butler.get("add_log", {"instrument": "Cam", "visit": 100, "detector": 1}, collections="out/limits")
    assert "timed out" in log[-1]["message"]


def test_fail_fast_stops_scheduling(butler):
    pipeline = three_task_pipeline(fail_on=[value_of(100, 0)])
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/ff")
    report = MultiprocessGraphExecutor(butler, 1, fail_fast=True).run(graph)
    assert len(report.failed) == 1 and len(report.quanta) == len(graph)
    assert len(report.succeeded) + len(report.blocked) + 1 == len(graph)
    assert len(report.succeeded) == 0  # the failing quantum is the first one handed out


def test_in_memory_datastores_are_refused_for_worker_processes(tmp_path):
    from osprey.daf.butler import Butler
    from osprey.pipe.base import PipeBaseError

    chained = {"cls": "chained", "children": [{"cls": "file", "root": "files"}, {"cls": "inmemory"}]}
    for n, datastore in enumerate(({"cls": "inmemory"}, chained)):
        Butler.make_repo(tmp_path / f"r{n}", config={"datastore": datastore})
        with Butler.from_config(tmp_path / f"r{n}") as butler, pytest.raises(PipeBaseError, match="in-memory"):
            MultiprocessGraphExecutor(butler, 2)
