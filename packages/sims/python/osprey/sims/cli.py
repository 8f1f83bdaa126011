"""``osprey-sim``: simulate raw exposures, calibrations, a reference catalogue and truth tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["main"]


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v.strip())


@click.command(name="osprey-sim")
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
@click.option("--instrument", "-i", default="LSSTCam", show_default=True, help="registered instrument name")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed (same seed, same files)")
@click.option("--ra", type=float, default=150.0, show_default=True, help="field centre, degrees")
@click.option("--dec", type=float, default=-30.0, show_default=True, help="field centre, degrees")
@click.option("--bands", default="g,r,i", show_default=True, help="comma-separated bands")
@click.option("--visits-per-band", type=int, default=2, show_default=True)
@click.option("--nights", type=int, default=1, show_default=True)
@click.option("--start-mjd", type=float, default=60676.2, show_default=True, help="first science exposure (TAI)")
@click.option("--exposure-time", type=float, default=30.0, show_default=True, help="seconds")
@click.option("--dither", type=float, default=0.05, show_default=True, help="max dither offset, degrees")
@click.option("--detectors", default="", help="comma-separated detector ids (default: every science detector)")
@click.option("--calibrations/--no-calibrations", default=True, show_default=True, help="biases, darks, flats")
@click.option("--flat-levels", default="1000,5000,20000,50000", show_default=True, help="electrons per flat pair")
@click.option("--star-density", type=float, default=None, help="stars per deg²")
@click.option("--galaxy-density", type=float, default=None, help="galaxies per deg²")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML file with SimConfig settings (seed, scene, psf, signature, ...)",
)
@click.option("--refcat-format", type=click.Choice(["fits", "parquet"]), default="fits", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress bar")
def main(
    output: Path,
    instrument: str,
    seed: int,
    ra: float,
    dec: float,
    bands: str,
    visits_per_band: int,
    nights: int,
    start_mjd: float,
    exposure_time: float,
    dither: float,
    detectors: str,
    calibrations: bool,
    flat_levels: str,
    star_density: float | None,
    galaxy_density: float | None,
    config_file: Path | None,
    refcat_format: str,
    quiet: bool,
) -> None:
    """Simulate a survey of INSTRUMENT into OUTPUT (raws, refcat/, truth/, manifest.json)."""
    from .errors import SimsError
    from .simulator import SimConfig
    from .survey import SurveyPlan, run_survey

    try:
        data = {}
        if config_file is not None:
            import yaml

            data = yaml.safe_load(config_file.read_text()) or {}
        data["seed"] = seed if config_file is None or "seed" not in data else data["seed"]
        config = SimConfig.model_validate(data)
        if star_density is not None:
            config.scene.star_density = star_density
        if galaxy_density is not None:
            config.scene.galaxy_density = galaxy_density
        plan = SurveyPlan(
            center=(ra, dec),
            bands=tuple(b.strip() for b in bands.split(",") if b.strip()),
            visits_per_band=visits_per_band,
            nights=nights,
            start_mjd=start_mjd,
            exposure_time=exposure_time,
            dither=dither,
            detectors=tuple(int(d) for d in detectors.split(",") if d.strip()) or None,
            calibrations=calibrations,
            flat_levels=_floats(flat_levels),
            refcat_format=refcat_format,
        )
        if quiet:
            result = run_survey(instrument, output, plan, config)
        else:
            bar_state: dict[str, object] = {}

            def progress(done: int, total: int, label: str) -> None:
                if "bar" not in bar_state:
                    bar = click.progressbar(length=total, label="simulating", show_pos=True, file=sys.stderr)
                    bar.__enter__()
                    bar_state["bar"] = bar
                bar = bar_state["bar"]
                bar.label = f"simulating {label}"  # type: ignore[attr-defined]
                bar.update(1)  # type: ignore[attr-defined]

            try:
                result = run_survey(instrument, output, plan, config, progress)
            finally:
                if "bar" in bar_state:
                    bar_state["bar"].__exit__(None, None, None)  # type: ignore[attr-defined]
    except SimsError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        from osprey.utils import OspreyError

        if isinstance(exc, OspreyError):
            raise click.ClickException(str(exc)) from None
        raise
    click.echo(
        f"wrote {len(result.raws)} raw files, {len(result.refcat_shards)} refcat shards and "
        f"{len(result.truth)} truth tables to {result.output}"
    )
