"""Attached objects (WCS, PSF, calibration...) as ``(OSPREY_TYPE, JSON text)`` pairs.

Each `ExposureInfo` component is stored as a one-row binary table whose ``PAYLOAD``
column holds JSON text and whose ``OSPREY_TYPE`` keyword names the class by its public
dotted path. The JSON is what the class's ``to_dict()`` returns, except for

* `osprey.geom.Region` subclasses (e.g. a `ConvexPolygon` valid polygon):
  ``{"encoded_hex": region.encode().hex()}``;
* `osprey.afw.camera_geom.Detector`: ``{"detector": to_dict(), "field_angle":
  RadialDistortion.to_dict() or null}``, because a detector's field-angle distortion is
  not part of its own dict;
* plain ``dict`` values (``OSPREY_TYPE = 'builtins.dict'``), stored as they are.

Nothing is ever pickled. Reading resolves ``OSPREY_TYPE`` only to classes inside an
``osprey.`` package that provide ``from_dict`` (plus ``builtins.dict``), so a file cannot
make the reader call arbitrary code. Floats survive exactly (JSON text uses Python's
shortest round-trip repr; NaN and infinities as Python's ``json`` writes them).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import numpy as np

from osprey.geom import Region

from ..camera_geom import Detector, RadialDistortion
from ..errors import AfwValueError

__all__ = ["COMPONENT_FIELDS", "decode_component", "encode_component", "type_name"]

COMPONENT_FIELDS = (
    "wcs",
    "psf",
    "photo_calib",
    "visit_info",
    "filter_label",
    "detector",
    "ap_corr_map",
    "valid_polygon",
    "summary_stats",
)
"""`ExposureInfo` fields stored as component tables, in file order (EXTNAME = field.upper())."""

_DICT_TYPE = "builtins.dict"


def type_name(cls: type) -> str:
    """Public dotted path of ``cls``: the shortest package path that re-exports it
    (``osprey.geom.ConvexPolygon``, not ``osprey.geom.regions.ConvexPolygon``), else
    its defining module's path."""
    if cls is dict:
        return _DICT_TYPE
    parts = cls.__module__.split(".")
    for k in range(min(2, len(parts)), len(parts)):
        if parts[k - 1].startswith("_"):
            break
        try:
            if getattr(importlib.import_module(".".join(parts[:k])), cls.__qualname__, None) is cls:
                return f"{'.'.join(parts[:k])}.{cls.__qualname__}"
        except ImportError:
            break
    return f"{cls.__module__}.{cls.__qualname__}"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON serialisable")


def encode_component(field: str, obj: Any) -> tuple[str, bytes]:
    """``(OSPREY_TYPE, ASCII JSON bytes)`` for component ``field``.

    Raises
    ------
    AfwValueError
        If the object has no persistable form (not a dict, Region, or an ``osprey``
        class with ``to_dict``/``from_dict``), or its dict is not JSON serialisable.
    """
    cls = type(obj)
    if isinstance(obj, Region):
        payload: Any = {"encoded_hex": obj.encode().hex()}
    elif isinstance(obj, Detector):
        fa = obj.field_angle
        payload = {"detector": obj.to_dict(), "field_angle": None if fa is None else fa.to_dict()}
    elif cls is dict:
        payload = obj
    elif cls.__module__.startswith("osprey.") and callable(getattr(obj, "to_dict", None)) and hasattr(cls, "from_dict"):
        try:
            payload = obj.to_dict()
        except Exception as err:  # e.g. a SkyWcs with a non-affine pixel transform
            raise AfwValueError(f"cannot persist ExposureInfo.{field} ({cls.__name__}): {err}") from err
    else:
        raise AfwValueError(
            f"cannot persist ExposureInfo.{field} of type {cls.__module__}.{cls.__qualname__}: FITS storage "
            "needs a dict, an osprey.geom Region, or an osprey class with to_dict()/from_dict()"
        )
    try:
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as err:
        raise AfwValueError(f"ExposureInfo.{field} ({cls.__name__}) is not JSON serialisable: {err}") from err
    return type_name(cls), text.encode("ascii")


def _resolve(name: str) -> type:
    if not name.startswith("osprey.") or "." not in name:
        raise AfwValueError(f"OSPREY_TYPE {name!r} is not a class of an osprey package")
    module_name, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise AfwValueError(f"OSPREY_TYPE {name!r} cannot be imported (is its package installed?): {err}") from err
    if not isinstance(cls, type):
        raise AfwValueError(f"OSPREY_TYPE {name!r} is not a class")
    return cls


def decode_component(name: str, text: str) -> Any:
    """Rebuild an object from its ``OSPREY_TYPE`` and JSON text (inverse of `encode_component`).

    Raises
    ------
    AfwValueError
        For invalid JSON, an unknown or disallowed type, or a payload the class rejects.
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise AfwValueError(f"payload is not valid JSON: {err}") from err
    if name == _DICT_TYPE:
        if not isinstance(payload, dict):
            raise AfwValueError(f"payload of a builtins.dict is a {type(payload).__name__}")
        return payload
    cls = _resolve(name)
    try:
        if issubclass(cls, Region):
            out = Region.decode(bytes.fromhex(payload["encoded_hex"]))
            if type(out) is not cls:
                raise AfwValueError(f"encoded region is a {type(out).__name__}, OSPREY_TYPE says {name}")
            return out
        if issubclass(cls, Detector):
            fa = payload["field_angle"]
            field_angle = None if fa is None else RadialDistortion(fa["radial_coeffs_rad"])
            return cls.from_dict(payload["detector"], field_angle=field_angle)
        if not hasattr(cls, "from_dict"):
            raise AfwValueError(f"OSPREY_TYPE {name!r} has no from_dict")
        return cls.from_dict(payload)
    except AfwValueError:
        raise
    except Exception as err:  # untrusted file content: every failure becomes one error type
        raise AfwValueError(f"cannot rebuild a {name} from its payload: {type(err).__name__}: {err}") from err
