"""Spatial joins: regions stored with their htm7 overlaps; patches overlapping visits via SQL."""

from __future__ import annotations

import math

import pytest

from osprey.daf.butler import DataIdError
from osprey.geom import Angle, ConvexPolygon, Extent2I, RingsSkyMap, RingsSkyMapConfig, SpherePoint, arcseconds, degrees


def _square(ra, dec, half):
    return ConvexPolygon(
        [SpherePoint(ra + dx * half, dec + dy * half, degrees) for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    )


@pytest.fixture
def sky_butler(butler):
    reg = butler.registry
    skymap = RingsSkyMap(
        RingsSkyMapConfig(num_rings=40, patch_inner_dimensions=Extent2I(1000, 1000), pixel_scale=Angle(2.0, arcseconds))
    )
    reg.insert_dimension_data("skymap", {"name": "demo", "hash": skymap.id_hash, "tract_max": len(skymap)})
    # the tracts around the visits (conftest puts visits at ra 10, 11, 12 deg, dec 0)
    tract_ids = sorted(
        {int(t) for t in skymap.find_tract_ids([math.radians(x) for x in (9.5, 10, 11, 12, 12.5)], [0.0] * 5)}
    )
    patches = {}
    for tract_id in tract_ids:
        tract = skymap[tract_id]
        reg.insert_dimension_data("tract", {"skymap": "demo", "id": tract_id, "region": tract.outer_region})
        rows = []
        for patch in tract:
            region = tract.patch_outer_region(patch)
            patches[(tract_id, patch.sequential_index)] = region
            rows.append(
                {
                    "skymap": "demo",
                    "tract": tract_id,
                    "id": patch.sequential_index,
                    "cell_x": patch.index.x,
                    "cell_y": patch.index.y,
                    "region": region,
                }
            )
        reg.insert_dimension_data("patch", *rows)
    detectors = {}
    rows = []
    for i, visit in enumerate((100, 101, 102)):
        for d in range(4):
            region = _square(10.0 + i + 0.15 * (d % 2) - 0.075, 0.15 * (d // 2) - 0.075, 0.07)
            detectors[(visit, d)] = region
            rows.append({"instrument": "Cam", "visit": visit, "detector": d, "region": region})
    reg.insert_dimension_data("visit_detector_region", *rows)
    return butler, patches, detectors, tract_ids


def test_patches_overlapping_detectors_match_brute_force(sky_butler):
    butler, patches, detectors, _ = sky_butler
    reg = butler.registry
    pairs = reg.query_spatial_overlaps("visit_detector_region", "patch", {"instrument": "Cam"}, {"skymap": "demo"})
    found = {((a["visit"], a["detector"]), (b["tract"], b["patch"])) for a, b in pairs}
    truth = {(vd, tp) for vd, r1 in detectors.items() for tp, r2 in patches.items() if not r1.is_disjoint_from(r2)}
    assert found == truth and len(truth) >= 12
    coarse = reg.query_spatial_overlaps("visit_detector_region", "patch", refine=False)
    coarse_set = {((a["visit"], a["detector"]), (b["tract"], b["patch"])) for a, b in coarse}
    assert truth <= coarse_set  # the htm7 join is conservative; refinement only removes


def test_visits_overlapping_a_tract(sky_butler):
    butler, _, _, tract_ids = sky_butler
    reg = butler.registry
    for tract_id in tract_ids:
        pairs = reg.query_spatial_overlaps(
            "visit", "tract", {"instrument": "Cam"}, {"skymap": "demo", "tract": tract_id}
        )
        tract_region = reg.query_dimension_records("tract", skymap="demo", tract=tract_id)[0].region
        expected = sorted(
            r.id
            for r in reg.query_dimension_records("visit", instrument="Cam")
            if not r.region.is_disjoint_from(tract_region)
        )
        assert sorted(a["visit"] for a, _ in pairs) == expected
    assert sum(len(reg.query_spatial_overlaps("visit", "tract", None, {"tract": t})) for t in tract_ids) >= 3


def test_overlap_rows_follow_region_updates(sky_butler):
    butler, patches, _, _ = sky_butler
    reg = butler.registry
    far = _square(200.0, 45.0, 0.05)
    reg.insert_dimension_data(
        "visit_detector_region", {"instrument": "Cam", "visit": 100, "detector": 0, "region": far}, replace=True
    )
    pairs = reg.query_spatial_overlaps("visit_detector_region", "patch", {"visit": 100, "detector": 0})
    assert pairs == []
    with pytest.raises(DataIdError, match="no regions"):
        reg.query_spatial_overlaps("detector", "patch")
