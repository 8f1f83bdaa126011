"""The federation as data: read and write ``workspace.toml`` and the packages' pyprojects.

``workspace.toml`` is the one list of distributions. Everything that needs an order
(bootstrap, tests, wheel builds, tox, the metapackage) asks :func:`load` for it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_FILE = "workspace.toml"

_HEADER = """\
# The Osprey federation: every distribution, where it lives, its version and its internal
# dependencies. Tools read the build/test order from here; nothing else lists packages.
# Edit with scripts/new-package and scripts/release rather than by hand.
"""


class WorkspaceError(Exception):
    """workspace.toml or a package's metadata is inconsistent; the message says where."""


@dataclass
class Package:
    """One distribution of the federation, as recorded in ``workspace.toml``."""

    name: str  # distribution name, e.g. "osprey-geom"
    path: str  # relative to the workspace root
    import_name: str  # e.g. "osprey.geom"
    version: str
    layer: int
    native: bool
    depends: list[str] = field(default_factory=list)

    @property
    def short(self) -> str:
        """The name without the ``osprey-`` prefix: tox env and docs page name."""
        return self.name.removeprefix("osprey-")

    def dir(self, root: Path = ROOT) -> Path:
        return root / self.path

    def pyproject(self, root: Path = ROOT) -> dict:
        path = self.dir(root) / "pyproject.toml"
        try:
            return tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise WorkspaceError(f"{path}: cannot read pyproject ({exc})") from exc


@dataclass
class Workspace:
    root: Path
    nanobind: str
    python: str
    packages: list[Package]

    def get(self, name: str) -> Package:
        """Find a package by distribution name or short name (``geom`` or ``osprey-geom``)."""
        for pkg in self.packages:
            if name in (pkg.name, pkg.short):
                return pkg
        known = ", ".join(p.name for p in self.packages)
        raise WorkspaceError(f"no package {name!r} in {WORKSPACE_FILE} (known: {known})")

    def ordered(self) -> list[Package]:
        """Packages in dependency order (dependencies first, ties by layer then name)."""
        by_name = {p.name: p for p in self.packages}
        graph = {}
        for pkg in self.packages:
            for dep in pkg.depends:
                if dep not in by_name:
                    raise WorkspaceError(f"{pkg.name} depends on {dep!r}, which is not in {WORKSPACE_FILE}")
            graph[pkg.name] = pkg.depends
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
        except CycleError as exc:
            raise WorkspaceError(f"dependency cycle in {WORKSPACE_FILE}: {exc.args[1]}") from exc
        out: list[Package] = []
        while sorter.is_active():
            ready = sorted((by_name[n] for n in sorter.get_ready()), key=lambda p: (p.layer, p.name))
            out.extend(ready)
            sorter.done(*(p.name for p in ready))
        return out

    def closure(self, names: list[str]) -> list[Package]:
        """The named packages and everything they depend on, in dependency order."""
        wanted: set[str] = set()
        stack = [self.get(n).name for n in names]
        while stack:
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                stack.extend(self.get(name).depends)
        return [p for p in self.ordered() if p.name in wanted]

    def dependents(self, name: str) -> list[Package]:
        """Packages that declare ``name`` as a direct dependency."""
        return [p for p in self.ordered() if name in p.depends]

    def save(self) -> None:
        lines = [_HEADER, "[workspace]", f'nanobind = "{self.nanobind}"', f'python = "{self.python}"']
        for p in self.ordered():
            deps = ", ".join(f'"{d}"' for d in p.depends)
            lines += [
                "",
                "[[package]]",
                f'name = "{p.name}"',
                f'path = "{p.path}"',
                f'import = "{p.import_name}"',
                f'version = "{p.version}"',
                f"layer = {p.layer}",
                f"native = {'true' if p.native else 'false'}",
                f"depends = [{deps}]",
            ]
        (self.root / WORKSPACE_FILE).write_text("\n".join(lines) + "\n")


def load(root: Path = ROOT) -> Workspace:
    """Read and validate ``workspace.toml``."""
    path = root / WORKSPACE_FILE
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WorkspaceError(f"{path}: {exc}") from exc
    try:
        ws = data["workspace"]
        packages = [
            Package(
                name=p["name"],
                path=p["path"],
                import_name=p["import"],
                version=p["version"],
                layer=int(p["layer"]),
                native=bool(p["native"]),
                depends=list(p.get("depends", [])),
            )
            for p in data.get("package", [])
        ]
        workspace = Workspace(root, ws["nanobind"], ws["python"], packages)
    except KeyError as exc:
        raise WorkspaceError(f"{path}: missing key {exc}") from exc
    workspace.ordered()  # validates dependencies and cycles
    return workspace


def compatible_range(version: str) -> str:
    """The range a dependent declares on ``version``: same minor below 1.0, same major after.

    >>> compatible_range("0.4.2"), compatible_range("2.1.0")
    ('>=0.4,<0.5', '>=2.1,<3')
    """
    major, minor, _ = parse_version(version)
    if major == 0:
        return f">=0.{minor},<0.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"


_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_version(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version)
    if not match:
        raise WorkspaceError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    return int(match[1]), int(match[2]), int(match[3])


def split_requirement(req: str) -> tuple[str, str]:
    """``"osprey-geom>=0.1,<0.2"`` -> ``("osprey-geom", ">=0.1,<0.2")`` (markers kept in the spec)."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", req)
    if not match:
        raise WorkspaceError(f"cannot parse requirement {req!r}")
    return match[1].lower().replace("_", "-"), (match[3] or "").strip()
