"""A night of simulated visits through osprey.geom and the Data Butler.

Each visit is a 3.5-degree square field (the LSSTCam science array, approximately) at a
random boresight and rotation. For every visit we compute what the data-access and coadd
layers need: the HTM level-7 trixels (the registry's common spatial index), the HEALPix
order-11 nest pixels, and the tracts and patches of the LSST-style rings skymap it
overlaps. Then a Butler repository (SQLite, local files) is created; the visits, their
regions and the skymap's tracts are registered as dimension records, a per-visit summary
is stored as a dataset, and spatial ``where`` queries find the visits over the busiest
tract. The run checks its own answers against truth before reporting.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np

from osprey.daf.butler import Butler, Timespan
from osprey.geom import (
    ConvexPolygon,
    HealpixPixelization,
    HtmPixelization,
    RingsSkyMap,
    SpherePoint,
    offset,
    radians,
)

FIELD_SIDE_DEG = 3.5
VISIT_NS, EXPOSURE_NS = 40_000_000_000, 30_000_000_000  # a 30 s exposure every 40 s


def visit_polygon(lon: float, lat: float, rotation: float) -> ConvexPolygon:
    """The field's four corners, half a diagonal from the boresight, CCW on the sky."""
    half_diagonal = math.radians(FIELD_SIDE_DEG) / math.sqrt(2.0)
    bearings = rotation + np.radians([45.0, 135.0, 225.0, 315.0])
    lons, lats = offset(np.full(4, lon), np.full(4, lat), bearings, np.full(4, half_diagonal))
    corners = [SpherePoint(a, b, radians) for a, b in zip(lons, lats, strict=True)]
    return ConvexPolygon.convex_hull(corners)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=200, help="visits in the night (default 200)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    # Fields uniform on the sphere between dec -70 and +10 (a southern survey's sky), each
    # visited ten times with dithers of up to 0.7 degrees, as a night's cadence would.
    n_fields = max(1, args.visits // 10)
    z = rng.uniform(math.sin(math.radians(-70.0)), math.sin(math.radians(10.0)), n_fields)
    field = rng.integers(0, n_fields, args.visits)
    lons, lats = offset(rng.uniform(0.0, 2.0 * math.pi, n_fields)[field], np.arcsin(z)[field],
                        rng.uniform(0.0, 2.0 * math.pi, args.visits), np.radians(rng.uniform(0.0, 0.7, args.visits)))
    rotations = rng.uniform(0.0, 2.0 * math.pi, args.visits)

    start = time.perf_counter()
    skymap = RingsSkyMap()
    htm7, hpx11 = HtmPixelization(7), HealpixPixelization(11, "nest")
    boresight_htm = htm7.index(lons, lats)
    boresight_hpx = hpx11.index(lons, lats)
    boresight_tract = skymap.find_tract_ids(lons, lats)
    records, polygons, tracts_seen, patches_seen = [], [], set(), set()
    for i in range(args.visits):
        polygon = visit_polygon(lons[i], lats[i], rotations[i])
        polygons.append(polygon)
        trixels, healpixels = htm7.envelope(polygon), hpx11.envelope(polygon)
        overlaps = skymap.find_tract_patch_list(polygon)
        tract_ids = [t.tract_id for t, _ in overlaps]
        # Truth checks: the boresight's own pixels and tract must be among the visit's.
        assert trixels.contains(int(boresight_htm[i])), f"visit {i}: HTM envelope misses its boresight"
        assert healpixels.contains(int(boresight_hpx[i])), f"visit {i}: HEALPix envelope misses its boresight"
        assert int(boresight_tract[i]) in tract_ids, f"visit {i}: boresight tract not in overlap list"
        for tract, patches in overlaps:
            tracts_seen.add(tract.tract_id)
            patches_seen.update((tract.tract_id, p.sequential_index) for p in patches)
        records.append({
            "visit": i,
            "ra_deg": math.degrees(lons[i]),
            "dec_deg": math.degrees(lats[i]),
            "rotation_deg": math.degrees(rotations[i]),
            "htm7_ranges": [[int(b), int(e)] for b, e in trixels],
            "healpix11_nest_pixels": int(healpixels.size()),
            "tract_patches": {str(t.tract_id): [p.sequential_index for p in ps] for t, ps in overlaps},
        })
    elapsed = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    out_file = args.out / "night_visits.json"
    tmp = out_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"skymap": skymap.to_dict(), "visits": records}, indent=1))
    tmp.replace(out_file)  # atomic: a reader never sees half a file

    busiest, n_visits, query_s = register_night(args.out / "repo", skymap, polygons, records)

    trixel_counts = [sum(e - b for b, e in r["htm7_ranges"]) for r in records]
    print(f"skymap {skymap.name}: {len(skymap)} tracts")
    print(f"{args.visits} visits of {FIELD_SIDE_DEG} deg fields, all truth checks passed")
    print(f"  HTM7 trixels per visit     mean {np.mean(trixel_counts):7.1f}  max {max(trixel_counts)}")
    hp_counts = [r["healpix11_nest_pixels"] for r in records]
    print(f"  HEALPix o11 pixels/visit   mean {np.mean(hp_counts):7.1f}  max {max(hp_counts)}")
    print(f"  tracts touched {len(tracts_seen)}, patches touched {len(patches_seen)}")
    print(f"  {elapsed:.2f} s in all, {1e3 * elapsed / args.visits:.1f} ms per visit; wrote {out_file}")
    print(f"butler repo {args.out / 'repo'}: {len(records)} visits registered and summarised;")
    print(f"  tract {busiest} is the busiest: {n_visits} visits overlap it (spatial where query, {query_s:.2f} s)")
    return 0


def register_night(repo: Path, skymap: RingsSkyMap, polygons: list, records: list[dict]) -> tuple[int, int, float]:
    """Record the night in a fresh Butler repo and query it spatially; returns the busiest
    tract, how many visits overlap it, and the query time. Every answer is checked."""
    shutil.rmtree(repo, ignore_errors=True)  # the demo starts from scratch each run
    Butler.make_repo(repo)
    butler = Butler.from_config(repo, run="demo/night", collections=["demo/night"])
    reg = butler.registry
    reg.insert_dimension_data("instrument", {"name": "SimCam", "detector_max": 1})
    reg.insert_dimension_data("band", {"name": "r"})
    reg.insert_dimension_data("physical_filter", {"instrument": "SimCam", "name": "SimCam-r", "band": "r"})
    reg.insert_dimension_data("day_obs", {"instrument": "SimCam", "id": 20261122})
    start_ns = Timespan.from_iso("2026-11-22T01:00:00", None).begin
    reg.insert_dimension_data("visit", *[
        {"instrument": "SimCam", "id": r["visit"], "physical_filter": "SimCam-r", "day_obs": 20261122,
         "exposure_time": 30.0, "region": polygon,
         "timespan": Timespan(start_ns + r["visit"] * VISIT_NS, start_ns + r["visit"] * VISIT_NS + EXPOSURE_NS)}
        for r, polygon in zip(records, polygons, strict=True)
    ])
    tract_ids = sorted({int(t) for r in records for t in r["tract_patches"]})
    reg.insert_dimension_data("skymap", {"name": skymap.name, "hash": skymap.id_hash, "tract_max": len(skymap)})
    reg.insert_dimension_data("tract", *[
        {"skymap": skymap.name, "id": t, "region": skymap[t].outer_region} for t in tract_ids
    ])
    butler.register_dataset_type("visit_summary", ["instrument", "visit"], "StructuredDataDict")
    with butler.transaction():
        for r in records:
            butler.put(r, "visit_summary", instrument="SimCam", visit=r["visit"])

    counts: dict[int, int] = {}
    for r in records:
        for t in r["tract_patches"]:
            counts[int(t)] = counts.get(int(t), 0) + 1
    busiest = max(counts, key=lambda t: (counts[t], -t))
    start = time.perf_counter()
    refs = butler.query_datasets("visit_summary", where="visit.region OVERLAPS :region",
                                 bind={"region": skymap[busiest].outer_region})
    query_s = time.perf_counter() - start
    found = sorted(ref.data_id["visit"] for ref in refs)
    truth = [i for i, p in enumerate(polygons) if not p.is_disjoint_from(skymap[busiest].outer_region)]
    assert found == truth, f"spatial query found visits {found}, exact region tests say {truth}"
    joined = butler.query_data_ids(["visit", "tract"], where="skymap = :s AND tract = :t",
                                   bind={"s": skymap.name, "t": busiest})
    assert sorted(d["visit"] for d in joined) == truth, "the implicit visit-tract spatial join disagrees"
    assert butler.get("visit_summary", instrument="SimCam", visit=truth[0])["visit"] == truth[0]
    return busiest, len(found), query_s


if __name__ == "__main__":
    raise SystemExit(main())
