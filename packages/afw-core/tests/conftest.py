"""Shared fixtures: the real LSST afw-format file used by the metadata, mask and exposure tests."""

import os
from pathlib import Path

import pytest

HSC_AFW_FILE = "images/hsc-afw/HSC-0908120-056-small.fits"


def _realdata_roots():
    if os.environ.get("OSPREY_REALDATA"):  # an explicit choice is the only place looked at
        yield Path(os.environ["OSPREY_REALDATA"])
        return
    yield Path("/work/shared/realdata")
    # <repo>/../shared/realdata, for checkouts that keep the shared data beside the repo.
    yield Path(__file__).resolve().parents[3].parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def hsc_afw_path() -> Path:
    """A 200x200 HSC cut-out written by LSST afw (image, mask, variance HDUs; xy0 = (100, 100))."""
    for root in _realdata_roots():
        if (root / HSC_AFW_FILE).is_file():
            return root / HSC_AFW_FILE
    pytest.skip(f"real data absent: set OSPREY_REALDATA to a directory containing {HSC_AFW_FILE}")
