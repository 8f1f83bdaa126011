"""Generate the compact camera descriptions shipped in osprey-obs-lsst from obs_lsst's policy facts.

    python packages/obs-lsst/scripts/make_camera_descriptions.py [REALDATA]

Reads the per-raft LSSTCam description (``camera/lsstCam``: serials, per-amp gain, read
noise, saturation, sensor geometry) and the real raw layouts (``raw-layout/lsstcam`` for the
e2v sensors, ``raw-layout/latiss`` for LATISS: the amplifier boxes and flips in their DETSEC
cards, which override the policy's), and writes ``data/<camera>.yaml`` in our compact
format (see ``osprey.obs.lsst._camera``): one amplifier-geometry template per sensor type
plus one short row per detector. Only derived numbers are written, no source text.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from osprey.afw.camera_geom import Camera

OUT = Path(__file__).resolve().parents[1] / "python" / "osprey" / "obs" / "lsst" / "data"

# Corner rafts: centre on the 127 mm grid, rotated so the wavefront sensors sit at the outer
# corner; ids follow LSSTCam (189.. : SG0, SG1, SW0, SW1 per raft in R00, R04, R40, R44 order).
CORNERS = {
    "R00": (-254.0, -254.0, 0.0),
    "R04": (254.0, -254.0, 90.0),
    "R40": (-254.0, 254.0, 270.0),
    "R44": (254.0, 254.0, 180.0),
}
PER_AMP = ("gain_e_per_adu", "read_noise_e", "saturation_adu")


def _lsstcam(realdata: Path) -> Camera:
    layout = {}
    for i, (raft, (x, y, yaw)) in enumerate(CORNERS.items()):
        layout[raft] = {"offset_mm": [x, y], "yaw_deg": yaw, "id0": 189 + 4 * i}
        layout[f"{raft}W"] = {"offset_mm": [x, y], "yaw_deg": yaw, "id0": 189 + 4 * i + 2}
    policy = realdata / "camera" / "lsstCam"
    rafts = sorted(p.stem for p in policy.glob("R*.yaml"))
    camera = Camera.from_lsst_policy(policy, rafts=rafts, raft_layout=layout)
    # The e2v amplifier rows of the policy (C1x on top) are mirrored in y relative to the real
    # LSSTCam raw R22_S22 (C1x at the bottom, read out unflipped in y; C0x on top, flipped):
    # the real file is the truth, so every e2v science sensor takes its layout.
    e2v_raw = realdata / "raw-layout" / "lsstcam" / "30211212000310-R22-S22-det098.fits"
    full = camera.to_dict()
    for det in full["detectors"]:
        if det.get("physical_type") == "E2V":
            _layout_from_raw(det, e2v_raw)
    return Camera.from_dict(full)


def _layout_from_raw(det: dict[str, Any], raw: Path) -> None:
    """Set each amplifier's assembled box and readout flips from the DETSEC cards of a real raw file.

    DETSEC ``[x1:x2,y1:y2]`` gives the box; x1 > x2 (y1 > y2) means the amplifier is read out
    mirrored in x (y). The amplifier's raw array keeps its column from the camera description
    and moves to the raw-frame row of its box (bottom row at 0, top row one raw height up), so
    the raw frame stays laid out like the detector.
    """
    from astropy.io import fits

    from osprey.obs.base import parse_fits_section

    with fits.open(raw) as hdus:
        cards = {h.header.get("EXTNAME"): h.header["DETSEC"] for h in hdus[1:] if "DETSEC" in h.header}
    for amp in det["amplifiers"]:
        card = cards[f"Segment{amp['name'][1:]}"]
        xs, ys = card.strip("[]").split(",")
        x0, y0, w, h = parse_fits_section(card)
        amp["bbox_px"] = [[x0, y0], [w, h]]
        amp["raw"]["flip_x"] = int(xs.split(":")[0]) > int(xs.split(":")[1])
        amp["raw"]["flip_y"] = int(ys.split(":")[0]) > int(ys.split(":")[1])
        raw_height = amp["raw"]["bbox_px"][1][1]
        amp["raw"]["xy_offset_px"] = [amp["raw"]["xy_offset_px"][0], (y0 // h) * raw_height]


def compact(camera: Camera) -> dict[str, Any]:
    """Split a camera into per-sensor-type templates and per-detector rows (exact round trip)."""
    full = camera.to_dict()
    templates: dict[str, Any] = {}
    rows = []
    for det in full["detectors"]:
        base = f"{det.get('physical_type') or 'CCD'}_{det.get('type', 'SCIENCE')}"
        template = copy.deepcopy(det)
        for key in ("id", "name", "serial", "orientation", "type"):
            template.pop(key, None)
        for amp in template["amplifiers"]:
            for key in PER_AMP:
                amp.pop(key, None)
        # Same sensor type, same geometry: one template (a variant suffix where they differ).
        variants = [k for k in templates if k == base or k.startswith(f"{base}.")]
        kind = next((k for k in variants if templates[k] == template), None)
        if kind is None:
            kind = base if not variants else f"{base}.{len(variants)}"
            templates[kind] = template
        o = det["orientation"]
        rows.append(
            {
                "id": det["id"],
                "name": det["name"],
                "serial": det.get("serial", ""),
                "type": det.get("type", "SCIENCE"),
                "sensor": kind,
                "orientation": o,
                **{key: [amp.get(key) for amp in det["amplifiers"]] for key in PER_AMP},
            }
        )
    head = {k: v for k, v in full.items() if k != "detectors"}
    return {"compact_format_version": 1, **head, "sensor_types": templates, "detectors": rows}


def _latiss(realdata: Path, lsstcam: Camera) -> Camera:
    """LATISS: one ITL sensor; amplifier flips and positions from the DETSEC cards of a real raw."""
    from astropy.io import fits

    from osprey.obs.base import parse_fits_section

    itl = next(d for d in lsstcam if d.physical_type == "ITL").to_dict()
    raw = next((realdata / "raw-layout" / "latiss").glob("*.fits"))
    amps = []
    with fits.open(raw) as hdus:
        by_name = {h.header.get("EXTNAME"): h.header for h in hdus[1:]}
        for amp in itl["amplifiers"]:
            card = by_name[f"Segment{amp['name'][1:]}"]["DETSEC"]
            xs, ys = card.strip("[]").split(",")
            flip_x = int(xs.split(":")[0]) > int(xs.split(":")[1])
            flip_y = int(ys.split(":")[0]) > int(ys.split(":")[1])
            x0, y0, w, h = parse_fits_section(card)
            amp = copy.deepcopy(amp)
            amp["bbox_px"] = [[x0, y0], [w, h]]
            amp["raw"]["flip_x"], amp["raw"]["flip_y"] = flip_x, flip_y
            amps.append(amp)
    det = {
        **itl,
        "id": 0,
        "name": "RXX_S00",
        "serial": "ITL-3800C-068",
        "amplifiers": amps,
        "orientation": {**itl["orientation"], "focal_plane_position_mm": [0.0, 0.0]},
    }
    det["orientation"].pop("yaw_deg", None)
    # AuxTel: 1.2 m f/18 -> 9.52 arcsec/mm.
    return Camera.from_dict({"name": "LATISS", "plate_scale_arcsec_per_mm": 9.52, "detectors": [det]})


def _comcam(lsstcam: Camera) -> Camera:
    """LSSTComCam: one ITL raft (R22 layout, ids 0..8), same sensor geometry and plate scale."""
    dets = []
    r22 = [d for d in lsstcam if d.name.startswith("R22_")]
    itl_template = next(d for d in lsstcam if d.physical_type == "ITL").to_dict()
    for i, det in enumerate(sorted(r22, key=lambda d: d.id)):
        d = copy.deepcopy(itl_template)
        d.update(id=i, name=det.name, serial="")
        d["orientation"] = det.to_dict()["orientation"]
        dets.append(d)
    out = lsstcam.to_dict()
    out.update(name="LSSTComCam", detectors=dets)
    return Camera.from_dict(out)


def main(argv: list[str]) -> int:
    realdata = Path(argv[1] if len(argv) > 1 else os.environ.get("OSPREY_REALDATA", "/work/shared/realdata"))
    lsstcam = _lsstcam(realdata)
    OUT.mkdir(parents=True, exist_ok=True)
    for camera in (lsstcam, _comcam(lsstcam), _latiss(realdata, lsstcam)):
        path = OUT / f"{camera.name}.yaml"
        text = yaml.safe_dump(compact(camera), sort_keys=False, default_flow_style=None, width=120)
        path.write_text(f"# Generated by scripts/make_camera_descriptions.py; do not edit.\n{text}")
        print(f"wrote {path} ({len(camera)} detectors, {len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
