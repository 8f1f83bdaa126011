// Image statistics kernel behind osprey.afw.math.make_statistics.
//
// One call visits the good pixels of a 2-D region: finite, no bit of `bitmask` set in the
// mask (when given) and, when weighted, a finite positive variance (weight 1 / variance).
// Plain moments (count, sum, min, max, mean, variance) need no copy: one pass, plus a
// second one around the mean for the variance. Order statistics and clipping work on a
// compact copy of the good values (and weights), see osprey/afw/statistics.h. The region
// may be a strided view (rows anywhere, columns adjacent), so sub-boxes are never copied.
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

#include "osprey/afw/statistics.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

namespace st = osprey::afw::stats;

// What the caller needs computed (the cheap count/sum/min/max are always computed).
enum Need : int {
    kMoments = 1,    // mean and variance
    kMedian = 2,
    kQuartiles = 4,  // 25th and 75th percentiles
    kClip = 8,       // clipped mean and variance
    kMad = 16,       // 1.4826 * MAD (implies the median)
};

// Layout of the output vector (mirrored in python/osprey/afw/math/_statistics.py).
enum Slot : int {
    kNpoint = 0,
    kSum,
    kMin,
    kMax,
    kMean,
    kVariance,
    kSumW,
    kMedianSlot,
    kQ25,
    kQ75,
    kMadSigma,
    kMeanClip,
    kVarianceClip,
    kNClip,
    kSumWClip,
    kClipIterations,
    kNSlots
};

template <class T>
struct Region {
    const T* data;
    int64_t stride;  // elements between rows
    size_t ny, nx;
    const int32_t* mask;  // nullptr: no mask
    int64_t mask_stride;
    int32_t bitmask;
    const float* var;  // nullptr: unweighted
    int64_t var_stride;

    // Calls fn(x, w) for every good pixel, row by row; w is 1 when unweighted.
    template <class Fn>
    void for_each_good(Fn&& fn) const {
        for (size_t j = 0; j < ny; ++j) {
            const T* row = data + static_cast<int64_t>(j) * stride;
            const int32_t* mrow = mask ? mask + static_cast<int64_t>(j) * mask_stride : nullptr;
            const float* vrow = var ? var + static_cast<int64_t>(j) * var_stride : nullptr;
            for (size_t i = 0; i < nx; ++i) {
                const T x = row[i];
                if (!std::isfinite(x) || (mrow && (mrow[i] & bitmask) != 0)) {
                    continue;
                }
                if (vrow) {
                    const float v = vrow[i];
                    if (!(v > 0.0f) || !std::isfinite(v)) {
                        continue;
                    }
                    fn(x, 1.0 / static_cast<double>(v));
                } else {
                    fn(x, 1.0);
                }
            }
        }
    }
};

template <class T>
void compute(Region<T> const& reg, int need, double n_sigma, int n_iter, double* out) {
    for (int k = 0; k < kNSlots; ++k) {
        out[k] = st::kNaN;
    }
    const bool weighted = reg.var != nullptr;
    const bool compact = (need & (kMedian | kQuartiles | kClip | kMad)) != 0;
    std::vector<T> values;
    std::vector<double> weights;
    size_t n = 0;
    T lo = std::numeric_limits<T>::max();
    T hi = std::numeric_limits<T>::lowest();
    st::BlockedSums sums;
    if (compact) {
        values.reserve(reg.ny * reg.nx);
        if (weighted) {
            weights.reserve(reg.ny * reg.nx);
        }
    }
    reg.for_each_good([&](T x, double w) {
        ++n;
        lo = (x < lo) ? x : lo;
        hi = (x > hi) ? x : hi;
        sums.add(static_cast<double>(x), w);
        if (compact) {
            values.push_back(x);
            if (weighted) {
                weights.push_back(w);
            }
        }
    });
    sums.flush();
    out[kNpoint] = static_cast<double>(n);
    // Unweighted sum of the good pixels (sums.wx is weighted when weights are given).
    out[kSum] = 0.0;
    if (n == 0) {
        return;
    }
    out[kMin] = static_cast<double>(lo);
    out[kMax] = static_cast<double>(hi);
    out[kSumW] = sums.w;
    if (weighted) {
        // The weighted pass does not give the plain sum; take it from the compact copy or a
        // light extra pass.
        st::BlockedSums plain;
        if (compact) {
            for (size_t i = 0; i < n; ++i) {
                plain.add(static_cast<double>(values[i]), 1.0);
            }
        } else {
            reg.for_each_good([&](T x, double) { plain.add(static_cast<double>(x), 1.0); });
        }
        plain.flush();
        out[kSum] = plain.wx;
    } else {
        out[kSum] = sums.wx;
    }
    if (need & kMoments) {
        const double mean0 = sums.wx / sums.w;
        st::BlockedSums second;
        if (compact) {
            for (size_t i = 0; i < n; ++i) {
                second.add(static_cast<double>(values[i]) - mean0, weighted ? weights[i] : 1.0);
            }
        } else {
            reg.for_each_good([&](T x, double w) { second.add(static_cast<double>(x) - mean0, w); });
        }
        const st::Moments mom = st::moments_from_sums(second, mean0);
        out[kMean] = mom.mean;
        out[kVariance] = mom.variance;
    }
    std::vector<T> scratch;
    double med = st::kNaN;
    if (need & (kMedian | kMad)) {
        med = st::median(values.data(), n, lo, hi, scratch);
        out[kMedianSlot] = med;
    }
    if (need & kQuartiles) {
        out[kQ25] = st::quantile(values.data(), n, 0.25, lo, hi, scratch);
        out[kQ75] = st::quantile(values.data(), n, 0.75, lo, hi, scratch);
    }
    if (need & kMad) {
        std::vector<double> dev;
        std::vector<double> dev_scratch;
        out[kMadSigma] = st::mad_sigma(values.data(), n, med, dev, dev_scratch);
    }
    if (need & kClip) {
        // Clipping reorders and shrinks `values`: it runs last.
        const st::ClipResult clip = st::sigma_clip(values.data(), weighted ? weights.data() : nullptr, n, lo, hi,
                                                   n_sigma, n_iter, scratch);
        out[kMeanClip] = clip.moments.mean;
        out[kVarianceClip] = clip.moments.variance;
        out[kNClip] = static_cast<double>(clip.n_kept);
        out[kSumWClip] = clip.moments.sum_w;
        out[kClipIterations] = static_cast<double>(clip.iterations);
    }
}

template <class T>
using Pixels = nb::ndarray<const T, nb::ndim<2>, nb::device::cpu>;
using MaskArr = nb::ndarray<const int32_t, nb::ndim<2>, nb::device::cpu>;
using VarArr = nb::ndarray<const float, nb::ndim<2>, nb::device::cpu>;
using OutArr = nb::ndarray<double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

template <class A>
void check_plane(A const& a, size_t ny, size_t nx, const char* what) {
    if (a.shape(0) != ny || a.shape(1) != nx) {
        throw std::invalid_argument(std::string(what) + " must have the image's shape");
    }
    if (nx > 1 && a.stride(1) != 1) {
        throw std::invalid_argument(std::string(what) + " must have adjacent columns (stride 1)");
    }
}

template <class T>
void statistics_py(Pixels<T> image, MaskArr mask, VarArr variance, int32_t bitmask, int need, double n_sigma,
                   int n_iter, OutArr out) {
    const size_t ny = image.shape(0);
    const size_t nx = image.shape(1);
    check_plane(image, ny, nx, "image");
    if (mask.is_valid()) {
        check_plane(mask, ny, nx, "mask");
    }
    if (variance.is_valid()) {
        check_plane(variance, ny, nx, "variance");
    }
    if (out.shape(0) != static_cast<size_t>(kNSlots)) {
        throw std::invalid_argument("out must have " + std::to_string(static_cast<int>(kNSlots)) + " elements");
    }
    if (!(n_sigma > 0.0) || n_iter < 0) {
        throw std::domain_error("n_sigma must be > 0 and n_iter >= 0");
    }
    Region<T> reg{image.data(),
                  image.stride(0),
                  ny,
                  nx,
                  mask.is_valid() ? mask.data() : nullptr,
                  mask.is_valid() ? mask.stride(0) : 0,
                  bitmask,
                  variance.is_valid() ? variance.data() : nullptr,
                  variance.is_valid() ? variance.stride(0) : 0};
    double* dst = out.data();
    nb::gil_scoped_release nogil;
    compute(reg, need, n_sigma, n_iter, dst);
}

}  // namespace

void bind_statistics(nb::module_& m) {
    m.attr("statistics_n_slots") = static_cast<int>(kNSlots);
    m.def("statistics_compute", &statistics_py<float>, "image"_a.noconvert(), "mask"_a.noconvert().none(),
          "variance"_a.noconvert().none(), "bitmask"_a, "need"_a, "n_sigma"_a, "n_iter"_a, "out"_a.noconvert());
    m.def("statistics_compute", &statistics_py<double>, "image"_a.noconvert(), "mask"_a.noconvert().none(),
          "variance"_a.noconvert().none(), "bitmask"_a, "need"_a, "n_sigma"_a, "n_iter"_a, "out"_a.noconvert());
}
