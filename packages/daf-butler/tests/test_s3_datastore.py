"""The S3 datastore against moto's in-process S3 (``moto.mock_aws``)."""

from __future__ import annotations

import numpy as np
import pytest

from osprey.daf.butler import (
    ButlerConfigError,
    ConflictingDefinitionError,
    DatasetIdGenEnum,
    DatasetNotFoundError,
    DatastoreError,
    FileDataset,
    FormatterError,
)
from osprey.daf.butler.datastore import S3Datastore

moto = pytest.importorskip("moto", reason="the S3 tests need moto[s3] (the test extra)")
boto3 = pytest.importorskip("boto3")

BUCKET = "osprey-test"
META_KEY = "repo/run1/calexp_meta/r/20250601/calexp_meta_Cam_1_100_run1.yaml"


@pytest.fixture
def s3(monkeypatch):
    """A mocked S3 with one empty bucket; yields the client."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def keys(client) -> list[str]:
    response = client.list_objects_v2(Bucket=BUCKET)
    return sorted(obj["Key"] for obj in response.get("Contents", []))


@pytest.fixture
def s3_butler(s3, make_butler, populate_repo):
    butler = make_butler(config={"datastore": {"root": f"s3://{BUCKET}/repo", "checksum": "sha256"}}, run="run1")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    butler.register_dataset_type("image", ["visit", "detector"], "NumpyArray")
    return butler


def test_put_get_round_trip(s3_butler, s3):
    assert isinstance(s3_butler.datastore, S3Datastore)
    meta = s3_butler.put({"seeing": 0.7, "n": [1, 2]}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = s3_butler.put(array, "image", instrument="Cam", visit=100, detector=1)
    assert keys(s3) == [META_KEY, "repo/run1/image/r/20250601/image_Cam_1_100_run1.npy"]  # no temporary keys
    assert s3_butler.get(meta) == {"seeing": 0.7, "n": [1, 2]}
    got = s3_butler.get("image", instrument="Cam", visit=100, detector=1)
    assert got.dtype == np.float32 and np.array_equal(got, array)
    sliced = s3_butler.get(image, parameters={"slices": (slice(1, 3), slice(0, 2))})
    assert np.array_equal(sliced, array[1:3, 0:2])
    assert s3_butler.get("image.shape", instrument="Cam", visit=100, detector=1) == (3, 4)
    assert s3_butler.get_uri(meta) == f"s3://{BUCKET}/{META_KEY}"
    assert s3_butler.exists(meta)
    body = s3.get_object(Bucket=BUCKET, Key=META_KEY)["Body"].read().decode()
    assert "seeing: 0.7" in body


def test_rollback_and_failed_writes_leave_nothing(s3_butler, s3):
    with pytest.raises(RuntimeError):
        with s3_butler.transaction():
            ref = s3_butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
            assert keys(s3) == [META_KEY]
            raise RuntimeError("abort")
    assert keys(s3) == []
    assert s3_butler.registry.get_dataset(ref.id) is None
    with pytest.raises(FormatterError):  # the safe YAML dumper refuses arbitrary objects
        s3_butler.put({"bad": object()}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    assert keys(s3) == []
    s3_butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    with pytest.raises(ConflictingDefinitionError, match="already exists"):
        s3_butler.put({"a": 2}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    assert keys(s3) == [META_KEY]  # the loser's temporary key was deleted
    assert s3_butler.get("calexp_meta", instrument="Cam", visit=100, detector=1) == {"a": 1}


def test_prune_remove_runs_and_clobber(s3_butler, s3):
    gen = DatasetIdGenEnum.DATAID_TYPE_RUN
    old = s3_butler.put({"v": "old"}, "calexp_meta", instrument="Cam", visit=100, detector=1, id_generation=gen)
    with pytest.raises(RuntimeError):
        with s3_butler.transaction():
            s3_butler.prune_datasets([old], purge=True)
            s3_butler.put({"v": "new"}, "calexp_meta", instrument="Cam", visit=100, detector=1, id_generation=gen)
            raise RuntimeError
    assert keys(s3) == [META_KEY]
    assert s3_butler.get(old) == {"v": "old"}  # restored, checksum matches
    with s3_butler.transaction():
        s3_butler.prune_datasets([old], purge=True)
        new = s3_butler.put({"v": "new"}, "calexp_meta", instrument="Cam", visit=100, detector=1, id_generation=gen)
    assert keys(s3) == [META_KEY]
    assert s3_butler.get(new) == {"v": "new"}
    s3_butler.prune_datasets([new], disassociate=False)
    assert keys(s3) == [] and not s3_butler.exists(new)
    with pytest.raises(DatasetNotFoundError):
        s3_butler.get(new)
    s3_butler.put(np.zeros(3), "image", instrument="Cam", visit=101, detector=0, run="other")
    assert len(keys(s3)) == 1
    s3_butler.remove_runs(["other"])
    assert keys(s3) == []


def test_ingest_uploads_local_files(s3_butler, s3, tmp_path):
    source = tmp_path / "meta.yaml"
    source.write_text("x: 1\n")
    moved = tmp_path / "image.npy"
    np.save(moved, np.arange(4))
    refs = s3_butler.ingest(
        FileDataset(source, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100, "detector": 1}),
        transfer="copy",
    )
    refs += s3_butler.ingest(
        FileDataset(moved, dataset_type="image", data_id={"instrument": "Cam", "visit": 100, "detector": 1}),
        transfer="move",
    )
    assert source.exists() and not moved.exists()
    assert s3_butler.get(refs[0]) == {"x": 1}
    assert np.array_equal(s3_butler.get(refs[1]), np.arange(4))
    with pytest.raises(DatastoreError, match="transfer='symlink'"):
        s3_butler.ingest(
            FileDataset(source, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 101, "detector": 1}),
            transfer="symlink",
        )
    assert len(keys(s3)) == 2


def test_tampered_and_missing_objects(s3_butler, s3):
    ref = s3_butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    s3.put_object(Bucket=BUCKET, Key=META_KEY, Body=b"a: 2\n")
    with pytest.raises(DatastoreError, match=f"checksum mismatch for s3://{BUCKET}/{META_KEY}"):
        s3_butler.get(ref)
    s3.delete_object(Bucket=BUCKET, Key=META_KEY)
    assert not s3_butler.exists(ref)
    with pytest.raises(DatasetNotFoundError, match="its object s3://.* is missing"):
        s3_butler.get(ref)


def test_chain_of_file_and_s3(s3, make_butler, populate_repo, tmp_path):
    config = {
        "datastore": {
            "cls": "chained",
            "children": [
                {"name": "local", "root": str(tmp_path / "local"), "constraints": {"accept": ["calexp_meta"]}},
                {"name": "cloud", "cls": "s3", "root": f"s3://{BUCKET}/chain/"},
            ],
        }
    }
    butler = make_butler(config=config, run="run1")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    butler.register_dataset_type("image", ["visit", "detector"], "NumpyArray")
    meta = butler.put({"a": 1}, "calexp_meta", instrument="Cam", visit=100, detector=1)
    image = butler.put(np.ones(2), "image", instrument="Cam", visit=100, detector=1)
    assert keys(s3) == [
        "chain/run1/calexp_meta/r/20250601/calexp_meta_Cam_1_100_run1.yaml",
        "chain/run1/image/r/20250601/image_Cam_1_100_run1.npy",
    ]
    assert butler.get_uri(meta) == tmp_path / "local/run1/calexp_meta/r/20250601/calexp_meta_Cam_1_100_run1.yaml"
    assert butler.get_uri(image) == f"s3://{BUCKET}/chain/run1/image/r/20250601/image_Cam_1_100_run1.npy"
    assert np.array_equal(butler.get(image), np.ones(2))


def test_bad_s3_config(tmp_path):
    from osprey.daf.butler import Butler

    with pytest.raises(ButlerConfigError, match="s3://bucket/prefix"):
        Butler.make_repo(tmp_path / "x", config={"datastore": {"cls": "s3", "root": "/local"}})
