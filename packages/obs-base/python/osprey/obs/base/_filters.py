"""`FilterDefinition`: one physical filter of an instrument and the band it measures."""

from __future__ import annotations

import dataclasses

__all__ = ["FilterDefinition"]


@dataclasses.dataclass(frozen=True)
class FilterDefinition:
    """A filter as the instrument names it, with its instrument-independent band.

    The Butler's ``physical_filter`` dimension implies ``band``, so every physical filter
    carries one: a real band (``u g r i z y``) or, for non-science elements
    (``empty``, gratings, ``unknown``), the physical filter name itself.

    Attributes
    ----------
    physical_filter : `str`
        Name written by the translator into `ObservationInfo.physical_filter`.
    band : `str` or None
        Band label; None means "same as ``physical_filter``".
    doc : `str`
        One line for users.
    lambda_eff_nm : `float` or None
        Effective wavelength, nanometres.
    aliases : `tuple` of `str`
        Other header spellings of this filter (e.g. DECam's ``"g DECam SDSS c0001 ..."``).
    """

    physical_filter: str
    band: str | None = None
    doc: str = ""
    lambda_eff_nm: float | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.physical_filter, str) or not self.physical_filter:
            raise ValueError(
                f"FilterDefinition.physical_filter must be a non-empty string, got {self.physical_filter!r}"
            )
        if len(self.physical_filter) > 32:
            raise ValueError(f"physical_filter {self.physical_filter!r} is longer than the Butler's 32 characters")
        if self.band is None:
            object.__setattr__(self, "band", self.physical_filter)
        object.__setattr__(self, "aliases", tuple(self.aliases))

    @property
    def is_science(self) -> bool:
        """Whether the band differs from the physical filter (a real band, not a label)."""
        return self.band != self.physical_filter
