"""`run_survey`: a complete simulated data set on disk.

Writes, under one output directory:

* ``raw/<instrument>/<day_obs>/<seq_num>/<observation_id>_<detector>.fits`` — every exposure
  and detector in the instrument's raw format (``Instrument.write_raw``);
* ``refcat/<name>/<htm7>.fits`` — the HTM-sharded reference catalogue of the scene;
* ``truth/*.parquet`` — the scene (``stars``, ``galaxies``, ``transients``, ``movers``),
  ``exposures`` (one row per exposure), ``sources`` (every object drawn on every detector),
  ``cosmic_rays``, ``defects`` and ``amplifiers`` (gain, read noise, bias level, non-linearity,
  full well per amplifier);
* ``truth/calibs/<detector>/{crosstalk,linearizer,defects}.json`` — the signature in the
  `osprey.ip.isr` calibration formats;
* ``manifest.json`` — the settings and a list of the files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .cadence import ExposureSpec, calibration_sequence, renumber, simple_cadence
from .errors import SimsConfigError
from .refcat import write_reference_catalog
from .scene import BANDS, Catalog, Scene
from .simulator import SimConfig, Simulator, _concat
from .truth import write_truth

__all__ = ["SurveyPlan", "SurveyResult", "run_survey"]

_log = logging.getLogger(__name__)


@dataclasses.dataclass
class SurveyPlan:
    """What to simulate (see `run_survey`)."""

    center: tuple[float, float] = (150.0, -30.0)
    bands: tuple[str, ...] = ("g", "r", "i")
    visits_per_band: int = 2
    nights: int = 1
    start_mjd: float = 60676.2
    exposure_time: float = 30.0
    dither: float = 0.05
    detectors: tuple[int, ...] | None = None
    calibrations: bool = True
    n_bias: int = 5
    n_dark: int = 3
    flat_levels: tuple[float, ...] = (1000.0, 5000.0, 20000.0, 50000.0)
    scene_radius: float | None = None
    refcat_depth: int = 7
    refcat_format: str = "fits"


@dataclasses.dataclass
class SurveyResult:
    """Where everything went."""

    output: Path
    raws: list[Path]
    exposures: list[ExposureSpec]
    refcat_shards: dict[int, Path]
    truth: dict[str, Path]


def run_survey(
    instrument: Any,
    output: str | os.PathLike[str],
    plan: SurveyPlan | None = None,
    config: SimConfig | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SurveyResult:
    """Simulate ``plan`` with ``instrument`` (an `Instrument` or its name) and write it under ``output``.

    ``progress(done, total, label)`` is called after each detector-exposure written.
    Deterministic: the same plan, config (seed) and instrument give the same files.
    """
    plan = plan or SurveyPlan()
    config = config or SimConfig()
    sim = Simulator(instrument, config)
    camera = sim.camera
    detectors: Sequence[int] = (
        plan.detectors if plan.detectors is not None else [d.id for d in camera if d.type.name == "SCIENCE"]
    )
    for d in detectors:
        if d not in camera:
            raise SimsConfigError(
                f"{sim.instrument.name} has no detector {d}; ids run {camera.ids[0]}..{camera.ids[-1]}"
            )
    radius = plan.scene_radius or (sim.field_radius_deg + plan.dither + 0.05)
    scene = Scene.generate(plan.center, radius, config.scene, seed=config.seed)
    sim.scene = scene
    site = sim.instrument.telescope.site
    specs: list[ExposureSpec] = []
    if plan.calibrations:
        specs += calibration_sequence(
            plan.start_mjd - 0.3,
            n_bias=plan.n_bias,
            n_dark=plan.n_dark,
            flat_band=plan.bands[0],
            flat_levels=plan.flat_levels,
        )
    specs += simple_cadence(
        plan.center,
        plan.bands,
        plan.visits_per_band,
        plan.start_mjd,
        site,
        exposure_time=plan.exposure_time,
        dither=plan.dither,
        nights=plan.nights,
        seed=config.seed,
        first_counter=len(specs),
    )
    specs = renumber(specs)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    total = len(specs) * len(detectors)
    done = 0
    raws: list[Path] = []
    sources: list[Catalog] = []
    crs: list[Catalog] = []
    exposures: list[dict[str, Any]] = []
    for spec in specs:
        for det_id in detectors:
            exp = sim.simulate(spec, det_id)
            obsid = exp.header.get("OBSID", f"{spec.counter:06d}")
            path = (
                out
                / "raw"
                / sim.instrument.name
                / f"{spec.day_obs}"
                / f"{spec.seq_num:06d}"
                / (f"{obsid}_{exp.detector.name}.fits")
            )
            raws.append(sim.write(exp, path))
            if exp.sources:
                n = len(exp.sources["id"])
                sources.append({"exposure": np.full(n, spec.counter), "detector": np.full(n, det_id), **exp.sources})
            n_cr = len(exp.cosmic_rays["x0"])
            crs.append({"exposure": np.full(n_cr, spec.counter), "detector": np.full(n_cr, det_id), **exp.cosmic_rays})
            done += 1
            if progress is not None:
                progress(done, total, f"{obsid} {exp.detector.name}")
        row = {k: v for k, v in dataclasses.asdict(spec).items()}
        row["band"] = row["band"] or ""
        row["obsid"] = obsid
        exposures.append(row)
    truth_dir = out / "truth"
    meta = {
        "seed": config.seed,
        "instrument": sim.instrument.name,
        "config": config.model_dump(mode="json"),
        "plan": dataclasses.asdict(plan),
    }
    truth: dict[str, Path] = {}
    for name, table in (
        ("stars", scene.stars),
        ("galaxies", scene.galaxies),
        ("transients", scene.transients),
        ("movers", scene.movers),
    ):
        truth[name] = write_truth(table, truth_dir / f"{name}.parquet", meta)
    truth["exposures"] = write_truth(
        {k: np.array([e[k] for e in exposures]) for k in exposures[0]}, truth_dir / "exposures.parquet", meta
    )
    if sources:
        truth["sources"] = write_truth(_concat(sources), truth_dir / "sources.parquet", meta)
    truth["cosmic_rays"] = write_truth(
        _concat(crs) if crs else {"x0": np.zeros(0)}, truth_dir / "cosmic_rays.parquet", meta
    )
    amp_rows: list[Catalog] = []
    defect_rows: list[Catalog] = []
    for det_id in detectors:
        sig = sim.signature(det_id)
        names = list(sig.amp_names)
        amp_rows.append(
            {
                "detector": np.full(len(names), det_id),
                "amplifier": np.array(names),
                "gain": np.array([sig.gains[a] for a in names]),
                "read_noise": np.array([sig.read_noise[a] for a in names]),
                "bias_level": np.array([sig.bias_levels[a] for a in names]),
                "nonlinearity_c2": np.array([sig.linearizer.models[a][1][0] for a in names]),
                "full_well": np.full(len(names), sig.full_well),
            }
        )
        boxes = sig.defects.boxes
        defect_rows.append(
            {
                "detector": np.full(len(boxes), det_id),
                "x0": boxes[:, 0],
                "y0": boxes[:, 1],
                "width": boxes[:, 2],
                "height": boxes[:, 3],
                "kind": np.array(sig.defect_kinds),
            }
        )
        calib_dir = truth_dir / "calibs" / camera[det_id].name
        calib_dir.mkdir(parents=True, exist_ok=True)
        (calib_dir / "crosstalk.json").write_text(json.dumps(sig.crosstalk.to_dict(), default=bool) + "\n")
        (calib_dir / "linearizer.json").write_text(json.dumps(sig.linearizer.to_dict()) + "\n")
        (calib_dir / "defects.json").write_text(
            json.dumps({"boxes": boxes.tolist(), "kinds": list(sig.defect_kinds)}) + "\n"
        )
    truth["amplifiers"] = write_truth(_concat(amp_rows), truth_dir / "amplifiers.parquet", meta)
    truth["defects"] = write_truth(_concat(defect_rows), truth_dir / "defects.parquet", meta)
    ref_bands = tuple(b for b in BANDS)
    shards = write_reference_catalog(
        scene.reference_catalog(ref_bands),
        out / "refcat" / "osprey_sim_refcat",
        bands=ref_bands,
        epoch=scene.config.epoch,
        depth=plan.refcat_depth,
        file_format=plan.refcat_format,  # type: ignore[arg-type]
    )
    manifest = {
        **meta,
        "raws": [str(p.relative_to(out)) for p in raws],
        "truth": {k: str(v.relative_to(out)) for k, v in truth.items()},
        "refcat_shards": sorted(shards),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    _log.info("simulated %d exposures x %d detectors into %s", len(specs), len(detectors), out)
    return SurveyResult(out, raws, specs, shards, truth)
