"""Bivariate polynomials as square coefficient matrices, and the TPV -> SIP conversion.

A polynomial ``P(u, v) = sum c[p, q] u**p v**q`` is stored as an ``(n + 1, n + 1)`` float64
array ``c``; entries with ``p + q > n`` are zero. This is the internal form of SIP's A, B,
AP and BP (Shupe et al. 2005) and of TPV after conversion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._errors import WcsError

__all__ = [
    "TPV_RADIAL_TERMS",
    "compose_linear",
    "evaluate",
    "gradient",
    "multiply",
    "order_of",
    "tpv_exponents",
    "tpv_to_sip",
    "trim",
]

#: TPV coefficient indices of the odd powers of r = sqrt(x^2 + y^2) (no polynomial equivalent).
TPV_RADIAL_TERMS = (3, 11, 23, 39)


def tpv_exponents() -> list[tuple[int, int] | None]:
    """Exponents ``(i, j)`` of ``x**i y**j`` for TPV terms 0..39; ``None`` for the radial terms.

    The TPV order is 1; then for each degree d = 1..7 the monomials x^d, x^(d-1) y, ..., y^d,
    followed by r^d when d is odd.
    """
    out: list[tuple[int, int] | None] = [(0, 0)]
    for d in range(1, 8):
        out.extend((i, d - i) for i in range(d, -1, -1))
        if d % 2:
            out.append(None)
    return out


def order_of(c: NDArray[np.float64]) -> int:
    """Polynomial order held by the coefficient matrix (its size minus one)."""
    return c.shape[0] - 1


def trim(c: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smallest square matrix holding every non-zero coefficient (at least 1x1)."""
    nz = np.argwhere(c != 0.0)
    n = int((nz[:, 0] + nz[:, 1]).max()) if nz.size else 0
    out = np.zeros((n + 1, n + 1))
    k = min(n + 1, c.shape[0])
    out[:k, :k] = c[:k, :k]
    for p in range(n + 1):  # keep the triangle p + q <= n only
        out[p, n + 1 - p :] = 0.0
    return out


def multiply(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Product of two polynomials."""
    na, nb = a.shape[0], b.shape[0]
    out = np.zeros((na + nb - 1, na + nb - 1))
    for p, q in np.argwhere(a != 0.0):
        out[p : p + nb, q : q + nb] += a[p, q] * b
    return out


def compose_linear(
    polys: tuple[NDArray[np.float64], NDArray[np.float64]], m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Substitute ``(u, v) = m @ (s, t)`` into each polynomial; the result is in ``(s, t)``.

    Exact (up to rounding): the order of each polynomial is unchanged.
    """
    n = max(c.shape[0] for c in polys)
    lin_u = np.zeros((2, 2))
    lin_u[1, 0], lin_u[0, 1] = m[0, 0], m[0, 1]
    lin_v = np.zeros((2, 2))
    lin_v[1, 0], lin_v[0, 1] = m[1, 0], m[1, 1]
    pow_u, pow_v = [np.ones((1, 1))], [np.ones((1, 1))]
    for _ in range(1, n):
        pow_u.append(multiply(pow_u[-1], lin_u))
        pow_v.append(multiply(pow_v[-1], lin_v))
    out = []
    for c in polys:
        acc = np.zeros((n, n))
        for p, q in np.argwhere(c != 0.0):
            term = multiply(pow_u[p], pow_v[q])  # degree p + q < n, so it fits in acc
            k = term.shape[0]
            acc[:k, :k] += c[p, q] * term
        out.append(acc)
    return out[0], out[1]


def evaluate(c: NDArray[np.float64], u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum c[p, q] u**p v**q`` for arrays u, v (Horner in v, then in u)."""
    n1 = c.shape[0]
    acc = np.zeros(np.broadcast(u, v).shape)
    for p in range(n1 - 1, -1, -1):
        s = np.zeros_like(acc)
        for q in range(n1 - 1 - p, -1, -1):
            s = s * v + c[p, q]
        acc = acc * u + s
    return acc


def gradient(
    c: NDArray[np.float64], u: NDArray[np.float64], v: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Partial derivatives ``(dP/du, dP/dv)``."""
    p_idx = np.arange(c.shape[0])
    du = (c * p_idx[:, None])[1:, :]
    dv = (c * p_idx[None, :])[:, 1:]
    return evaluate(_square(du), u, v), evaluate(_square(dv), u, v)


def _square(c: NDArray[np.float64]) -> NDArray[np.float64]:
    n = max(c.shape)
    out = np.zeros((n, n))
    out[: c.shape[0], : c.shape[1]] = c
    return out


def tpv_to_sip(
    get: Callable[[str], float | None], cd: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SIP-form forward polynomials ``(A, B)`` equivalent to a header's TPV ``PV1_k``/``PV2_k``.

    TPV maps intermediate world coordinates ``(x, y) = CD u`` (degrees) to corrected
    ``(xi, eta)``: ``xi = sum PV1_k m_k(x, y)`` and ``eta = sum PV2_k m_k(y, x)`` (the second
    axis swaps its arguments). SIP writes the same map as ``CD (u + A(u), v + B(u))``, so
    ``(A, B) = CD^-1 P(CD u) - u``: a linear substitution, exact for every term except the
    odd powers of r, which have no polynomial form and raise `WcsError` when non-zero.
    As in WCSLIB, absent coefficients are zero once any PV card is present; with none at
    all the distortion is the identity.

    Parameters
    ----------
    get : callable
        ``get("PV1_4")`` returns that card's value, or None when absent.
    cd : `numpy.ndarray`, (2, 2)
        The CD matrix, degrees per pixel.
    """
    exps = tpv_exponents()
    p1, p2 = np.zeros((8, 8)), np.zeros((8, 8))
    seen = False
    for axis, mat in ((1, p1), (2, p2)):
        for k, e in enumerate(exps):
            key = f"PV{axis}_{k}"
            val = get(key)
            if val is None:
                continue
            seen = True
            try:
                val = float(val)
            except (TypeError, ValueError):
                raise WcsError(f"{key} must be a number, got {val!r}") from None
            if e is None:
                if val != 0.0:
                    raise WcsError(
                        f"{key} = {val!r} is a TPV radial (odd power of r) term, which osprey.afw.wcs "
                        "does not support; refit the distortion without radial terms"
                    )
                continue
            i, j = e
            if axis == 1:
                mat[i, j] += val
            else:  # eta's monomials take (y, x): y^i x^j
                mat[j, i] += val
    if not seen:
        p1[1, 0], p2[0, 1] = 1.0, 1.0
    s1, s2 = compose_linear((p1, p2), cd)
    cd_inv = np.linalg.inv(cd)
    a = cd_inv[0, 0] * s1 + cd_inv[0, 1] * s2
    b = cd_inv[1, 0] * s1 + cd_inv[1, 1] * s2
    a[1, 0] -= 1.0
    b[0, 1] -= 1.0
    # Cancellation against the identity leaves ~1e-16 dust in the (dimensionless) linear terms.
    for m in (a, b):
        for idx in ((1, 0), (0, 1)):
            if abs(m[idx]) < 1e-14:
                m[idx] = 0.0
    n = max(order_of(trim(a)), order_of(trim(b)))
    return _resize(a, n), _resize(b, n)


def _resize(c: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    out = np.zeros((n + 1, n + 1))
    k = min(n + 1, c.shape[0])
    out[:k, :k] = c[:k, :k]
    return out
