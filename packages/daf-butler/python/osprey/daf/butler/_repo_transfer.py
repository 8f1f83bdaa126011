"""Moving datasets between repositories: the export document, import, and transfer_from.

An export is one YAML document::

    description: Osprey Butler repository export
    version: 1
    universe: {namespace: osprey, version: 1}
    data:
    - {type: dimension, element: instrument, records: [{name: Cam, ...}, ...]}
    - {type: dataset_type, name: calexp_meta, dimensions: [...], storage_class: ..., is_calibration: false}
    - {type: collection, collection_type: RUN, name: run1}
    - {type: collection, collection_type: CHAINED, name: chain, children: [run1, ...]}
    - {type: dataset, dataset_type: calexp_meta, run: run1,
       records: [{id: <uuid>, data_id: {...}, path: ..., formatter: ...}, ...]}
    - {type: associations, collection_type: TAGGED, collection: best, dataset_ids: [...]}
    - {type: associations, collection_type: CALIBRATION, collection: calib,
       validity_ranges: [{timespan: [begin_ns, end_ns], dataset_ids: [...]}, ...]}

Regions are base64 of `osprey.geom.Region.encode`; timespans are ``[begin, end]`` in TAI
nanoseconds (``null`` for an unbounded side). Dataset UUIDs are kept, so an import
recreates the same datasets.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ._collection_type import CollectionType
from ._dataset_ref import DatasetRef
from ._dataset_type import DatasetType
from ._exceptions import ButlerConfigError, DatastoreError, MissingDatasetTypeError
from ._timespan import Timespan
from .datastore import FileDatastore
from .datastore._file import _transfer_file
from .dimensions import DataCoordinate, DimensionRecord

if TYPE_CHECKING:
    from ._butler import Butler

__all__ = ["EXPORT_FORMAT_VERSION", "build_export", "import_document", "read_export", "write_export"]

EXPORT_FORMAT_VERSION = 1
_DESCRIPTION = "Osprey Butler repository export"
_EXPORT_TRANSFERS = ("copy", "link", "symlink", "relsymlink", "hardlink", None)


# ---------------------------------------------------------------------------- records
def _record_to_simple(record: DimensionRecord) -> dict[str, Any]:
    values = record.to_dict()
    if "region" in values:
        region = values["region"]
        values["region"] = None if region is None else base64.b64encode(region.encode()).decode("ascii")
    if "timespan" in values:
        span = values["timespan"]
        values["timespan"] = None if span is None else [span.begin, span.end]
    return values


def _record_from_simple(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if out.get("region") is not None:
        from osprey.geom import Region

        out["region"] = Region.decode(base64.b64decode(out["region"]))
    if out.get("timespan") is not None:
        out["timespan"] = Timespan(*out["timespan"])
    return out


def _records_for(butler: Butler, refs: Iterable[DatasetRef]) -> dict[str, dict[tuple, DimensionRecord]]:
    """The dimension records the data IDs of ``refs`` need, by element and key."""
    out: dict[str, dict[tuple, DimensionRecord]] = {}
    seen: set[tuple] = set()
    for ref in refs:
        group = ref.dataset_type.dimensions
        key = (group, tuple(ref.data_id.required.values()))
        if key in seen:
            continue
        seen.add(key)
        data_id = ref.data_id
        if not data_id.has_records():
            data_id = butler.registry.expand_data_id(data_id.required, dimensions=group)
        for name, record in data_id.records.items():
            if record is not None:
                out.setdefault(name, {})[tuple(record.data_id_values.values())] = record
    return out


# ---------------------------------------------------------------------------- export
def build_export(
    butler: Butler,
    *,
    datasets: Iterable[DatasetRef] = (),
    collections: Any = None,
    elements: Iterable[str] = (),
    include_dimension_records: bool = True,
    directory: str | Path | None = None,
    transfer: str | None = "copy",
) -> dict[str, Any]:
    """The export document (see the module docstring) of ``datasets`` and ``collections``.

    Collections are expanded like query arguments (patterns allowed); a CHAINED
    collection brings its children, a RUN all its datasets, a TAGGED or CALIBRATION
    collection its memberships and the datasets in them. Each dataset's run and dataset
    type are exported too, and (``include_dimension_records``) the dimension records its
    data ID needs; ``elements`` adds every record of those elements.

    With ``directory`` the files are transferred into it (same relative paths as in the
    datastore) and the document's paths are relative to it; otherwise they are the
    absolute paths of the files in this repository.
    """
    registry = butler.registry
    if transfer not in _EXPORT_TRANSFERS:
        raise DatastoreError(f"export transfer must be one of {_EXPORT_TRANSFERS}, got {transfer!r}")
    refs: dict[uuid.UUID, DatasetRef] = {}
    for ref in datasets:
        refs.setdefault(ref.id, ref)
    collection_types: dict[str, CollectionType] = {}
    chains: dict[str, list[str]] = {}
    tagged: dict[str, list[uuid.UUID]] = {}
    calibrations: dict[str, list[tuple[DatasetRef, Timespan]]] = {}
    pending = list(butler.query_collections(collections)) if collections is not None else []
    dataset_types = registry.query_dataset_types() if pending else []
    while pending:
        name = pending.pop(0)
        if name in collection_types:
            continue
        ctype = registry.get_collection_type(name)
        collection_types[name] = ctype
        if ctype is CollectionType.CHAINED:
            chains[name] = list(registry.get_collection_chain(name))
            pending.extend(chains[name])
        elif ctype is CollectionType.CALIBRATION:
            calibrations[name] = registry.query_certifications(name)
            for ref, _ in calibrations[name]:
                refs.setdefault(ref.id, ref)
        else:
            found = []
            for dataset_type in dataset_types:
                found.extend(registry.query_datasets(dataset_type, [name], find_first=False))
            for ref in found:
                refs.setdefault(ref.id, ref)
            if ctype is CollectionType.TAGGED:
                tagged[name] = [ref.id for ref in found]
    for ref in refs.values():
        collection_types.setdefault(ref.run, CollectionType.RUN)

    data: list[dict[str, Any]] = []
    records = _records_for(butler, refs.values()) if include_dimension_records else {}
    for element in elements:
        for record in registry.query_dimension_records(element):
            records.setdefault(element, {})[tuple(record.data_id_values.values())] = record
    for element in butler.universe.elements:  # dependency order
        if records.get(element.name):
            rows = [_record_to_simple(r) for _, r in sorted(records[element.name].items(), key=lambda kv: repr(kv[0]))]
            data.append({"type": "dimension", "element": element.name, "records": rows})
    types = {ref.dataset_type.name: ref.dataset_type for ref in refs.values()}
    for name in sorted(types):
        data.append({"type": "dataset_type", **types[name].to_simple().model_dump()})
    for name in sorted(collection_types):
        entry: dict[str, Any] = {"type": "collection", "collection_type": collection_types[name].name, "name": name}
        if name in chains:
            entry["children"] = chains[name]
        data.append(entry)
    data.extend(_dataset_blocks(butler, list(refs.values()), directory, transfer))
    for name, ids in sorted(tagged.items()):
        data.append(
            {
                "type": "associations",
                "collection_type": "TAGGED",
                "collection": name,
                "dataset_ids": [str(i) for i in ids],
            }
        )
    for name, certs in sorted(calibrations.items()):
        by_span: dict[tuple, list[str]] = {}
        for ref, span in certs:
            by_span.setdefault((span.begin, span.end), []).append(str(ref.id))
        ranges = [{"timespan": list(span), "dataset_ids": ids} for span, ids in by_span.items()]
        data.append(
            {"type": "associations", "collection_type": "CALIBRATION", "collection": name, "validity_ranges": ranges}
        )
    return {
        "description": _DESCRIPTION,
        "version": EXPORT_FORMAT_VERSION,
        "universe": {"namespace": butler.universe.namespace, "version": butler.universe.version},
        "data": data,
    }


def _dataset_blocks(
    butler: Butler, refs: list[DatasetRef], directory: str | Path | None, transfer: str | None
) -> list[dict[str, Any]]:
    file_records: dict[Any, tuple[FileDatastore, dict[str, Any]]] = {}
    if refs:
        local = _local_file_datastores(butler.datastore)
        if not local:
            raise DatastoreError(
                "only repositories with a local file datastore (alone or in a chain) can export or transfer datasets"
            )
        for datastore in reversed(local):  # the first child in the chain wins
            file_records.update((i, (datastore, r)) for i, r in datastore.records(r.id for r in refs).items())
    target = Path(directory).absolute() if directory is not None else None
    blocks: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ref in sorted(refs, key=lambda r: (r.dataset_type.name, r.run, repr(tuple(r.data_id.required.values())))):
        found = file_records.get(ref.id)
        if found is None:
            raise DatastoreError(f"dataset {ref} has no local file in the datastore; it cannot be exported")
        datastore, record = found
        source = datastore.absolute_path(record["path"])
        path = str(source)
        if target is not None:
            relative = record["path"] if not os.path.isabs(record["path"]) else f"direct/{ref.id}/{source.name}"
            dest = target / relative
            if transfer is not None:
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.exists() or dest.is_symlink():
                    dest.unlink()
                _transfer_file(source, str(dest), transfer)
                path = relative
            elif datastore.is_inside(source) and source.is_relative_to(target):
                path = source.relative_to(target).as_posix()
        blocks.setdefault((ref.dataset_type.name, ref.run), []).append(
            {"id": str(ref.id), "data_id": dict(ref.data_id.required), "path": path, "formatter": record["formatter"]}
        )
    return [
        {"type": "dataset", "dataset_type": name, "run": run, "records": rows} for (name, run), rows in blocks.items()
    ]


def _local_file_datastores(datastore: Any) -> list[FileDatastore]:
    """The local-file datastores of a datastore or chain, in chain order (S3 and in-memory excluded)."""
    from .datastore import ChainedDatastore, S3Datastore

    if isinstance(datastore, ChainedDatastore):
        return [d for _, child, _ in datastore.children for d in _local_file_datastores(child)]
    if isinstance(datastore, FileDatastore) and not isinstance(datastore, S3Datastore):
        return [datastore]
    return []


def write_export(document: Mapping[str, Any], filename: str | Path) -> Path:
    """Write an export document as YAML (the C dumper when PyYAML has it)."""
    path = Path(filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with open(path, "w") as stream:
        yaml.dump(dict(document), stream, Dumper=dumper, sort_keys=False)
    return path


def read_export(filename: str | Path) -> dict[str, Any]:
    """Read and check an export document."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(filename) as stream:
            document = yaml.load(stream, Loader=loader)
    except (OSError, yaml.YAMLError) as err:
        raise ButlerConfigError(f"cannot read export file {filename}: {err}") from None
    if not isinstance(document, dict) or document.get("description") != _DESCRIPTION:
        raise ButlerConfigError(f"{filename} is not an Osprey Butler export file")
    if document.get("version") != EXPORT_FORMAT_VERSION:
        raise ButlerConfigError(
            f"{filename} has export format version {document.get('version')!r}; this software reads "
            f"{EXPORT_FORMAT_VERSION}"
        )
    return document


# ---------------------------------------------------------------------------- import
def import_document(
    butler: Butler,
    document: Mapping[str, Any],
    *,
    directory: str | Path | None,
    transfer: str | None,
    skip_dimensions: Iterable[str] = (),
    skip_existing_datasets: bool = False,
    register_dataset_types: bool = True,
) -> list[DatasetRef]:
    """Load an export document into ``butler`` in one transaction; return the datasets added.

    Relative file paths are resolved against ``directory``. Dimension records that already
    exist are kept as they are. With ``skip_existing_datasets`` datasets whose UUID is
    already registered are left out (otherwise they are a `ConflictingDefinitionError`).
    """
    universe = document.get("universe", {})
    if (universe.get("namespace"), universe.get("version")) != (butler.universe.namespace, butler.universe.version):
        raise ButlerConfigError(
            f"export uses dimension universe {universe.get('namespace')!r} version {universe.get('version')!r}; "
            f"this repository uses {butler.universe.namespace!r} version {butler.universe.version}"
        )
    registry = butler.registry
    base = Path(directory) if directory is not None else Path.cwd()
    skip = set(skip_dimensions)
    blocks: dict[str, list[Mapping[str, Any]]] = {}
    for block in document.get("data", []):
        blocks.setdefault(block["type"], []).append(block)
    added: list[DatasetRef] = []
    with butler.transaction():
        for block in blocks.get("dimension", []):
            if block["element"] not in skip:
                rows = [_record_from_simple(r) for r in block["records"]]
                registry.insert_dimension_data(block["element"], *rows, skip_existing=True)
        types: dict[str, DatasetType] = {}
        for block in blocks.get("dataset_type", []):
            dataset_type = DatasetType(
                block["name"],
                block["dimensions"],
                block["storage_class"],
                butler.universe,
                is_calibration=block.get("is_calibration", False),
            )
            if register_dataset_types:
                butler.register_dataset_type(
                    dataset_type.name,
                    dataset_type.dimensions.required,
                    dataset_type.storage_class,
                    is_calibration=dataset_type.is_calibration,
                )
            elif registry._find_dataset_type(dataset_type.name) is None:
                raise MissingDatasetTypeError(
                    f"dataset type {dataset_type.name!r} is not registered here (and registering was not requested)"
                )
            types[dataset_type.name] = registry._storage(dataset_type).dataset_type
        for block in blocks.get("collection", []):
            registry.register_collection(block["name"], CollectionType[block["collection_type"]])
        by_id: dict[uuid.UUID, DatasetRef] = {}
        items: list[tuple[DatasetRef, Any, str | None]] = []
        for block in blocks.get("dataset", []):
            dataset_type = types[block["dataset_type"]]
            for row in block["records"]:
                data_id = DataCoordinate.standardize(row["data_id"], dimensions=dataset_type.dimensions)
                ref = DatasetRef(dataset_type, data_id, block["run"], uuid.UUID(row["id"]))
                by_id[ref.id] = ref
                items.append((ref, base / row["path"], row.get("formatter")))
        if skip_existing_datasets and items:
            existing = registry.existing_dataset_ids(by_id)
            items = [item for item in items if item[0].id not in existing]
        butler._ingest_refs(items, transfer)
        added = [item[0] for item in items]
        for block in blocks.get("associations", []):
            if block["collection_type"] == "TAGGED":
                registry.associate(block["collection"], [by_id[uuid.UUID(i)] for i in block["dataset_ids"]])
            else:
                for entry in block["validity_ranges"]:
                    span = Timespan(*entry["timespan"])
                    registry.certify(block["collection"], [by_id[uuid.UUID(i)] for i in entry["dataset_ids"]], span)
        for block in blocks.get("collection", []):
            if "children" in block:
                registry.set_collection_chain(block["name"], block["children"])
    return added
