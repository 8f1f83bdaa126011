// Background kernels behind osprey.afw.math.estimate_background and Background.get_image.
//
// * background_bin_statistics: one statistic per rectangular bin (MEANCLIP or MEDIAN of the
//   good pixels, see osprey/afw/statistics.h), with a robust width (clipped standard
//   deviation, or 1.4826 MAD for MEDIAN) and the number of good pixels. MEANCLIP reads each
//   bin in place with a CoreBand (one pass); MEDIAN gathers a bin row's pixels per bin and
//   partitions each bin.
// * background_interpolate: separable interpolation of the bin grid to pixels, first along
//   x through every bin row, then along y through those values at every output column
//   (osprey/afw/interpolate.h), the last step one Horner evaluation per pixel written
//   straight into the output row. The interpolant of a column depends only on the grid and
//   the column, so any sub-region is evaluated alone and equals the same cut of the whole.
// * background_chebyshev: evaluation of a 2-D Chebyshev series sum c[j][i] T_i(u) T_j(v)
//   on a region, u and v the pixel positions mapped linearly from the domain to [-1, 1].
// The evaluators either write the background or subtract it from the output in place.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "osprey/afw/interpolate.h"
#include "osprey/afw/statistics.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

namespace st = osprey::afw::stats;
namespace ip = osprey::afw::interp;

enum BinStatistic : int { kMeanClip = 0, kMedian = 1 };

template <class T>
using Pixels = nb::ndarray<const T, nb::ndim<2>, nb::device::cpu>;
template <class T>
using OutPixels = nb::ndarray<T, nb::ndim<2>, nb::device::cpu>;
using MaskArr = nb::ndarray<const int32_t, nb::ndim<2>, nb::device::cpu>;
using Edges = nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Vec = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Grid = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using OutGrid = nb::ndarray<double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using OutCount = nb::ndarray<int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

void check_edges(Edges const& e, size_t extent, const char* what) {
    const size_t n = e.shape(0);
    if (n < 2 || e.data()[0] != 0 || e.data()[n - 1] != static_cast<int64_t>(extent)) {
        throw std::invalid_argument(std::string(what) + " edges must run from 0 to the image extent");
    }
    for (size_t k = 1; k < n; ++k) {
        if (e.data()[k] <= e.data()[k - 1]) {
            throw std::invalid_argument(std::string(what) + " edges must increase strictly");
        }
    }
}

template <class T>
void bin_statistics_py(Pixels<T> image, MaskArr mask, int32_t bitmask, Edges x_edges, Edges y_edges,
                       int statistic, double n_sigma, int n_iter, OutGrid value, OutGrid rms, OutCount n_good) {
    const size_t ny = image.shape(0);
    const size_t nx = image.shape(1);
    if (nx > 1 && image.stride(1) != 1) {
        throw std::invalid_argument("image must have adjacent columns (stride 1)");
    }
    if (mask.is_valid() && (mask.shape(0) != ny || mask.shape(1) != nx || (nx > 1 && mask.stride(1) != 1))) {
        throw std::invalid_argument("mask must have the image's shape and adjacent columns");
    }
    check_edges(x_edges, nx, "x");
    check_edges(y_edges, ny, "y");
    const size_t nbx = x_edges.shape(0) - 1;
    const size_t nby = y_edges.shape(0) - 1;
    for (auto const* a : {&value, &rms}) {
        if (a->shape(0) != nby || a->shape(1) != nbx) {
            throw std::invalid_argument("value and rms must have shape (n_bins_y, n_bins_x)");
        }
    }
    if (n_good.shape(0) != nby || n_good.shape(1) != nbx) {
        throw std::invalid_argument("n_good must have shape (n_bins_y, n_bins_x)");
    }
    if (statistic != kMeanClip && statistic != kMedian) {
        throw std::invalid_argument("statistic must be 0 (MEANCLIP) or 1 (MEDIAN)");
    }
    if (!(n_sigma > 0.0) || n_iter < 0) {
        throw std::domain_error("n_sigma must be > 0 and n_iter >= 0");
    }
    const T* data = image.data();
    const int64_t stride = image.stride(0);
    const int32_t* mdata = mask.is_valid() ? mask.data() : nullptr;
    const int64_t mstride = mask.is_valid() ? mask.stride(0) : 0;
    const int64_t* xe = x_edges.data();
    const int64_t* ye = y_edges.data();
    double* out_value = value.data();
    double* out_rms = rms.data();
    int64_t* out_n = n_good.data();

    nb::gil_scoped_release nogil;
    if (statistic == kMeanClip) {
        // Each bin is one region of the image, read in place by a CoreBand (one pass).
        st::CoreBand<T> cb;
        for (size_t by = 0; by < nby; ++by) {
            for (size_t bx = 0; bx < nbx; ++bx) {
                const int64_t offset = ye[by] * stride + xe[bx];
                const st::ImageRegion<T> reg{data + offset,
                                             stride,
                                             static_cast<size_t>(ye[by + 1] - ye[by]),
                                             static_cast<size_t>(xe[bx + 1] - xe[bx]),
                                             mdata ? mdata + ye[by] * mstride + xe[bx] : nullptr,
                                             mstride,
                                             bitmask,
                                             nullptr,
                                             0};
                const size_t k = by * nbx + bx;
                cb.template build<false>(reg, st::grid_sample(reg, 256), n_sigma);
                const size_t n = cb.size();
                out_n[k] = static_cast<int64_t>(n);
                if (n == 0) {
                    out_value[k] = st::kNaN;
                    out_rms[k] = st::kNaN;
                    continue;
                }
                const st::ClipResult c = st::sigma_clip(cb, n_sigma, n_iter);
                out_value[k] = c.moments.mean;
                out_rms[k] = std::sqrt(c.moments.variance);
            }
        }
        return;
    }
    st::Partition<T> part;
    st::Buffer<T> tmp;
    st::Buffer<double> dev;
    st::Scratch<double> dev_scratch;
    // One row of bins at a time: the image rows are read once, start to end, appending each
    // bin's good pixels to its buffer; each bin is then partitioned from its (cached) buffer.
    std::vector<st::Buffer<T>> bins(nbx);
    std::vector<size_t> fill(nbx);
    for (size_t by = 0; by < nby; ++by) {
        const auto rows = static_cast<size_t>(ye[by + 1] - ye[by]);
        for (size_t bx = 0; bx < nbx; ++bx) {
            bins[bx].resize(rows * static_cast<size_t>(xe[bx + 1] - xe[bx]));
            fill[bx] = 0;
        }
        for (int64_t j = ye[by]; j < ye[by + 1]; ++j) {
            const T* row = data + j * stride;
            const int32_t* mrow = mdata ? mdata + j * mstride : nullptr;
            for (size_t bx = 0; bx < nbx; ++bx) {
                T* dst = bins[bx].data();
                size_t w = fill[bx];
                if (mrow) {
                    for (int64_t i = xe[bx]; i < xe[bx + 1]; ++i) {
                        dst[w] = row[i];
                        w += (std::isfinite(row[i]) && (mrow[i] & bitmask) == 0) ? 1 : 0;
                    }
                } else {
                    for (int64_t i = xe[bx]; i < xe[bx + 1]; ++i) {
                        dst[w] = row[i];
                        w += std::isfinite(row[i]) ? 1 : 0;
                    }
                }
                fill[bx] = w;
            }
        }
        for (size_t bx = 0; bx < nbx; ++bx) {
            const size_t n = fill[bx];
            const size_t k = by * nbx + bx;
            out_n[k] = static_cast<int64_t>(n);
            if (n == 0) {
                out_value[k] = st::kNaN;
                out_rms[k] = st::kNaN;
                continue;
            }
            // About 32 values per bucket and a 256-value sample: cheap to build for one bin,
            // and each query still scans only a few buckets.
            part.build(bins[bx].data(), n, std::min<size_t>(st::kBuckets, std::max<size_t>(16, n / 32)), 256);
            if (statistic == kMeanClip) {
                const st::ClipResult c = st::sigma_clip(part, n_sigma, n_iter, tmp);
                out_value[k] = c.moments.mean;
                out_rms[k] = std::sqrt(c.moments.variance);
            } else {
                const double med = part.median(-st::kInf, st::kInf, n, tmp);
                out_value[k] = med;
                out_rms[k] = st::mad_sigma(part.values(), n, med, dev, dev_scratch);
            }
        }
    }
}

template <class T>
void check_out(OutPixels<T> const& out) {
    if (out.shape(1) > 1 && out.stride(1) != 1) {
        throw std::invalid_argument("out must have adjacent columns (stride 1)");
    }
}

// Writes (or subtracts) one output row from per-column coefficient rows.
template <class T>
void store_row(T* row, const double* v, size_t w, bool subtract) {
    if (subtract) {
        for (size_t i = 0; i < w; ++i) {
            row[i] = static_cast<T>(static_cast<double>(row[i]) - v[i]);
        }
    } else {
        for (size_t i = 0; i < w; ++i) {
            row[i] = static_cast<T>(v[i]);
        }
    }
}

template <class T>
void interpolate_py(Grid grid, Vec x_centers, Vec y_centers, int style_code, double x_start, double y_start,
                    OutPixels<T> out, bool subtract) {
    const size_t nby = grid.shape(0);
    const size_t nbx = grid.shape(1);
    if (nbx == 0 || nby == 0 || x_centers.shape(0) != nbx || y_centers.shape(0) != nby) {
        throw std::invalid_argument("grid must be (n_bins_y, n_bins_x) with matching bin centres");
    }
    for (auto const* c : {&x_centers, &y_centers}) {
        for (size_t k = 1; k < c->shape(0); ++k) {
            if (!(c->data()[k] > c->data()[k - 1])) {
                throw std::invalid_argument("bin centres must increase strictly");
            }
        }
    }
    if (style_code < 0 || style_code > static_cast<int>(ip::Style::Akima)) {
        throw std::invalid_argument("interpolation style must be in 0..4");
    }
    check_out(out);
    const auto style = static_cast<ip::Style>(style_code);
    const size_t h = out.shape(0);
    const size_t w = out.shape(1);
    const double* g = grid.data();
    const double* xc = x_centers.data();
    const double* yc = y_centers.data();
    T* dst = out.data();
    const int64_t ostride = out.stride(0);

    nb::gil_scoped_release nogil;
    if (h == 0 || w == 0) {
        return;
    }
    ip::Piecewise p;
    std::vector<double> slopes;
    // 1. Along x: the interpolant of every bin row, at every output column.
    std::vector<size_t> seg_x(w);
    std::vector<double> d_x(w);
    std::vector<double> along_x(nby * w);  // [bin row][column]
    std::vector<double> row_vals(nbx);
    for (size_t by = 0; by < nby; ++by) {
        row_vals.assign(g + by * nbx, g + (by + 1) * nbx);
        ip::build(style, xc, row_vals.data(), nbx, p, slopes);
        if (by == 0) {
            for (size_t i = 0; i < w; ++i) {
                const double t = x_start + static_cast<double>(i);
                seg_x[i] = p.segment(t);
                d_x[i] = t - p.origin[seg_x[i]];
            }
        }
        double* dst_row = along_x.data() + by * w;
        for (size_t i = 0; i < w; ++i) {
            dst_row[i] = p.eval(seg_x[i], d_x[i]);
        }
    }
    // 2. Along y: per column, the interpolant through its nby values; its coefficients are
    // stored segment-major so that each output row is a vectorisable Horner step.
    std::vector<double> col(nby);
    ip::build(style, yc, col.data(), nby, p, slopes);  // segment layout only (same for all columns)
    const size_t n_seg = p.origin.size();
    const std::vector<double> breaks_y = p.breaks;
    const std::vector<double> origin_y = p.origin;
    std::vector<double> coef(n_seg * 4 * w);  // [segment][power][column]
    for (size_t i = 0; i < w; ++i) {
        for (size_t by = 0; by < nby; ++by) {
            col[by] = along_x[by * w + i];
        }
        ip::build(style, yc, col.data(), nby, p, slopes);
        for (size_t s = 0; s < n_seg; ++s) {
            double* c = coef.data() + s * 4 * w;
            c[i] = p.c0[s];
            c[w + i] = p.c1[s];
            c[2 * w + i] = p.c2[s];
            c[3 * w + i] = p.c3[s];
        }
    }
    for (size_t j = 0; j < h; ++j) {
        const double t = y_start + static_cast<double>(j);
        const auto s = static_cast<size_t>(std::upper_bound(breaks_y.begin(), breaks_y.end(), t) - breaks_y.begin());
        const double d = t - origin_y[s];
        const double* c0 = coef.data() + s * 4 * w;
        const double* c1 = c0 + w;
        const double* c2 = c1 + w;
        const double* c3 = c2 + w;
        T* row = dst + static_cast<int64_t>(j) * ostride;
        // One Horner step per pixel, written (or subtracted) straight into the output row.
        if (subtract) {
            for (size_t i = 0; i < w; ++i) {
                row[i] = static_cast<T>(static_cast<double>(row[i]) - (c0[i] + d * (c1[i] + d * (c2[i] + d * c3[i]))));
            }
        } else {
            for (size_t i = 0; i < w; ++i) {
                row[i] = static_cast<T>(c0[i] + d * (c1[i] + d * (c2[i] + d * c3[i])));
            }
        }
    }
}

// T_0..T_order at u, into t[0..order].
inline void chebyshev_terms(double u, size_t order, double* t) {
    t[0] = 1.0;
    if (order >= 1) {
        t[1] = u;
    }
    for (size_t k = 2; k <= order; ++k) {
        t[k] = 2.0 * u * t[k - 1] - t[k - 2];
    }
}

template <class T>
void chebyshev_py(Grid coefficients, double x_min, double x_max, double y_min, double y_max, double x_start,
                  double y_start, OutPixels<T> out, bool subtract) {
    const size_t ny_terms = coefficients.shape(0);
    const size_t nx_terms = coefficients.shape(1);
    if (nx_terms == 0 || ny_terms == 0) {
        throw std::invalid_argument("coefficients must be a non-empty (order_y + 1, order_x + 1) array");
    }
    if (!(x_max > x_min) || !(y_max > y_min)) {
        throw std::domain_error("the Chebyshev domain must have x_max > x_min and y_max > y_min");
    }
    check_out(out);
    const size_t h = out.shape(0);
    const size_t w = out.shape(1);
    const double* c = coefficients.data();
    T* dst = out.data();
    const int64_t ostride = out.stride(0);

    nb::gil_scoped_release nogil;
    std::vector<double> tx(nx_terms * w);  // [term][column]
    std::vector<double> t(std::max(nx_terms, ny_terms));
    for (size_t i = 0; i < w; ++i) {
        const double u = (2.0 * (x_start + static_cast<double>(i)) - x_min - x_max) / (x_max - x_min);
        chebyshev_terms(u, nx_terms - 1, t.data());
        for (size_t k = 0; k < nx_terms; ++k) {
            tx[k * w + i] = t[k];
        }
    }
    std::vector<double> a(nx_terms);
    std::vector<double> line(w);
    for (size_t j = 0; j < h; ++j) {
        const double v = (2.0 * (y_start + static_cast<double>(j)) - y_min - y_max) / (y_max - y_min);
        chebyshev_terms(v, ny_terms - 1, t.data());
        for (size_t k = 0; k < nx_terms; ++k) {
            a[k] = 0.0;
            for (size_t l = 0; l < ny_terms; ++l) {
                a[k] += c[l * nx_terms + k] * t[l];
            }
        }
        for (size_t i = 0; i < w; ++i) {
            line[i] = a[0] * tx[i];
        }
        for (size_t k = 1; k < nx_terms; ++k) {
            const double* tk = tx.data() + k * w;
            for (size_t i = 0; i < w; ++i) {
                line[i] += a[k] * tk[i];
            }
        }
        store_row(dst + static_cast<int64_t>(j) * ostride, line.data(), w, subtract);
    }
}

}  // namespace

void bind_background(nb::module_& m) {
    m.def("background_bin_statistics", &bin_statistics_py<float>, "image"_a.noconvert(), "mask"_a.noconvert().none(),
          "bitmask"_a, "x_edges"_a.noconvert(), "y_edges"_a.noconvert(), "statistic"_a, "n_sigma"_a, "n_iter"_a,
          "value"_a.noconvert(), "rms"_a.noconvert(), "n_good"_a.noconvert());
    m.def("background_bin_statistics", &bin_statistics_py<double>, "image"_a.noconvert(), "mask"_a.noconvert().none(),
          "bitmask"_a, "x_edges"_a.noconvert(), "y_edges"_a.noconvert(), "statistic"_a, "n_sigma"_a, "n_iter"_a,
          "value"_a.noconvert(), "rms"_a.noconvert(), "n_good"_a.noconvert());
    m.def("background_interpolate", &interpolate_py<float>, "grid"_a.noconvert(), "x_centers"_a.noconvert(),
          "y_centers"_a.noconvert(), "style"_a, "x_start"_a, "y_start"_a, "out"_a.noconvert(), "subtract"_a);
    m.def("background_interpolate", &interpolate_py<double>, "grid"_a.noconvert(), "x_centers"_a.noconvert(),
          "y_centers"_a.noconvert(), "style"_a, "x_start"_a, "y_start"_a, "out"_a.noconvert(), "subtract"_a);
    m.def("background_chebyshev", &chebyshev_py<float>, "coefficients"_a.noconvert(), "x_min"_a, "x_max"_a, "y_min"_a,
          "y_max"_a, "x_start"_a, "y_start"_a, "out"_a.noconvert(), "subtract"_a);
    m.def("background_chebyshev", &chebyshev_py<double>, "coefficients"_a.noconvert(), "x_min"_a, "x_max"_a,
          "y_min"_a, "y_max"_a, "x_start"_a, "y_start"_a, "out"_a.noconvert(), "subtract"_a);
}
