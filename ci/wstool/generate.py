"""Files derived from ``workspace.toml``: the metapackage and ``tox.ini``.

Each is rendered from the workspace alone, so the consistency check can render it again
and compare with what is committed.
"""

from __future__ import annotations

from wstool.model import Workspace

META_DIR = "meta"


def render_meta_pyproject(ws: Workspace, meta_version: str) -> str:
    pins = "\n".join(f'    "{p.name}=={p.version}",' for p in ws.ordered())
    return f"""\
# Generated from workspace.toml by `scripts/release` / `scripts/new-package`; do not edit.
[build-system]
build-backend = "mesonpy"
requires = ["meson-python>=0.17", "meson>=1.4", "ninja"]

[project]
name = "osprey-distrib"
version = "{meta_version}"
description = "One tested set of Osprey distributions: exact pins of every package (metadata only)."
readme = "README.md"
requires-python = "{ws.python}"
license = "BSD-3-Clause"
dependencies = [
{pins}
]
"""


def render_tox_ini(ws: Workspace) -> str:
    envs = ",".join(p.short for p in ws.ordered())
    sections = []
    for p in ws.ordered():
        sections.append(
            f"""\
[testenv:{p.short}]
description = test the {p.name} wheel installed alone with its declared dependencies
skip_install = true
commands_pre = python {{toxinidir}}/ci/wstool install-wheel {p.name} --python {{envpython}}
commands = python -m pytest -c {{toxinidir}}/ci/pytest.ini --rootdir {{toxinidir}} \\
    {{toxinidir}}/{p.path}/tests {{posargs}}
"""
        )
    return (
        "# Generated from workspace.toml by `scripts/new-package`; do not edit by hand.\n"
        "# `tox -e geom` builds the osprey-geom wheel (and those it depends on) with build\n"
        "# isolation and tests it in a venv holding only its declared dependencies.\n"
        f"[tox]\nenv_list = {envs}\nrequires = tox>=4\n\n" + "\n".join(sections)
    )
