"""File path templates: where a file datastore puts each dataset."""

from __future__ import annotations

import string
import urllib.parse
from typing import Any

from .._dataset_ref import DatasetRef
from .._exceptions import FileTemplateError

__all__ = ["DEFAULT_TEMPLATE", "FileTemplate"]

DEFAULT_TEMPLATE = "{run}/{dataset_type}/{band:?}/{day_obs:?}/{dataset_type}_{data_id}_{run}"
"""Fallback template; ``{data_id}`` expands to every required value joined by ``_``."""

_SAFE = "+=@,"


def _quote(value: Any) -> str:
    """Percent-encode a value so it is one safe path segment (injective, no '/')."""
    text = urllib.parse.quote(str(value), safe=_SAFE)
    if not text:
        return "%"  # never produced by quote() itself, so still injective
    if text in (".", ".."):
        text = text.replace(".", "%2E")
    return text


class FileTemplate:
    """A path template such as ``{run}/{dataset_type}/{visit:08d}/{dataset_type}_{detector}``.

    Fields are ``run``, ``dataset_type``, ``data_id`` and any dimension name (implied ones,
    like ``band``, included). A format spec ending in ``?`` marks a field optional
    (``{band:?}``, ``{visit:08d?}``): when the data ID has no such value the field
    disappears, together with the ``_`` separators and empty directories it leaves.
    Values are percent-encoded, so a value can never add a directory or escape the root;
    the first ``{run}`` alone keeps the ``/`` of a run name as nested directories.

    Parameters
    ----------
    template : `str`
        The template; it must contain ``{run}``.
    """

    def __init__(self, template: str):
        self.template = template
        self.fields: list[tuple[str, str, bool]] = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as err:
            raise FileTemplateError(f"malformed file template {template!r}: {err}") from None
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if not name or conversion:
                raise FileTemplateError(f"file template {template!r}: fields must be named, without !conversions")
            optional = spec.endswith("?")
            self.fields.append((name, spec[:-1] if optional else spec, optional))
        names = {f[0] for f in self.fields}
        if "run" not in names:
            raise FileTemplateError(f"file template {template!r} must contain {{run}} so runs never collide")
        self._parsed = parsed

    def validate(self, ref: DatasetRef) -> None:
        """Check that paths of this dataset type are unique per data ID and run."""
        names = {f[0] for f in self.fields if not f[2]} | ({"data_id"} & {f[0] for f in self.fields})
        if "data_id" in names:
            return
        missing = [d for d in ref.dataset_type.dimensions.required if d not in names]
        if "dataset_type" not in names:
            missing.insert(0, "dataset_type")
        if missing:
            raise FileTemplateError(
                f"file template {self.template!r} cannot give unique paths to {ref.dataset_type.name!r}: "
                f"it lacks the non-optional field(s) {missing}"
            )

    def format(self, ref: DatasetRef) -> str:
        """The relative path (no extension) of a dataset."""
        values: dict[str, Any] = dict(ref.data_id)
        values["dataset_type"] = ref.dataset_type.name
        values["run"] = ref.run
        values["data_id"] = "_".join(_quote(v) for v in ref.data_id.required.values())
        pieces: list[str | None] = []  # None marks a dropped optional field
        occurrences = iter(self.fields)
        run_done = False  # the first {run} may make directories; later ones are quoted
        for literal, name, _spec, _conv in self._parsed:
            pieces.append(literal)
            if name is None:
                continue
            _, spec, optional = next(occurrences)
            if name == "run" and not run_done:
                run_done = True
                parts = ref.run.split("/")
                if any(p in ("", ".", "..") for p in parts):
                    raise FileTemplateError(f"run name {ref.run!r} cannot be used as a path")
                pieces.append("/".join(_quote(p) for p in parts))
                continue
            if name not in values:
                if optional:
                    pieces.append(None)
                    continue
                raise FileTemplateError(
                    f"file template {self.template!r} needs {name!r}, which data ID {ref.data_id} of "
                    f"{ref.dataset_type.name!r} does not have (mark it optional with {{{name}:?}})"
                )
            value = values[name]
            if name == "data_id":
                pieces.append(value)
                continue
            try:
                text = format(value, spec) if spec else str(value)
            except (ValueError, TypeError) as err:
                raise FileTemplateError(f"cannot format {name}={value!r} with {spec!r}: {err}") from None
            pieces.append(_quote(text))
        # Drop the separator next to each missing optional field, then empty directories.
        out: list[str] = []
        strip_next = False
        for i, piece in enumerate(pieces):
            if piece is None:
                if out and out[-1].endswith("_") and i % 2 == 1:
                    out[-1] = out[-1][:-1]
                else:
                    strip_next = True
                continue
            if strip_next and i % 2 == 0 and piece.startswith("_"):
                piece = piece[1:]
            strip_next = False
            out.append(piece)
        path = "/".join(segment for segment in "".join(out).split("/") if segment)
        if not path:
            raise FileTemplateError(f"file template {self.template!r} gave an empty path for {ref}")
        return path
