"""Writing an instrument's curated calibrations into a Butler (see `Instrument.write_curated_calibrations`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._errors import InstrumentError

if TYPE_CHECKING:
    from osprey.daf.butler import Butler, DatasetRef

    from ._instrument import Instrument

__all__ = ["write_curated"]

_log = logging.getLogger(__name__)


def write_curated(instrument: Instrument, butler: Butler, collection: str, run: str | None) -> list[DatasetRef]:
    """Put and certify every curated calibration in one transaction; skip ones already certified."""
    from osprey.daf.butler import CollectionType

    from ._instrument import CuratedCalibration

    run = run or instrument.make_curated_calibration_run_name()
    items = [CuratedCalibration(*item) for item in instrument.curated_calibrations()]
    certified: set[tuple[str, tuple[tuple[str, Any], ...], Any]] = set()
    if collection in butler.query_collections(collection):
        if butler.registry.get_collection_type(collection) is not CollectionType.CALIBRATION:
            raise InstrumentError(f"{instrument.name}: collection {collection!r} exists and is not a CALIBRATION one")
        for ref, span in butler.registry.query_certifications(collection):
            key = tuple(sorted((k, v) for k, v in ref.data_id.items() if k != "instrument"))
            certified.add((ref.dataset_type.name, key, (span.begin, span.end)))
    written: list[DatasetRef] = []
    with butler.transaction():
        for item in items:
            data_id = {"instrument": instrument.name, **dict(item.data_id)}
            key = tuple(sorted((k, v) for k, v in data_id.items() if k != "instrument"))
            if (item.dataset_type, key, (item.timespan.begin, item.timespan.end)) in certified:
                continue
            dimensions = ("instrument", *[k for k in item.data_id if k != "instrument"])
            butler.register_dataset_type(item.dataset_type, dimensions, item.storage_class, is_calibration=True)
            ref = butler.put(item.obj, item.dataset_type, data_id, run=run)
            butler.certify(collection, [ref], item.timespan)
            written.append(ref)
    _log.info(
        "%s: wrote %d curated calibration(s) to %s, certified in %s", instrument.name, len(written), run, collection
    )
    return written
