"""The ``pipetask`` command: build pipelines, plan QuantumGraphs, run them and report.

A thin click layer over the Python API (`Pipeline`, `build_quantum_graph`, the graph
executors); nothing here is reachable only from the command line. Errors print one line
(``Error: ...``) and exit with status 1; ``--debug`` shows the traceback.

Output collections follow the LSST convention: ``-o NAME`` is a CHAINED collection whose
first child is the RUN written (``NAME/<UTC timestamp>`` unless ``--output-run``), followed
by the input collections, so ``NAME`` alone finds the outputs and everything they came from.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from osprey.daf.butler.cli import OneLineErrorGroup

from ._executor import FAILED, SUCCEEDED, ExecutionReport, SerialGraphExecutor
from ._mp_executor import MultiprocessGraphExecutor
from ._pipeline import Pipeline
from ._progress import ProgressBar
from ._quantum_backed import aggregate_graph, run_quantum_backed
from ._quantum_graph import QuantumGraph, build_quantum_graph

__all__ = ["cli", "main", "parse_memory", "quantum_statuses"]

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_memory(text: str) -> int:
    """``"4GB"``, ``"500MiB"``, ``"2g"`` or a number of bytes -> bytes (binary multiples)."""
    match = _SIZE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a memory size such as 4GB, 500MiB or 1073741824")
    number, unit, _ = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))


@click.group(cls=OneLineErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "VERBOSE", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Level of the osprey loggers (messages go to stderr and into each <label>_log).",
)
def cli(debug: bool, log_level: str) -> None:
    """Build pipelines, plan QuantumGraphs, execute them and report on runs."""
    level = logging.getLevelName(log_level.upper()) if log_level.upper() != "VERBOSE" else 15
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("osprey").setLevel(level)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``pipetask``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="pipetask")


# ---------------------------------------------------------------------------- options
def _pipeline_options(f: Any) -> Any:
    options = [
        click.option("-p", "--pipeline", "pipeline_uri", help="Pipeline YAML; path#label,subset selects tasks."),
        click.option(
            "-t", "--task", "tasks", multiple=True, help="Add a task: dotted.Class[:label] (after -p's tasks)."
        ),
        click.option("-c", "--config", "overrides", multiple=True, help="Config override label:key=value."),
        click.option("-C", "--config-file", "config_files", multiple=True, help="Config overrides label:file.yaml."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _graph_options(f: Any) -> Any:
    options = [
        click.option("-b", "--butler-config", "repo", required=True, help="Repository root or butler.yaml."),
        click.option("-i", "--input", "inputs", multiple=True, help="Input collections (comma-separated or repeated)."),
        click.option("-o", "--output", help="Output CHAINED collection (gets a new timestamped run first)."),
        click.option("--output-run", help="The RUN collection to write (default: OUTPUT/<timestamp>)."),
        click.option("--extend-run", is_flag=True, help="Write into the first run of OUTPUT, skipping done quanta."),
        click.option("-d", "--data-query", "where", default="", help="Where expression restricting the data IDs."),
        click.option("--skip-existing-in", multiple=True, help="Skip quanta whose metadata is in these collections."),
        click.option("--skip-existing", is_flag=True, help="Skip quanta already done in the output run."),
        click.option("--clobber-outputs", is_flag=True, help="Replace outputs of quanta that will rerun."),
        click.option("-g", "--qgraph", "qgraph_path", help="Load this saved QuantumGraph instead of building one."),
        click.option("--save-qgraph", help="Write the QuantumGraph here (.json or .json.gz)."),
        click.option("--qgraph-dot", help="Write the QuantumGraph as Graphviz dot here."),
        click.option("--qbb", is_flag=True, help="Store input file records so run-qbb needs no registry."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _split(values: Sequence[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _make_pipeline(pipeline_uri: str | None, tasks: Sequence[str], overrides: Sequence[str], files: Sequence[str]):
    if not pipeline_uri and not tasks:
        raise click.UsageError("give a pipeline (-p FILE) or tasks (-t dotted.Class:label)")
    pipeline = Pipeline.from_file(pipeline_uri) if pipeline_uri else Pipeline("command-line pipeline")
    for spec in tasks:
        class_name, _, label = spec.partition(":")
        pipeline.add_task(class_name, label or class_name.rsplit(".", 1)[-1])
    pipeline.add_config_overrides(overrides)
    for spec in files:
        label, sep, path = spec.partition(":")
        if not sep or not label or not path:
            raise click.BadParameter(f"{spec!r} is not label:file.yaml", param_hint="-C")
        pipeline.add_config_file(label, path)
    return pipeline


# ---------------------------------------------------------------------------- build
@cli.command()
@_pipeline_options
@click.option(
    "--show",
    "shows",
    multiple=True,
    type=click.Choice(["pipeline", "config", "graph", "dot", "mermaid"]),
    help="Print the expanded pipeline YAML, each task's resolved config, a task summary, or the graph.",
)
@click.option("--save-pipeline", help="Write the expanded pipeline YAML here.")
@click.option("--pipeline-dot", help="Write the pipeline graph as Graphviz dot here.")
@click.option("--pipeline-image", help="Draw the pipeline graph to this PNG/SVG/PDF (needs graphviz).")
def build(pipeline_uri, tasks, overrides, config_files, shows, save_pipeline, pipeline_dot, pipeline_image):
    """Expand and validate a pipeline (no repository needed)."""
    pipeline = _make_pipeline(pipeline_uri, tasks, overrides, config_files)
    graph = pipeline.to_graph()
    for show in shows:
        if show == "pipeline":
            click.echo(pipeline.to_yaml())
        elif show == "config":
            for label, node in graph.tasks.items():
                click.echo(f"# {label}: {node.task_class_name}")
                click.echo(json.dumps(node.config.to_dict(), indent=2, default=str))
        elif show == "graph":
            for label, node in graph.tasks.items():
                ins = ", ".join(c.name for c in node.connections.inputs.values())
                outs = ", ".join(c.name for c in node.connections.outputs.values())
                dims = ", ".join(node.dimensions.required)
                click.echo(f"{label} ({node.task_class_name}) [{dims}]: {ins} -> {outs}")
        elif show == "dot":
            click.echo(graph.to_dot())
        else:
            click.echo(graph.to_mermaid())
    if save_pipeline:
        pipeline.write(save_pipeline)
    if pipeline_dot:
        Path(pipeline_dot).write_text(graph.to_dot())
    if pipeline_image:
        graph.render(pipeline_image)


# ---------------------------------------------------------------------------- qgraph
def _timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _resolve_collections(butler: Any, inputs: list[str], output: str | None, output_run: str | None, extend: bool):
    """(input collections, output run, chain to update or None) per the ``-i/-o/--output-run`` rules."""
    from osprey.daf.butler import CollectionType

    registry = butler.registry
    existing_chain: list[str] | None = None
    if output:
        try:
            kind = registry.get_collection_type(output)
        except LookupError:
            kind = None
        if kind is not None and kind is not CollectionType.CHAINED:
            raise click.UsageError(f"-o {output!r} exists and is a {kind.name} collection, not CHAINED")
        if kind is not None:
            existing_chain = list(registry.get_collection_chain(output))
    if extend:
        if output_run is None:
            if not existing_chain:
                raise click.UsageError("--extend-run needs an existing -o chain or --output-run")
            output_run = existing_chain[0]
    elif output_run is None:
        if not output:
            raise click.UsageError("give -o OUTPUT or --output-run RUN")
        output_run = f"{output}/{_timestamp()}"
    if not inputs and existing_chain:
        inputs = [c for c in existing_chain if c != output_run]
    if not inputs:
        raise click.UsageError("give input collections with -i")
    return inputs, output_run, existing_chain


def _update_chain(butler: Any, output: str | None, run: str, inputs: list[str], existing: list[str] | None) -> None:
    if not output:
        return
    from osprey.daf.butler import CollectionType

    if existing is None:
        butler.registry.register_collection(output, CollectionType.CHAINED)
        existing = []
    children = [run, *[c for c in existing if c != run]]
    children += [c for c in inputs if c not in children]
    butler.registry.register_run(run)
    butler.registry.set_collection_chain(output, children)


def _make_graph(butler: Any, params: dict[str, Any]) -> tuple[QuantumGraph, str | None, list[str], list | None]:
    if params["qgraph_path"]:
        graph = QuantumGraph.load(params["qgraph_path"], universe=butler.universe)
        return graph, params["output"], list(graph.input_collections), None
    pipeline = _make_pipeline(params["pipeline_uri"], params["tasks"], params["overrides"], params["config_files"])
    inputs, run, chain = _resolve_collections(
        butler, _split(params["inputs"]), params["output"], params["output_run"], params["extend_run"]
    )
    skip = _split(params["skip_existing_in"])
    if params["skip_existing"] or params["extend_run"]:
        skip.append(run)
    graph = build_quantum_graph(
        pipeline,
        butler,
        inputs,
        run,
        params["where"],
        skip_existing_in=skip or None,
        clobber_outputs=params["clobber_outputs"],
        datastore_records=params["qbb"],
    )
    return graph, params["output"], inputs, chain


def _emit_graph(graph: QuantumGraph, params: dict[str, Any]) -> None:
    if params["save_qgraph"]:
        graph.save(params["save_qgraph"])
    if params["qgraph_dot"]:
        Path(params["qgraph_dot"]).write_text(graph.to_dot())
    summary = ", ".join(f"{label}={n}" for label, n in graph.summary().items())
    click.echo(f"QuantumGraph for run {graph.run}: {len(graph)} quanta ({summary})", err=True)
    for reason in graph.empty_reasons or ():
        click.echo(f"  - {reason}", err=True)


@cli.command()
@_pipeline_options
@_graph_options
def qgraph(**params: Any) -> None:
    """Plan every quantum of a pipeline against a repository (and save the graph)."""
    from osprey.daf.butler import Butler

    with Butler.from_config(params["repo"]) as butler:
        graph, *_ = _make_graph(butler, params)
        _emit_graph(graph, params)


# ---------------------------------------------------------------------------- run
@cli.command()
@_pipeline_options
@_graph_options
@click.option("-j", "--processes", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option("--timeout", "timeout_s", type=float, help="Kill a quantum running longer than this (seconds; -j>1).")
@click.option("--memory-limit", help="Kill a quantum whose worker exceeds this resident size (e.g. 4GB; -j>1).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failure.")
@click.option("--summary", "summary_path", help="Write a JSON report of every quantum here.")
@click.option("--progress/--no-progress", default=None, help="Progress bar with ETA (default: on a terminal).")
def run(processes, timeout_s, memory_limit, fail_fast, summary_path, progress, **params: Any) -> None:
    """Build (or load) a QuantumGraph and execute it; exit status 1 if any quantum failed."""
    from osprey.daf.butler import Butler

    if (timeout_s or memory_limit) and processes == 1:
        raise click.UsageError("--timeout and --memory-limit need worker processes: use -j 2 or more")
    with Butler.from_config(params["repo"]) as butler:
        graph, output, inputs, chain = _make_graph(butler, params)
        _emit_graph(graph, params)
        if not len(graph):
            return
        _update_chain(butler, output, graph.run, inputs, chain)
        bar = ProgressBar(len(graph)) if progress or (progress is None and sys.stderr.isatty()) else None
        common = {"fail_fast": fail_fast, "clobber_outputs": params["clobber_outputs"], "progress": bar}
        if processes > 1:
            limit = parse_memory(memory_limit) if memory_limit else None
            executor = MultiprocessGraphExecutor(
                butler, processes, timeout_s=timeout_s, memory_limit_bytes=limit, **common
            )
        else:
            executor = SerialGraphExecutor(butler, **common)
        report = executor.run(graph)
    _finish(report, summary_path)


def _finish(report: ExecutionReport, summary_path: str | None) -> None:
    if summary_path:
        Path(summary_path).write_text(json.dumps(report.to_dict(), indent=1, default=str))
    click.echo(str(report))
    if not report.ok:
        sys.exit(1)


# ---------------------------------------------------------------------------- report
def quantum_statuses(butler: Any, graph: QuantumGraph) -> dict[Any, tuple[str, str]]:
    """``{quantum id: (status, message)}`` from what the repository holds for the graph's run.

    ``succeeded``: its ``<label>_metadata`` exists; ``failed``: only its ``<label>_log``
    exists (the message is the log's last error); ``blocked``: an upstream quantum failed
    or was blocked; ``not_run``: none of these (not yet attempted, or killed before writing).
    """
    quanta = list(graph)
    ids = [r.id for q in quanta for r in (q.metadata_ref, q.log_ref)]
    present = butler.registry.existing_dataset_ids(ids)
    statuses: dict[Any, tuple[str, str]] = {}
    for quantum in quanta:  # graph order: upstream first
        if quantum.metadata_ref.id in present:
            statuses[quantum.id] = (SUCCEEDED, "")
        elif quantum.log_ref.id in present:
            errors = [r for r in butler.get(quantum.log_ref) if r.get("levelno", 0) >= logging.ERROR]
            statuses[quantum.id] = (FAILED, errors[-1]["message"] if errors else "")
        elif any(statuses.get(up.id, ("",))[0] in (FAILED, "blocked") for up in graph.upstream(quantum)):
            statuses[quantum.id] = ("blocked", "an upstream quantum failed or was blocked")
        else:
            statuses[quantum.id] = ("not_run", "")
    return statuses


@cli.command()
@click.option("-b", "--butler-config", "repo", required=True, help="Repository root or butler.yaml.")
@click.argument("qgraph_path")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report(repo: str, qgraph_path: str, as_json: bool) -> None:
    """Per-task counts of succeeded / failed / blocked / not-run quanta of a saved graph, and the failures."""
    from osprey.daf.butler import Butler
    from osprey.daf.butler.cli import format_table

    with Butler.from_config(repo) as butler:
        graph = QuantumGraph.load(qgraph_path, universe=butler.universe)
        statuses = quantum_statuses(butler, graph)
    columns = [SUCCEEDED, FAILED, "blocked", "not_run"]
    rows = []
    for label, quanta in graph.quanta.items():
        counts = {c: 0 for c in columns}
        for quantum in quanta:
            counts[statuses[quantum.id][0]] += 1
        rows.append({"task": label, "quanta": len(quanta), **counts})
    failures = [
        {"task": q.task_label, "data_id": dict(q.data_id.required), "message": statuses[q.id][1]}
        for q in graph
        if statuses[q.id][0] == FAILED
    ]
    if as_json:
        click.echo(json.dumps({"tasks": rows, "failures": failures}, indent=1, default=str))
        return
    click.echo(f"run {graph.run}")
    click.echo(format_table(rows))
    for failure in failures:
        click.echo(f"FAILED {failure['task']} {failure['data_id']}: {failure['message']}")


# ---------------------------------------------------------------------------- batch
@cli.command("run-qbb")
@click.argument("repo")
@click.argument("qgraph_path")
@click.option("--task", "labels", multiple=True, help="Run only the quanta of these task labels.")
@click.option("--quantum-id", "quantum_ids", multiple=True, help="Run only these quanta (UUIDs).")
@click.option("--clobber-outputs", is_flag=True, help="Replace outputs of an earlier attempt.")
@click.option("--summary", "summary_path", help="Write a JSON report of every quantum here.")
def run_qbb(repo, qgraph_path, labels, quantum_ids, clobber_outputs, summary_path) -> None:
    """Run quanta of a graph (made with ``qgraph --qbb``) without touching the registry (batch jobs)."""
    import uuid

    graph = QuantumGraph.load(qgraph_path)
    selected = None
    if labels or quantum_ids:
        wanted = {uuid.UUID(q) for q in _split(quantum_ids)}
        selected = [q.id for q in graph if q.task_label in labels or q.id in wanted]
    report = run_quantum_backed(repo, graph, selected, clobber_outputs=clobber_outputs)
    _finish(report, summary_path)


@cli.command("aggregate-graph")
@click.argument("repo")
@click.argument("qgraph_path")
@click.option("-o", "--output", help="Also make this CHAINED collection: the graph's run, then its inputs.")
def aggregate_graph_command(repo: str, qgraph_path: str, output: str | None) -> None:
    """Register what ``run-qbb`` jobs wrote, with the run's configs and package versions."""
    from osprey.daf.butler import Butler

    with Butler.from_config(repo) as butler:
        graph = QuantumGraph.load(qgraph_path, universe=butler.universe)
        counts = aggregate_graph(butler, graph)
        if output:
            chain = _resolve_collections(butler, list(graph.input_collections), output, graph.run, False)[2]
            _update_chain(butler, output, graph.run, list(graph.input_collections), chain)
    click.echo(
        f"run {graph.run}: registered {counts['datasets']} dataset(s) from {counts['manifests']} manifest(s); "
        f"{counts['failed_quanta']} failed quanta"
    )
