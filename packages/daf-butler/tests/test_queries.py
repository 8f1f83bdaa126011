"""Queries with where clauses against a populated repository, checked against Python truth."""

from __future__ import annotations

import datetime
import re

import numpy as np
import pytest

from osprey.daf.butler import CollectionType, InvalidQueryError, Timespan

T0 = 1_750_000_000 * 10**9  # conftest.populate's time origin
HOUR = 3600 * 10**9
BANDS = {100: "r", 101: "g", 102: "r"}
ALL = [(v, d) for v in (100, 101, 102) for d in range(4)]


def iso(ns: int) -> str:
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=ns // 1000)).isoformat()


@pytest.fixture
def repo(butler):
    """run1 has every (visit, detector); run2 has detectors 0-1 of visit 100 only; chain = [run2, run1]."""
    for v, d in ALL:
        butler.put({"v": v, "d": d}, "calexp_meta", instrument="Cam", visit=v, detector=d)
    for d in (0, 1):
        butler.put(
            {"v": 100, "d": d, "rerun": True}, "calexp_meta", instrument="Cam", visit=100, detector=d, run="run2"
        )
    butler.registry.register_collection("chain", CollectionType.CHAINED)
    butler.registry.set_collection_chain("chain", ["run2", "run1"])
    return butler


CASES = [
    ("visit IN (100..102:2) AND detector > 1", lambda v, d: v in (100, 102) and d > 1, {}),
    ("band = 'r' OR detector = 0", lambda v, d: BANDS[v] == "r" or d == 0, {}),
    ("NOT (detector IN (1, 2))", lambda v, d: d not in (1, 2), {}),
    ("visit = :v AND detector IN (:dets)", lambda v, d: v == 101 and d in (0, 3), {"v": np.int64(101), "dets": [0, 3]}),
    ("detector NOT IN (0..2) OR visit = 100 AND detector = 1", lambda v, d: d > 2 or (v == 100 and d == 1), {}),
    ("visit.exposure_time > 20 AND detector != 3", lambda v, d: d != 3, {}),
    ("visit.exposure_time < 20", lambda v, d: False, {}),
    ("physical_filter = 'Cam-G' AND detector.full_name = 'S2'", lambda v, d: v == 101 and d == 2, {}),
    ("exposure.exposure_time = 30 AND exposure = 102", lambda v, d: v == 102, {}),
    (
        f"visit.timespan OVERLAPS (T'{iso(T0 + HOUR + 10 * 10**9)}', T'{iso(T0 + 2 * HOUR)}')",
        lambda v, d: v == 101,
        {},
    ),
    (f"visit.timespan OVERLAPS T'{iso(T0 + 5 * 10**9)}'", lambda v, d: v == 100, {}),
    (f"visit.timespan < T'{iso(T0 + HOUR)}' AND detector = 0", lambda v, d: v == 100 and d == 0, {}),
    ("visit.timespan OVERLAPS :span", lambda v, d: v in (101, 102), {"span": Timespan(T0 + HOUR, None)}),
    ("visit - 100 = detector * 2", lambda v, d: v - 100 == d * 2, {}),
    ("visit % 2 = 0 AND instrument = 'Cam'", lambda v, d: v % 2 == 0, {}),
]


@pytest.mark.parametrize("where, truth, bind", CASES, ids=[c[0][:40] for c in CASES])
def test_where_matches_python_truth(repo, where, truth, bind):
    refs = repo.query_datasets("calexp_meta", collections="run1", where=where, bind=bind)
    assert sorted((r.data_id["visit"], r.data_id["detector"]) for r in refs) == [x for x in ALL if truth(*x)]
    ids = repo.query_data_ids(["visit", "detector"], where=where, bind=bind)
    assert sorted((i["visit"], i["detector"]) for i in ids) == [x for x in ALL if truth(*x)]


def test_data_ids_are_full_and_deduplicated(repo):
    ids = repo.query_data_ids(["visit"], where="detector IN (0..3)")
    assert [i["visit"] for i in ids] == [100, 101, 102]
    assert ids[0].to_simple() == {
        "instrument": "Cam", "band": "r", "physical_filter": "Cam-R", "day_obs": 20250601, "visit": 100,
    }  # fmt: skip
    bands = repo.query_data_ids("band", datasets="calexp_meta", collections="run2")
    assert [b["band"] for b in bands] == ["r"]


def test_find_first_and_all(repo):
    first = repo.query_datasets("calexp_meta", collections="chain", where="visit = 100")
    assert [(r.data_id["detector"], r.run) for r in first] == [(0, "run2"), (1, "run2"), (2, "run1"), (3, "run1")]
    everything = repo.query_datasets("calexp_meta", collections="chain", where="visit = 100", find_first=False)
    assert sorted((r.data_id["detector"], r.run) for r in everything) == sorted(
        [(0, "run2"), (1, "run2"), (0, "run1"), (1, "run1"), (2, "run1"), (3, "run1")]
    )
    reversed_order = repo.query_datasets("calexp_meta", collections=["run1", "run2"], where="visit = 100")
    assert {r.run for r in reversed_order} == {"run1"}


def test_order_by_and_limit(repo):
    refs = repo.query_datasets("calexp_meta", collections="run1", order_by=["-visit", "detector"], limit=5)
    assert [(r.data_id["visit"], r.data_id["detector"]) for r in refs] == sorted(ALL, key=lambda x: (-x[0], x[1]))[:5]
    ids = repo.query_data_ids(["visit", "detector"], order_by="-detector", limit=4)
    assert [(i["detector"], i["visit"]) for i in ids] == [(3, 100), (3, 101), (3, 102), (2, 100)]
    records = repo.query_dimension_records("visit", order_by=["-visit.timespan"], where="band = 'r'")
    assert [r.id for r in records] == [102, 100]
    records = repo.query_dimension_records("detector", where="detector.full_name IN ('S1', 'S3')", limit=1)
    assert [r.id for r in records] == [1]
    with pytest.raises(InvalidQueryError, match="cannot order by"):
        repo.query_data_ids(["detector"], order_by="visit")


def test_wildcards_are_consistent(repo):
    repo.registry.register_run("HSC/runs/a")
    assert repo.query_collections("run*") == ["run1", "run2"]
    assert repo.query_collections(re.compile(r"run\d")) == ["run1", "run2"]
    by_glob = repo.query_datasets("calexp*", collections="run*", find_first=False)
    by_regex = repo.query_datasets(re.compile("calexp_.*"), collections=[re.compile("run[12]")], find_first=False)
    assert len(by_glob) == len(by_regex) == len(ALL) + 2
    assert [dt.name for dt in repo.query_dataset_types("calexp_*")] == ["calexp_meta"]
    assert len(repo.query_datasets(..., collections=...)) == len(ALL)


def test_empty_results_explain_themselves(repo):
    cases = [
        (
            dict(dataset_type="calexp_metta", collections="run1"),
            "'calexp_metta' is not registered (did you mean 'calexp_meta'?)",
        ),
        (
            dict(dataset_type="calexp_meta", collections="rum1"),
            "collection 'rum1' is not registered (did you mean 'run1'?)",
        ),
        (dict(dataset_type="nothing*", collections="run1"), "no registered dataset type matches 'nothing*'"),
        (dict(dataset_type="calexp_meta", collections="HSC/runs/*"), "no collection matches 'HSC/runs/*'"),
        (dict(dataset_type="calexp_meta", collections="empty"), "hold no 'calexp_meta' datasets"),
        (
            dict(dataset_type="calexp_meta", collections="run1", where="visit = 999"),
            "'visit = 999' (column 1) matches no visit records",
        ),
        (
            dict(dataset_type="calexp_meta", collections="run1", where="detector = 1 AND visit.exposure_time > 99"),
            "'visit.exposure_time > 99' (column 18) matches no visit records",
        ),
        (
            dict(dataset_type="calexp_meta", collections="run1", where="detector = 1 AND band = 'g'", visit=100),
            "not all together",
        ),
        (
            dict(dataset_type="calexp_meta", collections="run2", visit=101),
            "data ID constraint visit=101 matches nothing",
        ),
    ]
    repo.registry.register_run("empty")
    for kwargs, fragment in cases:
        refs = repo.query_datasets(**kwargs)
        assert refs == []
        reasons = refs.explain_no_results()
        assert any(fragment in r for r in reasons), (kwargs, reasons)
    records = repo.query_dimension_records("tract")
    assert "no 'tract' dimension records exist" in records.explain_no_results()[0]
    assert repo.query_datasets("calexp_meta", collections="run1").explain_no_results() == []


def test_bad_expressions(repo):
    with pytest.raises(InvalidQueryError, match="unknown dimension 'vist' at column 1 \\(did you mean 'visit'\\?\\)"):
        repo.query_datasets("calexp_meta", collections="run1", where="vist = 3")
    with pytest.raises(InvalidQueryError, match="has no field 'exposure_tim' at column 7 \\(did you mean"):
        repo.query_data_ids(["visit"], where="visit.exposure_tim > 3")
    with pytest.raises(InvalidQueryError, match="'abc' is a string at column 9"):
        repo.query_data_ids(["visit"], where="visit = 'abc'")
    with pytest.raises(InvalidQueryError, match="band is a string dimension; 3 is an integer"):
        repo.query_data_ids(["visit"], where="band = 3")
    with pytest.raises(InvalidQueryError, match="unknown bind parameter ':vv'.*did you mean 'v'"):
        repo.query_data_ids(["visit"], where="visit = :vv", bind={"v": 1})
    with pytest.raises(InvalidQueryError, match="not a condition"):
        repo.query_data_ids(["visit"], where="visit")
    with pytest.raises(InvalidQueryError, match="cannot compare"):
        repo.query_data_ids(["visit"], where="visit.exposure_time = 'long'")


@pytest.mark.parametrize(
    "where",
    [
        "visit = 1 -- comment",
        "instrument = 'Cam''; DROP TABLE dataset; --'",
        "instrument = 'Cam' OR 1=1; DROP TABLE collection",
        "visit = (SELECT 1)",
        'instrument = "Cam" ; --',
    ],
)
def test_malicious_where_raises_and_changes_nothing(repo, where):
    with pytest.raises(InvalidQueryError):
        repo.query_datasets("calexp_meta", collections="run1", where=where)
    assert len(repo.query_datasets("calexp_meta", collections="run1")) == len(ALL)


def test_malicious_values_are_plain_values(repo):
    for value in ["'; DROP TABLE dataset; --", "Cam' OR '1'='1", 'x"); DELETE FROM dataset; --']:
        assert repo.query_datasets("calexp_meta", collections="run1", where="instrument = :i", bind={"i": value}) == []
    assert repo.query_datasets("calexp_meta", collections="run1", where="instrument = '; DROP TABLE dataset; --'") == []
    assert len(repo.query_datasets("calexp_meta", collections="run1")) == len(ALL)


def test_calibration_lookup_by_time(make_butler, populate_repo):
    butler = make_butler(run="calib/run")
    populate_repo(butler)
    butler.register_dataset_type("bias", ["instrument", "detector"], "StructuredDataDict", is_calibration=True)
    early = butler.put({"epoch": 0}, "bias", instrument="Cam", detector=1)
    late = butler.put({"epoch": 1}, "bias", instrument="Cam", detector=1, run="calib/run2")
    butler.certify("Cam/calib", [early], Timespan(None, T0 + HOUR))
    butler.certify("Cam/calib", [late], Timespan(T0 + HOUR, None))
    for exposure, expected in ((100, early.id), (101, late.id), (102, late.id)):
        refs = butler.query_datasets("bias", collections="Cam/calib", where=f"exposure = {exposure}")
        assert [r.id for r in refs] == [expected]
    refs = butler.query_datasets("bias", collections="Cam/calib", timespan=Timespan.at(T0))
    assert [r.id for r in refs] == [early.id]
    with pytest.raises(InvalidQueryError, match="needs a time"):
        butler.query_datasets("bias", collections="Cam/calib")
    assert len(butler.query_datasets("bias", collections="Cam/calib", find_first=False)) == 2
