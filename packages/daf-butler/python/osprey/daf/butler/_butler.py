"""The Butler: the one object algorithmic code uses to read and write datasets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osprey.utils import get_logger

from ._collection_type import CollectionType
from ._dataset_id_gen import DatasetIdGenEnum
from ._exceptions import (
    ButlerConfigError,
    ButlerUsageError,
    DatasetNotFoundError,
    DatasetTypeError,
    DatastoreError,
    MissingCollectionError,
    StorageClassError,
)

# Everything else (SQLAlchemy, pydantic, YAML, the dimension universe) is imported where
# it is first needed, so `from osprey.daf.butler import Butler` stays cheap; opening a
# repository loads it all.
if TYPE_CHECKING:
    from ._config import ButlerConfig
    from ._dataset_ref import DatasetRef
    from ._dataset_type import DatasetType
    from ._file_dataset import FileDataset
    from ._timespan import Timespan
    from .datastore import Datastore, StagedWrite
    from .queries import QueryEngine, QueryResults
    from .registry import CollectionSearch, Database, Registry

__all__ = ["Butler"]

_log = get_logger(__name__)


class Butler:
    """Reads and writes datasets by dataset type and data ID; never by file name.

    Create a repository with `make_repo`, then open it with `from_config`.

    Parameters
    ----------
    config : `ButlerConfig`
        The repository configuration.
    root : `pathlib.Path`
        The repository root (where ``butler.yaml`` lives).
    collections : `str` or sequence of `str`, optional
        Default search path for reads.
    run : `str`, optional
        Default RUN collection for writes (registered on first put).
    """

    def __init__(
        self,
        config: ButlerConfig,
        root: Path,
        *,
        collections: CollectionSearch | None = None,
        run: str | None = None,
        _create: bool = False,
    ):
        from ._storage_class import StorageClassFactory
        from .dimensions import DimensionUniverse
        from .registry import Database, Registry

        self.config = config
        self.root = root
        self.universe = DimensionUniverse(config.dimensions) if config.dimensions else DimensionUniverse.default()
        self.storage_classes = StorageClassFactory(config.storage_classes)
        db = Database(
            config.db_url(root), namespace=config.registry.namespace, busy_timeout_s=config.registry.busy_timeout_s
        )
        if _create:
            self._registry = Registry.create(db, self.universe)
        else:
            self._registry = Registry.open(db, self.universe)
        self._datastore = self._make_datastore(db, _create)
        self.collections: tuple[str, ...] = (collections,) if isinstance(collections, str) else tuple(collections or ())
        self.run = run
        self._known_runs: set[str] = set()
        if run is not None:
            self._ensure_run(run)

    def _make_datastore(self, db: Database, create: bool) -> Datastore:
        from .datastore import make_datastore

        return make_datastore(self.config.datastore, db, self.storage_classes, self.root, create=create)

    # ------------------------------------------------------------------ construction
    @classmethod
    def make_repo(cls, root: str | Path, db_url: str | None = None, *, config: Mapping[str, Any] | None = None) -> Path:
        """Create an empty repository (``butler create``): ``butler.yaml`` plus the registry schema.

        Parameters
        ----------
        root : `str` or `pathlib.Path`
            Directory of the new repository (created if needed).
        db_url : `str`, optional
            SQLAlchemy URL of the registry; SQLite in ``root`` by default.
        config : mapping, optional
            Overrides of `ButlerConfig` fields (e.g. ``{"datastore": {"templates": ...}}``).

        Returns
        -------
        path : `pathlib.Path`
            The ``butler.yaml`` written.
        """
        from ._config import CONFIG_NAME, ButlerConfig

        root = Path(root).absolute()
        root.mkdir(parents=True, exist_ok=True)
        path = root / CONFIG_NAME
        if path.exists():
            raise ButlerConfigError(f"{path} already exists; refusing to overwrite a repository")
        data = dict(config or {})
        if db_url is not None:
            data.setdefault("registry", {})
            data["registry"] = {**data["registry"], "db": db_url}
        try:
            butler_config = ButlerConfig.model_validate(data)
        except ValueError as err:  # pydantic's ValidationError
            raise ButlerConfigError(f"invalid Butler configuration for {root}: {err}") from None
        butler = cls(butler_config, root, _create=True)
        butler.close()
        butler_config.write(path)
        _log.info("created Butler repository at %s (registry %s)", root, butler_config.db_url(root))
        return path

    @classmethod
    def from_config(
        cls,
        repo: str | Path,
        *,
        collections: CollectionSearch | None = None,
        run: str | None = None,
    ) -> Butler:
        """Open a repository from its root directory or its ``butler.yaml``."""
        from ._config import CONFIG_NAME, ButlerConfig

        path = Path(repo)
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.exists():
            raise ButlerConfigError(f"no Butler repository at {repo} (no {CONFIG_NAME}); create one with make_repo")
        return cls(ButlerConfig.read(path), path.parent.absolute(), collections=collections, run=run)

    @classmethod
    def migrate(cls, repo: str | Path) -> list[tuple[int, int, str]]:
        """Upgrade an older repository's registry schema in place (``butler migrate``).

        Each step runs in its own transaction, so an interrupted migration leaves the
        repository at the last completed version; running it again continues. Stop other
        writers first.

        Parameters
        ----------
        repo : `str` or `pathlib.Path`
            Repository root or its ``butler.yaml``.

        Returns
        -------
        steps : `list` [`tuple` [`int`, `int`, `str`]]
            (from version, to version, description) of each step applied; empty when the
            repository was already current.

        Raises
        ------
        SchemaVersionError
            The repository is newer than this software.
        """
        from ._config import CONFIG_NAME, ButlerConfig
        from .dimensions import DimensionUniverse
        from .registry import Database, Registry

        path = Path(repo)
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.exists():
            raise ButlerConfigError(f"no Butler repository at {repo} (no {CONFIG_NAME})")
        config = ButlerConfig.read(path)
        root = path.parent.absolute()
        universe = DimensionUniverse(config.dimensions) if config.dimensions else DimensionUniverse.default()
        db = Database(
            config.db_url(root), namespace=config.registry.namespace, busy_timeout_s=config.registry.busy_timeout_s
        )
        try:
            return Registry.migrate(db, universe)
        finally:
            db.dispose()

    def close(self) -> None:
        """Release database connections."""
        self._registry.db.dispose()

    @property
    def registry(self) -> Registry:
        """The registry (dimension records, dataset types, collections, queries)."""
        return self._registry

    @property
    def datastore(self) -> Datastore:
        """The datastore holding dataset content."""
        return self._datastore

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: if the block raises, no rows and no files it wrote remain."""
        with self._registry.transaction():
            yield

    # ------------------------------------------------------------------ helpers
    def _search_path(self, collections: CollectionSearch | None) -> CollectionSearch:
        if collections is not None:
            return collections
        if self.collections:
            return self.collections
        if self.run is not None:
            return (self.run,)
        raise MissingCollectionError("no collections given and the Butler has no default collections or run")

    def _resolve_dataset_type(self, dataset_type: DatasetType | str) -> tuple[DatasetType, str | None]:
        from ._dataset_type import DatasetType

        if isinstance(dataset_type, DatasetType):
            return self._registry._storage(dataset_type).dataset_type, None
        name, component = DatasetType.split_component_name(dataset_type)
        parent = self._registry.get_dataset_type(name)
        if component is not None:
            storage_class = self.storage_classes[parent.storage_class]
            if component not in storage_class.components:
                raise StorageClassError(
                    f"{dataset_type!r}: storage class {storage_class.name!r} has no component {component!r} "
                    f"(components: {sorted(storage_class.components) or 'none'})"
                )
        return parent, component

    def register_dataset_type(
        self, name: str, dimensions: Iterable[str], storage_class: str, *, is_calibration: bool = False
    ) -> DatasetType:
        """Register (or check) a dataset type and return it."""
        if storage_class not in self.storage_classes:
            raise StorageClassError(f"unknown storage class {storage_class!r}; known: {self.storage_classes.names()}")
        from ._dataset_type import DatasetType

        dataset_type = DatasetType(name, dimensions, storage_class, self.universe, is_calibration=is_calibration)
        self._registry.register_dataset_type(dataset_type)
        return dataset_type

    def _ensure_run(self, run: str) -> None:
        if run not in self._known_runs:
            self._registry.register_run(run)
            self._known_runs.add(run)
            if self._registry.db.in_transaction:  # a rolled-back registration must be redone
                self._registry.db.register_undo(lambda: self._known_runs.discard(run))

    # ------------------------------------------------------------------ writes
    def put(
        self,
        obj: Any,
        dataset_type_or_ref: DatasetType | str | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        run: str | None = None,
        id_generation: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
        **kwargs: Any,
    ) -> DatasetRef:
        """Store ``obj`` as a new dataset and return its resolved reference.

        Parameters
        ----------
        obj : `object`
            An instance of the dataset type's storage class Python type.
        dataset_type_or_ref : `DatasetType`, `str` or `DatasetRef`
            A registered dataset type (or its name), or a resolved ref to reuse.
        data_id : mapping, optional
            The data ID; keyword arguments add to it. Numpy integers are accepted.
        run : `str`, optional
            RUN collection; the Butler's default run otherwise.
        id_generation : `DatasetIdGenEnum`
            Random (default) or deterministic dataset IDs.

        Raises
        ------
        ConflictingDefinitionError
            The run already has a dataset of this type and data ID (names all three).
        """
        from ._dataset_ref import DatasetRef

        if isinstance(dataset_type_or_ref, DatasetRef):
            ref = dataset_type_or_ref
            self._ensure_run(ref.run)
            ref = DatasetRef(
                ref.dataset_type,
                self._registry.expand_data_id(ref.data_id, dimensions=ref.dataset_type.dimensions),
                ref.run,
                ref.id,
            )
        else:
            dataset_type, component = self._resolve_dataset_type(dataset_type_or_ref)
            if component is not None:
                raise DatasetTypeError(f"cannot put a component ({dataset_type_or_ref!r}); put the whole dataset")
            run = run or self.run
            if run is None:
                raise MissingCollectionError("put needs a run: pass run=... or open the Butler with run=...")
            self._ensure_run(run)
            values = dict(data_id or {})
            values.update(kwargs)
            ref = self._registry.make_refs(dataset_type, [values], run, id_generation)[0]
        staged = self._datastore.stage(obj, ref)
        try:
            with self._registry.transaction():
                self._registry.insert_refs([ref])
                self._datastore.commit([staged])
        except BaseException:
            self._datastore.discard([staged])
            raise
        _log.verbose("put %s", ref)
        return ref

    def ingest(
        self,
        *datasets: FileDataset,
        transfer: str | None = "auto",
        run: str | None = None,
        id_generation: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
    ) -> list[DatasetRef]:
        """Register existing files as datasets, all or none.

        Parameters
        ----------
        *datasets : `FileDataset`
            Each file with a resolved ref, or a dataset type and data ID.
        transfer : `str` or None
            ``"copy"``, ``"move"`` (the original is deleted only after the commit),
            ``"link"`` (hard link, else symlink), ``"symlink"``, ``"relsymlink"``,
            ``"hardlink"``, ``"direct"`` (use the file where it is, by absolute path; it is
            never deleted by the Butler), None (the file is already inside the datastore
            root) or ``"auto"`` (None when inside the root, ``"copy"`` otherwise).
        run : `str`, optional
            RUN collection of datasets given without a ref; the Butler's run otherwise.
        id_generation : `DatasetIdGenEnum`
            How new dataset IDs are made.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            One per file, in order.

        Raises
        ------
        ConflictingDefinitionError
            A dataset of the same type, run and data ID (or UUID) exists; nothing is kept.
        DatastoreError
            A file is missing, cannot be transferred, or its destination is taken.
        """
        from .datastore._base import TRANSFER_MODES

        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        refs = self._resolve_file_datasets(datasets, run, id_generation)
        self._ingest_refs([(ref, ds.path, ds.formatter) for ref, ds in zip(refs, datasets, strict=True)], transfer)
        _log.verbose("ingested %d file(s) with transfer=%s", len(refs), transfer)
        return refs

    def _resolve_file_datasets(
        self, datasets: Sequence[FileDataset], run: str | None, id_generation: DatasetIdGenEnum
    ) -> list[DatasetRef]:
        refs: list[DatasetRef | None] = [None] * len(datasets)
        pending: dict[str, tuple[DatasetType, list[int]]] = {}
        for i, ds in enumerate(datasets):
            from ._file_dataset import FileDataset

            if not isinstance(ds, FileDataset):
                raise DatasetTypeError(f"ingest takes FileDataset objects, got {type(ds).__name__}")
            if ds.ref is not None:
                self._registry._storage(ds.ref.dataset_type)
                self._ensure_run(ds.ref.run)
                refs[i] = ds.ref
                continue
            assert ds.dataset_type is not None
            dataset_type, component = self._resolve_dataset_type(ds.dataset_type)
            if component is not None:
                raise DatasetTypeError(f"cannot ingest a component ({ds.dataset_type!r}); ingest the whole dataset")
            pending.setdefault(dataset_type.name, (dataset_type, []))[1].append(i)
        if pending:
            run = run or self.run
            if run is None:
                raise MissingCollectionError("ingest needs a run: pass run=... or open the Butler with run=...")
            self._ensure_run(run)
            for dataset_type, indices in pending.values():
                made = self._registry.make_refs(
                    dataset_type, [datasets[i].data_id for i in indices], run, id_generation
                )
                for i, ref in zip(indices, made, strict=True):
                    refs[i] = ref
        return [r for r in refs if r is not None]

    def _ingest_refs(self, items: Sequence[tuple[DatasetRef, Any, str | None]], transfer: str | None) -> None:
        """Stage each (ref, path, formatter) outside the lock, then insert rows and files in one transaction."""
        staged: list[StagedWrite] = []
        try:
            for ref, path, formatter in items:
                staged.append(self._datastore.stage_ingest(path, ref, formatter, transfer))
            groups: dict[tuple[str, str], list[DatasetRef]] = {}
            for ref, _, _ in items:
                groups.setdefault((ref.dataset_type.name, ref.run), []).append(ref)
            with self._registry.transaction():
                for group in groups.values():
                    self._registry.insert_refs(group)
                self._datastore.commit(staged)
        except BaseException:
            self._datastore.discard(staged)
            raise

    # ------------------------------------------------------------------ between repositories
    def export(
        self,
        filename: str | Path,
        *,
        datasets: Iterable[DatasetRef] = (),
        collections: Any = None,
        dimension_records: Iterable[str] = (),
        include_dimension_records: bool = True,
        directory: str | Path | None = None,
        transfer: str | None = "copy",
    ) -> Path:
        """Write datasets, collections and dimension records to a YAML export file.

        Parameters
        ----------
        filename : `str` or `pathlib.Path`
            The YAML file to write.
        datasets : iterable of `DatasetRef`
            Datasets to export (with their runs, dataset types and, unless
            ``include_dimension_records`` is False, the dimension records their data IDs need).
        collections : name, pattern or sequence, optional
            Collections to export with their content: a RUN's datasets, a TAGGED
            collection's members, a CALIBRATION collection's validity ranges, a CHAINED
            collection's children (exported too).
        dimension_records : iterable of `str`
            Elements whose records are all exported (e.g. ``["visit_definition"]``).
        directory : `str` or `pathlib.Path`, optional
            Transfer the files here (keeping their relative datastore paths); the export
            file's paths are then relative to it. Without it they are absolute paths into
            this repository.
        transfer : `str` or None
            ``"copy"`` (default), ``"link"``, ``"symlink"``, ``"relsymlink"``, ``"hardlink"``,
            or None to leave the files where they are.

        Returns
        -------
        path : `pathlib.Path`
            The export file.
        """
        from ._repo_transfer import build_export, write_export

        document = build_export(
            self,
            datasets=datasets,
            collections=collections,
            elements=dimension_records,
            include_dimension_records=include_dimension_records,
            directory=directory,
            transfer=transfer,
        )
        return write_export(document, filename)

    def import_(
        self,
        filename: str | Path,
        *,
        directory: str | Path | None = None,
        transfer: str | None = "auto",
        skip_dimensions: Iterable[str] = (),
    ) -> list[DatasetRef]:
        """Load an export file: dimension records, dataset types, collections, datasets (same UUIDs).

        Everything happens in one transaction: on any error nothing is registered and no
        transferred file remains. Existing identical dimension records are kept.

        Parameters
        ----------
        filename : `str` or `pathlib.Path`
            The export YAML, or a directory holding ``export.yaml``.
        directory : `str` or `pathlib.Path`, optional
            Where relative file paths start; the export file's directory by default.
        transfer : `str` or None
            How files come in (as for `ingest`; ``"auto"`` copies files from outside the
            datastore root).
        skip_dimensions : iterable of `str`
            Elements whose records are not imported.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            The datasets imported.
        """
        from ._repo_transfer import import_document, read_export
        from .datastore._base import TRANSFER_MODES

        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        path = Path(filename)
        if path.is_dir():
            path = path / "export.yaml"
        document = read_export(path)
        refs = import_document(
            self,
            document,
            directory=directory if directory is not None else path.parent,
            transfer=transfer,
            skip_dimensions=skip_dimensions,
        )
        _log.info("imported %d dataset(s) from %s", len(refs), path)
        return refs

    def transfer_from(
        self,
        source: Butler,
        refs: Iterable[DatasetRef],
        *,
        transfer: str | None = "copy",
        register_dataset_types: bool = True,
        transfer_dimensions: bool = True,
    ) -> list[DatasetRef]:
        """Copy datasets (same UUIDs, runs, data IDs) from another repository into this one.

        Their runs are registered here, their dataset types too (with
        ``register_dataset_types``), and the dimension records they need are inserted
        unless present (with ``transfer_dimensions``). Datasets already here (same UUID)
        are skipped. One transaction: on error nothing is added.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            The datasets added.
        """
        from ._repo_transfer import build_export, import_document
        from .datastore._base import TRANSFER_MODES

        if transfer not in TRANSFER_MODES:
            raise DatastoreError(f"unknown transfer mode {transfer!r}; choose one of {TRANSFER_MODES}")
        refs = list(refs)
        present = self._registry.existing_dataset_ids(r.id for r in refs)
        wanted = [r for r in refs if r.id not in present]
        document = build_export(
            source, datasets=wanted, include_dimension_records=transfer_dimensions, directory=None, transfer=None
        )
        added = import_document(
            self,
            document,
            directory=None,
            transfer=transfer,
            skip_existing_datasets=True,
            register_dataset_types=register_dataset_types,
        )
        _log.info("transferred %d of %d dataset(s) from %s", len(added), len(refs), source.root)
        return added

    def remove_runs(self, names: Iterable[str], *, unstore: bool = True, unlink_from_chains: bool = False) -> None:
        """Remove RUN collections with all their datasets.

        With ``unstore`` (the default) their files are deleted too, after the transaction
        commits; without it the files are left on disk, unregistered.
        """
        with self.transaction():
            for name in names:
                ids = self._registry.run_dataset_ids(name)
                if unstore:
                    self._datastore.remove(ids)
                self._registry.remove_run(name, unlink_from_chains=unlink_from_chains)
                self._known_runs.discard(name)

    def prune_datasets(
        self,
        refs: Iterable[DatasetRef],
        *,
        disassociate: bool = True,
        unstore: bool = True,
        purge: bool = False,
    ) -> list[DatasetRef]:
        """Remove specific datasets: from collections, from storage and (``purge``) from the registry.

        All or nothing: every ref is checked first, then one transaction does the work.
        Files are deleted after the commit, so a rollback (of this call or of an
        enclosing `transaction`) loses nothing; a dataset put to the same path later in
        the same transaction is kept (prune then put is how ``--clobber`` replaces outputs).

        Parameters
        ----------
        refs : iterable of `DatasetRef`
            Resolved refs of registered datasets (component refs mean their parent).
        disassociate : `bool`
            Remove the datasets from every TAGGED and CALIBRATION collection
            (certifications included).
        unstore : `bool`
            Delete their stored content (files, in-memory objects) and datastore records;
            ``direct``-ingested files are unregistered but never deleted. The datasets stay
            registered in their RUN unless ``purge``: `exists` is then False and `get`
            raises `DatasetNotFoundError`.
        purge : `bool`
            Delete the datasets from the registry entirely (their RUN too), so the same
            dataset type and data ID can be written to the run again. Needs
            ``disassociate`` and ``unstore``.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            The (parent) refs pruned, without duplicates.

        Raises
        ------
        DatasetNotFoundError
            Some refs are not in this repository (or name another dataset type or run);
            nothing is changed and the message names them.
        ButlerError
            ``purge`` without ``disassociate`` and ``unstore``.
        """
        if purge and not (disassociate and unstore):
            raise ButlerUsageError(
                "prune_datasets(purge=True) also needs disassociate=True and unstore=True: a purged dataset "
                "cannot stay in a collection or keep stored content"
            )
        refs = self._registry.resolve_existing(refs)
        if not refs or not (disassociate or unstore or purge):
            return refs
        with self.transaction():
            if unstore:
                self._datastore.remove([r.id for r in refs])
            if purge:
                self._registry.remove_datasets(refs)
            elif disassociate:
                self._registry.disassociate_everywhere(refs)
        _log.verbose(
            "pruned %d dataset(s) (disassociate=%s, unstore=%s, purge=%s)", len(refs), disassociate, unstore, purge
        )
        return refs

    # ------------------------------------------------------------------ reads
    def find_dataset(
        self,
        dataset_type: DatasetType | str,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: CollectionSearch | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DatasetRef | None:
        """The first matching dataset along the search path (see `Registry.find_dataset`)."""
        parent, component = self._resolve_dataset_type(dataset_type)
        ref = self._registry.find_dataset(
            parent, data_id, collections=self._search_path(collections), timespan=timespan, **kwargs
        )
        if ref is not None and component is not None:
            ref = ref.make_component_ref(component)
        return ref

    def _ref_for_read(
        self,
        dataset_type_or_ref: DatasetType | str | DatasetRef,
        data_id: Mapping[str, Any] | None,
        collections: CollectionSearch | None,
        timespan: Timespan | None,
        kwargs: Mapping[str, Any],
    ) -> DatasetRef:
        from ._dataset_ref import DatasetRef

        if isinstance(dataset_type_or_ref, DatasetRef):
            return dataset_type_or_ref
        ref = self.find_dataset(dataset_type_or_ref, data_id, collections=collections, timespan=timespan, **kwargs)
        if ref is None:
            values = dict(data_id or {})
            values.update(kwargs)
            name = dataset_type_or_ref if isinstance(dataset_type_or_ref, str) else dataset_type_or_ref.name
            raise DatasetNotFoundError(
                f"no {name!r} dataset with data ID {values} in collections "
                f"{list(self._search_path(collections))}" + (f" valid at {timespan}" if timespan else "")
            )
        return ref

    def get(
        self,
        dataset_type_or_ref: DatasetType | str | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: CollectionSearch | None = None,
        parameters: Mapping[str, Any] | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> Any:
        """Read a dataset (or ``"name.component"``) found along the search path.

        Parameters
        ----------
        dataset_type_or_ref : `DatasetType`, `str` or `DatasetRef`
            What to read; ``"visit_table.schema"`` reads a component.
        data_id : mapping, optional
            The data ID; for calibrations it may include an ``exposure`` or ``visit``
            whose timespan selects the certified dataset.
        collections : `str` or sequence, optional
            Search path (CHAINED expanded); the Butler's default otherwise.
        parameters : mapping, optional
            Read parameters handed to the formatter (e.g. ``{"columns": [...]}``).
        timespan : `Timespan`, optional
            Time for calibration lookups.

        Raises
        ------
        DatasetNotFoundError
            Nothing matches; the message names the dataset type, data ID and collections.
        """
        ref = self._ref_for_read(dataset_type_or_ref, data_id, collections, timespan, kwargs)
        return self._datastore.get(ref, parameters)

    def exists(
        self,
        dataset_type_or_ref: DatasetType | str | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: CollectionSearch | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> bool:
        """True when the dataset is registered along the search path and its content is stored.

        A collection that does not exist holds nothing, so it gives False too.
        """
        try:
            ref = self._ref_for_read(dataset_type_or_ref, data_id, collections, timespan, kwargs)
        except (DatasetNotFoundError, MissingCollectionError):  # no such collection: nothing in it
            return False
        return self._datastore.exists(ref)

    def get_uri(self, ref: DatasetRef) -> Path | str:
        """Where ``ref`` is stored: a local `~pathlib.Path`, or an ``s3://bucket/key`` string.

        In a chained datastore, the location in the first child that holds it.

        Raises
        ------
        DatasetNotFoundError
            The dataset has no stored file or object.
        DatasetTypeError
            The datastore keeps no files (in-memory).
        """
        from .datastore import ChainedDatastore, FileDatastore, S3Datastore

        datastore = self._datastore
        if isinstance(datastore, ChainedDatastore):
            holder = datastore.child_holding(ref)
            if holder is None:
                raise DatasetNotFoundError(f"dataset {ref} is in no datastore of the chain")
            datastore = holder
        if isinstance(datastore, S3Datastore):
            return datastore.get_uri(ref)
        if not isinstance(datastore, FileDatastore):
            raise DatasetTypeError("this repository's datastore does not keep files")
        return datastore.get_path(ref)

    @property
    def _queries(self) -> QueryEngine:
        engine = self.__dict__.get("_query_engine")
        if engine is None:
            from .queries import QueryEngine  # the query language is loaded on first query

            engine = self.__dict__["_query_engine"] = QueryEngine(self._registry)
        return engine

    def query_datasets(
        self,
        dataset_type: Any,
        collections: Any = None,
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        find_first: bool = True,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """Datasets of one or more types in the given collections, filtered by a where clause.

        Parameters
        ----------
        dataset_type : `str`, `DatasetType`, pattern, ``re.Pattern``, ``...`` or a list
            Dataset type(s); shell patterns (``"calexp*"``) and regexes follow the rules of
            `osprey.daf.butler.queries.expand_wildcards`.
        collections : `str`, pattern or sequence, optional
            Search path (CHAINED collections expanded in order; a pattern expands to its
            matches sorted by name); the Butler's defaults otherwise.
        data_id : mapping, optional
            Equality constraints on dimensions (keyword arguments add more).
        where : `str`
            A query expression, e.g. ``"visit IN (100..200:2) AND band = 'r'"``.
        bind : mapping, optional
            Values of ``:name`` parameters (scalars, lists for ``IN (:list)``,
            `Timespan` objects, `osprey.geom.Region` objects).
        find_first : `bool`
            Keep per data ID only the dataset of the first collection that has one (the
            default); False returns every match.
        order_by : `str` or sequence of `str`, optional
            Names such as ``"-visit"`` (descending) or ``"visit.exposure_time"``; data ID
            order otherwise.
        limit : `int`, optional
            At most this many results.
        timespan : `Timespan`, optional
            Validity time for calibration datasets in CALIBRATION collections (an
            ``exposure`` or ``visit`` in the where clause provides it otherwise).

        Returns
        -------
        refs : `QueryResults` [`DatasetRef`]
            A list; when empty, ``refs.explain_no_results()`` says why.
        """
        return self._queries.query_datasets(
            dataset_type,
            self._search_path(collections),
            data_id,
            where=where,
            bind=bind,
            find_first=find_first,
            order_by=order_by,
            limit=limit,
            timespan=timespan,
            **kwargs,
        )

    def query_data_ids(
        self,
        dimensions: str | Iterable[str],
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        datasets: Any = None,
        collections: Any = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """Distinct data IDs over ``dimensions`` whose dimension records exist and match.

        ``datasets`` (with ``collections``, or the Butler's defaults) keeps only data IDs
        for which those dataset types exist. Spatial elements are joined automatically:
        a query over visit and patch returns only overlapping pairs. Results are full
        data IDs (implied values such as ``band`` included), de-duplicated, sorted.
        Other arguments as in `query_datasets`.
        """
        if datasets is not None and collections is None:
            collections = self._search_path(None)
        return self._queries.query_data_ids(
            dimensions,
            data_id,
            where=where,
            bind=bind,
            datasets=datasets,
            collections=collections,
            order_by=order_by,
            limit=limit,
            **kwargs,
        )

    def query_dimension_records(
        self,
        element: str,
        data_id: Mapping[str, Any] | None = None,
        *,
        where: str = "",
        bind: Mapping[str, Any] | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> QueryResults:
        """Records of one dimension element matching a where clause (see `query_datasets`)."""
        return self._queries.query_dimension_records(
            element, data_id, where=where, bind=bind, order_by=order_by, limit=limit, **kwargs
        )

    def query_collections(
        self, pattern: Any = ..., collection_types: Iterable[CollectionType] | None = None
    ) -> list[str]:
        """Collection names matching names/patterns/regexes (same rules as queries), sorted."""
        available = self._registry.query_collections("*", collection_types)
        from .queries._wildcards import expand_wildcards, flatten

        return sorted(flatten(expand_wildcards(pattern, available)))

    def query_dataset_types(self, pattern: Any = ...) -> list[DatasetType]:
        """Registered dataset types whose names match (same wildcard rules), sorted by name."""
        types, _ = self._queries.resolve_dataset_types(pattern)
        return sorted(types, key=lambda dt: dt.name)

    def remove_collections(self, names: Iterable[str]) -> None:
        """Remove TAGGED, CALIBRATION or CHAINED collections (not their datasets)."""
        with self.transaction():
            for name in names:
                self._registry.remove_collection(name)

    def certify(self, collection: str, refs: Iterable[DatasetRef], timespan: Timespan) -> None:
        """Certify calibration datasets into a CALIBRATION collection (registered if new)."""
        self._registry.register_collection(collection, CollectionType.CALIBRATION)
        self._registry.certify(collection, refs, timespan)

    def __repr__(self) -> str:
        return f"Butler({str(self.root)!r}, collections={list(self.collections)}, run={self.run!r})"

    def __enter__(self) -> Butler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
