"""Visit definition: group exposures into visits and give each visit and detector its sky region.

The default (and only built-in) visit system is ``one-to-one`` (id 0): every on-sky exposure
is its own visit with the same id. Regions come from the boresight (``tracking_ra``/
``tracking_dec``), the sky rotation angle and the camera geometry: each detector's corners
go pixels -> focal plane -> field angle (the camera's distortion) and then through a
gnomonic projection about the boresight to the sky.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._errors import VisitDefinitionError

if TYPE_CHECKING:
    from osprey.afw.camera_geom import Camera
    from osprey.daf.butler import Butler
    from osprey.geom import ConvexPolygon

    from ._instrument import Instrument

__all__ = ["VisitDefinitionResult", "define_visits", "detector_sky_corners", "field_angle_to_sky"]

_log = logging.getLogger(__name__)

ON_SKY_TYPES = ("science", "object", "acq", "focus", "cwfs", "engtest")
"""Observation types that point at the sky and get visits (others, e.g. bias/flat, do not)."""


@dataclasses.dataclass
class VisitDefinitionResult:
    """Outcome of `define_visits`: visit ids written, already present, and exposures left out (with why)."""

    defined: list[int] = dataclasses.field(default_factory=list)
    existing: list[int] = dataclasses.field(default_factory=list)
    skipped: dict[int, str] = dataclasses.field(default_factory=dict)


def field_angle_to_sky(
    field_angle: NDArray[np.float64], ra_deg: float, dec_deg: float, rotation_deg: float, flip_x: bool = True
) -> NDArray[np.float64]:
    """Field angles (radians, shape (n, 2)) to (ra, dec) in radians, shape (n, 2).

    The focal-plane +y axis points at position angle ``rotation_deg`` (north through east);
    +x points 90 degrees east of it when ``flip_x`` (the raw image is seen mirrored, as with
    LSSTCam) and 90 degrees west otherwise. The tangent-plane offsets are then deprojected
    gnomonically about the boresight.
    """
    fa = np.asarray(field_angle, dtype=np.float64)
    theta = np.deg2rad(rotation_deg)
    sign = 1.0 if flip_x else -1.0
    # (east, north) unit vectors of the focal-plane axes.
    ex = sign * np.array([np.cos(theta), -np.sin(theta)])
    ey = np.array([np.sin(theta), np.cos(theta)])
    # Field angle is the angular distance from the boresight: tan of it is the tangent-plane radius.
    radius = np.hypot(fa[:, 0], fa[:, 1])
    scale = np.where(radius > 0, np.tan(radius) / np.where(radius > 0, radius, 1.0), 1.0)
    xi = (fa[:, 0] * ex[0] + fa[:, 1] * ey[0]) * scale  # east
    eta = (fa[:, 0] * ex[1] + fa[:, 1] * ey[1]) * scale  # north
    ra0, dec0 = np.deg2rad(ra_deg), np.deg2rad(dec_deg)
    denom = np.cos(dec0) - eta * np.sin(dec0)
    ra = ra0 + np.arctan2(xi, denom)
    dec = np.arctan2(np.sin(dec0) + eta * np.cos(dec0), np.hypot(xi, denom))
    return np.stack([np.mod(ra, 2 * np.pi), dec], axis=-1)


def detector_sky_corners(
    camera: Camera, ra_deg: float, dec_deg: float, rotation_deg: float, flip_x: bool = True
) -> dict[int, NDArray[np.float64]]:
    """Detector id -> its four pixel-edge corners on the sky, (ra, dec) radians, shape (4, 2)."""
    from osprey.afw.camera_geom import FIELD_ANGLE

    out = {}
    for det in camera:
        corners = det.get_corners(FIELD_ANGLE)
        out[det.id] = field_angle_to_sky(corners, ra_deg, dec_deg, rotation_deg, flip_x)
    return out


def _polygon(lonlat: NDArray[np.float64]) -> ConvexPolygon:
    from osprey.geom import ConvexPolygon, lonlat_to_vector

    return ConvexPolygon.convex_hull(lonlat_to_vector(lonlat[:, 0], lonlat[:, 1]))


def define_visits(
    butler: Butler,
    instrument: str | Instrument,
    *,
    exposures: Iterable[int] | None = None,
    update: bool = False,
) -> VisitDefinitionResult:
    """Define one-exposure visits, with sky regions, for an instrument's on-sky exposures.

    All visits are written in one transaction (visit, visit_definition,
    visit_system_membership and visit_detector_region records): either all of them or none.
    Visits that already exist are left alone (listed in ``existing``) unless ``update``.

    Parameters
    ----------
    butler : `Butler`
        Writeable Butler with the instrument registered and raws ingested.
    instrument : `str` or `Instrument`
        Name (or instance) of the instrument.
    exposures : iterable of `int`, optional
        Exposure ids to consider; every exposure of the instrument by default.
    update : `bool`
        Rewrite existing visits (e.g. after a camera-geometry fix).

    Raises
    ------
    VisitDefinitionError
        The instrument is not registered, a requested exposure does not exist, or the camera
        has no focal plane to field angle mapping.
    """
    from ._instrument import Instrument

    inst = Instrument.from_string(instrument) if isinstance(instrument, str) else instrument
    registry = butler.registry
    if not registry.query_dimension_records("instrument", name=inst.name):
        raise VisitDefinitionError(
            f"instrument {inst.name!r} is not registered; run 'butler register-instrument REPO {inst.name}'"
        )
    records = registry.query_dimension_records("exposure", instrument=inst.name)
    if exposures is not None:
        wanted = {int(e) for e in exposures}
        missing = sorted(wanted - {r.id for r in records})
        if missing:
            raise VisitDefinitionError(f"{inst.name}: no exposure record for id(s) {missing}; ingest them first")
        records = [r for r in records if r.id in wanted]
    camera = inst.get_camera()
    if camera.field_angle is None:
        raise VisitDefinitionError(
            f"{inst.name}: the camera has no focal plane -> field angle mapping, so visit regions cannot be computed"
        )
    existing_ids = {r.id for r in registry.query_dimension_records("visit", instrument=inst.name)}
    result = VisitDefinitionResult()
    visit_rows: list[dict[str, Any]] = []
    detector_rows: list[dict[str, Any]] = []
    for rec in records:
        reason = _why_not(rec)
        if reason is not None:
            result.skipped[rec.id] = reason
            continue
        if rec.id in existing_ids and not update:
            result.existing.append(rec.id)
            continue
        corners = detector_sky_corners(camera, rec.tracking_ra, rec.tracking_dec, rec.sky_angle or 0.0, inst.wcs_flip_x)
        visit_rows.append(
            {
                "instrument": inst.name,
                "id": rec.id,
                "physical_filter": rec.physical_filter,
                "day_obs": rec.day_obs,
                "name": rec.obs_id,
                "exposure_time": rec.exposure_time,
                "target_name": rec.target_name,
                "observation_reason": rec.observation_reason,
                "science_program": rec.science_program,
                "zenith_angle": rec.zenith_angle,
                "region": _polygon(np.concatenate(list(corners.values()))),
                "timespan": rec.timespan,
            }
        )
        detector_rows.extend(
            {"instrument": inst.name, "visit": rec.id, "detector": det_id, "region": _polygon(sky)}
            for det_id, sky in corners.items()
        )
    with butler.transaction():
        for row in visit_rows:
            vid = row["id"]
            if vid in existing_ids:
                registry.sync_dimension_data("visit", row, update=True)
            else:
                registry.insert_dimension_data("visit", row)
            result.defined.append(vid)
        new = [r for r in visit_rows if r["id"] not in existing_ids]
        registry.insert_dimension_data(
            "visit_definition", *[{"instrument": inst.name, "exposure": r["id"], "visit": r["id"]} for r in new]
        )
        registry.insert_dimension_data(
            "visit_system_membership",
            *[{"instrument": inst.name, "visit_system": inst.visit_system, "visit": r["id"]} for r in new],
        )
        registry.insert_dimension_data("visit_detector_region", *detector_rows, replace=True)
    for exposure_id, reason in result.skipped.items():
        _log.log(15, "%s exposure %d: no visit (%s)", inst.name, exposure_id, reason)
    _log.info(
        "%s: defined %d visit(s); %d already existed; %d exposure(s) not on sky",
        inst.name,
        len(result.defined),
        len(result.existing),
        len(result.skipped),
    )
    return result


def _why_not(rec: Any) -> str | None:
    """Why an exposure record cannot become a visit, or None."""
    if (rec.observation_type or "").lower() not in ON_SKY_TYPES:
        return f"observation type {rec.observation_type!r} is not on-sky"
    if rec.tracking_ra is None or rec.tracking_dec is None:
        return "no tracking RA/Dec (not a sidereally tracked pointing)"
    return None
