// Span-set kernels behind osprey.afw.detection.SpanSet, Footprint and HeavyFootprint:
// set algebra, morphology, statistics, and moving pixels between images and span order.
// Every kernel works on the run list and never rasterizes more than the pixels it touches.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "detection_util.h"
#include "osprey/afw/spans.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using osprey::afw::detail::columns_of;
using osprey::afw::detail::for_each_on_grid;
using osprey::afw::detail::Grid;
using osprey::afw::detail::grid_of;
using osprey::afw::detail::OffsetCol;
using osprey::afw::detail::offsets_from;
using osprey::afw::detail::owned;
using osprey::afw::detail::spans_from;
using osprey::afw::detail::SpanCol;
using osprey::afw::detail::to_python;
namespace sp = osprey::afw::spans;
using sp::Span;

using Coord = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <typename T>
using In2 = nb::ndarray<const T, nb::ndim<2>, nb::device::cpu>;
template <typename T>
using Out2 = nb::ndarray<T, nb::ndim<2>, nb::device::cpu>;
template <typename T>
using In1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

sp::Shape shape_of(int shape) {
    if (shape == 0) return sp::Shape::circle;
    if (shape == 1) return sp::Shape::manhattan;
    throw std::invalid_argument("shape must be 0 (circle) or 1 (manhattan)");
}

void check_radius(int32_t r) {
    if (r < 0 || r > 1000000) throw std::invalid_argument("radius must be in [0, 1000000] pixels");
}

nb::tuple normalize_py(SpanCol y, SpanCol x0, SpanCol x1) {
    std::vector<Span> s = spans_from(y, x0, x1);
    {
        nb::gil_scoped_release nogil;
        sp::normalize(s);
    }
    return to_python(columns_of(s));
}

template <std::vector<Span> (*Op)(std::vector<Span> const&, std::vector<Span> const&)>
nb::tuple binary_py(SpanCol ay, SpanCol ax0, SpanCol ax1, SpanCol by, SpanCol bx0, SpanCol bx1) {
    const std::vector<Span> a = spans_from(ay, ax0, ax1);
    const std::vector<Span> b = spans_from(by, bx0, bx1);
    std::vector<Span> out;
    {
        nb::gil_scoped_release nogil;
        out = Op(a, b);
    }
    return to_python(columns_of(out));
}

nb::tuple dilate_py(SpanCol y, SpanCol x0, SpanCol x1, int32_t r, int shape) {
    check_radius(r);
    const sp::Shape sh = shape_of(shape);
    const std::vector<Span> s = spans_from(y, x0, x1);
    std::vector<Span> out;
    {
        nb::gil_scoped_release nogil;
        out = sp::dilated(s, r, sh);
    }
    return to_python(columns_of(out));
}

nb::tuple erode_py(SpanCol y, SpanCol x0, SpanCol x1, int32_t r, int shape) {
    check_radius(r);
    const sp::Shape sh = shape_of(shape);
    const std::vector<Span> s = spans_from(y, x0, x1);
    std::vector<Span> out;
    {
        nb::gil_scoped_release nogil;
        out = sp::eroded(s, r, sh);
    }
    return to_python(columns_of(out));
}

nb::tuple clip_py(SpanCol y, SpanCol x0, SpanCol x1, int32_t xmin, int32_t ymin, int32_t xmax, int32_t ymax) {
    const std::vector<Span> s = spans_from(y, x0, x1);
    std::vector<Span> out;
    {
        nb::gil_scoped_release nogil;
        out = sp::clipped(s, xmin, ymin, xmax, ymax);
    }
    return to_python(columns_of(out));
}

// Pixel (floor(x + 0.5), floor(y + 0.5)) in the set; non-finite positions are not.
osprey::afw::detail::Owned<bool> contains_py(SpanCol y, SpanCol x0, SpanCol x1, Coord px, Coord py) {
    if (px.shape(0) != py.shape(0)) throw std::invalid_argument("x and y must have one length");
    const std::vector<Span> s = spans_from(y, x0, x1);
    const size_t n = px.shape(0);
    std::vector<uint8_t> out(n, 0);
    {
        nb::gil_scoped_release nogil;
        const double* xs = px.data();
        const double* ys = py.data();
        for (size_t i = 0; i < n; ++i) {
            const double fx = std::floor(xs[i] + 0.5), fy = std::floor(ys[i] + 0.5);
            if (!(std::fabs(fx) < 2147483647.0) || !(std::fabs(fy) < 2147483647.0)) continue;
            out[i] = sp::find(s, static_cast<int32_t>(fx), static_cast<int32_t>(fy)) >= 0 ? 1 : 0;
        }
    }
    return osprey::afw::detail::owned_bool(std::move(out));
}

// Per group of spans (offsets): area, bbox (xmin, ymin, xmax, ymax; zeros when empty) and the
// unweighted centroid (x, y; NaN when empty).
nb::tuple stats_py(SpanCol y, SpanCol x0, SpanCol x1, OffsetCol offsets) {
    const std::vector<Span> s = spans_from(y, x0, x1);
    const std::vector<int64_t> off = offsets_from(offsets, s.size(), "span");
    const size_t m = off.size() - 1;
    std::vector<int64_t> area(m, 0);
    std::vector<int32_t> bbox(4 * m, 0);
    std::vector<double> cen(2 * m, std::nan(""));
    {
        nb::gil_scoped_release nogil;
        for (size_t g = 0; g < m; ++g) {
            const auto b = static_cast<size_t>(off[g]), e = static_cast<size_t>(off[g + 1]);
            if (b == e) continue;
            int64_t n = 0;
            double sx = 0.0, sy = 0.0;
            int32_t xmin = s[b].x0, xmax = s[b].x1;
            for (size_t i = b; i < e; ++i) {
                const int64_t w = s[i].width();
                n += w;
                sx += 0.5 * (static_cast<double>(s[i].x0) + s[i].x1) * static_cast<double>(w);
                sy += static_cast<double>(s[i].y) * static_cast<double>(w);
                xmin = std::min(xmin, s[i].x0);
                xmax = std::max(xmax, s[i].x1);
            }
            area[g] = n;
            bbox[4 * g] = xmin;
            bbox[4 * g + 1] = s[b].y;  // spans are sorted by y
            bbox[4 * g + 2] = xmax;
            bbox[4 * g + 3] = s[e - 1].y;
            cen[2 * g] = sx / static_cast<double>(n);
            cen[2 * g + 1] = sy / static_cast<double>(n);
        }
    }
    return nb::make_tuple(owned(std::move(area)), owned(std::move(bbox), {m, 4}), owned(std::move(cen), {m, 2}));
}

// Every pixel of the set, in span order: (y, x).
nb::tuple pixels_py(SpanCol y, SpanCol x0, SpanCol x1) {
    const std::vector<Span> s = spans_from(y, x0, x1);
    std::vector<int32_t> ys, xs;
    {
        nb::gil_scoped_release nogil;
        const auto n = static_cast<size_t>(sp::area(s));
        ys.reserve(n);
        xs.reserve(n);
        for (Span const& a : s) {
            for (int64_t x = a.x0; x <= a.x1; ++x) {
                ys.push_back(a.y);
                xs.push_back(static_cast<int32_t>(x));
            }
        }
    }
    return nb::make_tuple(owned(std::move(ys)), owned(std::move(xs)));
}

// Runs of true pixels of a boolean array whose [0, 0] sits at parent (x0, y0).
nb::tuple from_mask_py(In2<bool> mask, int32_t x0, int32_t y0) {
    const Grid<const bool> g = grid_of<const bool>(mask, x0, y0);
    std::vector<Span> s;
    {
        nb::gil_scoped_release nogil;
        for (int64_t r = 0; r < g.ny; ++r) {
            int64_t c = 0;
            while (c < g.nx) {
                while (c < g.nx && !g.at(r, c)) ++c;
                if (c == g.nx) break;
                const int64_t start = c;
                while (c < g.nx && g.at(r, c)) ++c;
                s.push_back({static_cast<int32_t>(r + y0), static_cast<int32_t>(start + x0), static_cast<int32_t>(c - 1 + x0)});
            }
        }
    }
    return to_python(columns_of(s));
}

bool inside(std::vector<Span> const& s, int64_t ny, int64_t nx, int32_t x0, int32_t y0) {
    for (Span const& a : s) {
        if (a.y < y0 || a.y >= y0 + ny || a.x0 < x0 || a.x1 >= x0 + nx) return false;
    }
    return true;
}

// Values of the set's pixels in span order; the set must lie inside the array.
template <typename T>
osprey::afw::detail::Owned<T> flatten_py(In2<T> array, int32_t x0, int32_t y0, SpanCol y, SpanCol sx0, SpanCol sx1) {
    const std::vector<Span> s = spans_from(y, sx0, sx1);
    const Grid<const T> g = grid_of<const T>(array, x0, y0);
    if (!inside(s, g.ny, g.nx, x0, y0)) throw std::invalid_argument("the span set reaches outside the array");
    std::vector<T> out(static_cast<size_t>(sp::area(s)));
    {
        nb::gil_scoped_release nogil;
        for_each_on_grid(s, g, [&](int64_t row, int64_t lo, int64_t hi, int64_t flat) {
            T* dst = out.data() + flat;
            for (int64_t c = lo; c <= hi; ++c) *dst++ = g.at(row, c);
        });
    }
    const size_t n = out.size();
    return owned(std::move(out), {n});
}

// Writes values (span order) into the pixels of the set that fall on the array.
template <typename T>
void unflatten_py(Out2<T> array, int32_t x0, int32_t y0, SpanCol y, SpanCol sx0, SpanCol sx1, In1<T> values) {
    const std::vector<Span> s = spans_from(y, sx0, sx1);
    if (static_cast<int64_t>(values.shape(0)) != sp::area(s)) {
        throw std::invalid_argument("values must hold one entry per pixel of the span set (its area)");
    }
    const Grid<T> g = grid_of<T>(array, x0, y0);
    const T* v = values.data();
    nb::gil_scoped_release nogil;
    for_each_on_grid(s, g, [&](int64_t row, int64_t lo, int64_t hi, int64_t flat) {
        const T* src = v + flat;
        for (int64_t c = lo; c <= hi; ++c) g.at(row, c) = *src++;
    });
}

// mode 0: OR bits in; 1: clear bits; 2: set to `bits` (to_mask); 3: set to group index + bits.
template <typename T>
void paint_py(Out2<T> array, int32_t x0, int32_t y0, SpanCol y, SpanCol sx0, SpanCol sx1, OffsetCol offsets, int64_t bits,
              int mode) {
    if (mode < 0 || mode > 3) throw std::invalid_argument("paint mode must be 0..3");
    const std::vector<Span> s = spans_from(y, sx0, sx1);
    const std::vector<int64_t> off = offsets_from(offsets, s.size(), "span");
    const Grid<T> g = grid_of<T>(array, x0, y0);
    const auto value = static_cast<T>(bits);
    nb::gil_scoped_release nogil;
    for (size_t grp = 0; grp + 1 < off.size(); ++grp) {
        const auto label = static_cast<T>(bits + static_cast<int64_t>(grp));
        for_each_on_grid(s.data() + off[grp], s.data() + off[grp + 1], g, [&](int64_t row, int64_t lo, int64_t hi, int64_t) {
            for (int64_t c = lo; c <= hi; ++c) {
                T& p = g.at(row, c);
                if constexpr (std::is_same_v<T, bool>) {
                    p = (mode == 0) ? (p || value) : (mode == 1) ? (p && !value) : (mode == 2) ? value : label;
                } else if (mode == 0) {
                    p = static_cast<T>(p | value);
                } else if (mode == 1) {
                    p = static_cast<T>(p & static_cast<T>(~value));
                } else if (mode == 2) {
                    p = value;
                } else {
                    p = label;
                }
            }
        });
    }
}

template <typename T>
void bind_pixels(nb::module_& m) {
    m.def("det_flatten", &flatten_py<T>, "array"_a.noconvert(), "x0"_a, "y0"_a, "y"_a.noconvert(), "x0s"_a.noconvert(),
          "x1s"_a.noconvert());
    m.def("det_unflatten", &unflatten_py<T>, "array"_a.noconvert(), "x0"_a, "y0"_a, "y"_a.noconvert(), "x0s"_a.noconvert(),
          "x1s"_a.noconvert(), "values"_a.noconvert());
}

}  // namespace

void bind_footprint(nb::module_& m) {
    m.def("det_normalize", &normalize_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert());
    m.def("det_union", &binary_py<&sp::set_union>);
    m.def("det_intersection", &binary_py<&sp::set_intersection>);
    m.def("det_difference", &binary_py<&sp::set_difference>);
    m.def("det_dilate", &dilate_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "r"_a, "shape"_a);
    m.def("det_erode", &erode_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "r"_a, "shape"_a);
    m.def("det_clip", &clip_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "xmin"_a, "ymin"_a, "xmax"_a,
          "ymax"_a);
    m.def("det_contains", &contains_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "px"_a.noconvert(),
          "py"_a.noconvert());
    m.def("det_stats", &stats_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "offsets"_a.noconvert());
    m.def("det_pixels", &pixels_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert());
    m.def("det_from_mask", &from_mask_py, "mask"_a.noconvert(), "x0"_a, "y0"_a);
    bind_pixels<float>(m);
    bind_pixels<double>(m);
    bind_pixels<int32_t>(m);
    bind_pixels<int64_t>(m);
    bind_pixels<uint16_t>(m);
    bind_pixels<uint8_t>(m);  // also bool arrays, viewed as uint8 by the wrapper
    m.def("det_paint", &paint_py<int32_t>, "array"_a.noconvert(), "x0"_a, "y0"_a, "y"_a.noconvert(), "x0s"_a.noconvert(),
          "x1s"_a.noconvert(), "offsets"_a.noconvert(), "bits"_a, "mode"_a);
    m.def("det_paint", &paint_py<bool>, "array"_a.noconvert(), "x0"_a, "y0"_a, "y"_a.noconvert(), "x0s"_a.noconvert(),
          "x1s"_a.noconvert(), "offsets"_a.noconvert(), "bits"_a, "mode"_a);
}
