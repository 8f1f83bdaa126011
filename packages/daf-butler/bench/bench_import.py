"""Import latency of osprey.daf.butler and of its Butler class in a fresh interpreter, against numpy.

``osprey.daf.butler._butler`` is what ``from osprey.daf.butler import Butler`` imports.

python bench/bench_import.py [--quick]
"""

import argparse

from osprey.utils.bench import Comparison, report, time_import


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeats = 3 if parser.parse_args(argv).quick else 5
    numpy = time_import("numpy", repeats)
    report(
        [
            Comparison("import", time_import("osprey.daf.butler", repeats), "numpy", numpy),
            Comparison("import Butler", time_import("osprey.daf.butler._butler", repeats), "numpy", numpy),
        ]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
