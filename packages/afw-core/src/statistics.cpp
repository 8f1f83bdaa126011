// Image statistics kernel behind osprey.afw.math.make_statistics.
//
// One call visits the good pixels of a 2-D region: finite, no bit of `bitmask` set in the
// mask (when given) and, when weighted, a finite positive variance (weight 1 / variance).
// Plain moments (count, sum, min, max, mean, variance) need no copy: one pass summing
// around a central shift (the median of a 1024-pixel sample), repeated around the mean in
// the rare case that the shift is more than 4 sigma away. The unweighted median and
// clipping use a CoreBand (one SIMD pass keeping only the tails and a band around the
// median), the unweighted quartiles and MAD a Partition (the good values counting-sorted
// into value buckets in two passes), weighted statistics a compact copy of the values and
// weights. See osprey/afw/statistics.h for all three. The region may be a strided view
// (rows anywhere, columns adjacent), so sub-boxes are never copied.
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
using Region = st::ImageRegion<T>;

// What one pass over the region found: count, extremes, unit-weight sums about the shift
// and, when weighted, the inverse-variance-weighted sums.
struct PassResult {
    size_t n = 0;
    double lo = st::kInf;
    double hi = -st::kInf;
    st::Sums plain;
    st::Sums weighted;
};

// One pass over the good pixels; when `vals` is non-null they are also copied there (and
// their weights into `wts` when weighted). Unweighted rows run in four branch-free lanes.
template <class T, bool HasMask>
PassResult unweighted_pass(Region<T> const& reg, double shift, T* vals) {
    PassResult r;
    st::LaneSums acc(shift);
    T lo[4], hi[4];
    for (int l = 0; l < 4; ++l) {
        lo[l] = std::numeric_limits<T>::infinity();
        hi[l] = -std::numeric_limits<T>::infinity();
    }
    size_t w = 0;
    for (size_t j = 0; j < reg.ny; ++j) {
        const T* row = reg.data + static_cast<int64_t>(j) * reg.stride;
        const int32_t* mrow = HasMask ? reg.mask + static_cast<int64_t>(j) * reg.mask_stride : nullptr;
        auto step = [&](size_t i, int l) {
            const T x = row[i];
            bool ok = std::isfinite(x);
            if constexpr (HasMask) {
                ok = ok && (mrow[i] & reg.bitmask) == 0;
            }
            if (vals) {
                vals[w] = x;
                w += ok ? 1 : 0;
            }
            const double d = ok ? static_cast<double>(x) - shift : 0.0;
            acc.n[l] += ok ? 1.0 : 0.0;
            acc.s1[l] += d;
            acc.s2[l] += d * d;
            lo[l] = ok ? std::min(lo[l], x) : lo[l];
            hi[l] = ok ? std::max(hi[l], x) : hi[l];
        };
        size_t i = 0;
        for (; i + 4 <= reg.nx; i += 4) {
            step(i, 0);
            step(i + 1, 1);
            step(i + 2, 2);
            step(i + 3, 3);
        }
        for (; i < reg.nx; ++i) {
            step(i, 0);
        }
        acc.flush();
    }
    r.plain = acc.result();
    r.n = static_cast<size_t>(r.plain.w);
    for (int l = 0; l < 4; ++l) {
        r.lo = std::min(r.lo, static_cast<double>(lo[l]));
        r.hi = std::max(r.hi, static_cast<double>(hi[l]));
    }
    return r;
}

template <class T>
PassResult weighted_pass(Region<T> const& reg, double shift, T* vals, double* wts) {
    PassResult r;
    r.plain.shift = r.weighted.shift = shift;
    for (size_t j = 0; j < reg.ny; ++j) {
        const T* row = reg.data + static_cast<int64_t>(j) * reg.stride;
        for (size_t i = 0; i < reg.nx; ++i) {
            if (!reg.good(j, i)) {
                continue;
            }
            const double x = static_cast<double>(row[i]);
            const double wt = 1.0 / static_cast<double>(reg.var[static_cast<int64_t>(j) * reg.var_stride + i]);
            const double d = x - shift;
            if (vals) {
                vals[r.n] = row[i];
                wts[r.n] = wt;
            }
            ++r.n;
            r.lo = std::min(r.lo, x);
            r.hi = std::max(r.hi, x);
            r.plain.w += 1.0;
            r.plain.s1 += d;
            r.plain.s2 += d * d;
            r.weighted.w += wt;
            r.weighted.s1 += wt * d;
            r.weighted.s2 += wt * d * d;
            r.weighted.w2 += wt * wt;
        }
    }
    r.plain.w2 = r.plain.w;
    return r;
}

template <class T>
PassResult run_pass(Region<T> const& reg, double shift, T* vals, double* wts) {
    if (reg.var) {
        return weighted_pass(reg, shift, vals, wts);
    }
    return reg.mask ? unweighted_pass<T, true>(reg, shift, vals) : unweighted_pass<T, false>(reg, shift, vals);
}

// A central value to accumulate around: the median of the sample (0 when it is empty).
inline double sample_median(std::vector<double> sample) {
    if (sample.empty()) {
        return 0.0;
    }
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(sample.size() / 2), sample.end());
    return sample[sample.size() / 2];
}

// Unweighted statistics that need order statistics or clipping: everything from a
// Partition of the good pixels (two passes over the region, see osprey/afw/statistics.h).
template <class T>
void compute_partitioned(Region<T> const& reg, int need, double n_sigma, int n_iter, double* out) {
    st::Partition<T> part;
    if (!part.template build<false>(st::good_sample(reg, 1024), st::GoodPixels<T>{reg}, st::kBuckets, 0)) {
        return;
    }
    const size_t n = part.size();
    const st::Sums all = part.sums(-st::kInf, st::kInf);
    out[kNpoint] = static_cast<double>(n);
    out[kSum] = static_cast<double>(n) * all.shift + all.s1;
    out[kMin] = part.min();
    out[kMax] = part.max();
    out[kSumW] = all.w;
    if (need & kMoments) {
        const st::Moments mom = st::moments_from(all);
        out[kMean] = mom.mean;
        out[kVariance] = mom.variance;
    }
    st::Buffer<T> scratch;
    double med = st::kNaN;
    if (need & (kMedian | kMad)) {
        med = part.median(-st::kInf, st::kInf, n, scratch);
        out[kMedianSlot] = med;
    }
    if (need & kQuartiles) {
        out[kQ25] = part.quantile(0.25, scratch);
        out[kQ75] = part.quantile(0.75, scratch);
    }
    if (need & kMad) {
        st::Buffer<double> dev;
        st::Scratch<double> dev_scratch;
        out[kMadSigma] = st::mad_sigma(part.values(), n, med, dev, dev_scratch);
    }
    if (need & kClip) {
        const st::ClipResult clip = st::sigma_clip(part, n_sigma, n_iter, scratch);
        out[kMeanClip] = clip.moments.mean;
        out[kVarianceClip] = clip.moments.variance;
        out[kNClip] = static_cast<double>(clip.n_kept);
        out[kSumWClip] = clip.moments.sum_w;
        out[kClipIterations] = static_cast<double>(clip.iterations);
    }
}

// Unweighted median and clipping without quartiles or MAD: everything from a CoreBand (one
// pass over the region, see osprey/afw/statistics.h).
template <class T>
void compute_core_band(Region<T> const& reg, int need, double n_sigma, int n_iter, double* out) {
    st::CoreBand<T> cb;
    if (!cb.template build<true>(reg, st::grid_sample(reg, 4096), n_sigma)) {
        return;
    }
    const size_t n = cb.size();
    const st::Sums all = cb.sums(-st::kInf, st::kInf);
    out[kNpoint] = static_cast<double>(n);
    out[kSum] = static_cast<double>(n) * all.shift + all.s1;
    out[kMin] = cb.min();
    out[kMax] = cb.max();
    out[kSumW] = all.w;
    if (need & kMoments) {
        const st::Moments mom = st::moments_from(all);
        out[kMean] = mom.mean;
        out[kVariance] = mom.variance;
    }
    if (need & kMedian) {
        out[kMedianSlot] = cb.median(-st::kInf, st::kInf, n);
    }
    if (need & kClip) {
        const st::ClipResult clip = st::sigma_clip(cb, n_sigma, n_iter);
        out[kMeanClip] = clip.moments.mean;
        out[kVarianceClip] = clip.moments.variance;
        out[kNClip] = static_cast<double>(clip.n_kept);
        out[kSumWClip] = clip.moments.sum_w;
        out[kClipIterations] = static_cast<double>(clip.iterations);
    }
}

template <class T>
void compute(Region<T> const& reg, int need, double n_sigma, int n_iter, double* out) {
    for (int k = 0; k < kNSlots; ++k) {
        out[k] = st::kNaN;
    }
    const bool weighted = reg.var != nullptr;
    const bool compact = (need & (kMedian | kQuartiles | kClip | kMad)) != 0;
    out[kNpoint] = 0.0;
    out[kSum] = 0.0;
    if (compact && !weighted) {
        if (need & (kQuartiles | kMad)) {
            compute_partitioned(reg, need, n_sigma, n_iter, out);
        } else {
            compute_core_band(reg, need, n_sigma, n_iter, out);
        }
        return;
    }
    st::Buffer<T> values;
    st::Buffer<double> weights;
    if (compact) {
        values.resize(reg.ny * reg.nx);
        if (weighted) {
            weights.resize(reg.ny * reg.nx);
        }
    }
    const double shift = sample_median(st::good_sample(reg, 1024));
    PassResult pass = run_pass(reg, shift, compact ? values.data() : nullptr, weighted ? weights.data() : nullptr);
    const size_t n = pass.n;
    out[kNpoint] = static_cast<double>(n);
    out[kSum] = 0.0;
    if (n == 0) {
        return;
    }
    out[kSum] = static_cast<double>(n) * shift + pass.plain.s1;
    out[kMin] = pass.lo;
    out[kMax] = pass.hi;
    st::Sums& main_sums = weighted ? pass.weighted : pass.plain;
    out[kSumW] = main_sums.w;
    if (need & kMoments) {
        st::Moments mom = st::moments_from(main_sums);
        // A poor shift (far from the mean in units of sigma) costs precision: redo around the mean.
        if (n > 1 && !(std::abs(mom.mean - shift) <= 4.0 * std::sqrt(mom.variance))) {
            st::Sums again;
            if (compact) {
                again = st::sums_about(values.data(), weighted ? weights.data() : nullptr, n, mom.mean);
            } else {
                const PassResult p2 = run_pass(reg, mom.mean, static_cast<T*>(nullptr), nullptr);
                again = weighted ? p2.weighted : p2.plain;
            }
            mom = st::moments_from(again);
        }
        out[kMean] = mom.mean;
        out[kVariance] = mom.variance;
    }
    st::Scratch<T> scratch;
    double med = st::kNaN;
    if (need & (kMedian | kMad)) {
        med = st::median(values.data(), n, pass.lo, pass.hi, scratch);
        out[kMedianSlot] = med;
    }
    if (need & kQuartiles) {
        out[kQ25] = st::quantile(values.data(), n, 0.25, pass.lo, pass.hi, scratch);
        out[kQ75] = st::quantile(values.data(), n, 0.75, pass.lo, pass.hi, scratch);
    }
    if (need & kMad) {
        st::Buffer<double> dev;
        st::Scratch<double> dev_scratch;
        out[kMadSigma] = st::mad_sigma(values.data(), n, med, dev, dev_scratch);
    }
    if (need & kClip) {
        const st::ClipResult clip = st::sigma_clip(values.data(), weighted ? weights.data() : nullptr, n, pass.lo,
                                                   pass.hi, pass.plain, n_sigma, n_iter, scratch);
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
