"""Butler storage classes and the formatter of ISR calibration products.

``configs/storage_classes.yaml`` defines ``CrosstalkCalib``, ``Linearizer``, ``Defects``,
``BrighterFatterKernel`` and ``PhotonTransferCurve``; every Butler finds it through the
``osprey.storage_classes`` entry point (``osprey.ip.isr:configs/storage_classes.yaml``). Exposures use
osprey-obs-base's ``Exposure`` storage class.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from osprey.daf.butler.datastore.formatters import Formatter

from .errors import CalibFormatError

__all__ = ["CalibJsonFormatter"]


class CalibJsonFormatter(Formatter):
    """A calibration object with ``to_dict``/``from_dict`` as JSON ``{"class": dotted path, "data": ...}``."""

    extension = "json"

    def write(self, obj: Any, path: str) -> None:
        cls = type(obj)
        payload = {"class": f"{cls.__module__}.{cls.__qualname__}", "data": obj.to_dict()}
        Path(path).write_text(json.dumps(payload, allow_nan=True))

    def read(self, path: str, parameters: Mapping[str, Any] | None = None) -> Any:
        try:
            payload = json.loads(Path(path).read_text())
            module, _, name = str(payload["class"]).rpartition(".")
        except (OSError, ValueError, KeyError) as err:
            raise CalibFormatError(f"{path}: not a calibration JSON file ({err})") from None
        if not module.startswith("osprey.ip.isr"):
            raise CalibFormatError(f"{path}: refusing to build {payload['class']!r} (not an osprey.ip.isr class)")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise CalibFormatError(f"{path}: cannot import {payload['class']!r}: {err}") from None
        return cls.from_dict(payload["data"])
