"""`SkyWcs`: the pixel <-> sky mapping of an image (TAN, TAN-SIP, TPV read), with FITS and APE 14 I/O."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.afw import _afw
from osprey.geom import AffineTransform, Angle, AngleUnit, Extent2D, Point2D, Point2I, SpherePoint, degrees, radians

from ..metadata import PropertyList
from . import _fits, _poly
from ._ape14 import Ape14Mixin
from ._errors import WcsError

__all__ = ["FunctionPixelTransform", "PixelTransform", "SkyWcs"]

_ARCSEC_PER_RAD = 180.0 / math.pi * 3600.0
_MAX_ITER = 50
_EMPTY = np.zeros((0, 0))
_EMPTY.setflags(write=False)
_DICT_VERSION = 1


@runtime_checkable
class PixelTransform(Protocol):
    """What `SkyWcs.with_pixel_transform` accepts: a map of pixel arrays with an inverse.

    `osprey.geom.AffineTransform` satisfies it; camera-geometry transforms (for example
    pixels -> focal plane) can too, or be wrapped in `FunctionPixelTransform`.
    """

    def __call__(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[ArrayLike, ArrayLike]:
        """Map pixel arrays ``x, y`` (same shape) to transformed arrays of that shape."""

    def inverse(self) -> PixelTransform:
        """The inverse map."""


class FunctionPixelTransform:
    """A `PixelTransform` made of two functions of ``(x, y)`` arrays, one the inverse of the other.

    Parameters
    ----------
    forward, inverse : callable
        ``f(x, y) -> (x', y')`` on float64 arrays, in pixels.
    """

    __slots__ = ("_forward", "_inverse")

    def __init__(self, forward: Any, inverse: Any) -> None:
        if not (callable(forward) and callable(inverse)):
            raise WcsError("FunctionPixelTransform needs two callables: forward(x, y) and inverse(x, y)")
        self._forward, self._inverse = forward, inverse

    def __call__(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[ArrayLike, ArrayLike]:
        return self._forward(x, y)

    def inverse(self) -> FunctionPixelTransform:
        return FunctionPixelTransform(self._inverse, self._forward)

    def __repr__(self) -> str:
        return f"FunctionPixelTransform({self._forward!r}, {self._inverse!r})"


def _rotation_matrix(alpha_p: float, delta_p: float, phi_p: float) -> NDArray[np.float64]:
    """Matrix R with ``celestial = R @ native`` unit vectors (Calabretta & Greisen 2002, eq. 2).

    Columns are the celestial images of the native x, y and z axes, from the paper's
    formula written for the vector components (``cos(delta) cos(alpha - alpha_p)``,
    ``cos(delta) sin(alpha - alpha_p)``, ``sin(delta)``) so that no arcsine loses precision.
    """
    sa, ca = math.sin(alpha_p), math.cos(alpha_p)
    sd, cd = math.sin(delta_p), math.cos(delta_p)
    cols = []
    for phi, theta in ((0.0, 0.0), (0.5 * math.pi, 0.0), (0.0, 0.5 * math.pi)):
        st, ct = (1.0, 0.0) if theta else (0.0, 1.0)
        sp, cp = math.sin(phi - phi_p), math.cos(phi - phi_p)
        u = st * cd - ct * sd * cp  # cos(delta) cos(alpha - alpha_p)
        v = -ct * sp  # cos(delta) sin(alpha - alpha_p)
        cols.append([u * ca - v * sa, u * sa + v * ca, st * sd + ct * cd * cp])
    return np.array(cols).T


def _frozen(a: ArrayLike | None, name: str) -> NDArray[np.float64] | None:
    if a is None:
        return None
    m = np.array(a, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise WcsError(f"SIP {name} coefficients must be a non-empty square (order + 1)^2 array, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise WcsError(f"SIP {name} coefficients must be finite")
    m = np.ascontiguousarray(m)
    m.setflags(write=False)
    return m


def _same_size(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = max(a.shape[0], b.shape[0])
    out = []
    for c in (a, b):
        m = np.zeros((n, n))
        m[: c.shape[0], : c.shape[1]] = c
        m.setflags(write=False)
        out.append(m)
    return out[0], out[1]


def _as_point(point: Any) -> Point2D:
    if isinstance(point, Point2D):
        return point
    if isinstance(point, Point2I):
        return point.to_point2d()
    return Point2D(*point)


class SkyWcs(Ape14Mixin):
    """Mapping between pixel positions and ICRS/FK5 sky positions: TAN, optionally with SIP distortion.

    Pixel positions follow the LSST convention: 0-based, pixel centres at integer
    coordinates, so a FITS ``CRPIXi`` equals ``crpix + 1``. The model is::

        pixel -> [pixel transforms] -> u = p - crpix -> u + A(u, v), v + B(u, v)
              -> CD (degrees) -> TAN deprojection -> (ra, dec)

    TPV headers are read and converted exactly to this form. Sky -> pixel inverts each
    step; the SIP step starts from AP/BP when present and is refined by Newton iteration
    on A/B (``refine_inverse``), so round trips hold to ~1e-10 pixel with or without AP/BP.

    A SkyWcs is immutable. It is an astropy APE 14 WCS (low- and high-level API), so
    ``NDData(data, wcs=skywcs)``, ``reproject`` and ``photutils`` accept it directly.

    Parameters
    ----------
    crpix : `Point2D` or pair of float
        0-based pixel position of the tangent point.
    crval : `SpherePoint`
        Sky position of the tangent point.
    cd : array_like, shape (2, 2)
        The FITS CD matrix, degrees per pixel; must be invertible.
    sip_a, sip_b : array_like, shape (n + 1, n + 1), optional
        SIP forward coefficients, ``sip_a[p, q]`` multiplying ``u**p v**q`` (pixels).
    sip_ap, sip_bp : array_like, optional
        SIP inverse coefficients (AP/BP); only used as Newton's starting point unless
        ``refine_inverse`` is False.
    lonpole : `float`, optional
        FITS LONPOLE, degrees; default 180 (0 when the tangent point is the north pole).
    radesys : `str`, optional
        "ICRS" (default), "FK5", "FK4" or "FK4-NO-E".
    equinox : `float`, optional
        Equinox in years for FK4/FK5 (default 2000 for FK5, 1950 for FK4).
    refine_inverse : `bool`, optional
        Refine sky -> pixel by Newton iteration on the forward SIP polynomials (default True).

    Raises
    ------
    WcsError
        If an input is invalid; the message names it.

    Examples
    --------
    >>> from osprey.geom import Point2D, SpherePoint, degrees
    >>> wcs = SkyWcs.from_tan(Point2D(1000, 2000), SpherePoint(150.0, 2.0, degrees),
    ...                       [[-5.5e-5, 0.0], [0.0, 5.5e-5]])
    >>> round(wcs.get_pixel_scale().as_arcseconds(), 6)
    0.198
    """

    def __init__(
        self,
        crpix: Point2D | Sequence[float],
        crval: SpherePoint,
        cd: ArrayLike,
        *,
        sip_a: ArrayLike | None = None,
        sip_b: ArrayLike | None = None,
        sip_ap: ArrayLike | None = None,
        sip_bp: ArrayLike | None = None,
        lonpole: float | None = None,
        radesys: str = "ICRS",
        equinox: float | None = None,
        refine_inverse: bool = True,
    ) -> None:
        try:
            cx, cy = (float(v) for v in _as_point(crpix))
        except Exception as exc:
            raise WcsError(f"crpix must be a finite pixel position, got {crpix!r}") from exc
        if not isinstance(crval, SpherePoint):
            raise WcsError(f"crval must be a SpherePoint, got {type(crval).__name__}")
        cdm = np.array(cd, dtype=np.float64)
        if cdm.shape != (2, 2) or not np.all(np.isfinite(cdm)):
            raise WcsError(f"cd must be a finite 2x2 matrix (degrees per pixel), got {np.asarray(cd).tolist()!r}")
        det = float(np.linalg.det(cdm))
        scale = float(np.abs(cdm).max())
        if not (scale > 0.0 and abs(det) > 1e-12 * scale * scale):
            raise WcsError(f"cd (CD1_1, CD1_2, CD2_1, CD2_2) = {cdm.ravel().tolist()} is not invertible")
        a, b = _frozen(sip_a, "A"), _frozen(sip_b, "B")
        ap, bp = _frozen(sip_ap, "AP"), _frozen(sip_bp, "BP")
        if (a is None) != (b is None):
            raise WcsError("SIP needs both sip_a and sip_b (A_ORDER and B_ORDER)")
        if (ap is None) != (bp is None):
            raise WcsError("the SIP inverse needs both sip_ap and sip_bp (AP_ORDER and BP_ORDER)")
        if ap is not None and a is None:
            raise WcsError("sip_ap/sip_bp given without the forward sip_a/sip_b")
        if a is not None and b is not None:
            a, b = _same_size(a, b)
        if ap is not None and bp is not None:
            ap, bp = _same_size(ap, bp)
        lon0, lat0 = crval.longitude.as_radians(), crval.latitude.as_radians()
        if lonpole is None:
            lonpole = 0.0 if lat0 >= 0.5 * math.pi else 180.0
        lonpole = float(lonpole)
        if not math.isfinite(lonpole):
            raise WcsError(f"lonpole must be finite (degrees), got {lonpole!r}")
        radesys = str(radesys).strip().upper()
        if radesys not in _fits.RADESYS_VALUES:
            raise WcsError(f"radesys = {radesys!r} is not supported; use one of {', '.join(_fits.RADESYS_VALUES)}")
        if radesys == "ICRS":
            equinox = None
        elif equinox is None:
            equinox = 1950.0 if radesys.startswith("FK4") else 2000.0
        cdm.setflags(write=False)
        self._crpix = (cx, cy)
        self._crval = crval
        self._cd = cdm
        self._a, self._b, self._ap, self._bp = a, b, ap, bp
        self._lonpole = lonpole
        self._radesys = radesys
        self._equinox = None if equinox is None else float(equinox)
        self._refine = bool(refine_inverse)
        self._rot = _rotation_matrix(lon0, lat0, math.radians(lonpole))
        self._affine = AffineTransform()
        self._chain: tuple[Any, ...] = ()
        self._chain_inv: tuple[Any, ...] = ()
        self._update_params()

    def _update_params(self) -> None:
        aff = self._affine.parameters
        inv = self._affine.inverse().parameters
        cd_inv = np.linalg.inv(self._cd)
        params = np.concatenate([aff, inv, self._crpix, self._cd.ravel(), cd_inv.ravel(), self._rot.ravel()])
        params.setflags(write=False)
        self._params = np.ascontiguousarray(params, dtype=np.float64)

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def from_tan(
        cls,
        crpix: Point2D | Sequence[float],
        crval: SpherePoint,
        cd_matrix: ArrayLike,
        *,
        radesys: str = "ICRS",
        lonpole: float | None = None,
    ) -> SkyWcs:
        """A pure TAN WCS: 0-based ``crpix``, ``crval`` and the CD matrix in degrees per pixel."""
        return cls(crpix, crval, cd_matrix, radesys=radesys, lonpole=lonpole)

    @classmethod
    def from_fits_header(cls, header: Any, *, refine_inverse: bool = True) -> SkyWcs:
        """Read a TAN, TAN-SIP or TPV celestial WCS from FITS cards.

        Parameters
        ----------
        header : `PropertyList`, `astropy.io.fits.Header` or mapping
            The cards. CRPIXi are 1-based as in FITS; CD, PC+CDELT or CDELT+CROTA2 are
            accepted; TPV ``PVi_k`` are converted to SIP form (radial terms must be zero).
        refine_inverse : `bool`, optional
            See `SkyWcs`.

        Raises
        ------
        WcsError
            Naming the missing or invalid keyword (CTYPE1, CRVAL2, CD1_1, A_ORDER...).
        """
        kw = _fits.read_header(header)
        lon, lat = kw.pop("crval_deg")
        return cls(kw.pop("crpix"), SpherePoint(lon, lat, degrees), kw.pop("cd"), refine_inverse=refine_inverse, **kw)

    @classmethod
    def from_skymap_parameters(cls, params: Mapping[str, Any]) -> SkyWcs:
        """The WCS of a skymap tract, from the plain dict of `osprey.geom.TractInfo.wcs_parameters`.

        Uses ``crpix`` (0-based), ``crval`` (degrees), ``cd``, and ``lonpole``/``radesys``
        when present.
        """
        try:
            crpix, crval, cd = params["crpix"], params["crval"], params["cd"]
        except KeyError as exc:
            raise WcsError(f"skymap WCS parameters have no {exc.args[0]!r} key (have {sorted(params)})") from None
        projection = params.get("projection", "TAN")
        if projection != "TAN":
            raise WcsError(f"skymap WCS projection {projection!r} is not supported; only TAN")
        return cls(
            crpix,
            SpherePoint(float(crval[0]), float(crval[1]), degrees),
            cd,
            lonpole=params.get("lonpole"),
            radesys=params.get("radesys", "ICRS"),
        )

    @classmethod
    def from_astropy(cls, wcs: Any) -> SkyWcs:
        """From an `astropy.wcs.WCS` holding a 2-d TAN or TAN-SIP celestial WCS."""
        return cls.from_fits_header(wcs.to_header(relax=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkyWcs:
        """Inverse of `to_dict`."""
        try:
            version = data["version"]
            if version != _DICT_VERSION:
                raise WcsError(f"SkyWcs dict version {version!r} is not supported (expected {_DICT_VERSION})")
            sip = data.get("sip") or {}
            out = cls(
                data["crpix"],
                SpherePoint(float(data["crval"][0]), float(data["crval"][1]), degrees),
                data["cd"],
                sip_a=sip.get("a"),
                sip_b=sip.get("b"),
                sip_ap=sip.get("ap"),
                sip_bp=sip.get("bp"),
                lonpole=data["lonpole"],
                radesys=data["radesys"],
                equinox=data.get("equinox"),
                refine_inverse=data.get("refine_inverse", True),
            )
        except KeyError as exc:
            raise WcsError(f"SkyWcs dict has no {exc.args[0]!r} key") from None
        affine = data.get("pixel_affine")
        if affine is not None:
            out._affine = AffineTransform.from_parameters(affine)
            out._update_params()
        return out

    # -- basic properties --------------------------------------------------------------------
    @property
    def radesys(self) -> str:  # type: ignore[override]
        """Celestial reference system: "ICRS", "FK5", "FK4" or "FK4-NO-E"."""
        return self._radesys

    @property
    def equinox(self) -> float | None:  # type: ignore[override]
        """Equinox in years (FK4/FK5), None for ICRS."""
        return self._equinox

    @property
    def crval(self) -> SpherePoint:
        """Sky position of the tangent point (the sky origin)."""
        return self._crval

    @property
    def has_distortion(self) -> bool:
        """Whether a SIP (or converted TPV) polynomial or a non-affine pixel transform is present."""
        return self._a is not None or bool(self._chain)

    @property
    def sip_order(self) -> int:
        """Order of the forward SIP polynomials; 0 when there are none."""
        return 0 if self._a is None else self._a.shape[0] - 1

    def get_sky_origin(self) -> SpherePoint:
        """Sky position of the tangent point (CRVAL)."""
        return self._crval

    def get_pixel_origin(self) -> Point2D:
        """0-based pixel position whose sky position is the tangent point (CRPIX - 1 for a plain header)."""
        return self.sky_to_pixel(self._crval)

    # -- evaluation --------------------------------------------------------------------------
    def pixel_to_sky_array(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel positions (0-based, pixels) -> ``(ra, dec)`` in radians, ra in ``[0, 2 pi)``.

        ``x`` and ``y`` broadcast together; the outputs have the broadcast shape. One
        GIL-free compiled pass does the whole TAN(-SIP) model.
        """
        xs, ys = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        shape = xs.shape
        xs, ys = xs.ravel(), ys.ravel()
        for t in self._chain:
            xs, ys = t(xs, ys)
        xs = np.ascontiguousarray(xs, dtype=np.float64).ravel()
        ys = np.ascontiguousarray(ys, dtype=np.float64).ravel()
        a = _EMPTY if self._a is None else self._a
        b = _EMPTY if self._b is None else self._b
        ra, dec = _afw.wcs_pixel_to_sky(self._params, a, b, xs, ys)
        return ra.reshape(shape), dec.reshape(shape)

    def sky_to_pixel_array(self, ra: ArrayLike, dec: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(ra, dec)`` in radians -> pixel positions (0-based).

        NaN for positions 90 degrees or more from the tangent point, and where the SIP
        inversion does not converge (far outside the region the polynomials were fitted on).
        """
        rs, ds = np.broadcast_arrays(np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64))
        shape = rs.shape
        rs, ds = np.ascontiguousarray(rs.ravel()), np.ascontiguousarray(ds.ravel())
        a = _EMPTY if self._a is None else self._a
        b = _EMPTY if self._b is None else self._b
        ap = _EMPTY if self._ap is None else self._ap
        bp = _EMPTY if self._bp is None else self._bp
        xs, ys = _afw.wcs_sky_to_pixel(self._params, a, b, ap, bp, self._refine, _MAX_ITER, rs, ds)
        for t in reversed(self._chain_inv):
            xs, ys = t(xs, ys)
            xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        return xs.reshape(shape), ys.reshape(shape)

    def pixel_to_sky(self, point: Point2D | Point2I | Sequence[float]) -> SpherePoint:
        """Sky position of one pixel position (0-based)."""
        p = _as_point(point)
        ra, dec = self.pixel_to_sky_array(np.array([p.x]), np.array([p.y]))
        if not (math.isfinite(ra[0]) and math.isfinite(dec[0])):
            raise WcsError(f"pixel {p!r} has no sky position under this WCS")
        return SpherePoint(float(ra[0]), float(dec[0]), radians)

    def sky_to_pixel(self, coord: SpherePoint) -> Point2D:
        """Pixel position (0-based) of one sky position.

        Raises `WcsError` if the position cannot be projected (90 degrees or more from the
        tangent point, or outside the region where the distortion can be inverted).
        """
        lon, lat = coord.longitude.as_radians(), coord.latitude.as_radians()
        x, y = self.sky_to_pixel_array(np.array([lon]), np.array([lat]))
        if not (math.isfinite(x[0]) and math.isfinite(y[0])):
            raise WcsError(f"{coord!r} cannot be projected to pixels by this WCS")
        return Point2D(float(x[0]), float(y[0]))

    # -- composition -------------------------------------------------------------------------
    def with_pixel_transform(self, transform: PixelTransform) -> SkyWcs:
        """A WCS whose pixel ``p`` maps to ``self.pixel_to_sky(transform(p))``.

        Use it to go from another pixel frame (an amplifier, a binned image, a camera
        focal plane) to this WCS's pixels. An `AffineTransform` is folded into the
        compiled model (and into `to_fits_header`); any other `PixelTransform` is
        applied in Python before it (and cannot be written to FITS).
        """
        if not isinstance(transform, PixelTransform):
            raise WcsError(
                "a pixel transform must be callable on (x, y) arrays and have inverse(); "
                f"got {type(transform).__name__}"
            )
        out = copy.copy(self)
        if isinstance(transform, AffineTransform) and not self._chain:
            out._affine = self._affine @ transform
            out._update_params()
        else:
            out._chain = (transform, *self._chain)
            out._chain_inv = (transform.inverse(), *self._chain_inv)
        return out

    def copy_at_shifted_pixel_origin(self, shift: Extent2D | Sequence[float]) -> SkyWcs:
        """A WCS with every pixel position moved by ``shift``: ``new(p + shift) == self(p)``.

        For example the parent-frame WCS of an image whose FITS header describes its own
        pixel grid with origin ``xy0`` is ``header_wcs.copy_at_shifted_pixel_origin(xy0)``.
        """
        dx, dy = (float(v) for v in shift)
        return self.with_pixel_transform(AffineTransform.translation_only((-dx, -dy)))

    # -- local linear approximation ----------------------------------------------------------
    def _jacobian(self, point: Point2D) -> tuple[NDArray[np.float64], float, float]:
        """d(xi, eta)/d(x, y) in radians per pixel at ``point``, where (xi, eta) are gnomonic
        offsets (east, north) about the point's sky position; also that position (radians)."""
        x, y = np.array([point.x]), np.array([point.y])
        jac = np.eye(2)
        h = 1e-2  # central differences through general (non-affine) pixel transforms
        for t in self._chain:
            cols = []
            for dx, dy in ((h, 0.0), (0.0, h)):
                xp, yp = t(x + dx, y + dy)
                xm, ym = t(x - dx, y - dy)
                cols.append(
                    [
                        (float(np.asarray(xp)[0]) - float(np.asarray(xm)[0])) / (2 * h),
                        (float(np.asarray(yp)[0]) - float(np.asarray(ym)[0])) / (2 * h),
                    ]
                )
            jac = np.array(cols).T @ jac
            x, y = (np.asarray(v, dtype=np.float64).ravel() for v in t(x, y))
        lin = self._affine.linear.matrix
        jac = lin @ jac
        xp, yp = self._affine(x, y)
        u, v = xp - self._crpix[0], yp - self._crpix[1]
        if self._a is not None and self._b is not None:
            (au, av), (bu, bv) = _poly.gradient(self._a, u, v), _poly.gradient(self._b, u, v)
            u, v = u + _poly.evaluate(self._a, u, v), v + _poly.evaluate(self._b, u, v)
            jac = np.array([[1.0 + au[0], av[0]], [bu[0], 1.0 + bv[0]]]) @ jac
        jac = np.radians(self._cd) @ jac
        big_x = math.radians(self._cd[0, 0] * u[0] + self._cd[0, 1] * v[0])
        big_y = math.radians(self._cd[1, 0] * u[0] + self._cd[1, 1] * v[0])
        c = self._rot @ np.array([-big_y, big_x, 1.0])
        norm = float(np.linalg.norm(c))
        lon = math.atan2(c[1], c[0]) % (2.0 * math.pi)
        lat = math.atan2(c[2], math.hypot(c[0], c[1]))
        east = np.array([-math.sin(lon), math.cos(lon), 0.0])
        north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
        dn = np.array([[0.0, -1.0], [1.0, 0.0], [0.0, 0.0]])  # d(-Y, X, 1)/d(X, Y)
        jac = (np.vstack([east, north]) @ self._rot @ dn / norm) @ jac
        return jac, lon, lat

    def _pixel_point(self, point: Point2D | Point2I | SpherePoint | Sequence[float] | None) -> Point2D:
        if point is None:
            return self.get_pixel_origin()
        if isinstance(point, SpherePoint):
            return self.sky_to_pixel(point)
        return _as_point(point)

    def linearize_pixel_to_sky(
        self, point: Point2D | SpherePoint | Sequence[float], unit: AngleUnit = degrees
    ) -> AffineTransform:
        """Local affine approximation of pixel -> sky at ``point`` (a pixel or a sky position).

        The transform maps a pixel position to gnomonic offsets ``(xi, eta)`` -- east and
        north, in ``unit`` -- on the plane tangent to the sky at ``point``; it returns
        ``(0, 0)`` at ``point`` and its linear part is the exact derivative there.
        """
        p = self._pixel_point(point)
        jac, _, _ = self._jacobian(p)
        lin = jac / unit.radians_per_unit
        t = -(lin @ np.array([p.x, p.y]))
        return AffineTransform(lin, (float(t[0]), float(t[1])))

    def linearize_sky_to_pixel(
        self, point: Point2D | SpherePoint | Sequence[float], unit: AngleUnit = degrees
    ) -> AffineTransform:
        """Inverse of `linearize_pixel_to_sky`: gnomonic offsets (in ``unit``) about ``point`` -> pixels."""
        return self.linearize_pixel_to_sky(point, unit).inverse()

    def get_cd_matrix(self, point: Point2D | SpherePoint | Sequence[float] | None = None) -> NDArray[np.float64]:
        """Local CD matrix at ``point`` (default: the pixel origin), degrees per pixel.

        Rows are the east (xi) and north (eta) offsets, as the FITS CD matrix of a TAN WCS
        with the default LONPOLE; for such a WCS it equals CD at CRPIX.
        """
        jac, _, _ = self._jacobian(self._pixel_point(point))
        return np.degrees(jac)

    def get_pixel_scale(self, point: Point2D | SpherePoint | Sequence[float] | None = None) -> Angle:
        """Side of a square pixel of the same area at ``point`` (default: the pixel origin)."""
        jac, _, _ = self._jacobian(self._pixel_point(point))
        return Angle(math.sqrt(abs(float(np.linalg.det(jac)))), radians)

    def get_pixel_area(self, point: Point2D | SpherePoint | Sequence[float] | None = None) -> float:
        """Solid angle of one pixel at ``point`` (default: the pixel origin), in square arcseconds."""
        jac, _, _ = self._jacobian(self._pixel_point(point))
        return abs(float(np.linalg.det(jac))) * _ARCSEC_PER_RAD**2

    # -- FITS, dict and astropy --------------------------------------------------------------
    def _require_no_chain(self, what: str) -> None:
        if self._chain:
            raise WcsError(
                f"{what} is not possible: this SkyWcs has a non-affine pixel transform "
                f"({type(self._chain[0]).__name__}); only TAN/TAN-SIP with affine pixel transforms can be written"
            )

    def _folded(self) -> dict[str, Any]:
        """crpix, cd and SIP with the affine pixel transform folded in (exact up to rounding)."""
        lin = self._affine.linear.matrix
        t = np.array(self._affine.parameters[4:])
        lin_inv = np.linalg.inv(lin)
        crpix = lin_inv @ (np.array(self._crpix) - t)
        cd = self._cd @ lin
        out: dict[str, Any] = {"crpix": crpix, "cd": cd, "a": None, "b": None, "ap": None, "bp": None}
        for fwd, (pa, pb) in (("a", (self._a, self._b)), ("ap", (self._ap, self._bp))):
            if pa is None or pb is None:
                continue
            if np.array_equal(lin, np.eye(2)):
                sa, sb = pa, pb
            else:
                ca, cb = _poly.compose_linear((pa, pb), lin)
                sa = lin_inv[0, 0] * ca + lin_inv[0, 1] * cb
                sb = lin_inv[1, 0] * ca + lin_inv[1, 1] * cb
            out[fwd], out["b" if fwd == "a" else "bp"] = np.array(sa), np.array(sb)
        return out

    def _core_parameters(self) -> dict[str, Any]:
        """The model as plain numbers (for the numpy reference); requires no general transforms."""
        self._require_no_chain("the numpy reference model")
        return {
            "affine": self._affine.parameters,
            "affine_inverse": self._affine.inverse().parameters,
            "crpix": self._crpix,
            "cd": self._cd,
            "crval": (self._crval.longitude.as_radians(), self._crval.latitude.as_radians()),
            "lonpole": self._lonpole,
            "a": self._a,
            "b": self._b,
            "ap": self._ap,
            "bp": self._bp,
            "refine": self._refine,
        }

    def to_fits_header(self) -> PropertyList:
        """FITS cards of this WCS: CTYPE 'RA---TAN' or 'RA---TAN-SIP', CRPIX (1-based), CRVAL, CD...

        TPV input is written as the equivalent TAN-SIP. An affine pixel transform is folded
        into CRPIX, CD and the SIP coefficients.

        Raises
        ------
        WcsError
            If the WCS has a non-affine pixel transform.
        """
        self._require_no_chain("to_fits_header")
        f = self._folded()
        sip = f["a"] is not None
        suffix = "-SIP" if sip else ""
        pl = PropertyList()
        pl.set("CTYPE1", "RA---TAN" + suffix, "right ascension, gnomonic projection")
        pl.set("CTYPE2", "DEC--TAN" + suffix, "declination, gnomonic projection")
        pl.set("CRPIX1", float(f["crpix"][0] + 1.0), "reference pixel, 1-based")
        pl.set("CRPIX2", float(f["crpix"][1] + 1.0), "reference pixel, 1-based")
        pl.set("CRVAL1", self._crval.longitude.as_degrees(), "[deg] RA of the reference pixel")
        pl.set("CRVAL2", self._crval.latitude.as_degrees(), "[deg] Dec of the reference pixel")
        pl.set("CUNIT1", "deg", "")
        pl.set("CUNIT2", "deg", "")
        for i in range(2):
            for j in range(2):
                pl.set(f"CD{i + 1}_{j + 1}", float(f["cd"][i, j]), "[deg/pixel] linear transformation matrix")
        pl.set("LONPOLE", self._lonpole, "[deg] native longitude of the celestial pole")
        pl.set("RADESYS", self._radesys, "celestial reference system")
        if self._equinox is not None:
            pl.set("EQUINOX", self._equinox, "[yr] equinox of the reference system")
        if sip:
            for name in ("a", "b", "ap", "bp"):
                if f[name] is not None:
                    for card in _fits.sip_cards(name.upper(), f[name]):
                        pl.set(*card)
        return pl

    def to_astropy(self) -> Any:
        """An `astropy.wcs.WCS` with the same TAN or TAN-SIP model (via `to_fits_header`)."""
        import warnings

        from astropy.wcs import WCS, FITSFixedWarning

        header = self.to_fits_header().to_fits_header()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            return WCS(header)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict (lists, floats, strings) holding the whole model; see `from_dict`."""
        self._require_no_chain("to_dict")

        def mat(m: NDArray[np.float64] | None) -> list[list[float]] | None:
            return None if m is None else m.tolist()

        sip = None
        if self._a is not None:
            sip = {"a": mat(self._a), "b": mat(self._b), "ap": mat(self._ap), "bp": mat(self._bp)}
        identity = self._affine == AffineTransform()
        return {
            "type": "SkyWcs",
            "version": _DICT_VERSION,
            "crpix": list(self._crpix),
            "crval": [self._crval.longitude.as_degrees(), self._crval.latitude.as_degrees()],
            "cd": self._cd.tolist(),
            "lonpole": self._lonpole,
            "radesys": self._radesys,
            "equinox": self._equinox,
            "sip": sip,
            "refine_inverse": self._refine,
            "pixel_affine": None if identity else list(self._affine.parameters),
        }

    # -- Python protocol ---------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SkyWcs):
            return NotImplemented
        if len(self._chain) != len(other._chain) or any(
            a is not b and a != b for a, b in zip(self._chain, other._chain, strict=True)
        ):
            return False
        mine, theirs = copy.copy(self), copy.copy(other)
        mine._chain = theirs._chain = ()
        return mine.to_dict() == theirs.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ra, dec = self._crval.longitude.as_degrees(), self._crval.latitude.as_degrees()
        scale = math.sqrt(abs(float(np.linalg.det(self._cd)))) * 3600.0
        extra = f", sip_order={self.sip_order}" if self._a is not None else ""
        if self._chain:
            extra += f", pixel_transforms={len(self._chain)}"
        return (
            f"SkyWcs(crval=({ra:.8f}, {dec:.8f}) deg, crpix=({self._crpix[0]:.3f}, {self._crpix[1]:.3f}), "
            f"scale={scale:.5f} arcsec/pixel{extra}, radesys={self._radesys!r})"
        )
