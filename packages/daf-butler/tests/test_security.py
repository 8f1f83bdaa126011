"""Hostile strings in data IDs and collection names are plain values: SQL is parameterised."""

from __future__ import annotations

import pytest

from osprey.daf.butler import DataIdError

EVIL = [
    "'; DROP TABLE dataset; --",
    '"); DELETE FROM collection; --',
    "../../etc/passwd",
    "a/b\\c %s %% {0}",
    "",
]


def test_malicious_data_id_values_are_stored_and_queried_verbatim(make_butler):
    butler = make_butler(run="'; DROP TABLE collection; --")
    reg = butler.registry
    butler.register_dataset_type("thing", ["instrument", "physical_filter"], "StructuredDataDict")
    reg.insert_dimension_data("band", {"name": "r"})
    for i, name in enumerate(EVIL):
        reg.insert_dimension_data("instrument", {"name": name, "class_name": f"x{i}"})
        reg.insert_dimension_data("physical_filter", {"instrument": name, "name": name, "band": "r"})
        butler.put({"i": i}, "thing", instrument=name, physical_filter=name)
    for i, name in enumerate(EVIL):
        assert butler.get("thing", instrument=name, physical_filter=name) == {"i": i}
        [record] = reg.query_dimension_records("instrument", instrument=name)
        assert record.name == name and record.class_name == f"x{i}"
    refs = reg.query_datasets("thing", butler.run)
    assert sorted(r.data_id["instrument"] for r in refs) == sorted(EVIL)
    assert reg.query_datasets("thing", butler.run, instrument="' OR '1'='1") == []
    # every table is still there and every file is inside the repository
    assert reg.query_collections() == [butler.run]
    for ref in refs:
        assert butler.root in butler.get_uri(ref).parents


def test_non_string_values_are_rejected(butler):
    with pytest.raises(DataIdError, match="instrument"):
        butler.get("calexp_meta", instrument=3, visit=100, detector=1)
    with pytest.raises(DataIdError, match="visit"):
        butler.get("calexp_meta", instrument="Cam", visit="100 OR 1=1", detector=1)
