"""Butler put/get, uniqueness, find-first over chains, removal, components and parameters."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.daf.butler import (
    Butler,
    CollectionCycleError,
    CollectionType,
    ConflictingDefinitionError,
    DataCoordinate,
    DatasetIdGenEnum,
    DatasetNotFoundError,
    DatasetType,
    MissingCollectionError,
    MissingDatasetTypeError,
    OrphanedRecordError,
    StorageClassError,
)


def test_put_get_round_trip_with_numpy_keys(butler):
    ref = butler.put({"a": 1, "b": [1, 2]}, "calexp_meta", instrument="Cam", visit=np.int64(100), detector=np.int32(2))
    assert ref.run == "run1"
    assert ref.data_id["visit"] == 100 and type(ref.data_id["visit"]) is int
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=2) == {"a": 1, "b": [1, 2]}
    assert butler.get(ref) == {"a": 1, "b": [1, 2]}
    assert butler.exists("calexp_meta", instrument="Cam", visit=100, detector=2)
    assert not butler.exists("calexp_meta", instrument="Cam", visit=100, detector=3)
    path = butler.get_uri(ref)
    assert path.is_file() and path.suffix == ".yaml"
    assert "run1" in path.parts and "calexp_meta" in path.parts and "r" in path.parts  # band from visit


def test_second_put_same_type_run_data_id_is_refused(butler):
    butler.put({"x": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    with pytest.raises(ConflictingDefinitionError) as info:
        butler.put({"x": 2}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    message = str(info.value)
    assert "calexp_meta" in message and "run1" in message and "visit: 100" in message and "detector: 1" in message
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=1) == {"x": 1}
    # the losing put left no file behind
    files = [p for p in butler.root.rglob("*") if p.is_file() and p.suffix == ".yaml" and "run1" in p.parts]
    assert len(files) == 1
    # another run is fine
    butler.put({"x": 3}, "calexp_meta", instrument="Cam", visit=100, detector=1, run="run2")
    assert len(butler.registry.query_datasets("calexp_meta", ["run1", "run2"], find_first=False)) == 2


def test_find_first_over_chain(butler):
    reg = butler.registry
    for run, value in (("a", 1), ("b", 2), ("c", 3)):
        butler.put({"v": value}, "calexp_meta", instrument="Cam", visit=100, detector=0, run=run)
    butler.put({"v": 20}, "calexp_meta", instrument="Cam", visit=101, detector=0, run="b")
    reg.register_collection("inner", CollectionType.CHAINED)
    reg.set_collection_chain("inner", ["b", "c"])
    reg.register_collection("outer", CollectionType.CHAINED)
    reg.set_collection_chain("outer", ["inner", "a"])
    assert reg.get_collection_chain("outer") == ("inner", "a")
    assert [n for n, _, _ in reg.resolve_collections("outer")] == ["b", "c", "a"]
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0, collections="outer") == {"v": 2}
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0, collections=["a", "outer"]) == {"v": 1}
    refs = reg.query_datasets("calexp_meta", "outer")
    assert [(r.data_id["visit"], r.run) for r in refs] == [(100, "b"), (101, "b")]
    refs = reg.query_datasets("calexp_meta", "outer", find_first=False)
    assert sorted((r.data_id["visit"], r.run) for r in refs) == [(100, "a"), (100, "b"), (100, "c"), (101, "b")]
    # reorder: now c first
    reg.set_collection_chain("inner", ["c", "b"])
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0, collections="outer") == {"v": 3}
    # constraint on an implied dimension joins through visit -> physical_filter -> band
    assert [r.data_id["visit"] for r in reg.query_datasets("calexp_meta", "outer", band="g")] == [101]
    assert [r.data_id["visit"] for r in reg.query_datasets("calexp_meta", "outer", physical_filter="Cam-R")] == [100]


def test_chain_cycles_are_refused(butler):
    reg = butler.registry
    reg.register_run("r")
    for name in ("x", "y", "z"):
        reg.register_collection(name, CollectionType.CHAINED)
    reg.set_collection_chain("x", ["y", "r"])
    reg.set_collection_chain("y", ["z"])
    with pytest.raises(CollectionCycleError, match="z -> x -> y -> z"):
        reg.set_collection_chain("z", ["x"])
    with pytest.raises(CollectionCycleError):
        reg.set_collection_chain("x", ["x"])
    assert reg.get_collection_chain("z") == ()
    with pytest.raises(OrphanedRecordError):
        reg.remove_collection("z")
    with pytest.raises(MissingCollectionError):
        reg.set_collection_chain("x", ["nope"])


def test_tagged_collections(butler):
    reg = butler.registry
    r1 = butler.put({"v": 1}, "calexp_meta", instrument="Cam", visit=100, detector=0, run="a")
    r2 = butler.put({"v": 2}, "calexp_meta", instrument="Cam", visit=100, detector=0, run="b")
    reg.register_collection("best", CollectionType.TAGGED)
    reg.associate("best", [r1])
    with pytest.raises(ConflictingDefinitionError, match="best"):
        reg.associate("best", [r2])
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0, collections="best") == {"v": 1}
    reg.disassociate("best", [r1])
    assert reg.query_datasets("calexp_meta", "best") == []


def test_deterministic_ids(butler):
    kw = dict(instrument="Cam", visit=100, detector=0)
    ref_a = butler.put({"v": 1}, "calexp_meta", run="a", id_generation=DatasetIdGenEnum.DATAID_TYPE, **kw)
    ref_b = butler.registry.make_refs("calexp_meta", [kw], "b", DatasetIdGenEnum.DATAID_TYPE)[0]
    ref_c = butler.registry.make_refs("calexp_meta", [kw], "a", DatasetIdGenEnum.DATAID_TYPE_RUN)[0]
    ref_d = butler.registry.make_refs("calexp_meta", [kw], "a", DatasetIdGenEnum.DATAID_TYPE_RUN)[0]
    assert ref_a.id == ref_b.id and ref_a.id.version == 5
    assert ref_c.id == ref_d.id != ref_a.id
    assert butler.registry.get_dataset(ref_a.id).data_id == ref_a.data_id


def test_errors_name_the_problem(butler):
    with pytest.raises(MissingDatasetTypeError, match="nope"):
        butler.get("nope", instrument="Cam")
    with pytest.raises(DatasetNotFoundError, match="calexp_meta.*visit.*run1"):
        butler.get("calexp_meta", instrument="Cam", visit=100, detector=0)
    with pytest.raises(StorageClassError, match="StructuredDataDict"):
        butler.put([1, 2], "calexp_meta", instrument="Cam", visit=100, detector=0)
    with pytest.raises(ConflictingDefinitionError, match="already registered"):
        butler.register_dataset_type("calexp_meta", ["visit"], "StructuredDataDict")
    assert butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    assert butler.registry.query_dataset_types() == [
        DatasetType("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    ]


def test_remove_runs_deletes_rows_and_files(butler):
    refs = [butler.put({"d": d}, "calexp_meta", instrument="Cam", visit=100, detector=d, run="gone") for d in range(3)]
    keep = butler.put({"d": 9}, "calexp_meta", instrument="Cam", visit=100, detector=0, run="kept")
    paths = [butler.get_uri(r) for r in refs]
    butler.registry.register_collection("chain", CollectionType.CHAINED)
    butler.registry.set_collection_chain("chain", ["gone", "kept"])
    with pytest.raises(OrphanedRecordError, match="chain"):
        butler.remove_runs(["gone"])
    assert all(p.exists() for p in paths)
    butler.remove_runs(["gone"], unlink_from_chains=True)
    assert not any(p.exists() for p in paths)
    assert butler.registry.get_collection_chain("chain") == ("kept",)
    assert "gone" not in butler.registry.query_collections()
    assert all(butler.registry.get_dataset(r.id) is None for r in refs)
    assert butler.get(keep) == {"d": 9}


def test_reopen_sees_everything(butler):
    ref = butler.put({"v": 1}, "calexp_meta", instrument="Cam", visit=101, detector=3)
    again = Butler.from_config(butler.root / "butler.yaml", collections="run1")
    try:
        assert again.get("calexp_meta", instrument="Cam", visit=101, detector=3) == {"v": 1}
        assert again.find_dataset("calexp_meta", instrument="Cam", visit=101, detector=3) == ref
        assert again.registry.get_dataset_type("calexp_meta").storage_class == "StructuredDataDict"
    finally:
        again.close()


def test_expanded_data_id_implied_values(butler):
    data_id = butler.registry.expand_data_id(instrument="Cam", visit=101, detector=2)
    assert isinstance(data_id, DataCoordinate) and data_id.has_full() and data_id.has_records()
    assert data_id["physical_filter"] == "Cam-G" and data_id["band"] == "g" and data_id["day_obs"] == 20250601
    assert data_id.records["visit"].exposure_time == 30.0
    assert data_id.records["detector"].full_name == "S2"
    text = repr(data_id)
    for key in ("instrument", "visit", "detector", "physical_filter", "band", "day_obs"):
        assert key in text
