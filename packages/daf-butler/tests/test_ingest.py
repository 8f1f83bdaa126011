"""Butler.ingest: transfer modes, formatter choice, atomicity, and the ingest-files command."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import yaml
from click.testing import CliRunner

from osprey.daf.butler import (
    ConflictingDefinitionError,
    DataCoordinate,
    DatasetRef,
    DatastoreError,
    FileDataset,
)
from osprey.daf.butler.cli import cli


def _yaml_files(directory, n, start=0):
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(start, start + n):
        path = directory / f"meta_{d}.yaml"
        path.write_text(yaml.safe_dump({"detector": d}))
        paths.append(path)
    return paths


def _datastore_files(butler):
    root = butler.datastore.root
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.suffix in (".yaml", ".json", ".tmp") and p.name != "butler.yaml"
    )


TRANSFERS = ["copy", "move", "link", "symlink", "relsymlink", "hardlink", "direct"]


def test_transfer_modes(butler, tmp_path):
    for transfer in TRANSFERS:  # one repository for all modes: each in its own run
        run = f"run_{transfer}"
        paths = _yaml_files(tmp_path / transfer, 2)
        refs = butler.ingest(
            *[FileDataset(p, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100, "detector": d})
              for d, p in enumerate(paths)],
            transfer=transfer,
            run=run,
        )  # fmt: skip
        assert [r.data_id["detector"] for r in refs] == [0, 1]
        assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=1, collections=run) == {"detector": 1}
        uri = butler.get_uri(refs[0])
        if transfer == "direct":
            assert uri == paths[0]
        else:
            assert butler.datastore.is_inside(uri) and uri.suffix == ".yaml"
        assert all(p.exists() for p in paths) == (transfer != "move"), transfer
        assert uri.is_symlink() == (transfer in ("symlink", "relsymlink"))
        butler.remove_runs([run])
        # direct files (and, for links, the originals) belong to the user and survive removal
        if transfer != "move":
            assert all(p.exists() for p in paths), transfer
        assert _datastore_files(butler) == [], transfer


def test_auto_in_place_and_copy(butler, tmp_path):
    inside = _yaml_files(butler.datastore.root / "staging", 1)[0]
    outside = _yaml_files(tmp_path / "elsewhere", 1, start=1)[0]
    ref_in, ref_out = butler.ingest(
        FileDataset(inside, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100, "detector": 0}),
        FileDataset(outside, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100, "detector": 1}),
    )
    assert butler.get_uri(ref_in) == inside
    assert butler.get_uri(ref_out) != outside and outside.exists()
    with pytest.raises(DatastoreError, match="outside the datastore root"):
        butler.ingest(
            FileDataset(
                outside, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 101, "detector": 1}
            ),
            transfer=None,
        )


def test_resolved_ref_and_named_formatter(butler, tmp_path):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"from": "json"}))
    dataset_type = butler.registry.get_dataset_type("calexp_meta")
    data_id = DataCoordinate.standardize(instrument="Cam", visit=101, detector=3, dimensions=dataset_type.dimensions)
    given = DatasetRef(dataset_type, data_id, "other_run", uuid.uuid4())
    (ref,) = butler.ingest(
        FileDataset(path, ref=given, formatter="osprey.daf.butler.datastore.JsonFormatter"), transfer="copy"
    )
    assert ref.id == given.id and ref.run == "other_run"
    assert butler.get("calexp_meta", instrument="Cam", visit=101, detector=3, collections="other_run") == {
        "from": "json"
    }
    assert butler.get_uri(ref).suffix == ".json"


def test_failure_leaves_nothing(butler, tmp_path):
    paths = _yaml_files(tmp_path / "incoming", 3)
    butler.put({"already": True}, "calexp_meta", instrument="Cam", visit=102, detector=2)
    before = _datastore_files(butler)
    for transfer in ("copy", "move", "symlink"):
        _check_failure(butler, tmp_path, paths, before, transfer)
    assert butler.ingest(FileDataset(paths[0], dataset_type="calexp_meta",
                                     data_id={"instrument": "Cam", "visit": 102, "detector": 0}),
                         transfer="copy")[0].data_id["detector"] == 0  # fmt: skip


def _check_failure(butler, tmp_path, paths, before, transfer):
    datasets = [
        FileDataset(paths[0], dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 102, "detector": 0}),
        FileDataset(paths[1], dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 102, "detector": 1}),
        FileDataset(paths[2], dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 102, "detector": 2}),
    ]
    with pytest.raises(ConflictingDefinitionError, match="already exists"):
        butler.ingest(*datasets, transfer=transfer)
    assert all(p.exists() for p in paths)  # never the user's originals
    assert _datastore_files(butler) == before
    assert len(butler.query_datasets("calexp_meta", where="visit = 102")) == 1
    # a missing file fails before anything is written
    with pytest.raises(DatastoreError, match="not an existing file"):
        butler.ingest(datasets[0], FileDataset(tmp_path / "nope.yaml", dataset_type="calexp_meta",
                                               data_id={"instrument": "Cam", "visit": 102, "detector": 3}))  # fmt: skip
    assert _datastore_files(butler) == before
    # a rolled-back enclosing transaction removes ingested files too
    with pytest.raises(RuntimeError), butler.transaction():
        butler.ingest(datasets[0], transfer=transfer)
        raise RuntimeError("abort")
    assert _datastore_files(butler) == before and all(p.exists() for p in paths)


def test_bad_inputs(butler, tmp_path):
    path = _yaml_files(tmp_path, 1)[0]
    with pytest.raises(DatastoreError, match="unknown transfer mode"):
        butler.ingest(FileDataset(path, dataset_type="calexp_meta", data_id={}), transfer="teleport")
    with pytest.raises(Exception, match="either ref= or dataset_type="):
        FileDataset(path)


def test_ingest_into_in_memory_datastore(make_butler, populate_repo, tmp_path):
    butler = make_butler("mem", config={"datastore": {"cls": "inmemory"}}, run="r")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    path = _yaml_files(tmp_path, 1)[0]
    butler.ingest(FileDataset(path, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100,
                                                                          "detector": 0}))  # fmt: skip
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0) == {"detector": 0}


def test_cli_ingest_files(butler, tmp_path):
    paths = _yaml_files(tmp_path / "files", 3)
    table = tmp_path / "files" / "table.csv"
    table.write_text("# made by a test\npath,detector\n" + "".join(f"{p.name},{d}\n" for d, p in enumerate(paths)))
    repo = butler.root
    result = CliRunner().invoke(
        cli,
        ["ingest-files", str(repo), "calexp_meta", "ingested", str(table), "--data-id", "instrument=Cam",
         "--data-id", "visit=101", "--transfer", "copy", "--id-generation-mode", "DATAID_TYPE_RUN"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Ingested 3 calexp_meta file(s) into ingested" in result.output
    refs = butler.query_datasets("calexp_meta", collections="ingested")
    assert [r.data_id["detector"] for r in refs] == [0, 1, 2]
    assert butler.get(refs[2]) == {"detector": 2}
    assert refs[0].id.version == 5
    # blank-separated tables with an absolute path column work too; failures are one line
    table2 = tmp_path / "table.txt"
    table2.write_text(f"file instrument visit detector\n{os.fspath(paths[0])} Cam 102 x\n")
    result = CliRunner().invoke(cli, ["ingest-files", str(repo), "calexp_meta", "ingested", str(table2)])
    assert result.exit_code == 1 and "detector must be an integer" in result.output
