"""A night of simulated visits through osprey.geom: skypix indexing and tract/patch lookup.

Each visit is a 3.5-degree square field (the LSSTCam science array, approximately) at a
random boresight and rotation. For every visit we compute what the data-access and coadd
layers need: the HTM level-7 trixels (the registry's common spatial index), the HEALPix
order-11 nest pixels, and the tracts and patches of the LSST-style rings skymap it
overlaps. Results are written as JSON; the run checks its own answers against truth
(every boresight lies in its visit's pixels and tract) before reporting.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

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
    # Boresights uniform on the sphere between dec -70 and +10 (a southern survey's sky).
    z = rng.uniform(math.sin(math.radians(-70.0)), math.sin(math.radians(10.0)), args.visits)
    lons, lats = rng.uniform(0.0, 2.0 * math.pi, args.visits), np.arcsin(z)
    rotations = rng.uniform(0.0, 2.0 * math.pi, args.visits)

    start = time.perf_counter()
    skymap = RingsSkyMap()
    htm7, hpx11 = HtmPixelization(7), HealpixPixelization(11, "nest")
    boresight_htm = htm7.index(lons, lats)
    boresight_hpx = hpx11.index(lons, lats)
    boresight_tract = skymap.find_tract_ids(lons, lats)
    records, tracts_seen, patches_seen = [], set(), set()
    for i in range(args.visits):
        polygon = visit_polygon(lons[i], lats[i], rotations[i])
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

    trixel_counts = [sum(e - b for b, e in r["htm7_ranges"]) for r in records]
    print(f"skymap {skymap.name}: {len(skymap)} tracts")
    print(f"{args.visits} visits of {FIELD_SIDE_DEG} deg fields, all truth checks passed")
    print(f"  HTM7 trixels per visit     mean {np.mean(trixel_counts):7.1f}  max {max(trixel_counts)}")
    hp_counts = [r["healpix11_nest_pixels"] for r in records]
    print(f"  HEALPix o11 pixels/visit   mean {np.mean(hp_counts):7.1f}  max {max(hp_counts)}")
    print(f"  tracts touched {len(tracts_seen)}, patches touched {len(patches_seen)}")
    print(f"  {elapsed:.2f} s in all, {1e3 * elapsed / args.visits:.1f} ms per visit; wrote {out_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
