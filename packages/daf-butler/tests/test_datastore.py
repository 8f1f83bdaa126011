"""File datastore: templates, atomic writes, formatters, parameters, components, checksums;
and the in-memory datastore."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.daf.butler import (
    DataCoordinate,
    DatasetRef,
    DatasetType,
    DatastoreError,
    FileTemplateError,
    FormatterError,
    StorageClassError,
)
from osprey.daf.butler.datastore import FileTemplate


def _ref(dims, run="run/1", name="calexp", **values):
    dataset_type = DatasetType(name, dims, "NumpyArray")
    data_id = DataCoordinate.standardize(values, dimensions=dataset_type.dimensions)
    import uuid

    return DatasetRef(dataset_type, data_id, run, uuid.uuid4())


def test_templates_with_optional_fields_and_format_specs():
    template = FileTemplate(
        "{run}/{dataset_type}/{band:?}/{visit:08d?}/{dataset_type}_{instrument}_{visit:?}_{detector}_{run}"
    )
    ref = _ref(["visit", "detector"], instrument="Cam", visit=42, detector=3, band="r")
    assert template.format(ref) == "run/1/calexp/r/00000042/calexp_Cam_42_3_run%2F1"
    ref = _ref(["instrument", "detector"], name="bias", instrument="Cam", detector=3)
    assert template.format(ref) == "run/1/bias/bias_Cam_3_run%2F1"
    template.validate(ref)
    with pytest.raises(FileTemplateError, match="visit"):
        FileTemplate("{run}/{dataset_type}_{detector}").validate(
            _ref(["visit", "detector"], instrument="C", visit=1, detector=2)
        )
    with pytest.raises(FileTemplateError, match="run"):
        FileTemplate("{dataset_type}/{visit}")
    evil = _ref(["instrument"], instrument="../../x/..")
    assert ".." not in FileTemplate("{run}/{instrument}/{dataset_type}").format(evil).split("/")


def test_formatters_parameters_and_components(make_butler):
    butler = make_butler(run="r", config={"datastore": {"checksum": "blake2b"}})
    butler.registry.insert_dimension_data("instrument", {"name": "Cam"})
    butler.registry.insert_dimension_data("detector", {"instrument": "Cam", "id": 1})
    butler.register_dataset_type("image", ["instrument", "detector"], "NumpyArray")
    butler.register_dataset_type("table", ["instrument", "detector"], "ArrowTable")
    butler.register_dataset_type("summary", ["instrument"], "StructuredDataJson")
    butler.register_dataset_type("listing", ["instrument"], "StructuredDataList")
    array = np.arange(20, dtype=np.float32).reshape(4, 5)
    ref = butler.put(array, "image", instrument="Cam", detector=1)
    np.testing.assert_array_equal(butler.get("image", instrument="Cam", detector=1), array)
    sub = butler.get("image", instrument="Cam", detector=1, parameters={"slices": (slice(1, 3), slice(0, 2))})
    np.testing.assert_array_equal(sub, array[1:3, 0:2])
    assert butler.get("image.shape", instrument="Cam", detector=1) == (4, 5)
    assert butler.get("image.dtype", instrument="Cam", detector=1) == np.float32
    assert butler.get_uri(ref).suffix == ".npy"
    with pytest.raises(StorageClassError, match="columns"):
        butler.get("image", instrument="Cam", detector=1, parameters={"columns": ["a"]})
    with pytest.raises(StorageClassError, match="wcs"):
        butler.get("image.wcs", instrument="Cam", detector=1)
    with pytest.raises(FormatterError, match="pickle"):  # object arrays would need pickle
        butler.put(np.array([object()]), "image", instrument="Cam", detector=1, run="r2")

    pa = pytest.importorskip("pyarrow")
    table = pa.table({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
    butler.put(table, "table", instrument="Cam", detector=1)
    assert butler.get("table", instrument="Cam", detector=1).equals(table)
    assert butler.get("table", instrument="Cam", detector=1, parameters={"columns": ["b"]}).column_names == ["b"]
    assert butler.get("table.schema", instrument="Cam", detector=1) == table.schema
    assert butler.get("table.num_rows", instrument="Cam", detector=1) == 3

    butler.put({"k": [1, 2]}, "summary", instrument="Cam")
    assert butler.get("summary", instrument="Cam") == {"k": [1, 2]}
    butler.put([1, "two"], "listing", instrument="Cam")
    assert butler.get("listing", instrument="Cam") == [1, "two"]

    # checksums are verified on read
    path = butler.get_uri(ref)
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(DatastoreError, match="checksum"):
        butler.get(ref)


def test_custom_templates_from_config(make_butler):
    template = "{run}/{dataset_type}/{instrument}/{detector:03d}/{dataset_type}_{detector}"
    butler = make_butler(run="r", config={"datastore": {"templates": {"image": template}}})
    butler.registry.insert_dimension_data("instrument", {"name": "Cam"})
    butler.registry.insert_dimension_data("detector", {"instrument": "Cam", "id": 7})
    butler.register_dataset_type("image", ["instrument", "detector"], "NumpyArray")
    ref = butler.put(np.zeros(3), "image", instrument="Cam", detector=7)
    assert butler.get_uri(ref).relative_to(butler.root).as_posix() == "r/image/Cam/007/image_7.npy"


def test_in_memory_datastore(make_butler):
    butler = make_butler(run="r", config={"datastore": {"cls": "inmemory"}})
    butler.registry.insert_dimension_data("instrument", {"name": "Cam"})
    butler.registry.insert_dimension_data("detector", {"instrument": "Cam", "id": 1})
    butler.register_dataset_type("image", ["instrument", "detector"], "NumpyArray")
    array = np.arange(6.0).reshape(2, 3)
    butler.put(array, "image", instrument="Cam", detector=1)
    array[0, 0] = 99.0  # the datastore kept a copy
    assert butler.get("image", instrument="Cam", detector=1)[0, 0] == 0.0
    assert butler.get("image.shape", instrument="Cam", detector=1) == (2, 3)
    np.testing.assert_array_equal(
        butler.get("image", instrument="Cam", detector=1, parameters={"slices": (slice(1, 2),)}), [[3.0, 4.0, 5.0]]
    )
    with pytest.raises(RuntimeError):
        with butler.transaction():
            butler.put(array, "image", instrument="Cam", detector=1, run="other")
            raise RuntimeError("rollback")
    assert not butler.exists("image", instrument="Cam", detector=1, collections="other")
    assert not [p for p in butler.root.rglob("*.npy")]
