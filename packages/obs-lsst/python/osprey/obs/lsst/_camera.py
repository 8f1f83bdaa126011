"""Reader of the compact camera descriptions in ``data/`` (one template per sensor type + a row per detector).

The format is ours, generated from obs_lsst's policy facts by
``scripts/make_camera_descriptions.py``: ``sensor_types`` maps a type name to a detector
description in the `osprey.afw.camera_geom.Camera` declarative format without identity,
placement or per-amplifier electronics; each ``detectors`` row adds those (id, name,
serial, type, orientation, and per-amplifier ``gain_e_per_adu``, ``read_noise_e``,
``saturation_adu`` lists in amplifier order).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from osprey.afw.camera_geom import Camera

from ._errors import ObsLsstError

__all__ = ["DATA_DIR", "expand_compact", "load_camera"]

DATA_DIR = Path(__file__).with_name("data")
_PER_AMP = ("gain_e_per_adu", "read_noise_e", "saturation_adu")


def expand_compact(data: dict[str, Any], source: str) -> dict[str, Any]:
    """The compact description as a full `Camera.from_dict` mapping."""
    if data.get("compact_format_version") != 1:
        raise ObsLsstError(f"{source}: compact_format_version must be 1, got {data.get('compact_format_version')!r}")
    templates = data["sensor_types"]
    detectors = []
    for i, row in enumerate(data["detectors"]):
        where = f"{source}: detectors[{i}] ({row.get('name')})"
        if row.get("sensor") not in templates:
            raise ObsLsstError(f"{where}: unknown sensor type {row.get('sensor')!r}; known: {sorted(templates)}")
        det = copy.deepcopy(templates[row["sensor"]])
        det.update({k: row[k] for k in ("id", "name", "serial", "type", "orientation")})
        for key in _PER_AMP:
            values = row.get(key)
            if values is None or len(values) != len(det["amplifiers"]):
                raise ObsLsstError(f"{where}: {key} needs one value per amplifier ({len(det['amplifiers'])})")
            for amp, value in zip(det["amplifiers"], values, strict=True):
                if value is not None:
                    amp[key] = value
        detectors.append(det)
    full = {k: v for k, v in data.items() if k not in ("compact_format_version", "sensor_types", "detectors")}
    full["detectors"] = detectors
    return full


@functools.cache
def load_camera(name: str) -> Camera:
    """The shipped camera ``data/<name>.yaml`` (cached: cameras are immutable)."""
    path = DATA_DIR / f"{name}.yaml"
    try:
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise ObsLsstError(f"camera description {path} cannot be read: {exc}") from None
    return Camera.from_dict(expand_compact(data, str(path)), str(path))
