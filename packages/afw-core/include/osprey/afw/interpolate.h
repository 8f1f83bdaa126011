// One-dimensional interpolants through (x_k, y_k), k = 0..n-1 with x strictly increasing,
// stored as a piecewise cubic so that evaluation is one Horner step. Header-only, used by
// the background kernels of osprey.afw.math.
//
// Styles:
//   Constant       the value of the nearest knot (breaks at the midpoints between knots).
//   Linear         straight lines between knots.
//   NaturalSpline  C2 cubic spline with zero second derivative at both ends.
//   CubicSpline    C2 cubic spline with "not-a-knot" ends (third derivative continuous at
//                  x_1 and x_{n-2}); through 3 knots it is the parabola.
//   Akima          Akima (1970): the slope at x_i is (|m_{i+1} - m_i| m_{i-1} +
//                  |m_{i-1} - m_{i-2}| m_i) / (|m_{i+1} - m_i| + |m_{i-1} - m_{i-2}|), with
//                  m_i the secant slopes, two extra secants at each end extrapolated
//                  linearly (m_{-1} = 2 m_0 - m_1, ...), and the mean of m_{i-1} and m_i
//                  when both weights vanish.
// The splines are cubic Hermite between knots; beyond the end knots every style except
// Constant continues linearly with the end slope. Fewer knots than a style needs lower it:
// one knot is Constant, two are Linear.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace osprey::afw::interp {

enum class Style : int { Constant = 0, Linear = 1, NaturalSpline = 2, CubicSpline = 3, Akima = 4 };

inline Style effective_style(Style s, size_t n) {
    if (n <= 1) {
        return Style::Constant;
    }
    if (n == 2 && s != Style::Constant) {
        return Style::Linear;
    }
    return s;
}

// Segment s covers breaks[s - 1] <= t < breaks[s] (open at both ends for the first and
// last); its value is c0 + d (c1 + d (c2 + d c3)) with d = t - origin.
struct Piecewise {
    std::vector<double> breaks;
    std::vector<double> origin, c0, c1, c2, c3;

    size_t segment(double t) const {
        return static_cast<size_t>(std::upper_bound(breaks.begin(), breaks.end(), t) - breaks.begin());
    }
    double eval(size_t s, double d) const { return c0[s] + d * (c1[s] + d * (c2[s] + d * c3[s])); }
    double operator()(double t) const {
        const size_t s = segment(t);
        return eval(s, t - origin[s]);
    }
};

// Solves a tridiagonal system in place (sub-, main and super-diagonals a, b, c; right-hand
// side d, overwritten with the solution). No pivoting: the spline systems here are
// diagonally dominant in their interior rows.
inline void solve_tridiagonal(std::vector<double>& a, std::vector<double>& b, std::vector<double>& c,
                              std::vector<double>& d) {
    const size_t n = d.size();
    for (size_t i = 1; i < n; ++i) {
        const double f = a[i] / b[i - 1];
        b[i] -= f * c[i - 1];
        d[i] -= f * d[i - 1];
    }
    d[n - 1] /= b[n - 1];
    for (size_t i = n - 1; i-- > 0;) {
        d[i] = (d[i] - c[i] * d[i + 1]) / b[i];
    }
}

// Knot slopes of the C2 spline (natural or not-a-knot), n >= 3.
inline void spline_slopes(bool not_a_knot, const double* x, const double* y, size_t n, std::vector<double>& s) {
    std::vector<double> h(n - 1), del(n - 1);
    for (size_t i = 0; i + 1 < n; ++i) {
        h[i] = x[i + 1] - x[i];
        del[i] = (y[i + 1] - y[i]) / h[i];
    }
    s.assign(n, 0.0);
    if (not_a_knot && n == 3) {  // the parabola through the three knots
        const double curv = (del[1] - del[0]) / (x[2] - x[0]);
        for (size_t i = 0; i < 3; ++i) {
            s[i] = del[0] + curv * (2.0 * x[i] - x[0] - x[1]);
        }
        return;
    }
    std::vector<double> a(n, 0.0), b(n, 0.0), c(n, 0.0);
    for (size_t i = 1; i + 1 < n; ++i) {  // continuity of the second derivative at x_i
        a[i] = h[i];
        b[i] = 2.0 * (h[i - 1] + h[i]);
        c[i] = h[i - 1];
        s[i] = 3.0 * (h[i] * del[i - 1] + h[i - 1] * del[i]);
    }
    if (not_a_knot) {
        const double d0 = x[2] - x[0];
        b[0] = h[1];
        c[0] = d0;
        s[0] = ((h[0] + 2.0 * d0) * h[1] * del[0] + h[0] * h[0] * del[1]) / d0;
        const double d1 = x[n - 1] - x[n - 3];
        a[n - 1] = d1;
        b[n - 1] = h[n - 3];
        s[n - 1] = (h[n - 2] * h[n - 2] * del[n - 3] + (2.0 * d1 + h[n - 2]) * h[n - 3] * del[n - 2]) / d1;
    } else {
        b[0] = 2.0;
        c[0] = 1.0;
        s[0] = 3.0 * del[0];
        a[n - 1] = 1.0;
        b[n - 1] = 2.0;
        s[n - 1] = 3.0 * del[n - 2];
    }
    solve_tridiagonal(a, b, c, s);
}

// Knot slopes of the Akima interpolant, n >= 3.
inline void akima_slopes(const double* x, const double* y, size_t n, std::vector<double>& s) {
    // m[k + 2] is the secant slope of interval k, for k = -2 .. n (two extra on each side).
    std::vector<double> m(n + 3);
    for (size_t k = 0; k + 1 < n; ++k) {
        m[k + 2] = (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
    }
    m[1] = 2.0 * m[2] - m[3];
    m[0] = 2.0 * m[1] - m[2];
    m[n + 1] = 2.0 * m[n] - m[n - 1];
    m[n + 2] = 2.0 * m[n + 1] - m[n];
    s.assign(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        // Around knot i: m_{i-2} = m[i], m_{i-1} = m[i + 1], m_i = m[i + 2], m_{i+1} = m[i + 3].
        const double w1 = std::abs(m[i + 3] - m[i + 2]);
        const double w2 = std::abs(m[i + 1] - m[i]);
        s[i] = (w1 + w2 > 0.0) ? (w1 * m[i + 1] + w2 * m[i + 2]) / (w1 + w2) : 0.5 * (m[i + 1] + m[i + 2]);
    }
}

// Builds the interpolant of `style` through the n knots (x, y); `slopes` is scratch.
inline void build(Style style, const double* x, const double* y, size_t n, Piecewise& p, std::vector<double>& slopes) {
    style = effective_style(style, n);
    p.breaks.clear();
    if (style == Style::Constant) {
        p.origin.assign(n, 0.0);
        p.c0.assign(y, y + n);
        p.c1.assign(n, 0.0);
        p.c2.assign(n, 0.0);
        p.c3.assign(n, 0.0);
        for (size_t k = 1; k < n; ++k) {
            p.breaks.push_back(0.5 * (x[k - 1] + x[k]));
        }
        return;
    }
    const size_t segments = n + 1;
    p.breaks.assign(x, x + n);
    p.origin.resize(segments);
    p.c0.resize(segments);
    p.c1.resize(segments);
    p.c2.resize(segments);
    p.c3.resize(segments);
    if (style == Style::Linear) {
        slopes.assign(n, 0.0);
    } else if (style == Style::Akima) {
        akima_slopes(x, y, n, slopes);
    } else {
        spline_slopes(style == Style::CubicSpline, x, y, n, slopes);
    }
    for (size_t k = 1; k < n; ++k) {  // segment k spans [x_{k-1}, x_k]
        const double h = x[k] - x[k - 1];
        const double del = (y[k] - y[k - 1]) / h;
        p.origin[k] = x[k - 1];
        p.c0[k] = y[k - 1];
        if (style == Style::Linear) {
            p.c1[k] = del;
            p.c2[k] = 0.0;
            p.c3[k] = 0.0;
        } else {
            p.c1[k] = slopes[k - 1];
            p.c2[k] = (3.0 * del - 2.0 * slopes[k - 1] - slopes[k]) / h;
            p.c3[k] = (slopes[k - 1] + slopes[k] - 2.0 * del) / (h * h);
        }
    }
    // Linear continuation beyond the ends with the interpolant's end slopes.
    p.origin[0] = x[0];
    p.c0[0] = y[0];
    p.c1[0] = (style == Style::Linear) ? p.c1[1] : slopes[0];
    p.origin[n] = x[n - 1];
    p.c0[n] = y[n - 1];
    p.c1[n] = (style == Style::Linear) ? p.c1[n - 1] : slopes[n - 1];
    p.c2[0] = p.c3[0] = p.c2[n] = p.c3[n] = 0.0;
}

}  // namespace osprey::afw::interp
