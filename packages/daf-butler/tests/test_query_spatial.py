"""Region OVERLAPS in where clauses and implicit spatial joins, against brute force."""

from __future__ import annotations

import pytest

from osprey.daf.butler import InvalidQueryError


def test_datasets_overlapping_a_patch_region(sky_repo):
    butler, patches, detectors = sky_repo
    hits = 0
    for (tract, patch), region in sorted(patches.items()):
        refs = butler.query_datasets(
            "calexp_meta", collections="run1", where="visit_detector_region.region OVERLAPS :r", bind={"r": region}
        )
        found = {(r.data_id["visit"], r.data_id["detector"]) for r in refs}
        truth = {vd for vd, det in detectors.items() if not det.is_disjoint_from(region)}
        assert found == truth, (tract, patch)
        hits += bool(truth)
    assert hits >= 3


def test_column_to_column_overlap_and_implicit_join(sky_repo):
    butler, patches, detectors = sky_repo
    truth = {
        (v, d, t, p)
        for (v, d), r1 in detectors.items()
        for (t, p), r2 in patches.items()
        if not r1.is_disjoint_from(r2)
    }
    explicit = butler.query_data_ids(
        ["visit", "detector", "patch"], where="visit_detector_region.region OVERLAPS patch.region"
    )
    implicit = butler.query_data_ids(["visit", "detector", "patch"])
    for ids in (explicit, implicit):
        assert {(i["visit"], i["detector"], i["tract"], i["patch"]) for i in ids} == truth
    tract = sorted(truth)[0][2]
    refs = butler.query_datasets("calexp_meta", collections="run1", where=f"tract = {tract} AND skymap = 'rings'")
    assert {(r.data_id["visit"], r.data_id["detector"]) for r in refs} == {(v, d) for v, d, t, _ in truth if t == tract}


def test_point_and_visit_region(sky_repo):
    butler, _, _ = sky_repo
    ids = butler.query_data_ids(["visit"], where="visit.region OVERLAPS POINT(11.0, 0.0)")
    assert [i["visit"] for i in ids] == [101]
    far = butler.query_data_ids(["visit"], where="visit.region OVERLAPS POINT(200.0, 45.0)")
    assert far == [] and far.explain_no_results()


def test_region_tests_only_under_and(sky_repo):
    butler, patches, _ = sky_repo
    region = next(iter(patches.values()))
    with pytest.raises(InvalidQueryError, match="only be combined with AND"):
        butler.query_data_ids(["visit"], where="visit.region OVERLAPS :r OR visit = 100", bind={"r": region})
    with pytest.raises(InvalidQueryError, match="OVERLAPS needs two timespans"):
        butler.query_data_ids(["visit"], where="visit.region OVERLAPS visit.timespan")
