"""Transactions: an injected failure in a multi-dataset operation leaves no rows and no files."""

from __future__ import annotations

import pytest

from osprey.daf.butler import ConflictingDefinitionError, StorageClassError
from osprey.daf.butler.datastore import YamlFormatter


def _files(butler):
    return sorted(
        p
        for p in butler.root.rglob("*")
        if p.is_file() and not p.name.startswith("registry.sqlite3") and p.name != "butler.yaml"
    )


class Boom(Exception):
    pass


def test_exception_in_block_rolls_back_rows_and_files(butler):
    with pytest.raises(Boom):
        with butler.transaction():
            for d in range(3):
                butler.put({"d": d}, "calexp_meta", instrument="Cam", visit=100, detector=d)
            assert len(_files(butler)) == 3  # written ...
            raise Boom()
    assert _files(butler) == []  # ... and removed on rollback
    assert butler.registry.query_datasets("calexp_meta", "run1") == []


def test_failure_in_the_middle_of_a_batch(butler):
    with pytest.raises(StorageClassError):
        with butler.transaction():
            butler.put({"d": 0}, "calexp_meta", instrument="Cam", visit=100, detector=0)
            butler.put({"d": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
            butler.put(["not a dict"], "calexp_meta", instrument="Cam", visit=100, detector=2)
    assert _files(butler) == []
    assert butler.registry.query_datasets("calexp_meta", "run1") == []


def test_formatter_crash_leaves_nothing(butler, monkeypatch):
    def crash(self, obj, path):
        with open(path, "w") as stream:
            stream.write("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(YamlFormatter, "write", crash)
    with pytest.raises(Exception, match="disk full"):
        butler.put({"d": 0}, "calexp_meta", instrument="Cam", visit=100, detector=0)
    assert _files(butler) == []  # the temporary file is gone too
    assert butler.registry.query_datasets("calexp_meta", "run1") == []


def test_failure_after_file_rename_rolls_back(butler, monkeypatch):
    registry = butler.registry
    original = registry.insert_refs
    calls = []

    def flaky(refs):
        calls.append(1)
        original(refs)
        if len(calls) == 2:
            raise ConflictingDefinitionError("injected failure after the rows were inserted")

    monkeypatch.setattr(registry, "insert_refs", flaky)
    with pytest.raises(ConflictingDefinitionError, match="injected"):
        with butler.transaction():
            butler.put({"d": 0}, "calexp_meta", instrument="Cam", visit=100, detector=0)
            butler.put({"d": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    assert _files(butler) == []
    assert butler.registry.query_datasets("calexp_meta", "run1") == []


def test_nested_savepoint_rolls_back_only_inner(butler):
    with butler.transaction():
        butler.put({"d": 0}, "calexp_meta", instrument="Cam", visit=100, detector=0)
        with pytest.raises(Boom):
            with butler.transaction():
                butler.put({"d": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
                raise Boom()
    refs = butler.registry.query_datasets("calexp_meta", "run1")
    assert [r.data_id["detector"] for r in refs] == [0]
    assert len(_files(butler)) == 1


def test_failed_dimension_insert_rolls_back_batch(butler):
    reg = butler.registry
    with pytest.raises(ConflictingDefinitionError, match="already exist"):
        reg.insert_dimension_data("detector", {"instrument": "Cam", "id": 10}, {"instrument": "Cam", "id": 1})
    assert [r.id for r in reg.query_dimension_records("detector", instrument="Cam")] == [0, 1, 2, 3]
