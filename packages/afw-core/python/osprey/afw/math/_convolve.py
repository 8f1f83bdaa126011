"""Convolution of images and masked images with fixed, separable and spatially varying kernels.

Convention (as LSST afw): ``out(x, y) = sum_{u, v} K(u, v) in(x - u, y - v)``, where
``K(u, v)`` is the kernel pixel at offset ``(u, v)`` from the kernel centre; in array terms,
``out[y, x] = sum K.array[v, u] in[y - (v - ctr_y), x - (u - ctr_x)]``. This is a true
convolution (the kernel is flipped relative to a correlation), so a kernel whose only
non-zero pixel sits at offset (+1, 0) shifts the image by +1 pixel in x. For odd kernels
centred on their middle pixel it equals ``scipy.signal.convolve2d(in, K, mode="same")``.

Methods:

* ``"separable"``: `SeparableKernel` (and `GaussianKernel`): a horizontal then a vertical
  1-D pass in C++ (``(kw + kh)`` multiply-adds per pixel).
* ``"direct"``: the full 2-D sum in C++ (``nnz(K)`` multiply-adds per pixel, one row-wide
  vectorised loop per kernel pixel).
* ``"fft"``: overlap-save with ``ty x tx`` tiles of 5-smooth sizes (``scipy.fft`` when
  installed, else ``numpy.fft``; float32 stays float32). The kernel's transform is computed
  once per call. Each tile is transformed on its own, as 1-D passes (a real FFT along the
  rows, a complex FFT along the columns in place; the inverse likewise, the row pass only
  for the rows kept), so the tile's spectrum stays in the core's cache between passes;
  batching a row of tiles into one call is about 1.5 times slower from the memory traffic.

``"auto"`` picks separable for separable kernels, otherwise compares modelled costs:
``direct = 1.0 * n_pixels * nnz(K)`` against
``fft = n_tiles * (6.0 * ty tx log2(ty tx) * f + 2e5)`` minimised over the tile sizes, where
``f`` is 1 for tiles whose spectrum fits a core's cache (``ty tx <= 384^2``) and 1.3 above,
and 2e5 is the per-tile call overhead (the factors are this machine's measured costs of a
vectorised multiply-add and of one ``T^2 log2(T^2)`` unit of a real FFT pair, in the same
time unit).
Non-finite input pixels are set to zero for the FFT and the output is NaN wherever one is
under a non-zero kernel weight, as the direct sum gives. They are found from the tiles'
zero-frequency terms (the tile sums, non-finite when any pixel is): only the tiles holding
one are transformed again with those pixels zeroed, so finite images need no extra pass.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .. import _afw
from ..errors import AfwValueError
from ..image import Image, MaskedImage
from ._kernels import FixedKernel, Kernel, LinearCombinationKernel, SeparableKernel

__all__ = ["choose_method", "convolve"]

EdgePolicy = Literal["EDGE", "copy", "zero"]
Method = Literal["auto", "direct", "separable", "fft"]

_DIRECT_COST = 1.0  # per multiply-add
_FFT_COST = 6.0  # per T^2 log2(T^2) unit of a forward + inverse real FFT of one tile
_FFT_TILE_OVERHEAD = 2e5  # per tile: the Python calls and the copy-out
_FFT_CACHE_AREA = 384 * 384  # tiles up to this area keep their spectrum in a core's cache
_FFT_OUT_OF_CACHE = 1.3  # cost factor of larger tiles
# 5-smooth tile sides (fast FFT lengths) from 64 to 4096: 2^e times 8, 9, 10, 12 or 15.
_TILES = tuple(sorted(f << e for f in (8, 9, 10, 12, 15) for e in range(3, 10) if 64 <= f << e <= 4096))


def _interior(shape: tuple[int, ...], kw: int, kh: int, cx: int, cy: int) -> tuple[int, int, int, int]:
    """``(x0, x1, y0, y1)``: the output pixels whose whole kernel footprint lies in the input."""
    ny, nx = shape
    return kw - 1 - cx, nx - cx, kh - 1 - cy, ny - cy


@functools.lru_cache(maxsize=64)
def _fft_plan(nx: int, ny: int, kw: int, kh: int) -> tuple[int, int, float]:
    """Best tile ``(ty, tx)`` and its modelled cost for overlap-save."""
    vx_out, vy_out = nx - kw + 1, ny - kh + 1
    best: tuple[int, int, float] | None = None
    for ty in _TILES:
        if ty < kh or (best is not None and ty > 2 * (ny + kh)):
            continue
        for tx in _TILES:
            if tx < kw or (tx > 2 * (nx + kw)):
                continue
            n_tiles = math.ceil(vy_out / (ty - kh + 1)) * math.ceil(vx_out / (tx - kw + 1))
            cost = n_tiles * _tile_cost(ty, tx)
            if best is None or cost < best[2]:
                best = (ty, tx, cost)
    if best is None:  # kernel larger than every tile size: one tile of the next power of two
        ty, tx = 1 << (ny + kh).bit_length(), 1 << (nx + kw).bit_length()
        best = (ty, tx, _tile_cost(ty, tx))
    return best


def _tile_cost(ty: int, tx: int) -> float:
    """Modelled cost of one ``ty x tx`` tile (forward and inverse transform, overhead)."""
    area = ty * tx
    fft = _FFT_COST * area * math.log2(area) * (1.0 if area <= _FFT_CACHE_AREA else _FFT_OUT_OF_CACHE)
    return fft + _FFT_TILE_OVERHEAD


def choose_method(shape: tuple[int, int], kernel: Kernel) -> str:
    """The method ``convolve(..., method="auto")`` uses for an image of ``shape`` (ny, nx)."""
    if isinstance(kernel, SeparableKernel):
        return "separable"
    ny, nx = shape
    kh, kw = kernel.array.shape
    if nx < kw or ny < kh:
        return "direct"
    nnz = int(np.count_nonzero(kernel.array))
    direct = _DIRECT_COST * (nx - kw + 1) * (ny - kh + 1) * nnz
    return "fft" if _fft_plan(nx, ny, kw, kh)[2] < direct else "direct"


@functools.cache
def _fft_module() -> tuple[Any, dict[str, bool]]:
    """``scipy.fft`` when installed (about twice as fast, same interface), else ``numpy.fft``.

    Also the keyword arguments that let a complex transform reuse its input's memory.
    """
    try:
        import scipy.fft as fft
    except ImportError:
        return np.fft, {}
    return fft, {"overwrite_x": True}


def _fft_interior(a: NDArray, k: NDArray, cx: int, cy: int, out: NDArray) -> None:
    """Overlap-save FFT convolution into the interior of ``out`` (same conventions as direct)."""
    ny, nx = a.shape
    kh, kw = k.shape
    x0, x1, y0, y1 = _interior(a.shape, kw, kh, cx, cy)
    ty, tx, _ = _fft_plan(nx, ny, kw, kh)
    vy, vx = ty - kh + 1, tx - kw + 1
    n_ty, n_tx = math.ceil((ny - kh + 1) / vy), math.ceil((nx - kw + 1) / vx)
    padded = np.empty((n_ty * vy + kh - 1, n_tx * vx + kw - 1), dtype=a.dtype)
    padded[:ny, :nx] = a
    padded[ny:, :] = 0
    padded[:ny, nx:] = 0
    fft, overwrite = _fft_module()
    kf = fft.rfft2(k.astype(a.dtype), s=(ty, tx))

    def tile(r: int, c: int, check: bool) -> bool:
        """Convolve tile (r, c) into ``out``; with ``check``, stop and return False when the
        tile's sum (its zero-frequency term) is not finite: it holds a non-finite pixel."""
        spec = fft.rfft(padded[r * vy : r * vy + ty, c * vx : c * vx + tx], axis=1)
        spec = fft.fft(spec, axis=0, **overwrite)
        if check and not math.isfinite(spec[0, 0].real):
            return False
        spec *= kf
        spec = fft.ifft(spec, axis=0, **overwrite)
        ya, xa = y0 + r * vy, x0 + c * vx
        h, w = min(y1 - ya, vy), min(x1 - xa, vx)
        out[ya : ya + h, xa : xa + w] = fft.irfft(spec[kh - 1 : kh - 1 + h], n=tx, axis=1)[:, kw - 1 : kw - 1 + w]
        return True

    redo = [(r, c) for r in range(n_ty) for c in range(n_tx) if not tile(r, c, check=True)]
    if not redo:
        return
    finite = np.isfinite(a)
    bad = not finite.all()  # else only a tile sum overflowed
    if bad:
        padded[:ny, :nx][~finite] = 0
    for r, c in redo:  # the other tiles read only finite pixels: unchanged by the zeroing
        tile(r, c, check=False)
    if not bad:
        return
    hit = np.zeros(a.shape, dtype=np.int32)
    _afw.convolve_mask_or((~finite).astype(np.int32), np.ascontiguousarray(k != 0, dtype=np.uint8), cx, cy, hit)
    sub = out[y0:y1, x0:x1]
    sub[hit[y0:y1, x0:x1] != 0] = np.nan


def _zero_border(out: NDArray, box: tuple[int, int, int, int]) -> None:
    """Set the pixels of ``out`` outside the interior ``box`` (a non-empty box inside it) to 0."""
    x0, x1, y0, y1 = box
    out[:y0] = 0
    out[y1:] = 0
    out[y0:y1, :x0] = 0
    out[y0:y1, x1:] = 0


def _convolve_plane(a: NDArray, kernel: Kernel, scale: float, method: str, power: int = 1) -> NDArray:
    """Convolve one plane with ``(scale * kernel.array) ** power``, interior only.

    The border is left at zero for `_apply_edge`. ``power=2`` gives the squared kernel that
    propagates a variance plane.
    """
    cx, cy = kernel.ctr_x, kernel.ctr_y
    dt = a.dtype
    if method == "separable" and isinstance(kernel, SeparableKernel):
        out = np.zeros_like(a)
        kx, ky = kernel.kx**power, (kernel.ky * scale) ** power
        _afw.convolve_separable(a, np.ascontiguousarray(kx, dtype=dt), np.ascontiguousarray(ky, dtype=dt), cx, cy, out)
        return out
    weights = (kernel.array * scale) ** power
    if method == "fft":
        if a.shape[0] >= weights.shape[0] and a.shape[1] >= weights.shape[1]:
            out = np.empty_like(a)  # the FFT writes the whole interior
            _fft_interior(a, weights, cx, cy, out)
            _zero_border(out, _interior(a.shape, weights.shape[1], weights.shape[0], cx, cy))
        else:
            out = np.zeros_like(a)
    else:
        out = np.zeros_like(a)
        _afw.convolve_direct(a, np.ascontiguousarray(weights, dtype=dt), cx, cy, out)
    return out


def _resolve_method(method: str, shape: tuple[int, int], kernel: Kernel) -> str:
    if method not in ("auto", "direct", "separable", "fft"):
        raise AfwValueError(f"method must be 'auto', 'direct', 'separable' or 'fft', got {method!r}")
    if method == "auto":
        return choose_method(shape, kernel)
    if method == "separable" and not isinstance(kernel, SeparableKernel):
        raise AfwValueError(f"method='separable' needs a SeparableKernel, got {kernel!r}")
    return method


def _apply_edge(out: NDArray, src: NDArray, box: tuple[int, int, int, int], edge: str, fill: float) -> None:
    """Fill the border band (outside ``box``) of ``out`` from the edge policy."""
    x0, x1, y0, y1 = box
    ny, nx = out.shape
    x0c, x1c, y0c, y1c = min(max(x0, 0), nx), min(max(x1, 0), nx), min(max(y0, 0), ny), min(max(y1, 0), ny)
    if x1c <= x0c or y1c <= y0c:
        x0c = x1c = y0c = y1c = 0
    regions = [
        (slice(0, y0c), slice(None)),
        (slice(y1c, ny), slice(None)),
        (slice(y0c, y1c), slice(0, x0c)),
        (slice(y0c, y1c), slice(x1c, nx)),
    ]
    if x1c <= x0c:
        regions = [(slice(None), slice(None))]
    for rs in regions:
        if edge == "copy":
            out[rs] = src[rs]
        elif edge == "zero":
            out[rs] = 0
        else:
            out[rs] = fill


def _edge_band(shape: tuple[int, int], box: tuple[int, int, int, int]) -> NDArray[np.bool_]:
    ny, nx = shape
    x0, x1, y0, y1 = box
    band = np.ones(shape, dtype=bool)
    band[max(y0, 0) : max(min(y1, ny), 0), max(x0, 0) : max(min(x1, nx), 0)] = False
    return band


def _spatial_weights(kernel: LinearCombinationKernel, shape: tuple[int, int], xy0: tuple[int, int]) -> NDArray:
    """``c_i(x, y)`` at every pixel: shape (n_basis, ny, nx), float64, built from outer products."""
    ny, nx = shape
    xs = np.arange(nx, dtype=np.float64) + xy0[0]
    ys = np.arange(ny, dtype=np.float64) + xy0[1]
    out = np.zeros((kernel.n_basis, ny, nx))
    for t, (xf, yf) in enumerate(kernel.term_factors(xs, ys)):
        term = np.outer(yf, xf)
        for i in range(kernel.n_basis):
            c = kernel.coefficients[i, t]
            if c != 0:
                out[i] += c * term
    return out


def _scale(kernel: Kernel, normalize: bool) -> float:
    if not normalize:
        return 1.0
    total = kernel.sum
    if total == 0:
        raise AfwValueError(f"cannot normalize {kernel!r}: its weights sum to zero; pass normalize=False")
    return 1.0 / total


def _convolve_varying(
    a: NDArray, var: NDArray | None, kernel: LinearCombinationKernel, normalize: bool, method: str, xy0: tuple[int, int]
) -> tuple[NDArray, NDArray | None]:
    """Spatially varying kernel: convolve with each basis kernel once, then weight per pixel."""
    w = _spatial_weights(kernel, a.shape, xy0)
    basis = kernel.basis
    sums = np.array([b.sum for b in basis])
    out = np.zeros(a.shape)
    for i, b in enumerate(basis):
        out += w[i] * _convolve_plane(a, b, 1.0, _resolve_method(method, a.shape, b))
    norm = np.tensordot(sums, w, axes=1) if normalize else None
    if norm is not None:
        if np.any(norm == 0):
            raise AfwValueError(f"cannot normalize {kernel!r}: its weights sum to zero somewhere in the image")
        out /= norm
    vout = None
    if var is not None:  # exact: sum_ij c_i c_j (var * K_i K_j), n (n + 1) / 2 convolutions
        vout = np.zeros(a.shape)
        for i in range(len(basis)):
            for j in range(i, len(basis)):
                prod = basis[i].array * basis[j].array
                if not prod.any():
                    continue
                pk = FixedKernel(prod, ctr=(kernel.ctr_x, kernel.ctr_y))
                conv = _convolve_plane(var, pk, 1.0, _resolve_method(method, var.shape, pk))
                vout += (1.0 if i == j else 2.0) * w[i] * w[j] * conv
        if norm is not None:
            vout /= norm**2
    return out.astype(a.dtype), None if vout is None else vout.astype(var.dtype)


def convolve(
    image: Image | MaskedImage,
    kernel: Kernel,
    *,
    normalize: bool = True,
    edge: EdgePolicy = "EDGE",
    method: Method = "auto",
) -> Image | MaskedImage:
    """Convolve an image or masked image with a kernel; returns a new object of the same kind.

    Parameters
    ----------
    image : `Image` or `MaskedImage`
        Input pixels. float32 and float64 images keep their type; integer images give float64.
    kernel : `Kernel`
        `FixedKernel`, `GaussianKernel`, `SeparableKernel`, `DoubleGaussianKernel` or
        `LinearCombinationKernel` (spatially varying: ``c_i(x, y)`` evaluated at each output
        pixel's parent position).
    normalize : `bool`
        Divide by the kernel sum (per pixel for a spatially varying kernel), so a constant
        image stays constant.
    edge : {"EDGE", "copy", "zero"}
        The border band where the kernel does not fit (``width - 1 - ctr_x`` columns on the
        left, ``ctr_x`` on the right, ``height - 1 - ctr_y`` rows at the bottom, ``ctr_y`` at
        the top): ``"EDGE"`` sets NaN (variance +inf, mask EDGE); ``"copy"`` copies the input
        (mask: input | EDGE); ``"zero"`` sets 0 (variance 0, mask EDGE).
    method : {"auto", "direct", "separable", "fft"}
        Force an algorithm (see the module docstring); ``"auto"`` uses an operation-count
        cost model.

    Returns
    -------
    `Image` or `MaskedImage`
        Same bbox as the input. For a masked image the variance is convolved with the
        squared (normalised) kernel, treating input pixels as independent, and each output
        mask is the OR of the input masks under the kernel's non-zero weights (for a
        spatially varying kernel, non-zero in any basis kernel).
    """
    if edge not in ("EDGE", "copy", "zero"):
        raise AfwValueError(f"edge must be 'EDGE', 'copy' or 'zero', got {edge!r}")
    if not isinstance(kernel, Kernel):
        raise AfwValueError(f"kernel must be an osprey.afw.math Kernel, got {type(kernel).__name__}")
    masked = isinstance(image, MaskedImage)
    if not masked and not isinstance(image, Image):
        raise AfwValueError(f"convolve needs an Image or MaskedImage, got {type(image).__name__}")
    img = image.image if masked else image
    dt = img.array.dtype if img.array.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    a = np.ascontiguousarray(img.array, dtype=dt)
    var = np.ascontiguousarray(image.variance.array, dtype=np.float32) if masked else None
    xy0 = (int(img.xy0.x), int(img.xy0.y))
    box = _interior(a.shape, kernel.width, kernel.height, kernel.ctr_x, kernel.ctr_y)
    if isinstance(kernel, LinearCombinationKernel) and kernel.is_spatially_varying:
        out, vout = _convolve_varying(a, var, kernel, normalize, method, xy0)
        footprint = np.any(kernel.basis_arrays != 0, axis=0)
    else:
        scale = _scale(kernel, normalize)
        how = _resolve_method(method, a.shape, kernel)
        out = _convolve_plane(a, kernel, scale, how)
        vout = None if var is None else _convolve_plane(var, kernel, scale, how, power=2)
        footprint = kernel.array != 0
    _apply_edge(out, a, box, edge, np.nan)
    if not masked or var is None or vout is None:
        return Image.from_array(out, xy0=img.xy0, units=img.units)
    _apply_edge(vout, var, box, edge, np.inf)
    mask_in = np.ascontiguousarray(image.mask.array, dtype=np.int32)
    mout = np.zeros_like(mask_in)
    _afw.convolve_mask_or(mask_in, np.ascontiguousarray(footprint, dtype=np.uint8), kernel.ctr_x, kernel.ctr_y, mout)
    edge_bit = image.mask.get_plane_bitmask("EDGE")
    band = _edge_band(a.shape, box)
    mout[band] = (mask_in[band] if edge == "copy" else 0) | edge_bit
    return MaskedImage.from_arrays(out, mout, vout, xy0=img.xy0, planes=image.mask.planes, units=img.units)
