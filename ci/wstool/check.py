"""Consistency of the federation: what CI checks besides the packages' own tests.

Each function returns a list of problems (empty when all is well), each naming the file
and the fix, so the tests in ``ci/tests`` can show them all at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

from wstool.generate import META_DIR, render_meta_pyproject, render_tox_ini
from wstool.model import Package, Workspace, compatible_range, split_requirement
from wstool.release import meta_version


def metadata_problems(ws: Workspace) -> list[str]:
    problems = []
    registered = {p.path for p in ws.packages}
    for path in sorted((ws.root / "packages").iterdir()):
        if path.is_dir() and f"packages/{path.name}" not in registered:
            problems.append(f"{path} is not registered in workspace.toml (use scripts/new-package)")
    for pkg in ws.ordered():
        problems += _package_problems(ws, pkg)
    meta = ws.root / META_DIR / "pyproject.toml"
    if not meta.exists() or meta.read_text() != render_meta_pyproject(ws, meta_version(ws)):
        problems.append(f"{meta} does not pin exactly the versions in workspace.toml (run scripts/release)")
    tox = ws.root / "tox.ini"
    if not tox.exists() or tox.read_text() != render_tox_ini(ws):
        problems.append("tox.ini is out of date with workspace.toml (run `python ci/wstool regenerate`)")
    return problems


def _package_problems(ws: Workspace, pkg: Package) -> list[str]:
    where = f"{pkg.path}/pyproject.toml"
    project = pkg.pyproject(ws.root)
    problems = []
    if project["project"]["name"] != pkg.name:
        problems.append(f"{where}: name {project['project']['name']!r} but workspace.toml says {pkg.name!r}")
    if project["project"]["version"] != pkg.version:
        problems.append(f"{where}: version {project['project']['version']} but workspace.toml says {pkg.version}")
    declared = {}
    for req in project["project"].get("dependencies", []):
        name, spec = split_requirement(req)
        if name.startswith("osprey-"):
            declared[name] = spec
    if sorted(declared) != sorted(pkg.depends):
        problems.append(f"{where}: osprey dependencies {sorted(declared)} but workspace.toml says {pkg.depends}")
    for dep, spec in declared.items():
        if dep in pkg.depends and spec != compatible_range(ws.get(dep).version):
            want = compatible_range(ws.get(dep).version)
            problems.append(f"{where}: {dep}{spec} does not accept the workspace version; use {dep}{want}")
    requires = project["build-system"]["requires"]
    has_pin = f"nanobind=={ws.nanobind}" in requires
    if pkg.native != has_pin:
        problems.append(f"{where}: native={pkg.native} in workspace.toml but nanobind=={ws.nanobind} "
                        f"{'missing from' if pkg.native else 'present in'} build-system.requires")
    if pkg.native:
        meson = (pkg.dir(ws.root) / "meson.build").read_text()
        if f"nanobind_pin = '{ws.nanobind}'" not in meson:
            problems.append(f"{pkg.path}/meson.build: nanobind_pin differs from workspace.toml ({ws.nanobind})")
    parts = pkg.import_name.split(".")
    for i in range(1, len(parts)):
        init = pkg.dir(ws.root) / "python" / Path(*parts[:i]) / "__init__.py"
        if init.exists():
            problems.append(f"{init} makes a namespace level a regular package (PEP 420): delete it")
    if not (pkg.dir(ws.root) / "python" / Path(*parts) / "__init__.py").exists():
        problems.append(f"{pkg.path}: no python/{'/'.join(parts)}/__init__.py")
    return problems


def owner_of(ws: Workspace, module: str) -> Package | None:
    """The package providing ``module`` (longest import-path prefix wins)."""
    best = None
    for pkg in ws.packages:
        if module == pkg.import_name or module.startswith(pkg.import_name + "."):
            if best is None or len(pkg.import_name) > len(best.import_name):
                best = pkg
    return best


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Absolute ``osprey.*`` imports in a Python file, with line numbers."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if node.module == "osprey"]
    return [(n, m) for n, m in found if m == "osprey" or m.startswith("osprey.")]


def layering_problems(ws: Workspace) -> list[str]:
    """Imports of an osprey package that is neither the importer itself nor a declared
    dependency, or that sits in a higher layer (tests and benchmarks included)."""
    problems = []
    for pkg in ws.ordered():
        allowed = {pkg.name, *pkg.depends}
        for sub in ("python", "tests", "bench"):
            for path in sorted((pkg.dir(ws.root) / sub).rglob("*.py")):
                for line, module in imported_modules(path):
                    owner = owner_of(ws, module)
                    rel = path.relative_to(ws.root)
                    if owner is None:
                        problems.append(f"{rel}:{line}: imports {module}, which no workspace package provides")
                    elif owner.name not in allowed:
                        problems.append(f"{rel}:{line}: imports {module} from {owner.name}, "
                                        f"not a declared dependency of {pkg.name}")
                    elif owner.layer > pkg.layer:
                        problems.append(f"{rel}:{line}: {pkg.name} (layer {pkg.layer}) imports "
                                        f"{owner.name} (layer {owner.layer}), a higher layer")
    return problems

