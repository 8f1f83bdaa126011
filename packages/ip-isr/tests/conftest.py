"""Shared fixtures: the real LSSTCam calibration files."""

from __future__ import annotations

from pathlib import Path

import pytest

from osprey.utils.testing import realdata_path


@pytest.fixture(scope="session")
def lsstcam_calibs() -> Path:
    return realdata_path("calibs/lsstcam", __file__)
