import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ci"))


@pytest.fixture
def workspace_copy(tmp_path):
    """A scratch copy of the workspace metadata and packages (no venv, no build dirs)."""
    dest = tmp_path / "ws"
    ignore = shutil.ignore_patterns("build", "__pycache__", "*.so", ".pytest_cache")
    for name in ("ci", "packages", "meta", "docs"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("workspace.toml", "tox.ini"):
        shutil.copy(ROOT / name, dest / name)
    return dest
