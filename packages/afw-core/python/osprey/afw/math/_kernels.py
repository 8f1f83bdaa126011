"""Convolution kernels: fixed, Gaussian, separable and spatially varying linear combinations.

A kernel is a ``height x width`` array of weights indexed ``[v, u]`` plus a centre
``(ctr_x, ctr_y)``; the pixel ``[v, u]`` sits at offset ``(u - ctr_x, v - ctr_y)`` from the
centre. `convolve` applies ``out(x, y) = sum K[v, u] in(x - (u - ctr_x), y - (v - ctr_y))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from osprey.geom import Box2I, Point2I

from ..errors import AfwShapeError, AfwValueError
from ..image import Image

__all__ = [
    "DoubleGaussianKernel",
    "FixedKernel",
    "GaussianKernel",
    "Kernel",
    "LinearCombinationKernel",
    "SeparableKernel",
    "polynomial_terms",
]


def _as_kernel_array(array: ArrayLike, what: str) -> NDArray[np.float64]:
    arr = np.array(array, dtype=np.float64)  # always a private copy: kernels are immutable
    if arr.ndim != 2 or arr.size == 0:
        raise AfwShapeError(f"{what} must be a non-empty 2-D array", "(height, width)", arr.shape)
    if not np.all(np.isfinite(arr)):
        raise AfwValueError(f"{what} must hold finite values")
    arr.setflags(write=False)
    return arr


def _centre(ctr: Sequence[int] | None, width: int, height: int) -> tuple[int, int]:
    if ctr is None:
        return width // 2, height // 2
    cx, cy = (int(c) for c in ctr)
    if not (0 <= cx < width and 0 <= cy < height):
        raise AfwValueError(f"kernel centre {(cx, cy)} must lie inside the {width} x {height} kernel")
    return cx, cy


def polynomial_terms(order: int) -> list[tuple[int, int]]:
    """Exponents ``(p, q)`` of the terms ``x^p y^q`` of a 2-D polynomial of total degree ``order``.

    Ordered as LSST's ``PolynomialFunction2``: by degree, then decreasing power of x:
    ``1, x, y, x^2, x y, y^2, x^3, ...``; there are ``(order + 1)(order + 2) / 2`` terms.
    """
    if order < 0:
        raise AfwValueError(f"polynomial order must be >= 0, got {order}")
    return [(d - q, q) for d in range(order + 1) for q in range(d + 1)]


class Kernel:
    """Base class: a weight array plus its centre; subclasses say how it is built.

    Attributes
    ----------
    array : `numpy.ndarray`, shape (height, width), float64, read-only
        The weights (for a spatially varying kernel, the sum of its basis kernels).
    ctr_x, ctr_y : `int`
        Array column and row of the kernel centre (offset 0).
    """

    array: NDArray[np.float64]
    ctr_x: int
    ctr_y: int

    def __init__(self, array: ArrayLike, ctr: Sequence[int] | None = None) -> None:
        self.array = _as_kernel_array(array, "kernel array")
        self.ctr_x, self.ctr_y = _centre(ctr, self.width, self.height)

    @property
    def width(self) -> int:
        """Kernel width in pixels."""
        return int(self.array.shape[1])

    @property
    def height(self) -> int:
        """Kernel height in pixels."""
        return int(self.array.shape[0])

    @property
    def is_spatially_varying(self) -> bool:
        """True when the kernel depends on the position in the image."""
        return False

    @property
    def sum(self) -> float:
        """Sum of the weights."""
        return float(self.array.sum())

    def compute_image(self, x: float = 0.0, y: float = 0.0, *, normalize: bool = False) -> Image:
        """The kernel at parent position ``(x, y)`` as a float64 `Image` whose xy0 is ``(-ctr_x, -ctr_y)``.

        ``normalize`` divides by the sum (an error if the sum is zero).
        """
        arr = self._array_at(x, y)
        if normalize:
            total = arr.sum()
            if total == 0:
                raise AfwValueError("cannot normalize a kernel whose weights sum to zero")
            arr = arr / total
        return Image.from_array(np.array(arr, dtype=np.float64), xy0=Point2I(-self.ctr_x, -self.ctr_y))

    def _array_at(self, x: float, y: float) -> NDArray[np.float64]:
        return self.array

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.width}x{self.height}, ctr=({self.ctr_x}, {self.ctr_y}))"


class FixedKernel(Kernel):
    """A kernel given by its weight array (centre: the middle pixel unless ``ctr`` is given)."""

    @classmethod
    def from_image(cls, image: Image) -> FixedKernel:
        """From a kernel `Image` whose parent pixel (0, 0) is the centre (xy0 = -centre), as PSF kernel images are."""
        x0, y0 = int(image.xy0.x), int(image.xy0.y)
        if not (x0 <= 0 < x0 + image.width and y0 <= 0 < y0 + image.height):
            raise AfwValueError(f"kernel image {image.bbox!r} must contain the centre pixel (0, 0)")
        return cls(image.array, ctr=(-x0, -y0))

    @classmethod
    def from_psf(cls, psf: Any, point: Any = None) -> FixedKernel:
        """From ``psf.compute_kernel_image(point)`` (sum 1, centred on the middle pixel)."""
        return cls.from_image(psf.compute_kernel_image(point))


class SeparableKernel(Kernel):
    """``K[v, u] = ky[v] * kx[u]``: convolved in two 1-D passes.

    Parameters
    ----------
    kx, ky : array_like, 1-D
        Weights along x (length = width) and y (length = height).
    ctr : (int, int), optional
        Centre (column, row); the middle pixel by default.
    """

    def __init__(self, kx: ArrayLike, ky: ArrayLike, ctr: Sequence[int] | None = None) -> None:
        kxa = np.array(kx, dtype=np.float64)
        kya = np.array(ky, dtype=np.float64)
        if kxa.ndim != 1 or kya.ndim != 1 or kxa.size == 0 or kya.size == 0:
            raise AfwShapeError("separable kernel factors must be non-empty 1-D arrays", "(n,)", (kxa.shape, kya.shape))
        super().__init__(np.outer(kya, kxa), ctr)
        kxa.setflags(write=False)
        kya.setflags(write=False)
        self.kx, self.ky = kxa, kya


def _gauss_1d(sigma: float, half: int) -> NDArray[np.float64]:
    u = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-0.5 * (u / sigma) ** 2)
    return g / g.sum()


def _check_sigma(sigma: float, name: str) -> float:
    s = float(sigma)
    if not s > 0:
        raise AfwValueError(f"{name} must be positive (pixels), got {sigma!r}")
    return s


class GaussianKernel(SeparableKernel):
    """Circular Gaussian sampled at pixel centres, each 1-D factor normalised to sum 1.

    Parameters
    ----------
    sigma : `float`
        Standard deviation in pixels.
    half_size : `int`, optional
        The kernel is ``2 half_size + 1`` square; default ``int(4 sigma + 0.5)``, which is
        ``scipy.ndimage.gaussian_filter``'s radius for ``truncate=4``.
    """

    def __init__(self, sigma: float, half_size: int | None = None) -> None:
        self.sigma = _check_sigma(sigma, "sigma")
        half = int(4.0 * self.sigma + 0.5) if half_size is None else int(half_size)
        if half < 0:
            raise AfwValueError(f"half_size must be >= 0, got {half_size!r}")
        g = _gauss_1d(self.sigma, half)
        super().__init__(g, g)


class DoubleGaussianKernel(FixedKernel):
    """``G(sigma1) + b G(sigma2)`` (each unit-sum), sampled at pixel centres; sum ``1 + b``.

    ``half_size`` defaults to ``int(4 max(sigma1, sigma2) + 0.5)``.
    """

    def __init__(self, sigma1: float, sigma2: float, b: float = 0.1, half_size: int | None = None) -> None:
        self.sigma1 = _check_sigma(sigma1, "sigma1")
        self.sigma2 = _check_sigma(sigma2, "sigma2")
        self.b = float(b)
        half = int(4.0 * max(self.sigma1, self.sigma2) + 0.5) if half_size is None else int(half_size)
        if half < 0:
            raise AfwValueError(f"half_size must be >= 0, got {half_size!r}")
        g1, g2 = _gauss_1d(self.sigma1, half), _gauss_1d(self.sigma2, half)
        super().__init__(np.outer(g1, g1) + self.b * np.outer(g2, g2))


class LinearCombinationKernel(Kernel):
    """``K(x, y) = sum_i c_i(x, y) K_i``: basis kernels with polynomial spatial coefficients.

    This is the kernel of Alard & Lupton (1998) image subtraction. Each coefficient is a 2-D
    polynomial of total degree ``order`` in the normalised coordinates
    ``xn = 2 (x - x_min) / (x_max - x_min) - 1`` (likewise ``yn``), which run from -1 to 1
    over ``bbox`` (parent pixels, inclusive min and max pixel centres); terms are ordered as
    in `polynomial_terms`.

    Parameters
    ----------
    basis : sequence of `Kernel` or 2-D arrays
        Basis kernels, all of one size and centre (arrays get the middle pixel).
    coefficients : array_like, shape (n_basis,) or (n_basis, n_terms)
        ``coefficients[i, t]`` multiplies term ``t`` of ``c_i``; a 1-D array means constant
        coefficients (order 0).
    bbox : `Box2I`, optional
        Region the polynomials are defined over; required when ``order > 0``.
    """

    def __init__(self, basis: Sequence[Kernel | ArrayLike], coefficients: ArrayLike, bbox: Box2I | None = None) -> None:
        if len(basis) == 0:
            raise AfwValueError("a LinearCombinationKernel needs at least one basis kernel")
        kernels = [b if isinstance(b, Kernel) else FixedKernel(b) for b in basis]
        k0 = kernels[0]
        for i, k in enumerate(kernels):
            if k.is_spatially_varying:
                raise AfwValueError(f"basis kernel {i} is itself spatially varying")
            if (k.width, k.height, k.ctr_x, k.ctr_y) != (k0.width, k0.height, k0.ctr_x, k0.ctr_y):
                raise AfwValueError(
                    f"basis kernel {i} is {k.width}x{k.height} with centre ({k.ctr_x}, {k.ctr_y}); "
                    f"basis kernel 0 is {k0.width}x{k0.height} with centre ({k0.ctr_x}, {k0.ctr_y})"
                )
        coeffs = np.array(coefficients, dtype=np.float64)
        if coeffs.ndim == 1:
            coeffs = coeffs[:, None]
        n_terms = coeffs.shape[1] if coeffs.ndim == 2 else -1
        order = int(round((math.sqrt(8 * n_terms + 1) - 3) / 2)) if n_terms > 0 else -1
        if coeffs.ndim != 2 or coeffs.shape[0] != len(kernels) or (order + 1) * (order + 2) // 2 != n_terms:
            raise AfwShapeError(
                "coefficients must be (n_basis, (order + 1)(order + 2) / 2)",
                f"({len(kernels)}, 1|3|6|10...)",
                coeffs.shape,
            )
        if order > 0 and bbox is None:
            raise AfwValueError(f"a spatially varying kernel (order {order}) needs the bbox its polynomials span")
        coeffs.setflags(write=False)
        self.basis = tuple(kernels)
        self.coefficients = coeffs
        self.order = order
        self.bbox = bbox
        self.basis_arrays = np.stack([k.array for k in kernels])
        self.basis_arrays.setflags(write=False)
        super().__init__(np.tensordot(coeffs[:, 0], self.basis_arrays, axes=1), (k0.ctr_x, k0.ctr_y))

    @property
    def is_spatially_varying(self) -> bool:
        """True when ``order > 0`` and a non-constant coefficient is non-zero."""
        return self.order > 0 and bool(np.any(self.coefficients[:, 1:] != 0))

    @property
    def n_basis(self) -> int:
        """Number of basis kernels."""
        return len(self.basis)

    def spatial_terms(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """Polynomial terms at parent positions: shape ``(n_terms,) + broadcast(x, y).shape``."""
        xs, ys = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        if self.order == 0 or self.bbox is None:
            return np.ones((1, *xs.shape))
        xn = _normalised(xs, self.bbox.begin.x, self.bbox.end.x - 1)
        yn = _normalised(ys, self.bbox.begin.y, self.bbox.end.y - 1)
        return np.stack([xn**p * yn**q for p, q in polynomial_terms(self.order)])

    def term_factors(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """For 1-D ``x`` and ``y`` (parent pixels), each term's factors ``(xn^p, yn^q)``."""
        if self.order == 0 or self.bbox is None:
            return [(np.ones_like(x), np.ones_like(y))]
        xn = _normalised(x, self.bbox.begin.x, self.bbox.end.x - 1)
        yn = _normalised(y, self.bbox.begin.y, self.bbox.end.y - 1)
        return [(xn**p, yn**q) for p, q in polynomial_terms(self.order)]

    def coefficients_at(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """``c_i(x, y)`` for every basis kernel: shape ``(n_basis,) + broadcast(x, y).shape``."""
        terms = self.spatial_terms(x, y)
        return np.tensordot(self.coefficients, terms, axes=1)

    def _array_at(self, x: float, y: float) -> NDArray[np.float64]:
        c = self.coefficients_at(x, y)
        return np.tensordot(c, self.basis_arrays, axes=1)


def _normalised(v: NDArray[np.float64], lo: int, hi: int) -> NDArray[np.float64]:
    if hi == lo:
        return np.zeros_like(v)
    return 2.0 * (v - lo) / (hi - lo) - 1.0
