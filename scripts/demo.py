"""The Osprey demo: a simulated night from raw files to a queryable Butler repository.

Stages (each timed): create a repository (SQLite + local files) and register the
instrument; simulate a small night with osprey.sims (bias, dark and flat frames, then
dithered science visits in several bands, for a few detectors) in the instrument's real
raw format; ingest the raws; define visits with their sky regions; write the
instrument's curated calibrations; check the repository against the simulation's truth;
build and certify bias, dark and flat with the cp pipelines and run instrument signature
removal on the science exposures, all through ``pipetask``; and finally the spatial
showcase (HTM/HEALPix indexing and tract/patch lookup of a 200-visit night, queried
through the registry). Everything is checked, then summarised.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

DEFAULT_DETECTORS = {"LSSTCam": "94,95", "DECam": "25,26"}


class Stages:
    """Times named stages and prints a table at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []

    def run(self, name: str, func, *args, **kwargs):
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        result = func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        detail = result[1] if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str) else ""
        self.rows.append((name, elapsed, detail))
        print(f"   {detail}  ({elapsed:.1f} s)", flush=True)
        return result[0] if detail else result

    def table(self) -> str:
        width = max(len(n) for n, _, _ in self.rows)
        lines = [f"{'stage'.ljust(width)}  {'time':>8}  result", f"{'-' * width}  {'-' * 8}  {'-' * 40}"]
        lines += [f"{n.ljust(width)}  {t:7.1f}s  {d}" for n, t, d in self.rows]
        lines.append(f"{'total'.ljust(width)}  {sum(t for _, t, _ in self.rows):7.1f}s")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instrument", default="LSSTCam", help="LSSTCam (default) or DECam: any installed obs package")
    parser.add_argument("--out", type=Path, default=Path("demo-repo"), help="repository directory (replaced)")
    parser.add_argument("--detectors", help="comma-separated detector ids (default: two science detectors)")
    parser.add_argument("--bands", default="g,r,i", help="bands of the science visits (default g,r,i)")
    parser.add_argument("--visits-per-band", type=int, default=2)
    parser.add_argument("--night-visits", type=int, default=200, help="visits of the spatial showcase")
    parser.add_argument("--quick", action="store_true", help="CI size: one detector, two bands, few calibrations")
    parser.add_argument("-j", "--processes", type=int, default=2, help="processes reading headers at ingest")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)

    from osprey.daf.butler import Butler
    from osprey.obs.base import Instrument, define_visits, ingest_raws
    from osprey.sims import SimConfig, SurveyPlan, run_survey

    instrument = Instrument.from_name(args.instrument)
    detectors = args.detectors or DEFAULT_DETECTORS.get(instrument.name)
    if detectors is None:
        parser.error(f"give --detectors for {instrument.name}")
    detector_ids = tuple(int(d) for d in detectors.split(","))
    bands = tuple(b.strip() for b in args.bands.split(","))
    plan = SurveyPlan(
        bands=bands, visits_per_band=args.visits_per_band, detectors=detector_ids, n_bias=3, n_dark=2,
        flat_levels=(5000.0, 20000.0),
    )
    if args.quick:
        plan = SurveyPlan(
            bands=bands[:2], visits_per_band=1, detectors=detector_ids[:1], n_bias=2, n_dark=2, flat_levels=(5000.0,)
        )
        args.night_visits = min(args.night_visits, 40)
    detector_ids = plan.detectors

    out = args.out.absolute()
    if out.exists():
        shutil.rmtree(out)
    stages = Stages()

    def create():
        Butler.make_repo(out / "repo")
        butler = Butler.from_config(out / "repo")
        instrument.register(butler)
        n_det = len(list(butler.query_dimension_records("detector", instrument=instrument.name)))
        return butler, f"{out / 'repo'}: {instrument.name} registered with {n_det} detectors"

    butler = stages.run("create repository, register instrument", create)

    def simulate():
        def progress(done, total, label):
            print(f"\r   {done}/{total} {label:<40}", end="" if done < total else "\n", flush=True)

        result = run_survey(instrument, out / "sim", plan, SimConfig(seed=args.seed), progress=progress)
        kinds = Counter(spec.observation_type for spec in result.exposures)
        return result, (
            f"{len(result.raws)} raw files: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + f" x {len(detector_ids)} detector(s); {len(result.refcat_shards)} refcat shards"
        )

    survey = stages.run("simulate the night (osprey.sims)", simulate)

    def ingest():
        result = ingest_raws(butler, survey.raws, processes=args.processes, instrument=instrument)
        if not result.ok:
            raise SystemExit("ingest failed:\n" + "\n".join(str(f) for f in result.failed))
        return result, result.summary()

    ingested = stages.run("ingest raws", ingest)

    def visits():
        result = define_visits(butler, instrument)
        return result, f"{len(result.defined)} visits defined ({len(result.skipped)} calibration exposures skipped)"

    defined = stages.run("define visits", visits)

    def curated():
        written = instrument.write_curated_calibrations(butler)
        where = instrument.make_calibration_collection_name()
        return written, f"{len(written)} curated calibration dataset(s) certified in {where}"

    stages.run("write curated calibrations", curated)

    def check():
        science = [s for s in survey.exposures if s.observation_type == "science"]
        assert len(defined.defined) == len(science), "one visit per science exposure"
        exposures = list(butler.query_dimension_records("exposure", instrument=instrument.name))
        assert len(exposures) == len(survey.exposures)
        by_band = Counter(r.physical_filter for r in exposures if r.observation_type == "science")
        raws = butler.query_datasets("raw", collections=instrument.make_default_raw_run())
        assert len(raws) == len(ingested.ingested) == len(survey.exposures) * len(detector_ids)
        one = butler.get(raws[0])
        assert one.image.array.shape[0] > 1000
        regions = butler.query_dimension_records("visit_detector_region", instrument=instrument.name)
        ours = [r for r in regions if r.detector in detector_ids]
        assert len(ours) == len(science) * len(detector_ids), "a sky region per visit and simulated detector"
        return None, (
            f"{len(exposures)} exposures, {len(raws)} raw datasets, science by filter "
            + ", ".join(f"{k}={v}" for k, v in sorted(by_band.items()))
            + f"; a raw reads back as a {one.image.array.shape[1]}x{one.image.array.shape[0]} Exposure"
        )

    stages.run("check the repository against the simulation", check)
    butler.close()

    pipelines = Path(__file__).absolute().parent.parent / "packages" / "ip-isr" / "pipelines"
    pipetask = Path(sys.executable).with_name("pipetask")
    raws, calib = instrument.make_default_raw_run(), instrument.make_calibration_collection_name()
    # The simulation's crosstalk and non-linearity are left in: no cp product for them yet here.
    no_xtalk = ["-c", "isr:do_crosstalk=false", "-c", "isr:do_linearize=false"]

    def make_calibration(kind: str, extra: list[str]):
        output = f"{instrument.name}/cp/{kind}"
        command = [
            str(pipetask), "run", "-b", str(out / "repo"), "-i", f"{raws},{calib}", "-o", output,
            "-p", str(pipelines / f"cp{kind.capitalize()}.yaml"), "-j", str(args.processes),
            "-d", f"exposure.observation_type = '{kind}'", *extra,
        ]
        subprocess.run(command, check=True)
        from osprey.ip.isr import certify_calibrations

        with Butler.from_config(out / "repo") as repo:
            run = repo.registry.get_collection_chain(output)[0]
            refs = certify_calibrations(repo, kind, run, calib)
        return refs, f"{len(refs)} {kind} certified into {calib} (pipetask -j {args.processes}, verified)"

    stages.run("cpBias: combined bias (pipetask)", make_calibration, "bias", [])
    stages.run("cpDark: combined dark (pipetask)", make_calibration, "dark", [])
    stages.run("cpFlat: combined flat (pipetask)", make_calibration, "flat", no_xtalk)

    def isr():
        command = [
            str(pipetask), "run", "-b", str(out / "repo"), "-i", f"{raws},{calib}", "-o", f"{instrument.name}/isr",
            "-p", str(pipelines / "isr.yaml"), "-j", str(args.processes),
            # The simulated flats are in the first band only: its science exposures have a flat.
            "-d", f"exposure.observation_type = 'science' AND band = '{plan.bands[0]}'",
            *no_xtalk, "-c", "isr:do_defect=false",
            "--summary", str(out / "isr-summary.json"),
        ]
        subprocess.run(command, check=True)
        with Butler.from_config(out / "repo") as repo:
            refs = repo.query_datasets("post_isr_image", collections=f"{instrument.name}/isr")
            image = repo.get(refs[0]).image.array
        height, width = image.shape
        return refs, f"{len(refs)} post_isr_image(s); {width}x{height}, median {float(np.median(image)):.0f} e"

    stages.run(f"ISR of the {plan.bands[0]}-band science exposures (pipetask)", isr)

    sys.path.insert(0, str(Path(__file__).parent))
    import demo_night

    stages.run(
        f"spatial showcase: a {args.night_visits}-visit night (geom + registry)",
        lambda: (demo_night.main(["--visits", str(args.night_visits), "--out", str(out / "night")]), "see above"),
    )
    print()
    print(stages.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
