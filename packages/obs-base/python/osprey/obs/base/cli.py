"""``butler`` subcommands added by obs-base (entry-point group ``osprey.butler.cli``).

Each command is a thin layer over the Python API of the same name: `Instrument.register`,
`ingest_raws`, `define_visits`, `Instrument.write_curated_calibrations`.
"""

from __future__ import annotations

import click

__all__ = ["define_visits_command", "ingest_raws_command", "register_instrument", "write_curated_calibrations"]


def _butler(repo: str, writeable_run: str | None = None):  # noqa: ANN202
    from osprey.daf.butler import Butler

    return Butler.from_config(repo, run=writeable_run)


@click.command("register-instrument", short_help="Register an instrument and its detectors and filters.")
@click.argument("repo")
@click.argument("instrument", nargs=-1, required=True)
@click.option("--update", is_flag=True, help="Rewrite records that differ (e.g. a changed camera).")
def register_instrument(repo: str, instrument: tuple[str, ...], update: bool) -> None:
    """Write the instrument, detector, physical_filter and band records of INSTRUMENT (name or class)."""
    from ._instrument import Instrument

    with _butler(repo) as butler:
        for name in instrument:
            inst = Instrument.from_string(name)
            inst.register(butler, update=update)
            click.echo(
                f"registered {inst.name}: {len(inst.get_camera())} detectors, "
                f"{len(inst.filter_definitions)} physical filters"
            )


@click.command("ingest-raws", short_help="Ingest raw files (headers read in parallel).")
@click.argument("repo")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-j",
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes reading and translating headers.",
)
@click.option("--run", default=None, help="RUN collection (default <instrument>/raw/all).")
@click.option(
    "-t",
    "--transfer",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "copy", "move", "link", "symlink", "relsymlink", "hardlink", "direct"]),
    help="How files get into the repository.",
)
@click.option("--instrument", default=None, help="Accept only this instrument's raws.")
def ingest_raws_command(
    repo: str, files: tuple[str, ...], processes: int, run: str | None, transfer: str, instrument: str | None
) -> None:
    """Ingest raw FILES (or directories of them) into REPO; bad files are listed, the rest go in."""
    from ._ingest import ingest_raws

    with _butler(repo) as butler:
        result = ingest_raws(butler, files, run=run, processes=processes, transfer=transfer, instrument=instrument)
    for failure in result.failed:
        click.echo(f"failed: {failure}", err=True)
    click.echo(result.summary())
    if result.failed:
        raise click.exceptions.Exit(1)


@click.command("define-visits", short_help="Define one-exposure visits with sky regions.")
@click.argument("repo")
@click.argument("instrument")
@click.option("--update", is_flag=True, help="Rewrite visits that already exist.")
def define_visits_command(repo: str, instrument: str, update: bool) -> None:
    """Define visits (and per-detector sky regions) for INSTRUMENT's on-sky exposures in REPO."""
    from ._visits import define_visits

    with _butler(repo) as butler:
        result = define_visits(butler, instrument, update=update)
    click.echo(
        f"defined {len(result.defined)} visit(s); {len(result.existing)} already existed; "
        f"{len(result.skipped)} exposure(s) not on sky"
    )


@click.command("write-curated-calibrations", short_help="Write and certify an instrument's shipped calibrations.")
@click.argument("repo")
@click.argument("instrument")
@click.option("--collection", default=None, help="CALIBRATION collection (default <instrument>/calib).")
@click.option("--run", default=None, help="RUN for the datasets (default <instrument>/calib/curated).")
def write_curated_calibrations(repo: str, instrument: str, collection: str | None, run: str | None) -> None:
    """Put INSTRUMENT's curated calibrations (camera, defects...) in REPO and certify them."""
    from ._instrument import Instrument

    inst = Instrument.from_string(instrument)
    with _butler(repo) as butler:
        refs = inst.write_curated_calibrations(butler, collection, run=run)
    click.echo(f"wrote {len(refs)} curated calibration dataset(s) for {inst.name}")
