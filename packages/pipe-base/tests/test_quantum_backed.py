"""Quantum-backed execution: batch jobs without the registry, then aggregation."""

import pytest

from osprey.daf.butler import Butler
from osprey.pipe.base import (
    Pipeline,
    QuantumGraph,
    aggregate_graph,
    build_quantum_graph,
    run_quantum_backed,
)
from osprey.pipe.base.cli import quantum_statuses
from osprey.pipe.base.testing import TOY_INPUTS, make_toy_repo, toy_value

VISITS = (100, 101)
DETECTORS = (0, 1, 2)


@pytest.fixture
def repo(tmp_path):
    make_toy_repo(tmp_path / "repo", VISITS, DETECTORS).close()
    return tmp_path / "repo"


def pipeline(outage):
    p = Pipeline("qbb")
    p.add_task(
        "osprey.pipe.base.testing.FlakyAddTask",
        "add",
        {"addend": 1.0, "fail_on": [toy_value(101, 2)], "fail_while_exists": str(outage)},
    )
    p.add_task("osprey.pipe.base.testing.ScaleTask", "scale", {"factor": 3.0})
    p.add_task("osprey.pipe.base.testing.GatherTask", "gather", {})
    return p


def expected_total(visit):
    return sum(3.0 * (toy_value(visit, d) + 1.0) for d in DETECTORS)


@pytest.fixture
def no_registry(repo):
    """Hide the registry database while batch jobs run: any registry access would fail."""
    db = next(repo.glob("*.sqlite3"))
    hidden = db.with_name("hidden")

    class Hide:
        def __enter__(self):
            db.rename(hidden)

        def __exit__(self, *exc):
            hidden.rename(db)

    return Hide()


def test_batch_jobs_then_aggregate_then_resume(repo, tmp_path, no_registry):
    outage = tmp_path / "outage"
    outage.touch()
    with Butler.from_config(repo) as butler:
        graph = build_quantum_graph(pipeline(outage), butler, [TOY_INPUTS], "out/qbb", datastore_records=True)
    assert len(graph.input_records) == len(VISITS) * len(DETECTORS)
    saved = QuantumGraph.load(graph.save(tmp_path / "g.json.gz"))
    assert saved.input_records == graph.input_records

    with no_registry:
        # Two batch jobs: one per task stage; the second finds the first's outputs on disk.
        first = run_quantum_backed(repo, saved, [q.id for q in saved.quanta["add"]])
        second = run_quantum_backed(repo, saved, [q.id for q in saved if q.task_label != "add"])
    assert first.counts() == {"add": {"succeeded": 5, "failed": 1}}
    assert second.counts() == {"scale": {"succeeded": 5, "blocked": 1}, "gather": {"succeeded": 1, "blocked": 1}}

    with Butler.from_config(repo) as butler:
        assert not butler.registry.existing_dataset_ids(q.metadata_ref.id for q in graph)  # nothing registered yet
        counts = aggregate_graph(butler, graph)
        assert counts["failed_quanta"] == 1 and counts["datasets"] > 0
        statuses = quantum_statuses(butler, graph)
        failed = [q for q in graph if statuses[q.id][0] == "failed"]
        assert [(q.task_label, dict(q.data_id.required)) for q in failed][0] == (
            "add",
            {"instrument": "Cam", "detector": 2, "visit": 101},
        )
        total = butler.get("toy_visit_total", {"instrument": "Cam", "visit": 100}, collections="out/qbb")
        assert total == {"value": expected_total(100), "count": 3}
        assert butler.get("add_config", {}, collections="out/qbb")["addend"] == 1.0
        assert aggregate_graph(butler, graph)["datasets"] == 0  # idempotent: manifests are consumed

        # Resume: plan what is left, run it quantum-backed, aggregate.
        outage.unlink()
        rest = build_quantum_graph(
            pipeline(outage), butler, [TOY_INPUTS], "out/qbb", skip_existing_in="out/qbb", datastore_records=True
        )
    assert {label: n for label, n in rest.summary().items() if n} == {"add": 1, "scale": 1, "gather": 1}
    with no_registry:
        assert run_quantum_backed(repo, rest).ok
    with Butler.from_config(repo) as butler:
        aggregate_graph(butler, rest)
        statuses = quantum_statuses(butler, graph)
        assert {s for s, _ in statuses.values()} == {"succeeded"}
        refs = butler.query_datasets("toy_visit_total", collections="out/qbb")
        assert {r.data_id["visit"]: butler.get(r)["value"] for r in refs} == {v: expected_total(v) for v in VISITS}
        log = butler.get("add_log", {"instrument": "Cam", "visit": 101, "detector": 2}, collections="out/qbb")
        assert not any(r["level"] == "ERROR" for r in log)  # the failed attempt's log was replaced
