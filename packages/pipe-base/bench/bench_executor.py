"""Executor overhead per no-op quantum: osprey-pipe-base against lsst-pipe-base, SQLite, one process.

python bench/bench_executor.py [--quick] [--quanta K] [--repeats R] [--no-peer]

The same synthetic pipeline on both sides (``_synthetic.py``): ``add`` -> ``scale`` over
``instrument, visit, detector``, K/2 data IDs (up to 100 detectors per visit) with one small
``toy_input`` dict file per data ID, written with ``put`` when the repository is made
(untimed). The tasks do one addition or one multiplication, so the time is the
framework's: building the task, reading the input, writing the output, the
``<label>_metadata`` and ``<label>_log`` provenance datasets, and the transaction.

Each measurement runs in a fresh interpreter (this script re-invoked with ``--child``) that
opens the butler, executes a 2-quantum warm-up graph into its own run (lazy imports and
first query compilation are not counted), builds the graph of K quanta (untimed) and
times its execution into a new run, configs and dataset-type registration included:

* osprey: ``SerialGraphExecutor(butler).run(graph)``.
* lsst: ``SimplePipelineExecutor(predicted_graph, butler).run(register_dataset_types=True,
  save_versions=False)`` (``SingleQuantumExecutor`` in this process; lsst-ctrl-mpexec is
  not needed).

Reported: total execution time / K, in ms per quantum (best of ``--repeats`` children);
the outputs are checked after the timed run. Goal (issue 6): <= 20 ms per quantum.
"""

from __future__ import annotations

import argparse
import json
import math
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
GOAL_MS = 20.0


def _expected(visit: int, detector: int) -> float:
    return (visit * 1000 + detector + 1.0) * 3.0


# ---------------------------------------------------------------------------- child side
def _osprey_child(root: Path, run: str) -> dict[str, float]:
    from osprey.daf.butler import Butler
    from osprey.pipe.base import SerialGraphExecutor, build_quantum_graph

    butler = Butler.from_config(root)

    def execute(output_run: str, where: str = "") -> tuple[float, float, int]:
        graph = build_quantum_graph(syn.osprey_pipeline(), butler, [syn.INPUTS], output_run, where=where)
        start, cpu = time.perf_counter(), time.process_time()
        report = SerialGraphExecutor(butler).run(graph)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if not report.ok:
            raise AssertionError(f"osprey execution failed:\n{report}")
        return seconds, cpu, len(graph)

    execute(f"{run}/warmup", syn.WARM_UP_WHERE)
    seconds, cpu, quanta = execute(run)
    got = butler.get("toy_scaled", {"instrument": syn.INSTRUMENT, "visit": 0, "detector": 1}, collections=[run])
    if got != {"value": _expected(0, 1)}:
        raise AssertionError(f"osprey wrote {got}")
    return {"seconds": seconds, "cpu_s": cpu, "quanta": quanta}


def _lsst_child(root: Path, run: str) -> dict[str, float]:
    from lsst.daf.butler import Butler
    from lsst.pipe.base.all_dimensions_quantum_graph_builder import AllDimensionsQuantumGraphBuilder
    from lsst.pipe.base.simple_pipeline_executor import SimplePipelineExecutor

    def execute(output_run: str, where: str = "") -> tuple[float, float, int]:
        butler = Butler.from_config(str(root), writeable=True, collections=[syn.INPUTS], run=output_run)
        builder = AllDimensionsQuantumGraphBuilder(
            syn.lsst_pipeline_graph(), butler, input_collections=[syn.INPUTS], output_run=output_run, where=where
        )
        predicted = builder.finish(attach_datastore_records=False).assemble()
        executor = SimplePipelineExecutor(predicted, butler)
        start, cpu = time.perf_counter(), time.process_time()
        done = executor.run(register_dataset_types=True, save_versions=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if len(done) != len(predicted):
            raise AssertionError(f"lsst executed {len(done)} of {len(predicted)} quanta")
        return seconds, cpu, len(predicted)

    execute(f"{run}/warmup", syn.WARM_UP_WHERE)
    seconds, cpu, quanta = execute(run)
    butler = Butler.from_config(str(root), collections=[run])
    got = butler.get("toy_scaled", instrument=syn.INSTRUMENT, visit=0, detector=1)
    if got != {"value": _expected(0, 1)}:
        raise AssertionError(f"lsst wrote {got}")
    return {"seconds": seconds, "cpu_s": cpu, "quanta": quanta}


# ---------------------------------------------------------------------------- parent side
def _measure(side: str, root: Path, repeats: int, expected: int) -> tuple[float, float]:
    """Best wall seconds (and that child's CPU seconds) over ``repeats`` fresh children, each into its own run."""
    best, best_cpu = math.inf, math.nan
    for i in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, str(root), f"out/run{i}"],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise RuntimeError(f"{side} child failed:\n{out.stderr[-4000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["quanta"] != expected:
            raise AssertionError(f"{side} executed {result['quanta']} quanta, expected {expected}")
        if result["seconds"] < best:
            best, best_cpu = result["seconds"], result["cpu_s"]
    return best, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 quanta, under a minute")
    parser.add_argument("--quanta", type=int, default=None, help="quanta to execute (default 500)")
    parser.add_argument("--repeats", type=int, default=None, help="fresh children per measurement (best of)")
    parser.add_argument("--no-peer", action="store_true", help="time only osprey")
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "ROOT", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        side, root, run = args.child
        result = (_osprey_child if side == "osprey" else _lsst_child)(Path(root), run)
        print(json.dumps(result))
        return 0

    visits, detectors = syn.shape(args.quanta or (200 if args.quick else 500))
    quanta = 2 * visits * detectors
    repeats = args.repeats or (1 if args.quick else 2)
    peer_error = None
    if not args.no_peer:
        try:
            import lsst.pipe.base.simple_pipeline_executor  # noqa: F401
        except Exception as err:  # report why, then time ours alone
            peer_error = f"{type(err).__name__}: {err}"
            print(f"{PEER} executor unavailable ({peer_error}); timing osprey only")
    use_peer = not args.no_peer and peer_error is None

    tmp = Path(tempfile.mkdtemp(prefix="bench_executor_"))
    try:
        start = time.perf_counter()
        syn.osprey_make_repo(tmp / "osprey", visits, detectors, with_files=True)
        if use_peer:
            syn.lsst_make_repo(tmp / "lsst", visits, detectors, with_files=True)
        print(f"K={quanta}: {visits} visit(s) x {detectors} detectors, repositories made in "
              f"{time.perf_counter() - start:.1f} s (untimed)", flush=True)  # fmt: skip
        ours, ours_cpu = _measure("osprey", tmp / "osprey", repeats, quanta)
        peer, peer_cpu = _measure("lsst", tmp / "lsst", repeats, quanta) if use_peer else (math.nan, math.nan)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ours_ms, peer_ms = 1000 * ours / quanta, 1000 * peer / quanta
    ratio = Comparison("executor", ours, PEER, peer).ratio
    met = "yes" if ours_ms <= GOAL_MS else "NO"
    peer_label = PEER if peer_error is None else f"{PEER} (unavailable)"
    print(f"best of {repeats} fresh interpreter(s); serial, one process; SQLite; configs and provenance included")
    print(f"{'operation':<30}{'K':>6}{'osprey':>10}{peer_label:>16}{'ratio':>8}  goal")
    print(f"{'executor_ms_per_quantum':<30}{quanta:>6}{ours_ms:>10.2f}{peer_ms:>16.2f}{ratio:>8.2f}  "
          f"<= {GOAL_MS:g} ms: {met}")  # fmt: skip
    print(f"(total wall: osprey {ours:.2f} s, {PEER} {peer:.2f} s for {quanta} quanta; "
          f"CPU: osprey {ours_cpu:.2f} s, {PEER} {peer_cpu:.2f} s)")  # fmt: skip
    summary = {
        f"executor_{quanta}_quanta": {"ours_s": ours, "peer": PEER, "peer_s": peer, "ratio": ratio},
        "executor_ms_per_quantum": {"ours_ms": ours_ms, "peer": PEER, "peer_ms": peer_ms, "ratio": ratio},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
