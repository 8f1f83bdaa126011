"""Resampling images onto another pixel grid: a WCS-to-WCS warp or any pixel transform.

For every destination pixel the source position is needed. It is evaluated exactly (through
the WCS array methods or the given callable) only on a grid of nodes every ``grid_spacing``
destination pixels (plus the last row and column) and interpolated bilinearly in between,
inside the compiled kernel. The interpolation error is measured by evaluating the exact
mapping at every grid-cell centre, where bilinear interpolation is worst; when
``max_error_px`` is given and exceeded, the spacing is halved until it is met (spacing 1 is
exact).

The source is sampled with a separable Lanczos-a kernel, ``L(d) = sinc(d) sinc(d / a)``
for ``|d| < a`` (``2a`` taps per axis, weights normalised to sum 1), or bilinearly. Per
destination pixel:

* image: ``sum w_ij src_ij``;
* variance: ``sum w_ij^2 var_ij``. This ignores the covariance that interpolation creates
  between neighbouring output pixels: the variance of a sum over many output pixels is
  underestimated by about ``1 / sum_w2``. `WarpResult.sum_w2` holds ``sum w_ij^2`` per
  pixel (and `WarpResult.mean_sum_w2` its mean) so that callers can correct for it;
* mask: OR of the source mask bits of taps with ``|w_ij| > mask_threshold``; EDGE where the
  kernel is truncated by the source boundary (the remaining weights are renormalised);
  NO_DATA, with NaN image and variance, where the source position is outside the source
  (farther than half a pixel beyond its edge pixel centres) or not defined;
* ``conserve_flux=True`` multiplies the image by ``|det d(src)/d(dest)|`` (the variance by
  its square), the ratio of pixel areas, so that sums over the image are preserved (surface
  brightness is preserved otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from osprey.geom import Box2I

from .. import _afw
from ..errors import AfwShapeError, AfwValueError
from ..image import Image, MaskedImage

__all__ = ["WarpResult", "warp_image", "warp_with_transform"]

PixelTransform = Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[Any, Any]]
_EMPTY_F32 = np.zeros((0, 0), dtype=np.float32)
_EMPTY_I32 = np.zeros((0, 0), dtype=np.int32)


@dataclass(frozen=True)
class WarpResult:
    """A warped image plus what the warp did.

    Attributes
    ----------
    image : `Image` or `MaskedImage`
        The destination pixels over ``dest_bbox`` (same kind as the source).
    sum_w2 : `numpy.ndarray`, float32, shape of the destination
        ``sum w_ij^2`` of the interpolation weights per pixel (1 for an integer shift,
        about 0.4 for Lanczos-3 at half-pixel offsets); NaN where there is no data.
    grid_spacing : `int`
        Spacing of the exactly evaluated grid that was used (pixels).
    max_grid_error_px : `float`
        Largest distance (source pixels) between the exact and the interpolated mapping
        at the grid-cell centres (0 at spacing 1).
    """

    image: Image | MaskedImage
    sum_w2: NDArray[np.float32]
    grid_spacing: int
    max_grid_error_px: float

    @property
    def mean_sum_w2(self) -> float:
        """Mean of `sum_w2` over the pixels with data (NaN when there are none)."""
        good = self.sum_w2[np.isfinite(self.sum_w2)]
        return float(good.mean()) if good.size else float("nan")


def _order(kernel: str) -> int:
    if kernel == "bilinear":
        return 1
    m = re.fullmatch(r"lanczos([2-5])", kernel)
    if m is None:
        raise AfwValueError(f"warping kernel must be 'bilinear' or 'lanczos2'..'lanczos5', got {kernel!r}")
    return int(m.group(1))


def _nodes(n: int, spacing: int) -> NDArray[np.float64]:
    nodes = np.arange(0, n, spacing, dtype=np.float64)
    if nodes[-1] != n - 1:
        nodes = np.append(nodes, float(n - 1))
    if nodes.size < 2:
        nodes = np.array([0.0, 1.0])
    return nodes


def _evaluate(transform: PixelTransform, x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
    sx, sy = transform(x, y)
    sx = np.asarray(sx, dtype=np.float64)
    sy = np.asarray(sy, dtype=np.float64)
    if sx.shape != x.shape or sy.shape != x.shape:
        raise AfwShapeError("the pixel transform must return x and y arrays shaped like its input", x.shape, sx.shape)
    return sx, sy


def _grid(
    transform: PixelTransform, box: Box2I, spacing: int, src_origin: tuple[int, int]
) -> tuple[NDArray, NDArray, NDArray, NDArray, float]:
    """Grid nodes (destination array coords), source array coords at them, and the measured error."""
    gx, gy = _nodes(box.width, spacing), _nodes(box.height, spacing)
    x0, y0 = box.begin.x, box.begin.y
    xx, yy = np.meshgrid(gx + x0, gy + y0)
    sx, sy = _evaluate(transform, xx, yy)
    sx -= src_origin[0]
    sy -= src_origin[1]
    if spacing == 1:
        return gx, gy, np.ascontiguousarray(sx), np.ascontiguousarray(sy), 0.0
    cx, cy = np.meshgrid(0.5 * (gx[:-1] + gx[1:]) + x0, 0.5 * (gy[:-1] + gy[1:]) + y0)
    ex, ey = _evaluate(transform, cx, cy)
    ix = 0.25 * (sx[:-1, :-1] + sx[1:, :-1] + sx[:-1, 1:] + sx[1:, 1:]) + src_origin[0]
    iy = 0.25 * (sy[:-1, :-1] + sy[1:, :-1] + sy[:-1, 1:] + sy[1:, 1:]) + src_origin[1]
    err = np.hypot(ex - ix, ey - iy)
    err = err[np.isfinite(err)]
    return gx, gy, np.ascontiguousarray(sx), np.ascontiguousarray(sy), float(err.max()) if err.size else 0.0


def warp_with_transform(
    src: Image | MaskedImage,
    transform: PixelTransform,
    dest_bbox: Box2I,
    *,
    kernel: str = "lanczos3",
    grid_spacing: int = 20,
    max_error_px: float | None = None,
    conserve_flux: bool = False,
    mask_threshold: float = 0.01,
) -> WarpResult:
    """Resample ``src`` onto ``dest_bbox`` given the destination -> source pixel mapping.

    Parameters
    ----------
    src : `Image` or `MaskedImage`
        Source pixels (float32/float64 images keep their type, integers give float64).
    transform : callable
        ``transform(x, y) -> (x_src, y_src)``: destination parent pixel positions (float64
        arrays of any shape) to source parent pixel positions (same shape; NaN where
        undefined).
    dest_bbox : `Box2I`
        Destination pixels (parent frame, end exclusive).
    kernel : {"lanczos3", "lanczos2", "lanczos4", "lanczos5", "bilinear"}
        Interpolation kernel.
    grid_spacing : `int`
        Initial spacing (destination pixels) of the exactly evaluated grid, >= 1.
    max_error_px : `float`, optional
        Largest acceptable interpolation error of the mapping (source pixels); the spacing
        is halved until the error measured at the grid-cell centres is below it.
    conserve_flux : `bool`
        Multiply by the Jacobian determinant ``|d(src)/d(dest)|`` (pixel-area ratio).
    mask_threshold : `float`
        A source pixel's mask bits reach the output when its 2-D weight exceeds this.

    Returns
    -------
    `WarpResult`
    """
    order = _order(kernel)
    spacing = int(grid_spacing)
    if spacing < 1:
        raise AfwValueError(f"grid_spacing must be >= 1 pixel, got {grid_spacing!r}")
    if max_error_px is not None and not max_error_px > 0:
        raise AfwValueError(f"max_error_px must be positive, got {max_error_px!r}")
    if dest_bbox.width < 1 or dest_bbox.height < 1:
        raise AfwValueError(f"dest_bbox {dest_bbox!r} is empty")
    masked = isinstance(src, MaskedImage)
    if not masked and not isinstance(src, Image):
        raise AfwValueError(f"warping needs an Image or MaskedImage, got {type(src).__name__}")
    img = src.image if masked else src
    origin = (int(img.xy0.x), int(img.xy0.y))
    gx, gy, sx, sy, err = _grid(transform, dest_bbox, spacing, origin)
    while max_error_px is not None and err > max_error_px and spacing > 1:
        spacing = max(1, spacing // 2)
        gx, gy, sx, sy, err = _grid(transform, dest_bbox, spacing, origin)
    dt = img.array.dtype if img.array.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    a = np.ascontiguousarray(img.array, dtype=dt)
    shape = (dest_bbox.height, dest_bbox.width)
    out = np.empty(shape, dtype=dt)
    mout = np.empty(shape, dtype=np.int32)
    w2 = np.empty(shape, dtype=np.float32)
    if masked:
        var = np.ascontiguousarray(src.variance.array, dtype=np.float32)
        mask = np.ascontiguousarray(src.mask.array, dtype=np.int32)
        vout = np.empty(shape, dtype=np.float32)
        edge_bits = src.mask.get_plane_bitmask("EDGE")
        no_data = src.mask.get_plane_bitmask("NO_DATA")
    else:
        var, mask, vout, edge_bits, no_data = _EMPTY_F32, _EMPTY_I32, _EMPTY_F32, 0, 0
    _afw.warp_resample(
        a, var, mask, gx, gy, sx, sy, order, float(mask_threshold), edge_bits, no_data, bool(conserve_flux), out, vout,
        mout, w2,
    )  # fmt: skip
    if masked:
        result: Image | MaskedImage = MaskedImage.from_arrays(
            out, mout, vout, xy0=dest_bbox.begin, planes=src.mask.planes, units=img.units
        )
    else:
        result = Image.from_array(out, xy0=dest_bbox.begin, units=img.units)
    return WarpResult(result, w2, spacing, err)


def warp_image(
    src: Image | MaskedImage,
    src_wcs: Any,
    dest_wcs: Any,
    dest_bbox: Box2I,
    *,
    kernel: str = "lanczos3",
    grid_spacing: int = 20,
    max_error_px: float | None = None,
    conserve_flux: bool = False,
    mask_threshold: float = 0.01,
) -> WarpResult:
    """Resample ``src`` (pixels described by ``src_wcs``) onto ``dest_bbox`` of ``dest_wcs``.

    The mapping is destination pixel -> sky (``dest_wcs.pixel_to_sky_array``) -> source
    pixel (``src_wcs.sky_to_pixel_array``), both `osprey.afw.wcs.SkyWcs` (or anything with
    those two array methods, radians). See `warp_with_transform` for the parameters.
    """

    def transform(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[Any, Any]:
        ra, dec = dest_wcs.pixel_to_sky_array(x, y)
        return src_wcs.sky_to_pixel_array(ra, dec)

    return warp_with_transform(
        src,
        transform,
        dest_bbox,
        kernel=kernel,
        grid_spacing=grid_spacing,
        max_error_px=max_error_px,
        conserve_flux=conserve_flux,
        mask_threshold=mask_threshold,
    )
