"""Release wheels and the proof that each distribution works alone.

Wheels are built with build isolation, in dependency order, into ``dist/wheelhouse``;
the check installs one distribution into a fresh venv with nothing but its declared
dependencies and runs its own tests there, from outside the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

from wstool.model import Package, Workspace, WorkspaceError

WHEELHOUSE = "dist/wheelhouse"


def run(cmd: list[str], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def wheel_path(ws: Workspace, pkg: Package) -> Path | None:
    stem = pkg.name.replace("-", "_") + "-" + pkg.version + "-"
    found = sorted((ws.root / WHEELHOUSE).glob(stem + "*.whl"))
    return found[-1] if found else None


def build_wheels(ws: Workspace, names: list[str]) -> list[Path]:
    """Build the named packages and everything they depend on (isolated builds)."""
    house = ws.root / WHEELHOUSE
    house.mkdir(parents=True, exist_ok=True)
    out = []
    for pkg in ws.closure(names):
        old = wheel_path(ws, pkg)
        if old is not None:
            old.unlink()
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--find-links", house, "-w", house, pkg.dir(ws.root)])
        built = wheel_path(ws, pkg)
        if built is None:
            raise WorkspaceError(f"pip wheel did not produce a wheel for {pkg.name} {pkg.version}")
        check_wheel_layout(pkg, built)
        out.append(built)
    return out


def check_wheel_layout(pkg: Package, wheel: Path) -> None:
    """A wheel must not own a namespace level (``osprey/__init__.py``) and must hold its package."""
    parts = pkg.import_name.split(".")
    namespaces = {"/".join(parts[:i]) + "/__init__.py" for i in range(1, len(parts))}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    clash = sorted(namespaces & names)
    if clash:
        raise WorkspaceError(f"{wheel.name} contains namespace file(s) {clash}: PEP 420 forbids them")
    own = "/".join(parts) + "/__init__.py"
    if own not in names:
        raise WorkspaceError(f"{wheel.name} does not contain {own}")


def install_wheel(ws: Workspace, name: str, python: str) -> None:
    """Install ``name`` with its test extra from the wheelhouse (building wheels first)."""
    pkg = ws.get(name)
    build_wheels(ws, [pkg.name])
    house = ws.root / WHEELHOUSE
    run([python, "-m", "pip", "install", "-q", "--find-links", house, f"{pkg.name}[test]=={pkg.version}"])


def check_isolation(ws: Workspace, names: list[str]) -> None:
    names = names or [p.name for p in ws.ordered()]
    start = time.perf_counter()
    build_wheels(ws, names)
    for name in names:
        pkg = ws.get(name)
        t0 = time.perf_counter()
        env_dir = ws.root / "dist" / "isolation" / pkg.short
        venv.EnvBuilder(clear=True, with_pip=True).create(env_dir)
        python = str(env_dir / "bin" / "python")
        house = ws.root / WHEELHOUSE
        run([python, "-m", "pip", "install", "-q", "--find-links", house, f"{pkg.name}[test]=={pkg.version}"])
        _check_only_declared(ws, pkg, python)
        # Run from an empty directory so nothing from the source tree can be imported.
        tmp = env_dir / "run"
        tmp.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", ws.root / "ci" / "pytest.ini",
             "--rootdir", ws.root, pkg.dir(ws.root) / "tests"],
            cwd=tmp, env=env,
        )
        print(f"isolation OK: {pkg.name} {pkg.version} in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"check-isolation passed for {', '.join(names)} in {time.perf_counter() - start:.0f} s")


def _check_only_declared(ws: Workspace, pkg: Package, python: str) -> None:
    """The venv holds exactly the osprey distributions ``pkg`` depends on (transitively)."""
    listing = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    installed = {n.lower() for n in listing if n.lower().startswith("osprey-")}
    expected = {p.name for p in ws.closure([pkg.name])}
    if installed != expected:
        raise WorkspaceError(f"{pkg.name} isolation venv holds {sorted(installed)}, expected {sorted(expected)}")
