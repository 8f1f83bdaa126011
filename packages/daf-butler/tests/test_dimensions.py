"""The dimension universe, data coordinates and dimension records."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from osprey.daf.butler import (
    ConflictingDefinitionError,
    DataCoordinate,
    DataIdError,
    DataIdValueError,
    DimensionUniverse,
)


def test_universe_shape():
    u = DimensionUniverse.default()
    assert (u.namespace, u.version) == ("osprey", 1)
    assert u["visit"].required == ("instrument", "visit") and u["visit"].implied == ("physical_filter", "day_obs")
    assert u["patch"].required == ("skymap", "tract", "patch")
    assert u["visit_detector_region"].required == ("instrument", "detector", "visit")
    assert not u["visit_definition"].is_dimension
    assert u.common_skypix.name == "htm7" and u["healpix10"].pixelization.order == 10
    with pytest.raises(DataIdError, match="htm99"):
        u["htm99"]
    g = u.group(["visit", "detector"])
    assert g.required == ("instrument", "detector", "visit")
    assert set(g.implied) == {"physical_filter", "band", "day_obs"}
    assert "visit_detector_region" in g.elements


def test_data_coordinate_validation():
    d = DataCoordinate.standardize({"instrument": "Cam", "visit": np.int64(5)}, detector=np.uint8(3))
    assert d.required == {"instrument": "Cam", "detector": 3, "visit": 5}
    assert type(d["visit"]) is int and repr(d) == "{instrument: 'Cam', detector: 3, visit: 5}"
    assert d == {"instrument": "Cam", "visit": 5, "detector": 3} and hash(d) == hash(DataCoordinate.standardize(d))
    with pytest.raises(DataIdError, match="visitt"):
        DataCoordinate.standardize(instrument="Cam", visitt=5)
    with pytest.raises(DataIdError, match="visit.*integer"):
        DataCoordinate.standardize(instrument="Cam", visit=5.0)
    with pytest.raises(DataIdError, match="missing required.*instrument"):
        DataCoordinate.standardize({"visit": 5}, dimensions=["visit"])
    with pytest.raises(DataIdError, match="not in the dimensions"):
        DataCoordinate.standardize({"instrument": "Cam", "visit": 5, "tract": 1}, dimensions=["visit"])


def test_expansion_and_records(butler):
    reg = butler.registry
    full = reg.expand_data_id(instrument="Cam", visit=100)
    assert full["physical_filter"] == "Cam-R" and full["band"] == "r"
    assert full.records["physical_filter"].band == "r"
    assert full.timespan is not None and full.region is not None
    with pytest.raises(DataIdError, match="band"):
        reg.expand_data_id(instrument="Cam", visit=100, band="g")
    with pytest.raises(DataIdValueError, match="visit"):
        reg.expand_data_id(instrument="Cam", visit=999)
    record = full.records["visit"]
    assert pickle.loads(pickle.dumps(record)) == record


def test_record_sync_and_update(butler):
    reg = butler.registry
    record = {"instrument": "Cam", "id": 7, "full_name": "S7"}
    assert reg.sync_dimension_data("detector", record) is True
    assert reg.sync_dimension_data("detector", record) is False
    with pytest.raises(ConflictingDefinitionError, match="full_name"):
        reg.sync_dimension_data("detector", {**record, "full_name": "X7"})
    assert reg.sync_dimension_data("detector", {**record, "full_name": "X7"}, update=True) == {"full_name": "S7"}
    reg.insert_dimension_data("detector", {**record, "full_name": "Y7", "purpose": "SCIENCE"}, replace=True)
    [got] = reg.query_dimension_records("detector", instrument="Cam", detector=7)
    assert (got.full_name, got.purpose) == ("Y7", "SCIENCE")
    assert [r.id for r in reg.query_dimension_records("visit", physical_filter="Cam-R")] == [100, 102]
    with pytest.raises(DataIdError, match="richer queries"):
        reg.query_dimension_records("visit", band="r")
    rows = [{"instrument": "Cam", "id": 1000 + i} for i in range(500)]
    reg.insert_dimension_data("detector", *rows)
    assert len(reg.query_dimension_records("detector", instrument="Cam")) == 505
