"""``scripts/lock``: the environment lock for the whole stack.

``meta/requirements.lock`` is ``uv pip compile --generate-hashes`` output for every
third-party runtime dependency of every distribution, headed by the exact Osprey pins and
a digest of the inputs; ``meta/environment.yml`` names the same versions for conda-forge.
The consistency check recomputes the digest from the workspace, so a package added,
released or given a new dependency without re-locking fails CI.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wstool.generate import META_DIR
from wstool.model import Workspace, WorkspaceError, split_requirement

LOCK = f"{META_DIR}/requirements.lock"
ENVIRONMENT = f"{META_DIR}/environment.yml"
PLATFORM = "x86_64-manylinux_2_28"
PYTHON = "3.11"


def external_requirements(ws: Workspace) -> list[str]:
    """Every non-Osprey runtime requirement string of every package, sorted and de-duplicated."""
    reqs = set()
    for pkg in ws.ordered():
        for req in pkg.pyproject(ws.root)["project"].get("dependencies", []):
            if not split_requirement(req)[0].startswith("osprey-"):
                reqs.add(req.strip())
    return sorted(reqs)


def inputs_digest(ws: Workspace) -> str:
    payload = {
        "python": PYTHON,
        "platform": PLATFORM,
        "requirements": external_requirements(ws),
        "osprey": [f"{p.name}=={p.version}" for p in ws.ordered()],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def write_lock(ws: Workspace) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    with tempfile.TemporaryDirectory() as tmp:
        req_in = Path(tmp) / "requirements.in"
        req_in.write_text("\n".join(external_requirements(ws)) + "\n")
        result = subprocess.run(
            [uv, "pip", "compile", "--quiet", "--generate-hashes", "--no-header", "--no-annotate",
             "--python-version", PYTHON, "--python-platform", PLATFORM, str(req_in)],
            capture_output=True, text=True,
        )
    if result.returncode != 0:
        raise WorkspaceError(f"uv pip compile failed:\n{result.stderr}")
    header = [
        "# Osprey environment lock; regenerate with scripts/lock, do not edit.",
        f"# inputs-digest: {inputs_digest(ws)}",
        f"# python {PYTHON}, platform {PLATFORM}",
        "# Osprey distributions (built from this workspace, pinned by osprey-distrib):",
        *[f"#   {p.name}=={p.version}" for p in ws.ordered()],
    ]
    lock_text = "\n".join(header) + "\n" + result.stdout
    (ws.root / LOCK).write_text(lock_text)
    (ws.root / ENVIRONMENT).write_text(render_environment(ws, locked_versions(lock_text)))


def locked_versions(lock_text: str) -> dict[str, str]:
    return {m[1].lower(): m[2] for m in re.finditer(r"(?m)^([A-Za-z0-9._-]+)==([^ \\\n]+)", lock_text)}


def render_environment(ws: Workspace, versions: dict[str, str]) -> str:
    deps = "\n".join(f"  - {n}={v}" for n, v in sorted(versions.items()))
    pins = "\n".join(f"      - {p.name}=={p.version}" for p in ws.ordered())
    return (
        "# conda-forge environment with the versions of meta/requirements.lock; from scripts/lock.\n"
        "name: osprey\nchannels:\n  - conda-forge\ndependencies:\n"
        f"  - python={PYTHON}\n{deps}\n  - pip\n  - pip:\n{pins}\n"
    )


def check_lock(ws: Workspace) -> list[str]:
    """Problems that make the committed lock disagree with the workspace (empty if none)."""
    lock_path, env_path = ws.root / LOCK, ws.root / ENVIRONMENT
    if not lock_path.exists() or not env_path.exists():
        return [f"{LOCK} or {ENVIRONMENT} missing: run scripts/lock"]
    text = lock_path.read_text()
    problems = []
    match = re.search(r"(?m)^# inputs-digest: (\w+)$", text)
    if not match or match[1] != inputs_digest(ws):
        problems.append(f"{LOCK} was made for other inputs than workspace.toml and the pyprojects: run scripts/lock")
    if env_path.read_text() != render_environment(ws, locked_versions(text)):
        problems.append(f"{ENVIRONMENT} disagrees with {LOCK}: run scripts/lock")
    return problems
