"""The butler CLI: round trips through click's CliRunner with JSON output parsed back."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from osprey.daf.butler import Butler
from osprey.daf.butler.cli import cli, format_table


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, code=0):
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


def test_round_trip(runner, tmp_path, populate_repo):
    repo = tmp_path / "repo"
    assert "Created repository" in run(runner, "create", repo)
    out = run(runner, "register-dataset-type", repo, "calexp_meta", "StructuredDataDict", "visit", "detector")
    assert "Registered" in out
    butler = Butler.from_config(repo, run="u/me/run1")
    populate_repo(butler)
    for v in (100, 101, 102):
        for d in range(4):
            butler.put({"v": v}, "calexp_meta", instrument="Cam", visit=v, detector=d)
    butler.close()
    rows = json.loads(
        run(runner, "query-datasets", repo, "calexp_meta", "--collections", "u/me/*", "--where",
            "band = 'r' AND detector IN (1..3:2)", "--order-by", "-visit", "--format", "json")
    )  # fmt: skip
    assert [(r["visit"], r["detector"]) for r in rows] == [(102, 1), (102, 3), (100, 1), (100, 3)]
    assert all(r["run"] == "u/me/run1" and r["band"] == "r" and r["type"] == "calexp_meta" for r in rows)
    ids = json.loads(run(runner, "query-data-ids", repo, "visit", "--where", "visit > :v", "--bind", "v=100",
                         "--format", "json"))  # fmt: skip
    assert [i["visit"] for i in ids] == [101, 102]
    recs = json.loads(run(runner, "query-dimension-records", repo, "detector", "--limit", "2", "--format", "json"))
    assert [(r["id"], r["full_name"]) for r in recs] == [(0, "S0"), (1, "S1")]
    table = run(runner, "query-dataset-types", repo)
    assert table.splitlines()[0].split() == ["name", "dimensions", "storage_class", "is_calibration"]
    assert "calexp_meta" in table
    run(runner, "collection-chain", repo, "u/me/chain", "u/me/run1")
    colls = json.loads(run(runner, "query-collections", repo, "--format", "json"))
    assert {c["name"]: (c["type"], c["children"]) for c in colls} == {
        "u/me/chain": ("CHAINED", ["u/me/run1"]),
        "u/me/run1": ("RUN", []),
    }
    out = run(runner, "query-datasets", repo, "calexp_meta", "--collections", "u/me/chain", "--where", "visit = 7")
    assert "No datasets found." in out and "'visit = 7' (column 1) matches no visit records" in out
    out = run(runner, "remove-collections", repo, "u/me/chain", "--no-confirm")
    assert "Removed 1" in out
    out = run(runner, "remove-runs", repo, "u/me/*", "--no-confirm")
    assert "Removed 1 run" in out
    assert json.loads(run(runner, "query-collections", repo, "--format", "json")) == []


def test_certify_and_config_dump(runner, tmp_path, populate_repo):
    repo = tmp_path / "repo"
    run(runner, "create", repo)
    run(
        runner,
        "register-dataset-type",
        repo,
        "bias",
        "StructuredDataDict",
        "instrument",
        "detector",
        "--is-calibration",
    )
    butler = Butler.from_config(repo, run="calib/run")
    populate_repo(butler)
    for d in range(2):
        butler.put({"d": d}, "bias", instrument="Cam", detector=d)
    butler.close()
    out = run(
        runner, "certify-calibrations", repo, "calib/run", "Cam/calib", "bias", "--begin-date", "2020-01-01T00:00"
    )
    assert "Certified 2 bias" in out
    rows = json.loads(
        run(runner, "query-datasets", repo, "bias", "--collections", "Cam/calib", "--where", "exposure = 100",
            "--format", "json")
    )  # fmt: skip
    assert sorted(r["detector"] for r in rows) == [0, 1]
    dump = run(runner, "config-dump", repo, "--subset", "registry")
    assert dump.startswith("registry:")


def test_errors_are_one_line(runner, tmp_path):
    repo = tmp_path / "repo"
    run(runner, "create", repo)
    result = runner.invoke(cli, ["query-data-ids", str(repo), "visit", "--where", "vist = 1"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: InvalidQueryError: unknown dimension 'vist' at column 1")
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["query-datasets", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no Butler repository" in result.output
    result = runner.invoke(cli, ["--debug", "query-data-ids", str(repo), "visit", "--where", "vist = 1"])
    assert (
        result.exit_code == 1
        and result.exception is not None
        and type(result.exception).__name__ == "InvalidQueryError"
    )
    result = runner.invoke(cli, ["create", str(repo)])
    assert result.exit_code == 1 and "already exists" in result.output


def test_plugins_and_table_format(runner, monkeypatch):
    import click

    import osprey.daf.butler.cli._cli as module

    @click.command()
    def hello():
        click.echo("hello from a plugin")

    class FakeEntryPoint:
        name = "hello"
        value = "fake:hello"

        def load(self):
            return hello

    monkeypatch.setattr(
        module, "entry_points", lambda group: [FakeEntryPoint()] if group == module.ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(cli, "_plugins_loaded", False)
    try:
        assert "hello from a plugin" in run(runner, "hello")
    finally:
        cli.commands.pop("hello", None)
    text = format_table([{"a": 1, "bb": "x"}, {"a": 100, "bb": None}])
    assert text.splitlines() == ["a   bb", "--- --", "1   x", "100"]
