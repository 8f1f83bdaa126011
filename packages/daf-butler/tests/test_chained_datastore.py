"""Chained datastores: per-child constraints, put to every accepting child, read from the first."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.daf.butler import Butler, ButlerConfigError, DatasetNotFoundError, DatastoreError, FileDataset
from osprey.daf.butler.datastore import ChainedDatastore, FileDatastore, InMemoryDatastore


def _config(tmp_path, first_constraints=None, second_constraints=None):
    return {
        "datastore": {
            "cls": "chained",
            "children": [
                {"name": "fast", "root": str(tmp_path / "fast"), **({"constraints": first_constraints} or {})},
                {"name": "bulk", "root": str(tmp_path / "bulk"), **({"constraints": second_constraints} or {})},
            ],
        }
    }


@pytest.fixture
def chained(make_butler, populate_repo, tmp_path):
    """Two file roots: 'fast' takes only YAML-dict metadata, 'bulk' takes everything but metadata."""
    config = _config(tmp_path, {"accept": ["*_meta"]}, {"reject": ["*_meta"], "accept": None})
    butler = make_butler(config=config, run="run1")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    butler.register_dataset_type("image", ["visit", "detector"], "NumpyArray")
    butler.register_dataset_type("both_meta_copy", ["visit", "detector"], "StructuredDataDict")
    return butler


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_constraints_route_puts(chained, tmp_path):
    store = chained.datastore
    assert isinstance(store, ChainedDatastore)
    assert [name for name, _, _ in store.children] == ["fast", "bulk"]
    meta = chained.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    image = chained.put(np.arange(6.0).reshape(2, 3), "image", instrument="Cam", visit=100, detector=1)
    assert _files(tmp_path / "fast") == ["run1/calexp_meta/r/20250601/calexp_meta_Cam_1_100_run1.yaml"]
    assert _files(tmp_path / "bulk") == ["run1/image/r/20250601/image_Cam_1_100_run1.npy"]
    assert chained.get(meta) == {"a": 1}
    np.testing.assert_array_equal(chained.get(image), np.arange(6.0).reshape(2, 3))
    assert chained.get("image.shape", instrument="Cam", visit=100, detector=1) == (2, 3)
    assert chained.get_uri(image) == tmp_path / "bulk/run1/image/r/20250601/image_Cam_1_100_run1.npy"
    # Each child records only its own files.
    fast, bulk = (child for _, child, _ in store.children)
    assert set(fast.records([meta.id, image.id])) == {meta.id}
    assert set(bulk.records([meta.id, image.id])) == {image.id}


def test_put_goes_to_every_accepting_child_and_reads_fall_back(make_butler, populate_repo, tmp_path):
    butler = make_butler(config=_config(tmp_path), run="run1")  # both accept everything
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    ref = butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    relative = "run1/calexp_meta/r/20250601/calexp_meta_Cam_1_100_run1.yaml"
    assert _files(tmp_path / "fast") == [relative] and _files(tmp_path / "bulk") == [relative]
    assert butler.get_uri(ref) == tmp_path / "fast" / relative  # the first child
    (tmp_path / "fast" / relative).unlink()  # lose the first copy: reads fall back to the second
    assert butler.get(ref) == {"a": 1}
    assert butler.get_uri(ref) == tmp_path / "bulk" / relative
    (tmp_path / "bulk" / relative).unlink()
    assert not butler.exists(ref)
    with pytest.raises(DatasetNotFoundError, match="fast: .*bulk: "):
        butler.get(ref)


def test_rejected_everywhere_is_an_error_and_nothing_is_registered(make_butler, populate_repo, tmp_path):
    butler = make_butler(config=_config(tmp_path, {"accept": ["NumpyArray"]}, {"accept": ["ArrowTable"]}), run="r")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    with pytest.raises(DatastoreError, match="no datastore in the chain accepts 'calexp_meta'"):
        butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    assert butler.registry.query_datasets("calexp_meta", "r") == []


def test_file_plus_in_memory_and_atomic_commit(make_butler, populate_repo, tmp_path):
    config = {
        "datastore": {
            "cls": "chained",
            "children": [
                {"cls": "inmemory", "constraints": {"accept": ["calexp_meta"]}},
                {"root": str(tmp_path / "f")},
            ],
        }
    }
    butler = make_butler(config=config, run="run1")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    memory, files = (child for _, child, _ in butler.datastore.children)
    assert isinstance(memory, InMemoryDatastore) and isinstance(files, FileDatastore)
    ref = butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    assert memory.exists(ref) and files.exists(ref)
    with pytest.raises(RuntimeError):
        with butler.transaction():
            other = butler.put({"b": 2}, "calexp_meta", instrument="Cam", visit=100, detector=2)
            raise RuntimeError
    assert not memory.exists(other) and not files.exists(other)
    assert [p.name for p in (tmp_path / "f").rglob("*.yaml")] == ["calexp_meta_Cam_1_100_run1.yaml"]
    # A fresh Butler has an empty in-memory child: reads fall back to the files.
    reopened = Butler.from_config(butler.root)
    assert reopened.get(ref) == {"a": 1}
    reopened.prune_datasets([ref], purge=True)
    assert _files(tmp_path / "f") == []
    reopened.close()


def test_ingest_into_a_chain(chained, tmp_path):
    source = tmp_path / "external.yaml"
    source.write_text("x: 1\n")
    array = tmp_path / "external.npy"
    np.save(array, np.ones(3))
    refs = chained.ingest(
        FileDataset(source, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 101, "detector": 0}),
        FileDataset(array, dataset_type="image", data_id={"instrument": "Cam", "visit": 101, "detector": 0}),
        transfer="move",
    )
    assert not source.exists() and not array.exists()
    assert chained.get(refs[0]) == {"x": 1}
    np.testing.assert_array_equal(chained.get(refs[1]), np.ones(3))
    assert len(_files(tmp_path / "fast")) == 1 and len(_files(tmp_path / "bulk")) == 1


def test_export_from_a_chain(chained, make_butler, tmp_path):
    ref = chained.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    chained.put(np.zeros(2), "image", instrument="Cam", visit=100, detector=1)
    chained.export(tmp_path / "out/export.yaml", collections=["run1"], directory=tmp_path / "out")
    target = make_butler("target")
    imported = target.import_(tmp_path / "out")
    assert {r.id for r in imported} >= {ref.id}
    assert target.get(ref) == {"a": 1}


def test_config_validation(tmp_path):
    with pytest.raises(ButlerConfigError, match="at least one child"):
        Butler.make_repo(tmp_path / "a", config={"datastore": {"cls": "chained"}})
    with pytest.raises(ButlerConfigError, match="named 'x'"):
        Butler.make_repo(
            tmp_path / "b", config={"datastore": {"cls": "chained", "children": [{"name": "x"}, {"name": "x"}]}}
        )
    with pytest.raises(ButlerConfigError, match="only for cls: chained"):
        Butler.make_repo(tmp_path / "c", config={"datastore": {"children": [{}]}})
