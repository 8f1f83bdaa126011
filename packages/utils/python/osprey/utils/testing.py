"""Test helpers shared by every package's test suite."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["realdata_path"]


def realdata_path(relative: str, start: str | Path) -> Path:
    """A file or directory of the shared real test data, or skip the calling test.

    The data root is ``$OSPREY_REALDATA`` when set; otherwise the first ``shared/realdata``
    found beside a parent directory of ``start`` (pass the test's ``__file__``: a checkout at
    ``<dir>/<repo>`` finds ``<dir>/shared/realdata``). The data is never copied into a
    package; CI always has it, so a skip names the variable to set.
    """
    import pytest

    env = os.environ.get("OSPREY_REALDATA")
    roots = [Path(env)] if env else [p / "shared" / "realdata" for p in Path(start).resolve().parents]
    for root in roots:
        if (root / relative).exists():
            return root / relative
    pytest.skip(f"real data absent: set OSPREY_REALDATA to the directory holding {relative}")
