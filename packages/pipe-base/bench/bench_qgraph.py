"""QuantumGraph build time and peak memory: osprey-pipe-base against lsst-pipe-base, SQLite, one thread.

python bench/bench_qgraph.py [--quick] [--sizes 1e4,1e5] [--repeats R] [--no-peer]

The same synthetic pipeline on both sides (``_synthetic.py``): ``add`` -> ``scale`` over
``instrument, visit, detector``, V visits x D detectors (D = 100 at 10^4 and 10^5) with one
registered (file-less) ``toy_input`` per data ID, so a graph has N = 2 x V x D quanta. Each side's repository
(SQLite) holds the same dimension records (including ``visit_detector_region``, which
lsst-pipe-base needs) and is made once per size, untimed.

Each build runs in a fresh interpreter (this script re-invoked with ``--child``) that
imports everything, opens the butler and builds a one-data-ID graph (warm-up: lazy imports
and first query compilation are not counted); it then records its resident set size as the
baseline and resets the kernel's RSS high-water mark (``/proc/self/clear_refs``), times
pipeline -> graph object in memory (pipeline graph resolution included on both sides,
nothing written) and reports the peak RSS increase over the baseline (``VmHWM`` after
the build minus the RSS before it; ``ru_maxrss`` would include the parent's RSS at fork).

* osprey: ``build_quantum_graph(pipeline, butler, [inputs], run)``.
* lsst: ``AllDimensionsQuantumGraphBuilder(pipeline_graph, butler, input_collections=...,
  output_run=...).finish(attach_datastore_records=False).assemble()`` (the
  ``PredictedQuantumGraph`` that ``SimplePipelineExecutor`` builds; no datastore records
  on either side).

Goals (issue 6): build >= 3x faster and <= 1/3 of the memory of lsst-pipe-base.
Times are the best of ``--repeats`` children; memory is the smallest increase seen.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _synthetic as syn  # noqa: E402

from osprey.utils.bench import Comparison  # noqa: E402

PEER = "lsst-pipe-base"
TIME_GOAL = 3.0  # peer_s / ours_s at least this
MEMORY_GOAL = 3.0  # peer_mib / ours_mib at least this


# ---------------------------------------------------------------------------- child side
def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    """This process's RSS high-water mark: ``VmHWM``, not ``ru_maxrss``.

    On Linux ``ru_maxrss`` is also at least the RSS of the *parent* when it forked this
    process (the kernel carries the pre-exec high-water mark into ``signal->maxrss``), and
    clearing ``/proc/self/clear_refs`` does not reset that part, so a child spawned by a
    big parent would report the parent's size. ``VmHWM`` is the current address space's
    own mark, which ``clear_refs`` resets.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0), so ``VmHWM`` restarts from now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _child(side: str, root: Path, run: str) -> dict[str, float]:
    if side == "osprey":
        from osprey.daf.butler import Butler
        from osprey.pipe.base import build_quantum_graph

        butler = Butler.from_config(root)
        butler.registry.get_dataset_type("toy_input")

        def build(where=""):
            return build_quantum_graph(syn.osprey_pipeline(), butler, [syn.INPUTS], run, where=where)

        def count(graph):
            return len(graph)
    else:
        from lsst.daf.butler import Butler
        from lsst.pipe.base.all_dimensions_quantum_graph_builder import AllDimensionsQuantumGraphBuilder

        butler = Butler.from_config(str(root))
        butler.registry.getDatasetType("toy_input")
        syn.lsst_tasks()

        def build(where=""):
            builder = AllDimensionsQuantumGraphBuilder(
                syn.lsst_pipeline_graph(), butler, input_collections=[syn.INPUTS], output_run=run, where=where
            )
            return builder.finish(attach_datastore_records=False).assemble()

        def count(graph):
            return len(graph)

    # Warm-up: a one-data-ID graph, so imports and first query compilation are not counted.
    if count(build(where=syn.WARM_UP_WHERE)) != 2:
        raise AssertionError(f"{side}: the warm-up graph should have 2 quanta")
    gc.collect()
    reset = _reset_peak_rss()
    baseline = _rss_bytes()
    start = time.perf_counter()
    graph = build()
    seconds = time.perf_counter() - start
    peak = _peak_rss_bytes()
    if not reset:  # the peak may predate the baseline: report it, flagged
        print("warning: could not reset the RSS high-water mark; the increase is an upper bound", file=sys.stderr)
    return {"seconds": seconds, "rss_increase_mib": max(0, peak - baseline) / 2**20, "quanta": count(graph)}


# ---------------------------------------------------------------------------- parent side
def _measure(side: str, root: Path, repeats: int, expected: int) -> tuple[float, float]:
    """Best time (s) and smallest peak-RSS increase (MiB) over ``repeats`` fresh children."""
    best_s, best_mib = math.inf, math.inf
    for i in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, str(root), f"out/run{i}"],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["quanta"] != expected:
            raise AssertionError(f"{side} built {result['quanta']} quanta, expected {expected}")
        best_s = min(best_s, result["seconds"])
        best_mib = min(best_mib, result["rss_increase_mib"])
    return best_s, best_mib


def _size_label(n: int) -> str:
    exponent = math.log10(n)
    return f"1e{int(exponent)}" if exponent.is_integer() else str(n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small size (2000 quanta), under a minute")
    parser.add_argument("--sizes", default=None, help="comma-separated quanta counts (default 1e4,1e5)")
    parser.add_argument("--repeats", type=int, default=None, help="fresh children per measurement (best of)")
    parser.add_argument("--no-peer", action="store_true", help="time only osprey")
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "ROOT", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        side, root, run = args.child
        print(json.dumps(_child(side, Path(root), run)))
        return 0

    sizes = [int(float(s)) for s in (args.sizes or ("2e3" if args.quick else "1e4,1e5")).split(",")]
    repeats = args.repeats or (2 if args.quick else 1)
    peer_error = None
    if not args.no_peer:
        try:
            import lsst.pipe.base.all_dimensions_quantum_graph_builder  # noqa: F401
        except Exception as err:  # report why, then time ours alone
            peer_error = f"{type(err).__name__}: {err}"
            print(f"{PEER} unavailable ({peer_error}); timing osprey only")
    use_peer = not args.no_peer and peer_error is None

    rows: list[tuple[str, int, float, float, str]] = []  # (operation, N, ours, peer, unit)
    for n in sizes:
        visits, detectors = syn.shape(n)
        quanta = 2 * visits * detectors
        tmp = Path(tempfile.mkdtemp(prefix="bench_qgraph_"))
        try:
            start = time.perf_counter()
            syn.osprey_make_repo(tmp / "osprey", visits, detectors, with_files=False)
            if use_peer:
                syn.lsst_make_repo(tmp / "lsst", visits, detectors, with_files=False)
            print(f"N={quanta}: {visits} visits x {detectors} detectors, repositories made in "
                  f"{time.perf_counter() - start:.1f} s (untimed)", flush=True)  # fmt: skip
            ours_s, ours_mib = _measure("osprey", tmp / "osprey", repeats, quanta)
            peer_s = peer_mib = math.nan
            if use_peer:
                peer_s, peer_mib = _measure("lsst", tmp / "lsst", repeats, quanta)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append(("qgraph_build_s", quanta, ours_s, peer_s, "s"))
        rows.append(("qgraph_build_peak_rss_mib", quanta, ours_mib, peer_mib, "MiB"))

    print(f"best of {repeats} fresh interpreter(s) per measurement; SQLite; single-threaded")
    print(f"{'operation':<28}{'N':>8}{'osprey':>10}{PEER:>16}{'ratio':>8}  goal")
    summary: dict[str, dict[str, object]] = {}
    for operation, n, ours, peer, unit in rows:
        ratio = Comparison(operation, ours, PEER, peer).ratio if ours else math.inf
        goal = TIME_GOAL if unit == "s" else MEMORY_GOAL
        met = "n/a" if math.isnan(ratio) else ("yes" if ratio >= goal else "NO")
        print(f"{operation:<28}{n:>8}{ours:>10.3f}{peer:>16.3f}{ratio:>8.2f}  >= {goal:g}x: {met}")
        key = f"{operation.removesuffix('_s').removesuffix('_mib')}_{_size_label(n)}"
        if unit == "s":
            summary[key] = {"ours_s": ours, "peer": PEER, "peer_s": peer, "ratio": ratio}
        else:
            summary[key] = {"ours_mib": ours, "peer": PEER, "peer_mib": peer, "ratio": ratio}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
