"""Export/import round trips (SQLite -> SQLite and SQLite -> PostgreSQL) and transfer_from."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from osprey.daf.butler import Butler, ButlerConfigError, CollectionType, ConflictingDefinitionError, Timespan
from osprey.daf.butler.cli import cli
from osprey.geom import ConvexPolygon, SpherePoint, degrees

T0 = 1_750_000_000 * 10**9  # as in conftest.populate
HOUR = 3600 * 10**9


def square(ra: float, dec: float, half: float) -> ConvexPolygon:
    corners = [(ra - half, dec - half), (ra + half, dec - half), (ra + half, dec + half), (ra - half, dec + half)]
    return ConvexPolygon([SpherePoint(a, d, degrees) for a, d in corners])


@pytest.fixture
def source(tmp_path, populate_repo):
    butler = _source(tmp_path, populate_repo)
    yield butler
    butler.close()


def _source(tmp_path, populate) -> Butler:
    """A SQLite repository with every collection type, a calibration and spatial records."""
    Butler.make_repo(tmp_path / "src")
    butler = Butler.from_config(tmp_path / "src", run="run1")
    populate(butler)
    reg = butler.registry
    reg.insert_dimension_data(
        "visit_detector_region",
        *[{"instrument": "Cam", "visit": v, "detector": d, "region": square(10.0 + i, 0.1 * d, 0.05)}
          for i, v in enumerate((100, 101, 102)) for d in range(4)],
    )  # fmt: skip
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    butler.register_dataset_type("bias", ["instrument", "detector"], "NumpyArray", is_calibration=True)
    for v in (100, 101, 102):
        for d in range(4):
            butler.put({"v": v, "d": d}, "calexp_meta", instrument="Cam", visit=v, detector=d)
    early = [butler.put(np.full(3, d), "bias", instrument="Cam", detector=d, run="calib/run") for d in range(2)]
    late = [butler.put(np.full(3, 10 + d), "bias", instrument="Cam", detector=d, run="calib/run2") for d in range(2)]
    butler.certify("calib", early, Timespan(None, T0 + HOUR))
    butler.certify("calib", late, Timespan(T0 + HOUR, None))
    reg.register_collection("best", CollectionType.TAGGED)
    reg.associate("best", butler.query_datasets("calexp_meta", "run1", where="detector = 2"))
    reg.register_collection("chain", CollectionType.CHAINED)
    reg.set_collection_chain("chain", ["best", "run1", "calib"])
    return butler


def _check_copy(target: Butler, source: Butler) -> None:
    src_refs = source.query_datasets(..., ..., find_first=False)
    dst_refs = target.query_datasets(..., ..., find_first=False)
    assert sorted(str(r.id) for r in dst_refs) == sorted(str(r.id) for r in src_refs)
    assert target.get("calexp_meta", instrument="Cam", visit=101, detector=3, collections="chain") == {"v": 101, "d": 3}
    assert target.get("bias", instrument="Cam", detector=1, exposure=100, collections="chain").tolist() == [1, 1, 1]
    assert target.get("bias", instrument="Cam", detector=1, exposure=102, collections="chain").tolist() == [11] * 3
    assert target.registry.get_collection_chain("chain") == ("best", "run1", "calib")
    assert [r.data_id["visit"] for r in target.query_datasets("calexp_meta", "best")] == [100, 101, 102]
    certs = target.registry.query_certifications("calib")
    assert [(r.id, span) for r, span in certs] == [
        (r.id, span) for r, span in source.registry.query_certifications("calib")
    ]
    src_vdr = source.query_dimension_records("visit_detector_region")
    assert target.query_dimension_records("visit_detector_region") == src_vdr
    assert target.query_dimension_records("visit") == source.query_dimension_records("visit")


def test_round_trip_with_directory(make_butler, tmp_path, source):
    export_dir = tmp_path / "export"
    path = source.export(
        export_dir / "export.yaml",
        collections=["chain"],
        dimension_records=["visit_detector_region"],
        directory=export_dir,
    )
    document = yaml.safe_load(path.read_text())
    kinds = {(b["type"], b.get("collection_type")) for b in document["data"]}
    assert {("collection", "RUN"), ("collection", "CHAINED"), ("associations", "TAGGED")} <= kinds
    assert not any(p.startswith("/") for b in document["data"] if b["type"] == "dataset" for p in
                   (r["path"] for r in b["records"]))  # fmt: skip
    source.close()
    shutil.rmtree(tmp_path / "src")  # the export directory must be self-contained
    target = make_butler("dst")
    refs = target.import_(export_dir)
    assert len(refs) == 16
    assert all(target.datastore.is_inside(target.get_uri(r)) for r in refs)
    restored = Butler.from_config(tmp_path / "dst")
    assert restored.get("calexp_meta", instrument="Cam", visit=100, detector=0, collections="run1") == {
        "v": 100,
        "d": 0,
    }
    # importing again conflicts and changes nothing
    with pytest.raises(ConflictingDefinitionError):
        target.import_(export_dir)
    assert len(target.query_datasets(..., ..., find_first=False)) == 16


def test_round_trip_absolute_paths(make_butler, tmp_path, source):
    path = source.export(tmp_path / "e.yaml", collections="*", dimension_records=["visit_detector_region", "exposure"])
    target = make_butler("dst")
    target.import_(path, transfer="copy")
    _check_copy(target, source)
    source_files = {source.get_uri(r) for r in source.query_datasets(..., ..., find_first=False)}
    assert all(p.exists() for p in source_files)


def test_import_is_atomic_and_checked(make_butler, tmp_path, source):
    path = source.export(tmp_path / "e.yaml", collections="*")
    document = yaml.safe_load(path.read_text())
    for block in document["data"]:  # make the last dataset's file missing
        if block["type"] == "dataset" and block["dataset_type"] == "calexp_meta":
            block["records"][-1]["path"] = str(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(document))
    target = make_butler("dst")
    with pytest.raises(Exception, match="not an existing file"):
        target.import_(tmp_path / "broken.yaml")
    assert target.query_collections() == []
    assert target.query_dimension_records("instrument") == []
    assert not [
        p for p in target.datastore.root.rglob("*") if p.suffix in (".yaml", ".npy") and p.name != "butler.yaml"
    ]
    document["universe"]["version"] = 99
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(ButlerConfigError, match="version 99"):
        target.import_(tmp_path / "other.yaml")
    # the failed import left the registry usable
    refs = target.import_(path)
    assert len(refs) == 16


def test_transfer_from(make_butler, tmp_path, source):
    target = make_butler("dst")
    refs = source.query_datasets("calexp_meta", "run1", where="visit = 101")
    added = target.transfer_from(source, refs)
    assert sorted(r.id for r in added) == sorted(r.id for r in refs)
    assert target.get("calexp_meta", instrument="Cam", visit=101, detector=2, collections="run1") == {"v": 101, "d": 2}
    assert target.get_uri(added[0]) != source.get_uri(refs[0])
    assert [r.id for r in target.query_dimension_records("visit")] == [101]
    again = source.query_datasets("calexp_meta", "run1", where="visit IN (101, 102)")
    assert len(target.transfer_from(source, again, transfer="symlink")) == 4  # the first 4 are skipped
    assert target.get_uri(target.find_dataset("calexp_meta", instrument="Cam", visit=102, detector=0,
                                               collections="run1")).is_symlink()  # fmt: skip


def test_cli_export_import_transfer(make_butler, tmp_path, source):
    runner = CliRunner()
    target = make_butler("dst")

    def run(*args):
        result = runner.invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result.output

    out = run("export", source.root, tmp_path / "x" / "export.yaml", "--datasets", "calexp_meta", "--where",
              "detector = 1", "--directory", tmp_path / "x")  # fmt: skip
    assert "Exported 3 dataset(s)" in out
    assert "Imported 3 dataset(s)" in run("import", target.root, tmp_path / "x")
    out = run("transfer-datasets", source.root, target.root, "bias", "--collections", "calib/*")
    assert "Transferred 4 of 4" in out
    rows = json.loads(run("query-datasets", target.root, "--collections", "*", "--no-find-first", "--format", "json"))
    assert sorted((r["type"], r["detector"]) for r in rows) == sorted(
        [("calexp_meta", 1)] * 3 + [("bias", 0), ("bias", 0), ("bias", 1), ("bias", 1)]
    )
    assert "Exported 6 collection(s)" in run("export", source.root, tmp_path / "all.yaml")
