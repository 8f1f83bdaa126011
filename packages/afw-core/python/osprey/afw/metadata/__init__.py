"""Image metadata: `PropertyList` (a FITS header as a Python object) and `PropertySet` (hierarchical).

Not lifted: ``_values`` (validation helpers shared by the two classes).
"""

from ._property_list import MetadataCard, PropertyList
from ._property_set import PropertySet

__all__ = ["MetadataCard", "PropertyList", "PropertySet"]
