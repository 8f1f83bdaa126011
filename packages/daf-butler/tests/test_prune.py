"""Butler.prune_datasets: disassociate, unstore, purge; all or nothing; prune-then-put (clobber)."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from osprey.daf.butler import (
    Butler,
    ButlerUsageError,
    CollectionType,
    DatasetIdGenEnum,
    DatasetNotFoundError,
    DatasetRef,
    FileDataset,
    Timespan,
)
from osprey.daf.butler.cli import cli

T0 = 1_750_000_000 * 10**9  # same origin as conftest.populate
HOUR = 3600 * 10**9


def _put_all(butler: Butler) -> dict[tuple[int, int], DatasetRef]:
    return {
        (v, d): butler.put({"v": v, "d": d}, "calexp_meta", instrument="Cam", visit=v, detector=d)
        for v in (100, 101)
        for d in range(2)
    }


def _ids(butler: Butler, collection: str) -> set[uuid.UUID]:
    return {r.id for r in butler.registry.query_datasets("calexp_meta", collection, find_first=False)}


def test_purge_removes_rows_and_files_and_allows_a_new_put(butler):
    refs = _put_all(butler)
    butler.registry.register_collection("tagged", CollectionType.TAGGED)
    butler.registry.associate("tagged", refs.values())
    victim, keep = refs[(100, 0)], refs[(100, 1)]
    path = butler.get_uri(victim)
    assert path.exists()

    pruned = butler.prune_datasets([victim], purge=True)

    assert pruned == [victim]
    assert butler.registry.get_dataset(victim.id) is None
    assert not path.exists()
    assert _ids(butler, "run1") == {r.id for r in refs.values()} - {victim.id}
    assert _ids(butler, "tagged") == {r.id for r in refs.values()} - {victim.id}
    assert butler.get(keep) == {"v": 100, "d": 1}  # the others are untouched
    assert not butler.exists("calexp_meta", instrument="Cam", visit=100, detector=0)
    # The data ID is free again in the run.
    new = butler.put({"new": True}, "calexp_meta", instrument="Cam", visit=100, detector=0)
    assert new.id != victim.id
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0) == {"new": True}
    assert butler.get_uri(new) == path


def test_disassociate_only_keeps_content_and_run(butler):
    refs = _put_all(butler)
    reg = butler.registry
    reg.register_collection("tagged", CollectionType.TAGGED)
    reg.associate("tagged", refs.values())
    butler.register_dataset_type("bias", ["instrument", "detector"], "StructuredDataDict", is_calibration=True)
    bias = butler.put({"bias": 1}, "bias", instrument="Cam", detector=0)
    butler.certify("calib", [bias], Timespan(T0, T0 + 10 * HOUR))
    assert butler.get("bias", instrument="Cam", detector=0, collections="calib", timespan=Timespan.at(T0 + HOUR))

    butler.prune_datasets([refs[(101, 1)], bias], unstore=False)

    assert reg.query_certifications("calib") == []
    assert _ids(butler, "tagged") == {r.id for r in refs.values()} - {refs[(101, 1)].id}
    assert _ids(butler, "run1") == {r.id for r in refs.values()}  # still in its RUN
    assert butler.get(refs[(101, 1)]) == {"v": 101, "d": 1}
    assert butler.get(bias) == {"bias": 1}
    with pytest.raises(DatasetNotFoundError):
        butler.get("bias", instrument="Cam", detector=0, collections="calib", timespan=Timespan.at(T0 + HOUR))


def test_unstore_only_keeps_memberships(butler):
    refs = _put_all(butler)
    butler.registry.register_collection("tagged", CollectionType.TAGGED)
    butler.registry.associate("tagged", [refs[(100, 1)]])
    path = butler.get_uri(refs[(100, 1)])

    butler.prune_datasets([refs[(100, 1)]], disassociate=False)

    assert not path.exists()
    assert _ids(butler, "tagged") == {refs[(100, 1)].id}
    assert butler.registry.get_dataset(refs[(100, 1)].id) == refs[(100, 1)]
    assert not butler.exists(refs[(100, 1)])
    with pytest.raises(DatasetNotFoundError, match="no file"):
        butler.get(refs[(100, 1)])


def test_unknown_refs_change_nothing_and_are_named(butler):
    refs = _put_all(butler)
    ghost = DatasetRef(refs[(101, 0)].dataset_type, refs[(101, 0)].data_id, "run1", uuid.uuid4())
    wrong_run = DatasetRef(refs[(101, 1)].dataset_type, refs[(101, 1)].data_id, "elsewhere", refs[(101, 1)].id)
    with pytest.raises(DatasetNotFoundError) as info:
        butler.prune_datasets([refs[(100, 0)], ghost, wrong_run], purge=True)
    message = str(info.value)
    assert str(ghost.id) in message and "visit: 101" in message and "detector: 0" in message
    assert "2 of 3" in message and "in run 'run1'" in message and "'elsewhere'" in message
    assert _ids(butler, "run1") == {r.id for r in refs.values()}  # nothing pruned
    assert all(butler.exists(r) for r in refs.values())


def test_purge_needs_unstore_and_disassociate(butler):
    refs = _put_all(butler)
    with pytest.raises(ButlerUsageError, match="unstore=True"):
        butler.prune_datasets([refs[(100, 0)]], purge=True, unstore=False)
    with pytest.raises(ButlerUsageError):
        butler.prune_datasets([refs[(100, 0)]], purge=True, disassociate=False)
    assert butler.exists(refs[(100, 0)])


def test_rollback_restores_everything(butler):
    refs = _put_all(butler)
    paths = {k: butler.get_uri(r) for k, r in refs.items()}
    with pytest.raises(RuntimeError, match="boom"):
        with butler.transaction():
            butler.prune_datasets(refs.values(), purge=True)
            raise RuntimeError("boom")
    assert _ids(butler, "run1") == {r.id for r in refs.values()}
    for key, ref in refs.items():
        assert paths[key].exists()
        assert butler.get(ref) == {"v": key[0], "d": key[1]}


@pytest.mark.parametrize("id_generation", [DatasetIdGenEnum.UNIQUE, DatasetIdGenEnum.DATAID_TYPE_RUN])
def test_clobber_prune_then_put_in_one_transaction(butler, id_generation):
    old = butler.put({"old": 1}, "calexp_meta", instrument="Cam", visit=100, detector=0, id_generation=id_generation)
    path = butler.get_uri(old)
    # Rolled back: the old dataset and its file come back, the new file is gone.
    with pytest.raises(RuntimeError):
        with butler.transaction():
            butler.prune_datasets([old], purge=True)
            butler.put({"new": 2}, "calexp_meta", instrument="Cam", visit=100, detector=0, id_generation=id_generation)
            raise RuntimeError("quantum failed")
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0) == {"old": 1}
    assert butler.get_uri(old) == path and path.exists()
    # Committed: the new content survives the deferred deletion of the old file.
    with butler.transaction():
        butler.prune_datasets([old], purge=True)
        new = butler.put(
            {"new": 2}, "calexp_meta", instrument="Cam", visit=100, detector=0, id_generation=id_generation
        )
    assert (new.id == old.id) is (id_generation is DatasetIdGenEnum.DATAID_TYPE_RUN)
    assert butler.get("calexp_meta", instrument="Cam", visit=100, detector=0) == {"new": 2}
    assert butler.get_uri(new) == path and path.exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no leftovers


def test_in_memory_datastore_clobber(make_butler, populate_repo):
    butler = make_butler(config={"datastore": {"cls": "inmemory"}}, run="run1")
    populate_repo(butler)
    butler.register_dataset_type("calexp_meta", ["visit", "detector"], "StructuredDataDict")
    gen = DatasetIdGenEnum.DATAID_TYPE_RUN
    old = butler.put({"old": 1}, "calexp_meta", instrument="Cam", visit=100, detector=0, id_generation=gen)
    with pytest.raises(RuntimeError):
        with butler.transaction():
            butler.prune_datasets([old], purge=True)
            raise RuntimeError
    assert butler.get(old) == {"old": 1}
    with butler.transaction():
        butler.prune_datasets([old], purge=True)
        new = butler.put({"new": 2}, "calexp_meta", instrument="Cam", visit=100, detector=0, id_generation=gen)
    assert new.id == old.id
    assert butler.get(new) == {"new": 2}


def test_component_refs_and_duplicates_prune_the_parent(butler):
    refs = _put_all(butler)
    ref = refs[(101, 0)]
    pruned = butler.prune_datasets([ref.make_component_ref("keys"), ref], purge=True)
    assert pruned == [ref] and pruned[0].component is None
    assert butler.registry.get_dataset(ref.id) is None


def test_direct_ingest_files_are_never_deleted(butler, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n")
    [ref] = butler.ingest(
        FileDataset(outside, dataset_type="calexp_meta", data_id={"instrument": "Cam", "visit": 100, "detector": 3}),
        transfer="direct",
    )
    butler.prune_datasets([ref], purge=True)
    assert butler.registry.get_dataset(ref.id) is None
    assert outside.read_text() == "a: 1\n"


def test_cli_prune_datasets(butler):
    refs = _put_all(butler)
    root = str(butler.root)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["prune-datasets", root, "calexp_meta", "--collections", "run1", "--where", "visit = 101", "--purge"],
        input="n\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Aborted." in result.output and "visit: 101" in result.output
    assert _ids(butler, "run1") == {r.id for r in refs.values()}
    result = runner.invoke(
        cli,
        ["prune-datasets", root, "calexp_meta", "--collections", "run1", "--where", "visit = 101", "--purge",
         "--no-confirm"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Purged 2 dataset(s)." in result.output
    assert _ids(butler, "run1") == {refs[(100, 0)].id, refs[(100, 1)].id}
    result = runner.invoke(cli, ["prune-datasets", root, "calexp_meta", "--collections", "run1", "--where",
                                 "visit = 101", "--no-confirm"])  # fmt: skip
    assert result.exit_code == 1 and "no dataset matches" in result.output
