// Planar (pixel-space) geometry shared by Osprey C++ kernels: points, extents, integer and
// floating-point boxes, and 2-D linear/affine transforms.
//
// Header-only, dependency-free (standard library only), no Python or nanobind types: other
// Osprey packages include it from the installed wheel.  The Python classes in
// osprey.geom.cartesian / osprey.geom.transforms own the user API; these structs are plain
// values that kernels pass around.
//
// Conventions (the same as the Python side):
//   * pixel centres are at integer coordinates, so pixel i covers [i - 0.5, i + 0.5);
//   * Box2I stores a half-open integer range [begin, end) on each axis (max = end - 1);
//   * Box2D is half-open too: min is contained, max is not;
//   * an affine transform maps p -> L p + t with L = [[a00, a01], [a10, a11]] and the six
//     parameters ordered (a00, a01, a10, a11, tx, ty).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace osprey::geom {

struct Extent2I {
    int x = 0, y = 0;
};
struct Extent2D {
    double x = 0.0, y = 0.0;
};
struct Point2I {
    int x = 0, y = 0;
};
struct Point2D {
    double x = 0.0, y = 0.0;
};

inline Point2I operator+(Point2I p, Extent2I e) { return {p.x + e.x, p.y + e.y}; }
inline Point2D operator+(Point2D p, Extent2D e) { return {p.x + e.x, p.y + e.y}; }
inline Extent2I operator-(Point2I a, Point2I b) { return {a.x - b.x, a.y - b.y}; }
inline Extent2D operator-(Point2D a, Point2D b) { return {a.x - b.x, a.y - b.y}; }
inline bool operator==(Point2I a, Point2I b) { return a.x == b.x && a.y == b.y; }
inline bool operator==(Extent2I a, Extent2I b) { return a.x == b.x && a.y == b.y; }

// Integer box of pixels [x_begin, x_end) x [y_begin, y_end).  Empty when either extent <= 0.
struct Box2I {
    int x_begin = 0, y_begin = 0, x_end = 0, y_end = 0;

    bool is_empty() const { return x_end <= x_begin || y_end <= y_begin; }
    int width() const { return is_empty() ? 0 : x_end - x_begin; }
    int height() const { return is_empty() ? 0 : y_end - y_begin; }
    std::int64_t area() const { return std::int64_t(width()) * std::int64_t(height()); }
    bool contains(Point2I p) const {
        return p.x >= x_begin && p.x < x_end && p.y >= y_begin && p.y < y_end;
    }
    // A floating pixel position is contained when the pixel it falls on is: [begin-0.5, end-0.5).
    bool contains(Point2D p) const {
        return p.x >= x_begin - 0.5 && p.x < x_end - 0.5 && p.y >= y_begin - 0.5 && p.y < y_end - 0.5;
    }
    Box2I intersection(const Box2I& o) const {
        Box2I r{std::max(x_begin, o.x_begin), std::max(y_begin, o.y_begin), std::min(x_end, o.x_end),
                std::min(y_end, o.y_end)};
        return r.is_empty() ? Box2I{} : r;
    }
};

// Floating-point box [x_min, x_max) x [y_min, y_max).
struct Box2D {
    double x_min = 0.0, y_min = 0.0, x_max = 0.0, y_max = 0.0;

    // The box covering every pixel of an integer box (pixel edges at half-integers).
    static Box2D from_box2i(const Box2I& b) {
        if (b.is_empty()) return Box2D{};
        return {b.x_begin - 0.5, b.y_begin - 0.5, b.x_end - 0.5, b.y_end - 0.5};
    }
    bool is_empty() const { return !(x_max > x_min && y_max > y_min); }
    bool contains(Point2D p) const {
        return p.x >= x_min && p.x < x_max && p.y >= y_min && p.y < y_max;
    }
};

// 2x2 matrix [[a00, a01], [a10, a11]].
struct LinearTransform {
    double a00 = 1.0, a01 = 0.0, a10 = 0.0, a11 = 1.0;

    double determinant() const { return a00 * a11 - a01 * a10; }
    Point2D operator()(Point2D p) const { return {a00 * p.x + a01 * p.y, a10 * p.x + a11 * p.y}; }
    Extent2D operator()(Extent2D e) const { return {a00 * e.x + a01 * e.y, a10 * e.x + a11 * e.y}; }
    // (this * o)(p) == this(o(p))
    LinearTransform operator*(const LinearTransform& o) const {
        return {a00 * o.a00 + a01 * o.a10, a00 * o.a01 + a01 * o.a11, a10 * o.a00 + a11 * o.a10,
                a10 * o.a01 + a11 * o.a11};
    }
    LinearTransform inverted() const {
        const double det = determinant();
        if (!(det != 0.0) || !std::isfinite(det))
            throw std::invalid_argument("LinearTransform is singular and cannot be inverted");
        return {a11 / det, -a01 / det, -a10 / det, a00 / det};
    }
};

// p -> linear(p) + translation.
struct AffineTransform {
    LinearTransform linear{};
    double tx = 0.0, ty = 0.0;

    static AffineTransform from_parameters(const double* p6) {
        return {{p6[0], p6[1], p6[2], p6[3]}, p6[4], p6[5]};
    }
    Point2D operator()(Point2D p) const {
        const Point2D q = linear(p);
        return {q.x + tx, q.y + ty};
    }
    // Vectors (extents) are not translated.
    Extent2D operator()(Extent2D e) const { return linear(e); }
    // (this * o)(p) == this(o(p))
    AffineTransform operator*(const AffineTransform& o) const {
        const Point2D t = (*this)(Point2D{o.tx, o.ty});
        return {linear * o.linear, t.x, t.y};
    }
    AffineTransform inverted() const {
        const LinearTransform inv = linear.inverted();
        const Point2D t = inv(Point2D{tx, ty});
        return {inv, -t.x, -t.y};
    }
    // Apply to n points; out arrays may alias the inputs.
    void apply(const double* x, const double* y, std::size_t n, double* x_out, double* y_out) const {
        const double a = linear.a00, b = linear.a01, c = linear.a10, d = linear.a11;
        for (std::size_t i = 0; i < n; ++i) {
            const double xi = x[i], yi = y[i];
            x_out[i] = a * xi + b * yi + tx;
            y_out[i] = c * xi + d * yi + ty;
        }
    }
};

// out[i] = box.contains(x[i], y[i]) for a half-open floating box [x_min, x_max) x [y_min, y_max).
inline void box_contains(const Box2D& box, const double* x, const double* y, std::size_t n,
                         bool* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = box.contains(Point2D{x[i], y[i]});
}

}  // namespace osprey::geom
