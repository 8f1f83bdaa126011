"""Columnar source catalogs: `Schema`, `SourceCatalog`, file and ecosystem conversions, sky matching.

A catalog is one numpy array per schema field; every operation (selection, sort, join,
concatenation, matching) is vectorised. Catalogs convert losslessly to astropy Tables,
FITS binary tables and Arrow/Parquet.

Not lifted: ``_io`` (the conversion functions behind the ``to_*``/``from_*``/``read_*``/
``write_*`` methods; it imports astropy and pyarrow only when called).
"""

from ._catalog import SourceCatalog, concatenate
from ._errors import SchemaMismatchError, TableError, UnknownColumnError
from ._match import SkyMatch, SkyMatchPairs, match_sky, match_sky_all
from ._schema import SLOT_COLUMNS, SUPPORTED_DTYPES, Field, Schema

__all__ = [
    "SLOT_COLUMNS",
    "SUPPORTED_DTYPES",
    "Field",
    "Schema",
    "SchemaMismatchError",
    "SkyMatch",
    "SkyMatchPairs",
    "SourceCatalog",
    "TableError",
    "UnknownColumnError",
    "concatenate",
    "match_sky",
    "match_sky_all",
]
