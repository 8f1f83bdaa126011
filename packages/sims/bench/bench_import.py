"""Import latency of osprey.sims in a fresh interpreter, against numpy as the peer.

python bench/bench_import.py [--quick]
"""

import argparse

from osprey.utils.bench import Comparison, report, time_import


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeats = 3 if parser.parse_args(argv).quick else 5
    report([Comparison("import", time_import("osprey.sims", repeats), "numpy", time_import("numpy", repeats))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
