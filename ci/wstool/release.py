"""``scripts/release PKG PART``: bump one distribution and everything that records its version."""

from __future__ import annotations

import datetime
import re
import tomllib

from wstool.generate import META_DIR, render_meta_pyproject
from wstool.model import Package, Workspace, WorkspaceError, compatible_range, parse_version, split_requirement

PARTS = ("major", "minor", "patch")


def bump(version: str, part: str) -> str:
    """Semantic-version bump.

    >>> bump("0.4.2", "minor"), bump("1.9.3", "major"), bump("1.9.3", "patch")
    ('0.5.0', '2.0.0', '1.9.4')
    """
    major, minor, patch = parse_version(version)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise WorkspaceError(f"release part must be one of {PARTS}, got {part!r}")


def meta_version(ws: Workspace) -> str:
    path = ws.root / META_DIR / "pyproject.toml"
    return tomllib.loads(path.read_text())["project"]["version"]


def release(ws: Workspace, name: str, part: str, message: str) -> list[str]:
    """Bump ``name``; widen dependents' ranges (and patch-release them) when the new version
    falls outside what they accept; re-pin the metapackage. Returns a log of what changed."""
    pkg = ws.get(name)
    log = [_set_version(ws, pkg, bump(pkg.version, part), message)]
    new_range = compatible_range(pkg.version)
    for dep in ws.dependents(pkg.name):
        if _set_dependency_range(ws, dep, pkg.name, new_range):
            note = f"Require {pkg.name}{new_range} (was released as {pkg.version})."
            log.append(_set_version(ws, dep, bump(dep.version, "patch"), note))
    ws.save()
    new_meta = bump(meta_version(ws), "minor" if part != "patch" else "patch")
    (ws.root / META_DIR / "pyproject.toml").write_text(render_meta_pyproject(ws, new_meta))
    log.append(f"osprey-distrib -> {new_meta}")
    return log


def _set_version(ws: Workspace, pkg: Package, new: str, message: str) -> str:
    old = pkg.version
    path = pkg.dir(ws.root) / "pyproject.toml"
    text = path.read_text()
    text, n = re.subn(rf'(?m)^version = "{re.escape(old)}"$', f'version = "{new}"', text, count=1)
    if n != 1:
        raise WorkspaceError(f"{path}: no line 'version = \"{old}\"' (does it agree with workspace.toml?)")
    path.write_text(text)
    pkg.version = new
    _changelog(ws, pkg, message)
    return f"{pkg.name} {old} -> {new}"


def _set_dependency_range(ws: Workspace, pkg: Package, dep: str, new_range: str) -> bool:
    """Rewrite ``dep``'s specifier in ``pkg``'s pyproject; True if it changed."""
    path = pkg.dir(ws.root) / "pyproject.toml"
    text = path.read_text()
    for req in tomllib.loads(text)["project"].get("dependencies", []):
        name, spec = split_requirement(req)
        if name == dep:
            if spec == new_range:
                return False
            # Every occurrence: a package using another's C++ headers also build-requires it.
            path.write_text(text.replace(f'"{req}"', f'"{dep}{new_range}"'))
            return True
    raise WorkspaceError(f"{path}: workspace.toml says {pkg.name} depends on {dep}, but the pyproject does not")


def _changelog(ws: Workspace, pkg: Package, message: str) -> None:
    path = pkg.dir(ws.root) / "CHANGELOG.md"
    title = f"# {pkg.name} changelog\n"
    body = path.read_text().removeprefix(title).lstrip("\n") if path.exists() else ""
    entry = f"## {pkg.version} ({datetime.date.today().isoformat()})\n\n- {message}\n"
    path.write_text(f"{title}\n{entry}\n{body}".rstrip("\n") + "\n")
