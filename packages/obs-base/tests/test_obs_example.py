"""The worked example of docs/writing-an-obs-package.md, built and run as a user would.

The ExampleCam package (docs/examples/obs-example) is built into a wheel with
``pip wheel --no-build-isolation``, installed into a fresh virtual environment that also sees
this environment's packages, and every ``# walkthrough`` block of the page is run there, in
order, with the page's ``butler`` commands in between; then the repository it made is checked.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _find_up(relative: str) -> Path | None:
    for parent in Path(__file__).resolve().parents:
        if (parent / relative).exists():
            return parent / relative
    return None


DOC = _find_up("docs/writing-an-obs-package.md")
EXAMPLE = _find_up("docs/examples/obs-example")
BUTLER = "from osprey.daf.butler.cli import main; main()"

CHECK = textwrap.dedent(
    """
    import json
    import numpy as np
    import obs_example
    from osprey.daf.butler import Butler
    from osprey.obs.base import Instrument

    cam = Instrument.from_name("ExampleCam")
    butler = Butler.from_config("repo")
    where = {"instrument": "ExampleCam"}

    def records(element):
        return butler.query_dimension_records(element, where)

    out = {
        "module": obs_example.__file__,
        "class": type(cam).__module__ + "." + type(cam).__qualname__,
        "detectors": sorted((r.id, r.full_name) for r in records("detector")),
        "filters": sorted((r.name, r.band) for r in records("physical_filter")),
        "exposures": sorted(
            (r.id, r.obs_id, r.physical_filter, r.observation_type, r.day_obs, r.exposure_time, round(r.sky_angle, 9))
            for r in records("exposure")
        ),
        "visits": sorted(r.id for r in records("visit")),
        "regions": sorted((r.visit, r.detector) for r in records("visit_detector_region")),
        "raws": sorted(
            (r.data_id["exposure"], r.data_id["detector"])
            for r in butler.query_datasets("raw", collections="ExampleCam/raw/all", **where)
        ),
        "overrides": str(cam.get_config_overrides_path("isr")),
    }
    raw = butler.get("raw", exposure=2025031200002, detector=1, collections="ExampleCam/raw/all", **where)
    frame = raw.image.array
    amp = raw.detector["B"]
    ox = amp.raw_xy_offset.x
    data, over = amp.raw_data_bbox, amp.raw_serial_overscan_bbox
    out["raw"] = {
        "shape": list(frame.shape),
        "overscan": float(np.median(frame[over.y0:over.y_end, ox + over.x0:ox + over.x_end])),
        "data": float(np.median(frame[data.y0:data.y_end, ox + data.x0:ox + data.x_end])),
        "integral": bool(np.all(frame == np.round(frame))),
        "exptime": raw.visit_info.exposure_time,
        "detector": raw.detector.name,
    }
    (visit,) = [v for v in records("visit") if v.id == 2025031200002]
    defects = butler.get("defects", detector=1, collections="ExampleCam/calib", timespan=visit.timespan, **where)
    out["defects"] = [list(map(int, row)) for row in defects]
    print(json.dumps(out))
    """
)


def _blocks(text: str) -> tuple[list[str], list[str]]:
    """The page's ``# walkthrough`` Python blocks, and its ``butler`` command lines, in order."""
    python = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if b.startswith("# walkthrough")]
    commands = [
        line.split()
        for b in re.findall(r"```bash\n(.*?)```", text, re.S)
        for line in b.splitlines()
        if line.startswith("butler ")
    ]
    return python, commands


def _run(args, cwd, env, what):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.skipif(DOC is None or EXAMPLE is None, reason="needs the source tree (docs/ is not in any wheel)")
@pytest.mark.skipif(
    importlib.util.find_spec("mesonpy") is None, reason="building the example needs meson-python (the dev env)"
)
def test_example_obs_package_end_to_end(tmp_path):
    python_blocks, commands = _blocks(DOC.read_text())
    assert len(python_blocks) == 4 and [c[:2] for c in commands] == [
        ["butler", "ingest-raws"],
        ["butler", "define-visits"],
    ]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    # 1. Build the wheel from a copy (the build leaves nothing in the source tree).
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, EXAMPLE],
        tmp_path,
        env,
        "pip wheel",
    )
    (wheel,) = wheels.glob("obs_example-0.1.0-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    # 2. A fresh venv that sees this environment's packages. --system-site-packages exposes the
    #    *base* interpreter's site-packages, not this venv's, so a .pth adds ours (with its .pth
    #    files: the editable Osprey installs).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], tmp_path, env, "venv")
    vpy = venv / "bin" / "python"
    vsite = Path(_run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env, "site"))
    vsite = Path(str(vsite).strip())
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (vsite / "osprey_dev_env.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    _run(
        [sys.executable, "-m", "pip", "--python", vpy, "install", "--no-deps", "--no-index", wheel],
        tmp_path,
        env,
        "pip install",
    )
    # 3. The page, run where a user would run it.
    work = tmp_path / "work"
    work.mkdir()
    printed = _run([vpy, "-c", "\n".join(python_blocks[:3])], work, env, "walkthrough 1-3")
    assert "ingested 2, already present 0, failed 0" in printed
    for command in commands:
        printed = _run([vpy, "-c", BUTLER, *command[1:]], work, env, " ".join(command))
        if command[1] == "ingest-raws":
            assert "ingested 2, already present 0, failed 0" in printed
        else:
            assert "defined 2 visit(s)" in printed
    printed = _run([vpy, "-c", python_blocks[3]], work, env, "walkthrough 4")
    assert "S1 (528, 584) 30.0" in printed
    # Ingesting night 2 again through the CLI: every file already there.
    printed = _run([vpy, "-c", BUTLER, "ingest-raws", "repo", "raws/night2"], work, env, "ingest again")
    assert "ingested 0, already present 2, failed 0" in printed
    # 4. What the repository holds.
    state = json.loads(_run([vpy, "-c", CHECK], work, env, "check").splitlines()[-1])
    assert Path(state["module"]).is_relative_to(venv), "obs_example must come from the installed wheel"
    assert state["class"] == "obs_example._instrument.ExampleCam"
    assert state["detectors"] == [[0, "S0"], [1, "S1"]]
    assert state["filters"] == [["empty", "empty"], ["g_ex", "g"], ["r_ex", "r"]]
    assert state["exposures"] == [
        [2025031200001, "EX_20250312_000001", "g_ex", "science", 20250312, 30.0, 30.0],
        [2025031200002, "EX_20250312_000002", "r_ex", "science", 20250312, 30.0, 30.0],
    ]
    assert state["visits"] == [2025031200001, 2025031200002]
    assert state["regions"] == [[v, d] for v in state["visits"] for d in (0, 1)]
    assert state["raws"] == [[e, d] for e in state["visits"] for d in (0, 1)]
    assert Path(state["overrides"]).name == "isr.yaml" and Path(state["overrides"]).is_relative_to(venv)
    raw = state["raw"]
    assert raw["shape"] == [528, 584] and raw["detector"] == "S1" and raw["exptime"] == 30.0
    assert raw["integral"]  # digitised: whole ADU
    assert abs(raw["overscan"] - 1000.0) <= 1.0 and abs(raw["data"] - 3000.0) <= 1.0
    assert state["defects"] == [[300, 200, 4, 4], [450, 0, 2, 512]]
