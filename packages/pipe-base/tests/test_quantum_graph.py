"""QuantumGraph building and serial execution against a temporary SQLite Butler repo."""

import pytest

from osprey.daf.butler import Butler, DatasetIdGenEnum
from osprey.pipe.base import (
    OutputExistsError,
    PipeBaseError,
    Pipeline,
    QuantumGraph,
    SerialGraphExecutor,
    build_quantum_graph,
)

VISITS = (100, 101, 102)
DETECTORS = (0, 1, 2, 3)
INPUTS = "inputs/run"


def value_of(visit, detector):
    return float(visit * 10 + detector)


@pytest.fixture
def butler(tmp_path):
    Butler.make_repo(tmp_path / "repo")
    b = Butler.from_config(tmp_path / "repo")
    reg = b.registry
    reg.insert_dimension_data("instrument", {"name": "Cam", "detector_max": 4, "visit_max": 1000})
    reg.insert_dimension_data("band", {"name": "r"}, {"name": "g"})
    reg.insert_dimension_data(
        "physical_filter",
        {"instrument": "Cam", "name": "Cam-R", "band": "r"},
        {"instrument": "Cam", "name": "Cam-G", "band": "g"},
    )
    reg.insert_dimension_data("day_obs", {"instrument": "Cam", "id": 20250601})
    reg.insert_dimension_data("detector", *[{"instrument": "Cam", "id": d} for d in DETECTORS])
    for visit in VISITS:
        pf = "Cam-G" if visit == 101 else "Cam-R"
        reg.insert_dimension_data(
            "visit", {"instrument": "Cam", "id": visit, "physical_filter": pf, "day_obs": 20250601}
        )
    b.register_dataset_type("toy_input", ["instrument", "visit", "detector"], "StructuredDataDict")
    for visit in VISITS:
        for detector in DETECTORS:
            if (visit, detector) == (102, 3):
                continue  # one missing input: no quantum there
            b.put(
                {"value": value_of(visit, detector)},
                "toy_input",
                instrument="Cam",
                visit=visit,
                detector=detector,
                run=INPUTS,
            )
    yield b
    b.close()


def make_pipeline(add_class="osprey.pipe.base.testing.AddTask", fail_on=()):
    pipeline = Pipeline("toy")
    config = {"addend": 1.0}
    if fail_on:
        config["fail_on"] = list(fail_on)
    pipeline.add_task(add_class, "add", config)
    pipeline.add_task("osprey.pipe.base.testing.ScaleTask", "scale", {"factor": 3.0})
    return pipeline


def expected_ids(where_visits, band=None):
    out = []
    for visit in where_visits:
        if band == "r" and visit == 101:
            continue
        for detector in DETECTORS:
            if (visit, detector) != (102, 3):
                out.append((visit, detector))
    return out


def data_ids(graph, label):
    return sorted((q.data_id["visit"], q.data_id["detector"]) for q in graph.quanta[label])


def test_build_matches_truth(butler):
    graph = build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", where="band = 'r' AND detector < 3")
    truth = [(v, d) for v in (100, 102) for d in (0, 1, 2)]
    assert graph.summary() == {"add": 6, "scale": 6}
    assert data_ids(graph, "add") == truth and data_ids(graph, "scale") == truth
    quantum = graph.quanta["scale"][0]
    upstream = graph.upstream(quantum)
    assert [u.task_label for u in upstream] == ["add"]
    assert quantum.inputs["input_value"][0] == upstream[0].outputs["output_value"][0]
    add0 = graph.quanta["add"][0]
    assert add0.inputs["input_value"][0].run == INPUTS
    assert len(graph) == 12 and not graph.empty_reasons
    dot = graph.to_dot()
    assert dot.startswith("digraph quantum_graph") and dot.count("shape=box") == 12


def test_output_ids_are_those_put_makes(butler):
    graph = build_quantum_graph(make_pipeline(), butler, INPUTS, "out/run1", where="visit = 100 AND detector = 0")
    ref = graph.quanta["add"][0].outputs["output_value"][0]
    butler.register_dataset_type("toy_sum", ["instrument", "visit", "detector"], "StructuredDataDict")
    put_ref = butler.put(
        {"value": 0.0},
        "toy_sum",
        ref.data_id.required,
        run="out/run1",
        id_generation=DatasetIdGenEnum.DATAID_TYPE_RUN,
    )
    assert put_ref.id == ref.id
    again = build_quantum_graph(make_pipeline(), butler, INPUTS, "out/run2", where="visit = 100 AND detector = 0")
    assert again.quanta["add"][0].outputs["output_value"][0].id != ref.id  # the run is part of the ID


def test_empty_graph_explains_itself(butler):
    graph = build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", where="visit = 999")
    assert len(graph) == 0
    assert any("visit = 999" in r for r in graph.empty_reasons)
    graph = build_quantum_graph(make_pipeline(), butler, ["nowhere"], "out/run1")
    assert len(graph) == 0 and any("toy_input" in r and "nowhere" in r for r in graph.empty_reasons)
    pipeline = Pipeline("renamed")
    pipeline.add_task("osprey.pipe.base.testing.AddTask", "add", {"connections": {"prefix": "other"}})
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/run1")
    assert graph.empty_reasons == ["overall input 'other_input' (read by ['add']) is not a registered dataset type"]


def test_save_load_round_trip(butler, tmp_path):
    graph = build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", where="detector IN (1, 2)")
    for name in ("g.json", "g.json.gz"):
        path = graph.save(tmp_path / name)
        loaded = QuantumGraph.load(path)
        assert loaded == graph
        assert loaded.summary() == graph.summary()
        assert [q.id for q in loaded] == [q.id for q in graph]
        scale = loaded.quanta["scale"][0]
        assert loaded.upstream(scale)[0].id == graph.upstream(graph.quanta["scale"][0])[0].id
    assert (tmp_path / "g.json.gz").stat().st_size < (tmp_path / "g.json").stat().st_size


def test_execute_provenance_and_skip_existing(butler):
    graph = build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", where="band = 'r'")
    truth = expected_ids((100, 101, 102), band="r")
    assert data_ids(graph, "scale") == truth
    report = SerialGraphExecutor(butler).run(graph)
    assert report.ok and len(report.succeeded) == 2 * len(truth)
    assert report.counts() == {"add": {"succeeded": len(truth)}, "scale": {"succeeded": len(truth)}}
    for visit, detector in truth:
        data_id = {"instrument": "Cam", "visit": visit, "detector": detector}
        assert butler.get("toy_sum", data_id, collections="out/run1") == {"value": value_of(visit, detector) + 1}
        assert butler.get("toy_scaled", data_id, collections="out/run1") == {
            "value": 3 * (value_of(visit, detector) + 1)
        }
        metadata = butler.get("scale_metadata", data_id, collections="out/run1")
        assert metadata["quantum"]["status"] == "succeeded"
        assert metadata["scale"]["timing"]["run"]["calls"] == 1
        assert isinstance(butler.get("add_log", data_id, collections="out/run1"), list)
    config = butler.get("scale_config", {}, collections="out/run1")
    assert config["factor"] == 3.0
    again = build_quantum_graph(
        make_pipeline(), butler, [INPUTS], "out/run1", where="band = 'r'", skip_existing_in=["out/run1"]
    )
    assert len(again) == 0 and again.skipped == {"add": len(truth), "scale": len(truth)}
    assert "already done" in again.empty_reasons[0]
    with pytest.raises(OutputExistsError, match="already exist in run 'out/run1'.*skip_existing_in"):
        build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", where="band = 'r'")
    # A wider where clause into the same run only plans the new data IDs (visit 101).
    more = build_quantum_graph(make_pipeline(), butler, [INPUTS], "out/run1", skip_existing_in="out/run1")
    assert data_ids(more, "add") == [(101, d) for d in DETECTORS]
    assert SerialGraphExecutor(butler).run(more).ok


def test_failure_blocks_only_descendants_and_rerun_resumes(butler):
    bad = value_of(100, 2)
    pipeline = make_pipeline("osprey.pipe.base.testing.FlakyAddTask", fail_on=[bad])
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/flaky", where="visit = 100")
    report = SerialGraphExecutor(butler).run(graph)
    assert [(r.task_label, r.data_id["detector"]) for r in report.failed] == [("add", 2)]
    assert report.failed[0].signature == f"builtins.RuntimeError: injected failure for value {bad}"
    assert "Traceback" in report.failed[0].traceback
    assert [(r.task_label, r.data_id["detector"]) for r in report.blocked] == [("scale", 2)]
    assert len(report.succeeded) == 6 and not report.ok
    failed_id = {"instrument": "Cam", "visit": 100, "detector": 2}
    for name in ("toy_sum", "add_metadata", "toy_scaled", "scale_log"):
        assert not butler.exists(name, failed_id, collections="out/flaky")
    failed_log = butler.get("add_log", failed_id, collections="out/flaky")
    assert failed_log[-1]["level"] == "ERROR" and "injected failure" in failed_log[-1]["message"]
    assert butler.exists("toy_scaled", failed_id | {"detector": 1}, collections="out/flaky")
    log = butler.get("add_log", failed_id | {"detector": 1}, collections="out/flaky")
    assert any("adding 1.0 to 1001.0" in r["message"] for r in log)

    # Fail-fast stops everything after the first failure.
    graph2 = build_quantum_graph(pipeline, butler, [INPUTS], "out/flaky2", where="visit = 100")
    fast = SerialGraphExecutor(butler, fail_fast=True).run(graph2)
    assert len(fast.failed) == 1 and len(fast.blocked) == len(graph2) - len(fast.succeeded) - 1

    # Rerun: only the failed quantum and its descendant are planned.
    graph3 = build_quantum_graph(
        pipeline, butler, [INPUTS], "out/flaky", where="visit = 100", skip_existing_in="out/flaky"
    )
    assert graph3.summary() == {"add": 1, "scale": 1} and graph3.skipped == {"add": 3, "scale": 3}
    assert data_ids(graph3, "scale") == [(100, 2)]
    # A changed config cannot be run into the same run.
    fixed = build_quantum_graph(
        make_pipeline("osprey.pipe.base.testing.FlakyAddTask"),
        butler,
        [INPUTS],
        "out/flaky",
        where="visit = 100",
        skip_existing_in="out/flaky",
    )
    with pytest.raises(PipeBaseError, match="different config"):
        SerialGraphExecutor(butler).run(fixed)


def test_partial_outputs_are_kept_annotated_and_clobbered_on_rerun(butler):
    pipeline = make_pipeline()
    pipeline.add_config_override("scale", "factor", 0.0)
    graph = build_quantum_graph(pipeline, butler, [INPUTS], "out/zero", where="visit = 100 AND detector = 0")
    report = SerialGraphExecutor(butler).run(graph)
    assert [r.task_label for r in report.succeeded] == ["add"]
    (failed,) = report.failed
    assert failed.signature == (
        "osprey.pipe.base.errors.AlgorithmError: factor is zero: the scaled value carries no information"
    )
    assert failed.partial_outputs == ["output_value"]
    data_id = {"instrument": "Cam", "visit": 100, "detector": 0}
    partial = butler.get("toy_scaled", data_id, collections="out/zero")
    assert partial["value"] == 0.0 and partial["failure"]["metadata"] == {"factor": 0.0}
    assert not butler.exists("scale_metadata", data_id, collections="out/zero")
    assert butler.exists("scale_log", data_id, collections="out/zero")

    # Resuming must not silently keep the partial output: it is an error unless clobbered.
    with pytest.raises(OutputExistsError, match="toy_scaled"):
        build_quantum_graph(pipeline, butler, [INPUTS], "out/zero", where="visit = 100", skip_existing_in="out/zero")
    again = build_quantum_graph(
        pipeline, butler, [INPUTS], "out/zero", where="visit = 100 AND detector = 0",
        skip_existing_in="out/zero", clobber_outputs=True,
    )
    assert again.summary() == {"add": 0, "scale": 1}
    rerun = SerialGraphExecutor(butler, clobber_outputs=True).run(again)
    assert len(rerun.failed) == 1 and rerun.failed[0].partial_outputs == ["output_value"]
    assert len(butler.query_datasets("toy_scaled", collections="out/zero")) == 1
