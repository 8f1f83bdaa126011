// Direct, separable and mask-footprint convolution kernels behind osprey.afw.math.convolve.
// Header-only, no Python types.
//
// Convention (LSST afw): a kernel K of kw x kh pixels with centre (cx, cy) convolves,
//     out[y][x] = sum_{v, u} K[v][u] * in[y - (v - cy)][x - (u - cx)],
// i.e. the kernel pixel at offset (du, dv) = (u - cx, v - cy) from its centre weights the
// input pixel at (x - du, y - dv). Only the interior, where every kernel pixel lands inside
// the input, is written:
//     x in [kw - 1 - cx, nx - cx),  y in [kh - 1 - cy, ny - cy).
// The border band (kw - 1 - cx columns on the left, cx on the right, kh - 1 - cy rows at the
// bottom, cy at the top) is left for the caller, which applies its edge policy.
//
// Every loop is an "axpy" over a whole output row (acc[i] += w * src[i]) so that it
// vectorises; arithmetic is in the pixel type T (float or double).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace osprey::afw::conv {

struct Interior {
    int64_t x0, x1, y0, y1;  // [x0, x1) x [y0, y1); empty when x1 <= x0 or y1 <= y0
    bool empty() const { return x1 <= x0 || y1 <= y0; }
    int64_t width() const { return x1 - x0; }
};

inline Interior interior(int64_t nx, int64_t ny, int64_t kw, int64_t kh, int64_t cx, int64_t cy) {
    return {kw - 1 - cx, nx - cx, kh - 1 - cy, ny - cy};
}

template <class T>
inline void axpy(T* __restrict acc, T const* __restrict src, T w, int64_t n) {
    for (int64_t i = 0; i < n; ++i) acc[i] += w * src[i];
}

// Full 2-D kernel, row by row: each non-zero kernel pixel is one axpy into the output row.
template <class T>
void convolve_direct(T const* in, int64_t nx, int64_t ny, T const* k, int64_t kw, int64_t kh, int64_t cx,
                     int64_t cy, T* out) {
    const Interior r = interior(nx, ny, kw, kh, cx, cy);
    if (r.empty()) return;
    const int64_t n = r.width();
    for (int64_t y = r.y0; y < r.y1; ++y) {
        T* acc = out + y * nx + r.x0;
        std::fill(acc, acc + n, T(0));
        for (int64_t v = 0; v < kh; ++v) {
            T const* row = in + (y - v + cy) * nx + r.x0 + cx;
            for (int64_t u = 0; u < kw; ++u) {
                const T w = k[v * kw + u];
                if (w != T(0)) axpy(acc, row - u, w, n);
            }
        }
    }
}

// K[v][u] = ky[v] * kx[u]: a horizontal pass into a ring of kh rows (kept in cache), then a
// vertical pass over the ring for each output row.
template <class T>
void convolve_separable(T const* in, int64_t nx, int64_t ny, T const* kx, int64_t kw, T const* ky, int64_t kh,
                        int64_t cx, int64_t cy, T* out) {
    const Interior r = interior(nx, ny, kw, kh, cx, cy);
    if (r.empty()) return;
    const int64_t n = r.width();
    std::vector<T> ring(static_cast<size_t>(kh * n));
    int64_t next_row = 0;  // next input row to filter horizontally
    auto horizontal = [&](int64_t yin) {
        T* acc = ring.data() + (yin % kh) * n;
        std::fill(acc, acc + n, T(0));
        T const* row = in + yin * nx + r.x0 + cx;
        for (int64_t u = 0; u < kw; ++u) {
            if (kx[u] != T(0)) axpy(acc, row - u, kx[u], n);
        }
    };
    for (int64_t y = r.y0; y < r.y1; ++y) {
        for (; next_row <= y + cy; ++next_row) horizontal(next_row);  // rows y+cy-kh+1 .. y+cy
        T* acc = out + y * nx + r.x0;
        std::fill(acc, acc + n, T(0));
        for (int64_t v = 0; v < kh; ++v) {
            if (ky[v] != T(0)) axpy(acc, ring.data() + ((y - v + cy) % kh) * n, ky[v], n);
        }
    }
}

// OR of a window of w values: out[s] = in[s] | ... | in[s + w - 1] for s in [0, n - w],
// by doubling (log2 w passes), `work` holds n values.
inline void window_or(int32_t const* in, int64_t n, int64_t w, int32_t* out, int32_t* work) {
    std::copy(in, in + n, work);
    int64_t p = 1;
    for (; 2 * p <= w; p *= 2) {
        for (int64_t s = 0; s + 2 * p <= n; ++s) work[s] |= work[s + p];
    }
    for (int64_t s = 0; s + w <= n; ++s) out[s] = work[s] | work[s + w - p];
}

// Output mask = OR of the input mask over the kernel footprint (fp[v][u] != 0), interior
// only, same geometry as convolve_direct. Kernel rows are split into runs of footprint
// pixels; consecutive kernel rows with the same runs form a group whose contribution is a
// horizontal window OR per run followed by a vertical window OR over the group's rows.
inline void mask_or(int32_t const* in, int64_t nx, int64_t ny, uint8_t const* fp, int64_t kw, int64_t kh, int64_t cx,
                    int64_t cy, int32_t* out) {
    const Interior r = interior(nx, ny, kw, kh, cx, cy);
    if (r.empty()) return;
    const int64_t n = r.width();
    using Runs = std::vector<std::pair<int64_t, int64_t>>;  // inclusive [a, b] kernel columns
    std::vector<Runs> runs(static_cast<size_t>(kh));
    for (int64_t v = 0; v < kh; ++v) {
        for (int64_t u = 0; u < kw; ++u) {
            if (!fp[v * kw + u]) continue;
            auto& rv = runs[static_cast<size_t>(v)];
            if (!rv.empty() && rv.back().second == u - 1) {
                rv.back().second = u;
            } else {
                rv.emplace_back(u, u);
            }
        }
    }
    for (int64_t y = r.y0; y < r.y1; ++y) std::fill(out + y * nx + r.x0, out + y * nx + r.x1, 0);
    std::vector<int32_t> h(static_cast<size_t>(ny * n));
    std::vector<int32_t> win(static_cast<size_t>(nx)), work(static_cast<size_t>(std::max(nx, ny * n)));
    int64_t v0 = 0;
    while (v0 < kh) {
        int64_t v1 = v0;
        while (v1 + 1 < kh && runs[static_cast<size_t>(v1 + 1)] == runs[static_cast<size_t>(v0)]) ++v1;
        Runs const& rv = runs[static_cast<size_t>(v0)];
        if (!rv.empty()) {
            // h[yin][i] = OR over the runs of in[yin][x0 + i - u + cx], u in [a, b]
            const int64_t rows_lo = r.y0 - v1 + cy, rows_hi = r.y1 - 1 - v0 + cy;  // input rows used
            std::fill(h.begin(), h.end(), 0);
            for (int64_t yin = rows_lo; yin <= rows_hi; ++yin) {
                int32_t* hr = h.data() + yin * n;
                for (auto const& [a, b] : rv) {
                    window_or(in + yin * nx, nx, b - a + 1, win.data(), work.data());
                    int32_t const* src = win.data() + r.x0 + cx - b;
                    for (int64_t i = 0; i < n; ++i) hr[i] |= src[i];
                }
            }
            // vertical window of g = v1 - v0 + 1 rows: out[y] |= OR_{v=v0..v1} h[y - v + cy]
            const int64_t g = v1 - v0 + 1;
            int64_t p = 1;
            for (; 2 * p <= g; p *= 2) {
                for (int64_t yin = rows_lo; yin + p <= rows_hi; ++yin) {
                    int32_t* a = h.data() + yin * n;
                    int32_t const* b = a + p * n;
                    for (int64_t i = 0; i < n; ++i) a[i] |= b[i];
                }
            }
            for (int64_t y = r.y0; y < r.y1; ++y) {
                const int64_t top = y - v1 + cy;  // window [top, top + g - 1]
                int32_t const* a = h.data() + top * n;
                int32_t const* b = h.data() + (top + g - p) * n;
                int32_t* o = out + y * nx + r.x0;
                for (int64_t i = 0; i < n; ++i) o[i] |= a[i] | b[i];
            }
        }
        v0 = v1 + 1;
    }
}

}  // namespace osprey::afw::conv
