"""How dataset IDs are generated (its own module so that importing it stays cheap)."""

from __future__ import annotations

import enum

__all__ = ["DatasetIdGenEnum"]


class DatasetIdGenEnum(enum.Enum):
    """How `make_dataset_id` chooses a dataset's UUID."""

    UNIQUE = "unique"
    """A random UUID4: every put is a new dataset."""
    DATAID_TYPE = "dataid_type"
    """UUID5 of dataset type + data ID: the same in every run (e.g. raws)."""
    DATAID_TYPE_RUN = "dataid_type_run"
    """UUID5 of dataset type + data ID + run: reproducible across repositories."""
