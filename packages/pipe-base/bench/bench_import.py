"""Import latency of osprey.pipe.base in a fresh interpreter, against numpy as the peer.

python bench/bench_import.py [--quick]
"""

import argparse
import json
import subprocess
import sys
import time


def time_import(module: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    ours, peer = time_import("osprey.pipe.base", repeats), time_import("numpy", repeats)
    print(f"{'workload':<12}{'ours_s':>10}{'numpy_s':>10}{'ratio':>8}")
    print(f"{'import':<12}{ours:>10.3f}{peer:>10.3f}{peer / ours:>8.2f}")
    print(json.dumps({"import": {"ours_s": ours, "peer": "numpy", "peer_s": peer, "ratio": peer / ours}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
