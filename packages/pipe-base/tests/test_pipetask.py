"""``pipetask`` end to end: a three-task pipeline over a repo, -j 2, an injected failure, report, rerun."""

import json

import pytest
from click.testing import CliRunner

from osprey.daf.butler import Butler, CollectionType
from osprey.pipe.base.cli import cli, parse_memory
from osprey.pipe.base.testing import TOY_INPUTS, make_toy_repo, toy_value

VISITS = (100, 101, 102)
DETECTORS = (0, 1, 2, 3)

PIPELINE = """\
description: add, scale, gather
tasks:
  add:
    class: osprey.pipe.base.testing.FlakyAddTask
    config:
      addend: 1.0
      fail_on: [{bad}]
      fail_while_exists: {outage}
  scale:
    class: osprey.pipe.base.testing.ScaleTask
    config:
      factor: 3.0
  gather: osprey.pipe.base.testing.GatherTask
subsets:
  per_detector: [add, scale]
"""


def expected_total(visit):
    return sum(3.0 * (toy_value(visit, d) + 1.0) for d in DETECTORS)


@pytest.fixture
def setup(tmp_path):
    butler = make_toy_repo(tmp_path / "repo", VISITS, DETECTORS)
    butler.close()
    outage = tmp_path / "outage"
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(bad=toy_value(101, 2), outage=outage))
    return tmp_path / "repo", pipeline, outage


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def report_of(repo, graph):
    result = invoke("report", "-b", repo, graph, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    return {row["task"]: {k: v for k, v in row.items() if k != "task" and v} for row in data["tasks"]}, data


def test_build_shows_and_validates(setup, tmp_path):
    _, pipeline, _ = setup
    dot = tmp_path / "p.dot"
    result = invoke("build", "-p", pipeline, "--show", "graph", "-c", "scale:factor=5", "--pipeline-dot", dot)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "scale (osprey.pipe.base.testing.ScaleTask) [instrument, detector, visit]: toy_sum -> toy_scaled" in lines
    assert "gather (osprey.pipe.base.testing.GatherTask) [instrument, visit]: toy_scaled -> toy_visit_total" in lines
    assert "digraph" in (tmp_path / "p.dot").read_text()
    bad = invoke("build", "-p", pipeline, "-c", "scale:no_such_key=1")
    assert bad.exit_code == 1 and "no_such_key" in bad.output
    subset = invoke("build", "-p", f"{pipeline}#per_detector", "--show", "graph")
    assert "gather" not in subset.output and "scale" in subset.output


def test_run_parallel_failure_report_and_resume(setup, tmp_path):
    repo, pipeline, outage = setup
    outage.touch()
    graph1 = tmp_path / "first.qgraph.json.gz"
    result = invoke(
        "run", "-b", repo, "-i", TOY_INPUTS, "-o", "demo", "-p", pipeline, "-j", "2",
        "--save-qgraph", graph1, "--summary", tmp_path / "summary.json", "--progress",
    )
    assert result.exit_code == 1
    assert "FAILED add {'instrument': 'Cam', 'detector': 2, 'visit': 101}" in result.output
    assert "27/27 quanta 100%" in result.output  # the progress bar (stderr is mixed in by CliRunner)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["counts"] == {
        "add": {"succeeded": 11, "failed": 1},
        "scale": {"succeeded": 11, "blocked": 1},
        "gather": {"succeeded": 2, "blocked": 1},
    }
    counts, data = report_of(repo, graph1)
    assert counts == {
        "add": {"quanta": 12, "succeeded": 11, "failed": 1},
        "scale": {"quanta": 12, "succeeded": 11, "blocked": 1},
        "gather": {"quanta": 3, "succeeded": 2, "blocked": 1},
    }
    assert data["failures"][0]["data_id"] == {"instrument": "Cam", "visit": 101, "detector": 2}
    assert "injected outage" in data["failures"][0]["message"]

    with Butler.from_config(repo) as butler:
        assert butler.registry.get_collection_type("demo") is CollectionType.CHAINED
        run, *rest = butler.registry.get_collection_chain("demo")
        assert run.startswith("demo/") and rest == [TOY_INPUTS]

    # The outage is over: extend the run; only the failed quantum and its descendants run.
    outage.unlink()
    graph2 = tmp_path / "second.qgraph.json"
    result = invoke("run", "-b", repo, "-o", "demo", "--extend-run", "-p", pipeline, "-j", "2", "--save-qgraph", graph2)
    assert result.exit_code == 0, result.output
    assert "3 quanta (add=1, scale=1, gather=1)" in result.output
    counts, _ = report_of(repo, graph1)
    assert counts == {"add": {"quanta": 12, "succeeded": 12}, "scale": {"quanta": 12, "succeeded": 12},
                      "gather": {"quanta": 3, "succeeded": 3}}
    with Butler.from_config(repo) as butler:
        refs = butler.query_datasets("toy_visit_total", collections="demo")
        assert {r.data_id["visit"]: butler.get(r)["value"] for r in refs} == {v: expected_total(v) for v in VISITS}

    # Nothing left to do; the same run cannot be written again without skipping.
    again = invoke("run", "-b", repo, "-o", "demo", "--extend-run", "-p", pipeline)
    assert again.exit_code == 0 and "0 quanta" in again.output


def test_serial_run_with_where_and_saved_graph(setup, tmp_path):
    repo, pipeline, _ = setup
    saved = tmp_path / "g.json"
    result = invoke(
        "qgraph", "-b", repo, "-i", TOY_INPUTS, "--output-run", "serial/run", "-p", pipeline, "-d", "visit = 100",
        "--save-qgraph", saved, "--qgraph-dot", tmp_path / "g.dot",
    )
    assert result.exit_code == 0, result.output
    assert "9 quanta (add=4, scale=4, gather=1)" in result.output
    assert invoke("run", "-b", repo, "-g", saved).exit_code == 0
    counts, _ = report_of(repo, saved)
    assert counts["gather"] == {"quanta": 1, "succeeded": 1}
    with Butler.from_config(repo) as butler:
        total = butler.get("toy_visit_total", {"instrument": "Cam", "visit": 100}, collections="serial/run")
        assert total == {"value": expected_total(100), "count": 4}
    clash = invoke("run", "-b", repo, "-i", TOY_INPUTS, "--output-run", "serial/run", "-p", pipeline)
    assert clash.exit_code == 1 and "OutputExistsError" in clash.output and "skip_existing_in" in clash.output


def test_usage_errors():
    assert invoke("run", "-b", "nowhere", "-t", "x.Y").exit_code != 0
    assert parse_memory("4GB") == 4 * 2**30 and parse_memory("500MiB") == 500 * 2**20 and parse_memory("123") == 123
    with pytest.raises(Exception, match="not a memory size"):
        parse_memory("lots")
