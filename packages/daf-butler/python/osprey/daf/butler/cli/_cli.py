"""The ``butler`` command: a thin click layer over the `Butler` Python API.

Every subcommand calls public methods of `Butler`/`Registry`; nothing is reachable only
from here. Errors print one line (``Error: ...``) and exit with status 1; ``--debug``
shows the traceback instead. Other packages add subcommands through the entry-point
group ``osprey.butler.cli`` (each entry point names a `click.Command`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

import click
import yaml

from .._butler import Butler
from .._collection_type import CollectionType
from .._config import ButlerConfig
from .._dataset_ref import DatasetIdGenEnum
from .._file_dataset import FileDataset
from .._timespan import Timespan
from ..queries._parser import parse_time_literal

__all__ = ["ENTRY_POINT_GROUP", "OneLineErrorGroup", "cli", "format_table", "main", "read_file_table"]

ENTRY_POINT_GROUP = "osprey.butler.cli"


class OneLineErrorGroup(click.Group):
    """A click group whose commands report errors as one line (``Error: Type: message``);
    ``--debug`` on the group shows the traceback instead. Other Osprey commands use it too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            if ctx.params.get("debug"):
                raise
            message = str(err).strip() or type(err).__name__
            raise click.ClickException(f"{type(err).__name__}: {message}") from None


class _ButlerGroup(OneLineErrorGroup):
    """A group that loads plugin subcommands on first use (errors as one line)."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                command = ep.load()
            except Exception as err:  # a broken plugin must not break the butler command
                click.echo(f"warning: cannot load butler subcommand plugin {ep.name!r} ({ep.value}): {err}", err=True)
                continue
            if isinstance(command, click.Command) and ep.name not in self.commands:
                self.add_command(command, ep.name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugins()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_ButlerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """Manage and query Osprey Data Butler repositories."""


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``butler``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="butler")


# ---------------------------------------------------------------------------- output
def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as a plain-text table with aligned columns (a header and a dashed rule)."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append(" ".join("-" * w for w in widths))
    lines += [" ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _emit(rows: list[dict[str, Any]], fmt: str, empty: str, reasons: Iterable[str] = ()) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1, default=str))
        if not rows:
            for reason in reasons:
                click.echo(f"note: {reason}", err=True)
        return
    if not rows:
        click.echo(empty)
        for reason in reasons:
            click.echo(f"  - {reason}")
        return
    click.echo(format_table(rows))


def _split(values: Iterable[str]) -> list[str]:
    """``--collections a,b --collections c`` -> [a, b, c]."""
    out = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _bind(values: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"--bind takes NAME=VALUE, got {item!r}")
        value: Any = text
        for convert in (int, float):
            try:
                value = convert(text)
                break
            except ValueError:
                continue
        out[name.strip()] = value
    return out


def _time(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_time_literal(text)
    except ValueError as err:
        raise click.BadParameter(f"cannot read time {text!r}: {err}") from None


_repo = click.argument("repo")
_format = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format."
)
_where = click.option("--where", default="", help="A query expression, e.g. \"visit IN (1..9) AND band = 'r'\".")
_bind_opt = click.option("--bind", "binds", multiple=True, help="NAME=VALUE for :NAME in --where (repeatable).")
_order = click.option("--order-by", "order_by", multiple=True, help="Sort key, '-' prefix for descending.")
_limit = click.option("--limit", type=int, default=None, help="At most this many rows.")
_collections = click.option(
    "--collections", multiple=True, help="Collections or patterns (comma-separated or repeated); search order kept."
)


def _open(repo: str, **kwargs: Any) -> Butler:
    return Butler.from_config(repo, **kwargs)


# ---------------------------------------------------------------------------- commands
@cli.command()
@_repo
@click.option("--db", default=None, help="SQLAlchemy URL of the registry (SQLite in the repo by default).")
@click.option("--namespace", default=None, help="Schema for the registry tables (PostgreSQL).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help="YAML with overrides.")
def create(repo: str, db: str | None, namespace: str | None, config_file: str | None) -> None:
    """Create an empty repository at REPO."""
    config: dict[str, Any] = {}
    if config_file:
        with open(config_file) as stream:
            config = yaml.safe_load(stream) or {}
    if namespace:
        config.setdefault("registry", {})["namespace"] = namespace
    path = Butler.make_repo(repo, db, config=config)
    click.echo(f"Created repository {path.parent}")


@cli.command("register-dataset-type")
@_repo
@click.argument("name")
@click.argument("storage_class")
@click.argument("dimensions", nargs=-1)
@click.option("--is-calibration", is_flag=True, help="A calibration dataset type (certified by validity range).")
def register_dataset_type(repo: str, name: str, storage_class: str, dimensions: tuple[str, ...], is_calibration: bool):
    """Register dataset type NAME with STORAGE_CLASS and DIMENSIONS."""
    with _open(repo) as butler:
        new = butler.registry._find_dataset_type(name) is None
        butler.register_dataset_type(name, dimensions, storage_class, is_calibration=is_calibration)
    click.echo(f"{'Registered' if new else 'Already registered (identical)'}: {name}")


@cli.command("query-collections")
@_repo
@click.argument("patterns", nargs=-1)
@click.option("--collection-type", "types", multiple=True, type=click.Choice([t.name for t in CollectionType], False))
@_format
def query_collections(repo: str, patterns: tuple[str, ...], types: tuple[str, ...], fmt: str) -> None:
    """List collections matching PATTERNS (all by default), with types and chain children."""
    with _open(repo) as butler:
        wanted = [CollectionType[t.upper()] for t in types] or None
        names = butler.query_collections(list(patterns) or ..., wanted)
        rows = []
        for name in names:
            ctype = butler.registry.get_collection_type(name)
            children = list(butler.registry.get_collection_chain(name)) if ctype is CollectionType.CHAINED else []
            rows.append({"name": name, "type": ctype.name, "children": children})
    _emit(rows, fmt, "No collections found.")


@cli.command("query-dataset-types")
@_repo
@click.argument("patterns", nargs=-1)
@_format
def query_dataset_types(repo: str, patterns: tuple[str, ...], fmt: str) -> None:
    """List registered dataset types matching PATTERNS."""
    with _open(repo) as butler:
        rows = [
            {
                "name": dt.name,
                "dimensions": list(dt.dimensions.required),
                "storage_class": dt.storage_class,
                "is_calibration": dt.is_calibration,
            }
            for dt in butler.query_dataset_types(list(patterns) or ...)
        ]
    _emit(rows, fmt, "No dataset types found.")


@cli.command("query-datasets")
@_repo
@click.argument("dataset_types", nargs=-1)
@_collections
@_where
@_bind_opt
@click.option("--find-first/--no-find-first", default=True, show_default=True, help="First collection wins.")
@_order
@_limit
@_format
def query_datasets(
    repo: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    binds: tuple[str, ...],
    find_first: bool,
    order_by: tuple[str, ...],
    limit: int | None,
    fmt: str,
) -> None:
    """List datasets of DATASET_TYPES (names or patterns; all by default)."""
    with _open(repo) as butler:
        refs = butler.query_datasets(
            list(dataset_types) or ...,
            _split(collections) or ...,
            where=where,
            bind=_bind(binds),
            find_first=find_first,
            order_by=list(order_by) or None,
            limit=limit,
        )
        rows = [{"type": r.dataset_type.name, "run": r.run, "id": str(r.id), **r.data_id.to_simple()} for r in refs]
        _emit(rows, fmt, "No datasets found.", refs.explain_no_results())


@cli.command("query-data-ids")
@_repo
@click.argument("dimensions", nargs=-1, required=True)
@click.option("--datasets", multiple=True, help="Only data IDs with these dataset types (needs --collections).")
@_collections
@_where
@_bind_opt
@_order
@_limit
@_format
def query_data_ids(
    repo: str,
    dimensions: tuple[str, ...],
    datasets: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    binds: tuple[str, ...],
    order_by: tuple[str, ...],
    limit: int | None,
    fmt: str,
) -> None:
    """List data IDs over DIMENSIONS that have dimension records (and datasets)."""
    with _open(repo) as butler:
        ids = butler.query_data_ids(
            list(dimensions),
            where=where,
            bind=_bind(binds),
            datasets=_split(datasets) or None,
            collections=_split(collections) or None,
            order_by=list(order_by) or None,
            limit=limit,
        )
        rows = [d.to_simple() for d in ids]
        _emit(rows, fmt, "No data IDs found.", ids.explain_no_results())


@cli.command("query-dimension-records")
@_repo
@click.argument("element")
@_where
@_bind_opt
@_order
@_limit
@_format
def query_dimension_records(
    repo: str, element: str, where: str, binds: tuple[str, ...], order_by: tuple[str, ...], limit: int | None, fmt: str
) -> None:
    """List the records of dimension ELEMENT."""
    with _open(repo) as butler:
        records = butler.query_dimension_records(
            element, where=where, bind=_bind(binds), order_by=list(order_by) or None, limit=limit
        )
        rows = []
        for record in records:
            row = record.to_dict()
            if "region" in row:
                row["region"] = None if row["region"] is None else type(row["region"]).__name__
            if "timespan" in row:
                span = row["timespan"]
                row["timespan"] = None if span is None else [span.begin, span.end]
            rows.append(row)
        _emit(rows, fmt, "No records found.", records.explain_no_results())


@cli.command("certify-calibrations")
@_repo
@click.argument("input_collection")
@click.argument("output_collection")
@click.argument("dataset_type")
@click.option("--begin-date", default=None, help="Start of validity (ISO, TAI; /utc suffix allowed); open if absent.")
@click.option("--end-date", default=None, help="End of validity (exclusive); open if absent.")
@click.option("--where", default="", help="Only datasets matching this expression.")
def certify_calibrations(
    repo: str,
    input_collection: str,
    output_collection: str,
    dataset_type: str,
    begin_date: str | None,
    end_date: str | None,
    where: str,
) -> None:
    """Certify DATASET_TYPE datasets from INPUT_COLLECTION into CALIBRATION OUTPUT_COLLECTION."""
    with _open(repo) as butler:
        refs = butler.query_datasets(dataset_type, input_collection, where=where)
        if not refs:
            reasons = "; ".join(refs.explain_no_results())
            raise click.ClickException(f"no {dataset_type!r} datasets to certify in {input_collection!r}: {reasons}")
        span = Timespan(_time(begin_date), _time(end_date))
        butler.certify(output_collection, refs, span)
    click.echo(f"Certified {len(refs)} {dataset_type} dataset(s) into {output_collection} for {span}")


@cli.command("collection-chain")
@_repo
@click.argument("parent")
@click.argument("children", nargs=-1)
@click.option(
    "--mode",
    type=click.Choice(["redefine", "extend", "prepend", "remove", "pop"]),
    default="redefine",
    show_default=True,
    help="redefine: CHILDREN replace the chain; extend/prepend add; remove drops them; pop drops by index "
    "(CHILDREN are indices, default 0).",
)
def collection_chain(repo: str, parent: str, children: tuple[str, ...], mode: str) -> None:
    """Create or edit CHAINED collection PARENT; prints the new chain."""
    with _open(repo) as butler:
        reg = butler.registry
        reg.register_collection(parent, CollectionType.CHAINED)
        current = list(reg.get_collection_chain(parent))
        kids = _split(children)
        if mode == "redefine":
            new = kids
        elif mode == "extend":
            new = current + [c for c in kids if c not in current]
        elif mode == "prepend":
            new = kids + [c for c in current if c not in kids]
        elif mode == "remove":
            missing = [c for c in kids if c not in current]
            if missing:
                raise click.ClickException(f"{missing} are not in chain {parent!r} ({current})")
            new = [c for c in current if c not in kids]
        else:
            try:
                indices = {int(k) for k in kids} or {0}
            except ValueError:
                raise click.ClickException("--mode pop takes integer indices") from None
            new = [c for i, c in enumerate(current) if i not in indices and i - len(current) not in indices]
        reg.set_collection_chain(parent, new)
        click.echo(f"{parent}: [{', '.join(reg.get_collection_chain(parent))}]")


def _confirm(what: str, names: list[str], no_confirm: bool) -> bool:
    click.echo(f"{what}:")
    for name in names:
        click.echo(f"  {name}")
    return no_confirm or click.confirm("Continue?", default=False)


@cli.command("remove-runs")
@_repo
@click.argument("patterns", nargs=-1, required=True)
@click.option("--no-confirm", is_flag=True, help="Do not ask before removing.")
@click.option("--unlink-from-chains", is_flag=True, help="Also drop the runs from CHAINED collections.")
@click.option("--keep-files", is_flag=True, help="Unregister only; leave the files on disk.")
def remove_runs(repo: str, patterns: tuple[str, ...], no_confirm: bool, unlink_from_chains: bool, keep_files: bool):
    """Remove RUN collections matching PATTERNS, with their datasets."""
    with _open(repo) as butler:
        names = butler.query_collections(list(patterns), [CollectionType.RUN])
        if not names:
            raise click.ClickException(f"no RUN collection matches {list(patterns)}")
        if not _confirm("Runs to remove with all their datasets", names, no_confirm):
            click.echo("Aborted.")
            return
        butler.remove_runs(names, unstore=not keep_files, unlink_from_chains=unlink_from_chains)
    click.echo(f"Removed {len(names)} run(s).")


@cli.command("prune-datasets")
@_repo
@click.argument("dataset_types", nargs=-1, required=True)
@_collections
@_where
@_bind_opt
@click.option("--find-first/--no-find-first", default=False, show_default=True, help="First match per data ID only.")
@click.option("--purge", is_flag=True, help="Delete the datasets from the registry entirely (their run too).")
@click.option("--keep-files", is_flag=True, help="Do not delete stored content (only with --disassociate).")
@click.option("--no-disassociate", is_flag=True, help="Stay in TAGGED/CALIBRATION collections (delete content only).")
@click.option("--no-confirm", is_flag=True, help="Do not ask before pruning.")
def prune_datasets(
    repo: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    binds: tuple[str, ...],
    find_first: bool,
    purge: bool,
    keep_files: bool,
    no_disassociate: bool,
    no_confirm: bool,
) -> None:
    """Prune datasets of DATASET_TYPES found in --collections (matching --where).

    By default they are removed from TAGGED/CALIBRATION collections and their content is
    deleted; with --purge they are deleted from the registry too.
    """
    if not collections:
        raise click.ClickException("prune-datasets needs --collections (where to find the datasets)")
    with _open(repo) as butler:
        refs = butler.query_datasets(
            list(dataset_types), _split(collections), where=where, bind=_bind(binds), find_first=find_first
        )
        if not refs:
            raise click.ClickException(f"no dataset matches: {refs.explain_no_results()}")
        shown = [f"{r.dataset_type.name} {r.data_id} run={r.run} id={r.id}" for r in refs]
        action = "purge" if purge else "prune"
        if not _confirm(f"Datasets to {action} ({len(refs)})", shown, no_confirm):
            click.echo("Aborted.")
            return
        pruned = butler.prune_datasets(refs, disassociate=not no_disassociate, unstore=not keep_files, purge=purge)
    click.echo(f"{'Purged' if purge else 'Pruned'} {len(pruned)} dataset(s).")


@cli.command("migrate")
@_repo
def migrate(repo: str) -> None:
    """Upgrade REPO's registry schema in place to this software's version."""
    from ..registry._migrations import SCHEMA_VERSION

    steps = Butler.migrate(repo)
    for old, new, description in steps:
        click.echo(f"schema version {old} -> {new}: {description}")
    click.echo(f"Repository is at schema version {SCHEMA_VERSION}" + ("" if steps else " (nothing to do)") + ".")


@cli.command("remove-collections")
@_repo
@click.argument("patterns", nargs=-1, required=True)
@click.option("--no-confirm", is_flag=True, help="Do not ask before removing.")
def remove_collections(repo: str, patterns: tuple[str, ...], no_confirm: bool) -> None:
    """Remove TAGGED, CALIBRATION and CHAINED collections matching PATTERNS (not RUNs)."""
    with _open(repo) as butler:
        kinds = [CollectionType.TAGGED, CollectionType.CALIBRATION, CollectionType.CHAINED]
        names = butler.query_collections(list(patterns), kinds)
        if not names:
            raise click.ClickException(f"no non-RUN collection matches {list(patterns)} (use remove-runs for runs)")
        if not _confirm("Collections to remove", names, no_confirm):
            click.echo("Aborted.")
            return
        butler.remove_collections(names)
    click.echo(f"Removed {len(names)} collection(s).")


_TRANSFER_CHOICES = ["auto", "copy", "move", "link", "symlink", "relsymlink", "hardlink", "direct"]


def _data_id_value(butler: Butler, key: str, text: str) -> Any:
    """A data ID value read from text: an integer when the dimension's key is one."""
    key_spec = getattr(butler.universe[key], "key", None)
    if key_spec is not None and key_spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise click.ClickException(f"{key} must be an integer, got {text!r}") from None
    return text


def read_file_table(path: str) -> tuple[list[str], list[list[str]]]:
    """Read a table of files: a header line then one row per file.

    Lines starting with ``#`` are skipped (so ECSV headers are ignored); the delimiter is
    a comma, a tab, or runs of blanks, whichever the header uses. Returns (header, rows).
    """
    import csv

    with open(path, newline="") as stream:
        lines = [line for line in stream.read().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise click.ClickException(f"{path} has no header line")
    if "," in lines[0] or "\t" in lines[0]:
        delimiter = "," if "," in lines[0] else "\t"
        rows = [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=delimiter)]
    else:
        rows = [line.split() for line in lines]
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise click.ClickException(f"{path}: row {number} has {len(row)} values but the header has {len(header)}")
    return header, body


@cli.command("ingest-files")
@_repo
@click.argument("dataset_type")
@click.argument("run")
@click.argument("table_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--data-id", "data_ids", multiple=True, help="KEY=VALUE added to every row's data ID (repeatable).")
@click.option("--formatter", default=None, help="Dotted path of the formatter that reads the files.")
@click.option(
    "--id-generation-mode",
    type=click.Choice([m.name for m in DatasetIdGenEnum]),
    default="UNIQUE",
    show_default=True,
    help="Random or deterministic dataset IDs.",
)
@click.option("--prefix", default=None, help="Directory that relative paths in the table are relative to.")
@click.option("--transfer", type=click.Choice(_TRANSFER_CHOICES), default="auto", show_default=True)
def ingest_files(
    repo: str,
    dataset_type: str,
    run: str,
    table_file: str,
    data_ids: tuple[str, ...],
    formatter: str | None,
    id_generation_mode: str,
    prefix: str | None,
    transfer: str,
) -> None:
    """Ingest the files listed in TABLE_FILE as DATASET_TYPE datasets in RUN.

    TABLE_FILE is a CSV (or tab/blank-separated) table with a header: a column named
    path, file or uri (otherwise the first column) holds the file names, the others are
    dimension values of each file's data ID.
    """
    from pathlib import Path

    header, rows = read_file_table(table_file)
    path_column = next((c for c in ("path", "file", "uri") if c in header), header[0])
    base = Path(prefix) if prefix else Path(table_file).parent
    with _open(repo) as butler:
        common = {k: _data_id_value(butler, k, v) for k, v in _bind_pairs(data_ids).items()}
        datasets = []
        for row in rows:
            values = dict(zip(header, row, strict=True))
            file = values.pop(path_column)
            if file.startswith("file://"):
                file = file[len("file://") :]
            data_id = {**common, **{k: _data_id_value(butler, k, v) for k, v in values.items()}}
            path = Path(file) if Path(file).is_absolute() else base / file
            datasets.append(FileDataset(path, dataset_type=dataset_type, data_id=data_id, formatter=formatter))
        refs = butler.ingest(*datasets, transfer=transfer, run=run, id_generation=DatasetIdGenEnum[id_generation_mode])
    click.echo(f"Ingested {len(refs)} {dataset_type} file(s) into {run} (transfer={transfer})")


@cli.command("export")
@_repo
@click.argument("filename")
@click.option("--datasets", "dataset_types", multiple=True, help="Only datasets of these types (names or patterns).")
@_collections
@_where
@_bind_opt
@click.option("--dimension-records", "elements", multiple=True, help="Also export every record of these elements.")
@click.option("--directory", default=None, help="Transfer the files into this directory (paths relative to it).")
@click.option(
    "--transfer",
    type=click.Choice(["copy", "link", "symlink", "relsymlink", "hardlink"]),
    default="copy",
    show_default=True,
    help="How files go into --directory.",
)
def export(
    repo: str,
    filename: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    binds: tuple[str, ...],
    elements: tuple[str, ...],
    directory: str | None,
    transfer: str,
) -> None:
    """Export collections and/or datasets of REPO to the YAML file FILENAME.

    With --collections only, the collections are exported with all their content; with
    --datasets or --where, only the matching datasets (searched in --collections, all
    collections by default, every match) and what they need.
    """
    with _open(repo) as butler:
        if dataset_types or where:
            refs = butler.query_datasets(
                list(dataset_types) or ...,
                _split(collections) or ...,
                where=where,
                bind=_bind(binds),
                find_first=False,
            )
            path = butler.export(
                filename, datasets=refs, dimension_records=elements, directory=directory, transfer=transfer
            )
            what = f"{len(refs)} dataset(s)"
        else:
            names = butler.query_collections(_split(collections) or ...)
            path = butler.export(
                filename, collections=names, dimension_records=elements, directory=directory, transfer=transfer
            )
            what = f"{len(names)} collection(s)"
    click.echo(f"Exported {what} to {path}")


@cli.command("import")
@_repo
@click.argument("path", type=click.Path(exists=True))
@click.option("--directory", default=None, help="Where relative file paths start (the export file's directory).")
@click.option("--transfer", type=click.Choice(_TRANSFER_CHOICES), default="auto", show_default=True)
@click.option("--skip-dimensions", "skip", multiple=True, help="Do not import records of these elements.")
def import_(repo: str, path: str, directory: str | None, transfer: str, skip: tuple[str, ...]) -> None:
    """Import the export file PATH (or PATH/export.yaml) into REPO."""
    with _open(repo) as butler:
        refs = butler.import_(path, directory=directory, transfer=transfer, skip_dimensions=skip)
    click.echo(f"Imported {len(refs)} dataset(s) into {repo}")


@cli.command("transfer-datasets")
@click.argument("source")
@click.argument("dest")
@click.argument("dataset_types", nargs=-1)
@_collections
@_where
@_bind_opt
@click.option("--find-first/--no-find-first", default=False, show_default=True, help="First collection wins.")
@click.option("--transfer", type=click.Choice(_TRANSFER_CHOICES), default="copy", show_default=True)
@click.option("--register-dataset-types/--no-register-dataset-types", default=True, show_default=True)
@click.option("--transfer-dimensions/--no-transfer-dimensions", default=True, show_default=True)
def transfer_datasets(
    source: str,
    dest: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    binds: tuple[str, ...],
    find_first: bool,
    transfer: str,
    register_dataset_types: bool,
    transfer_dimensions: bool,
) -> None:
    """Copy datasets of DATASET_TYPES (all by default) from repository SOURCE to DEST."""
    with _open(source) as src, _open(dest) as dst:
        refs = src.query_datasets(
            list(dataset_types) or ...,
            _split(collections) or ...,
            where=where,
            bind=_bind(binds),
            find_first=find_first,
        )
        added = dst.transfer_from(
            src,
            refs,
            transfer=transfer,
            register_dataset_types=register_dataset_types,
            transfer_dimensions=transfer_dimensions,
        )
    click.echo(f"Transferred {len(added)} of {len(refs)} dataset(s) from {source} to {dest}")


def _bind_pairs(values: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}")
        out[name.strip()] = text.strip()
    return out


@cli.command("config-dump")
@_repo
@click.option("--subset", default=None, help="Only this top-level section (registry, datastore, ...).")
def config_dump(repo: str, subset: str | None) -> None:
    """Print the repository configuration with defaults filled in (YAML)."""
    from pathlib import Path

    from .._config import CONFIG_NAME

    path = Path(repo)
    if path.is_dir():
        path = path / CONFIG_NAME
    data = ButlerConfig.read(path).model_dump(mode="json")
    if subset is not None:
        if subset not in data:
            raise click.ClickException(f"no section {subset!r}; sections: {', '.join(data)}")
        data = {subset: data[subset]}
    click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
