// Private helpers shared by src/detection.cpp and src/footprint.cpp: numpy <-> span lists.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "osprey/afw/spans.h"

namespace osprey::afw::detail {

namespace nb = nanobind;
using spans::Span;

using SpanCol = nb::ndarray<const int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OffsetCol = nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <typename T>
using Owned = nb::ndarray<nb::numpy, T>;

// A numpy array that owns `values` (moved, not copied), with the given shape.
template <typename T>
Owned<T> owned(std::vector<T>&& values, std::initializer_list<size_t> shape) {
    auto holder = std::make_unique<std::vector<T>>(std::move(values));
    T* data = holder->data();
    nb::capsule owner(holder.get(), [](void* p) noexcept { std::unique_ptr<std::vector<T>> drop(static_cast<std::vector<T>*>(p)); });
    holder.release();
    return Owned<T>(data, shape, owner);
}

template <typename T>
Owned<T> owned(std::vector<T>&& values) {
    const size_t n = values.size();
    return owned(std::move(values), {n});
}

// A numpy bool array that owns `flags` (one byte per value, 0 or 1).
inline Owned<bool> owned_bool(std::vector<uint8_t>&& flags) {
    static_assert(sizeof(bool) == sizeof(uint8_t), "bool must be one byte");
    auto holder = std::make_unique<std::vector<uint8_t>>(std::move(flags));
    const size_t n = holder->size();
    auto* data = reinterpret_cast<bool*>(holder->data());
    nb::capsule owner(holder.get(), [](void* p) noexcept { std::unique_ptr<std::vector<uint8_t>> drop(static_cast<std::vector<uint8_t>*>(p)); });
    holder.release();
    return Owned<bool>(data, {n}, owner);
}

inline std::vector<Span> spans_from(SpanCol const& y, SpanCol const& x0, SpanCol const& x1) {
    const size_t n = y.shape(0);
    if (x0.shape(0) != n || x1.shape(0) != n) throw std::invalid_argument("span arrays y, x0, x1 must have one length");
    std::vector<Span> s(n);
    const int32_t* py = y.data();
    const int32_t* p0 = x0.data();
    const int32_t* p1 = x1.data();
    for (size_t i = 0; i < n; ++i) s[i] = {py[i], p0[i], p1[i]};
    return s;
}

// Offsets (n_groups + 1, starting at 0, non-decreasing, ending at n_items) checked once here.
inline std::vector<int64_t> offsets_from(OffsetCol const& off, size_t n_items, char const* what) {
    const size_t m = off.shape(0);
    if (m == 0) throw std::invalid_argument(std::string(what) + " offsets must hold at least one value (0)");
    std::vector<int64_t> o(off.data(), off.data() + m);
    if (o.front() != 0 || o.back() != static_cast<int64_t>(n_items)) {
        throw std::invalid_argument(std::string(what) + " offsets must start at 0 and end at the number of items");
    }
    for (size_t i = 1; i < m; ++i) {
        if (o[i] < o[i - 1]) throw std::invalid_argument(std::string(what) + " offsets must be non-decreasing");
    }
    return o;
}

struct SpanColumns {
    std::vector<int32_t> y, x0, x1;
};

inline SpanColumns columns_of(std::vector<Span> const& s) {
    SpanColumns c;
    c.y.resize(s.size());
    c.x0.resize(s.size());
    c.x1.resize(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        c.y[i] = s[i].y;
        c.x0[i] = s[i].x0;
        c.x1[i] = s[i].x1;
    }
    return c;
}

inline nb::tuple to_python(SpanColumns&& c) {
    return nb::make_tuple(owned(std::move(c.y)), owned(std::move(c.x0)), owned(std::move(c.x1)));
}

// Strided read-only / writable 2-D pixel access (numpy strides are in elements here).
template <typename T>
struct Grid {
    T* data;
    int64_t ny, nx, sy, sx;
    int32_t x0, y0;  // parent position of data[0, 0]
    T& at(int64_t row, int64_t col) const { return data[row * sy + col * sx]; }
};

template <typename T, typename Array>
Grid<T> grid_of(Array const& a, int32_t x0, int32_t y0) {
    return {a.data(), static_cast<int64_t>(a.shape(0)), static_cast<int64_t>(a.shape(1)), a.stride(0), a.stride(1), x0, y0};
}

// Calls f(row, col_begin, col_end_inclusive, flat_index_of_col_begin) for the part of every
// span that falls on the grid; flat indices count every pixel of the span list in order.
template <typename T, typename F>
void for_each_on_grid(Span const* first, Span const* last, Grid<T> const& g, F&& f) {
    int64_t flat = 0;
    for (Span const* a = first; a != last; ++a) {
        const int64_t row = static_cast<int64_t>(a->y) - g.y0;
        const int64_t c0 = static_cast<int64_t>(a->x0) - g.x0;
        const int64_t c1 = static_cast<int64_t>(a->x1) - g.x0;
        if (row >= 0 && row < g.ny) {
            const int64_t lo = std::max<int64_t>(c0, 0);
            const int64_t hi = std::min<int64_t>(c1, g.nx - 1);
            if (lo <= hi) f(row, lo, hi, flat + (lo - c0));
        }
        flat += c1 - c0 + 1;
    }
}

template <typename T, typename F>
void for_each_on_grid(std::vector<Span> const& s, Grid<T> const& g, F&& f) {
    for_each_on_grid(s.data(), s.data() + s.size(), g, std::forward<F>(f));
}

}  // namespace osprey::afw::detail
