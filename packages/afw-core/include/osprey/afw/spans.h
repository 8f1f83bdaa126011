// Span sets: a region of the pixel grid as horizontal runs (y, x0, x1), x1 inclusive.
//
// Header-only and free of Python types, so other packages can use it through
// osprey.afw.get_include(). A span list is *normalized* when it is sorted by (y, x0) and the
// runs of one row neither overlap nor abut (x0 > previous x1 + 1): every set of pixels has
// exactly one normalized form, so two sets are equal exactly when their lists are equal.
// Every function below takes normalized input and returns normalized output unless it says
// otherwise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace osprey::afw::spans {

struct Span {
    int32_t y;
    int32_t x0;
    int32_t x1;  // inclusive

    int64_t width() const { return static_cast<int64_t>(x1) - x0 + 1; }
    friend bool operator==(Span const& a, Span const& b) { return a.y == b.y && a.x0 == b.x0 && a.x1 == b.x1; }
};

inline bool span_less(Span const& a, Span const& b) { return a.y < b.y || (a.y == b.y && a.x0 < b.x0); }

// Sort by (y, x0), drop empty runs (x1 < x0) and merge runs of a row that overlap or abut.
inline void normalize(std::vector<Span>& s) {
    s.erase(std::remove_if(s.begin(), s.end(), [](Span const& a) { return a.x1 < a.x0; }), s.end());
    if (!std::is_sorted(s.begin(), s.end(), span_less)) std::sort(s.begin(), s.end(), span_less);
    size_t out = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (out > 0 && s[out - 1].y == s[i].y && static_cast<int64_t>(s[i].x0) <= static_cast<int64_t>(s[out - 1].x1) + 1) {
            s[out - 1].x1 = std::max(s[out - 1].x1, s[i].x1);
        } else {
            s[out++] = s[i];
        }
    }
    s.resize(out);
}

inline int64_t area(std::vector<Span> const& s) {
    int64_t n = 0;
    for (Span const& a : s) n += a.width();
    return n;
}

// Pixels in a or b.
inline std::vector<Span> set_union(std::vector<Span> const& a, std::vector<Span> const& b) {
    std::vector<Span> out(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), out.begin(), span_less);
    normalize(out);
    return out;
}

// Pixels in both a and b.
inline std::vector<Span> set_intersection(std::vector<Span> const& a, std::vector<Span> const& b) {
    std::vector<Span> out;
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        Span const& p = a[i];
        Span const& q = b[j];
        if (p.y < q.y) {
            ++i;
        } else if (q.y < p.y) {
            ++j;
        } else {
            const int32_t lo = std::max(p.x0, q.x0);
            const int32_t hi = std::min(p.x1, q.x1);
            if (lo <= hi) out.push_back({p.y, lo, hi});
            if (p.x1 < q.x1) {
                ++i;
            } else {
                ++j;
            }
        }
    }
    return out;
}

// Pixels in a and not in b.
inline std::vector<Span> set_difference(std::vector<Span> const& a, std::vector<Span> const& b) {
    std::vector<Span> out;
    size_t j = 0;
    for (Span const& p : a) {
        while (j < b.size() && (b[j].y < p.y || (b[j].y == p.y && b[j].x1 < p.x0))) ++j;
        int64_t cur = p.x0;
        for (size_t k = j; k < b.size() && b[k].y == p.y && b[k].x0 <= p.x1; ++k) {
            if (b[k].x0 > cur) out.push_back({p.y, static_cast<int32_t>(cur), b[k].x0 - 1});
            cur = std::max<int64_t>(cur, static_cast<int64_t>(b[k].x1) + 1);
        }
        if (cur <= p.x1) out.push_back({p.y, static_cast<int32_t>(cur), p.x1});
    }
    return out;
}

// Pixels of s inside the box xmin <= x <= xmax, ymin <= y <= ymax (all inclusive).
inline std::vector<Span> clipped(std::vector<Span> const& s, int32_t xmin, int32_t ymin, int32_t xmax, int32_t ymax) {
    std::vector<Span> out;
    if (xmin > xmax || ymin > ymax) return out;
    for (Span const& a : s) {
        if (a.y < ymin || a.y > ymax) continue;
        const int32_t lo = std::max(a.x0, xmin);
        const int32_t hi = std::min(a.x1, xmax);
        if (lo <= hi) out.push_back({a.y, lo, hi});
    }
    return out;
}

enum class Shape { circle, manhattan };

// Half-width of the structuring element in row dy (|dy| <= r): the offsets (dx, dy) in it are
// those with |dx| <= w. Circle: dx^2 + dy^2 <= r^2; manhattan: |dx| + |dy| <= r.
inline std::vector<int32_t> half_widths(int32_t r, Shape shape) {
    std::vector<int32_t> w(static_cast<size_t>(2 * r + 1));
    for (int32_t dy = -r; dy <= r; ++dy) {
        int32_t hw;
        if (shape == Shape::manhattan) {
            hw = r - std::abs(dy);
        } else {
            const int64_t rem = static_cast<int64_t>(r) * r - static_cast<int64_t>(dy) * dy;
            hw = static_cast<int32_t>(std::sqrt(static_cast<double>(rem)));
            while (static_cast<int64_t>(hw) * hw > rem) --hw;  // exact integer square root
            while (static_cast<int64_t>(hw + 1) * (hw + 1) <= rem) ++hw;
        }
        w[static_cast<size_t>(dy + r)] = hw;
    }
    return w;
}

// Minkowski sum of s with the structuring element of radius r (r >= 0).
inline std::vector<Span> dilated(std::vector<Span> const& s, int32_t r, Shape shape) {
    if (r <= 0 || s.empty()) return s;
    const std::vector<int32_t> w = half_widths(r, shape);
    std::vector<Span> out;
    out.reserve(s.size() * w.size());
    // Row by row of the input, so each input row's contributions form sorted runs; the final
    // sort then sees long presorted stretches.
    for (int32_t dy = -r; dy <= r; ++dy) {
        const int32_t hw = w[static_cast<size_t>(dy + r)];
        for (Span const& a : s) out.push_back({a.y + dy, a.x0 - hw, a.x1 + hw});
    }
    normalize(out);
    return out;
}

// Pixels p with p + e in s for every offset e of the structuring element (r >= 0); pixels
// outside s count as not set, so the set shrinks away from every edge of s.
inline std::vector<Span> eroded(std::vector<Span> const& s, int32_t r, Shape shape) {
    if (r <= 0 || s.empty()) return s;
    const std::vector<int32_t> w = half_widths(r, shape);
    // Row y + dy must hold [x - w(dy), x + w(dy)] inside one of its maximal runs.
    auto shrunk = [&](int32_t dy) {
        const int32_t hw = w[static_cast<size_t>(dy + r)];
        std::vector<Span> t;
        t.reserve(s.size());
        for (Span const& a : s) {
            if (static_cast<int64_t>(a.x0) + hw <= static_cast<int64_t>(a.x1) - hw) t.push_back({a.y - dy, a.x0 + hw, a.x1 - hw});
        }
        return t;
    };
    std::vector<Span> out = shrunk(0);
    for (int32_t dy = -r; dy <= r && !out.empty(); ++dy) {
        if (dy != 0) out = set_intersection(out, shrunk(dy));
    }
    return out;
}

// Index of the run holding pixel (x, y), or -1.
inline int64_t find(std::vector<Span> const& s, int32_t x, int32_t y) {
    auto it = std::upper_bound(s.begin(), s.end(), Span{y, x, x}, span_less);
    if (it == s.begin()) return -1;
    --it;
    if (it->y == y && it->x0 <= x && x <= it->x1) return it - s.begin();
    return -1;
}

// 8-connected components of the pixels of a normalized span list. Returns the component of
// every run; components are numbered 0, 1, ... in the raster order (y, then x) of their first
// pixel, the order scipy.ndimage.label uses. `count` receives the number of components.
inline std::vector<int64_t> label_runs(std::vector<Span> const& s, int64_t& count) {
    const size_t n = s.size();
    std::vector<int64_t> parent(n);
    for (size_t i = 0; i < n; ++i) parent[i] = static_cast<int64_t>(i);
    auto root = [&](int64_t i) {
        while (parent[static_cast<size_t>(i)] != i) {
            parent[static_cast<size_t>(i)] = parent[static_cast<size_t>(parent[static_cast<size_t>(i)])];
            i = parent[static_cast<size_t>(i)];
        }
        return i;
    };
    // Union by smaller index: a root is always the first run of its component.
    auto join = [&](int64_t a, int64_t b) {
        a = root(a);
        b = root(b);
        if (a == b) return;
        if (a < b) {
            parent[static_cast<size_t>(b)] = a;
        } else {
            parent[static_cast<size_t>(a)] = b;
        }
    };
    size_t prev_begin = 0, prev_end = 0;  // runs of the previous row present
    size_t row_begin = 0;
    while (row_begin < n) {
        const int32_t y = s[row_begin].y;
        size_t row_end = row_begin;
        while (row_end < n && s[row_end].y == y) ++row_end;
        if (prev_end > prev_begin && s[prev_begin].y == y - 1) {
            size_t p = prev_begin;
            for (size_t i = row_begin; i < row_end; ++i) {
                const int64_t lo = static_cast<int64_t>(s[i].x0) - 1;  // 8-connectivity: diagonal contact
                const int64_t hi = static_cast<int64_t>(s[i].x1) + 1;
                while (p < prev_end && s[p].x1 < lo) ++p;
                for (size_t k = p; k < prev_end && s[k].x0 <= hi; ++k) join(static_cast<int64_t>(i), static_cast<int64_t>(k));
            }
        }
        prev_begin = row_begin;
        prev_end = row_end;
        row_begin = row_end;
    }
    std::vector<int64_t> label(n);
    count = 0;
    for (size_t i = 0; i < n; ++i) {
        const int64_t r = root(static_cast<int64_t>(i));
        label[i] = (r == static_cast<int64_t>(i)) ? count++ : label[static_cast<size_t>(r)];
    }
    return label;
}

}  // namespace osprey::afw::spans
