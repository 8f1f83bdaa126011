// Robust one-dimensional statistics shared by osprey.afw.math's Statistics and Background
// kernels. Header-only, no Python types. Inputs are the good (finite, unmasked) values,
// either a compact array, which is never modified, or an ImageRegion walked by GoodPixels.
//
// * CoreBand (the unweighted median and clipping path; MEDIAN, MEANCLIP, background bins):
//   one SIMD pass over the region that sums a central core of values, keeps the few values
//   outside it and a narrow band around the median, after which every clipping interval
//   and median costs a scan of the short lists (see the class comment).
// * Partition (unweighted quartiles and MAD, MEDIAN background bins): the values
//   counting-sorted into K equal-width value buckets over the 0.5%-99.5% range of a
//   sample, plus one bucket below and one above, with each bucket's count and sums kept.
//   Two passes build it (counts and sums, then the scatter); afterwards the count, sums
//   and order statistics of the values inside any interval [L, H] cost O(K) plus scans of
//   the few buckets holding L, H and the wanted rank. Medians, quantiles and clipping can
//   be answered from it.
// * Sigma clipping (median-centred, astropy-compatible): iteration k takes the median c
//   and the population standard deviation s of the current survivors and keeps the values
//   with c - n_sigma s <= x <= c + n_sigma s; it stops after n_iter iterations or as soon
//   as an iteration rejects nothing. Rejection is cumulative, so the survivors are always
//   the values inside [max of the lower bounds, min of the upper bounds], an interval:
//   exactly the query a CoreBand or a Partition answers. The clipped mean and sample
//   (n - 1) variance of the survivors are returned. The weighted variant (weights carried
//   beside a compact array) uses one read-only pass per iteration plus the selection below.
// * Exact order statistics on a compact array (weighted path, MAD): histogram selection
//   over 4096 buckets between the extremes, keeping only the members of the bucket with
//   the wanted rank and repeating; std::nth_element finishes below 4096 candidates.
// * Sums are accumulated in double around a central shift (a median or its estimate),
//   so the one-pass variance (S2 - S1^2 / n) / (n - 1) keeps full precision:
//   |mean - median| is never more than one standard deviation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace osprey::afw::stats {

inline constexpr size_t kBuckets = 4096;
inline constexpr size_t kSmallSelect = 4096;
inline constexpr int kMaxSelectLevels = 8;
inline constexpr size_t kBlock = 4096;
inline constexpr size_t kMaxPartitionBuckets = 65533;  // bucket numbers (with 2 outer ones) fit uint16
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();
// 1 / Phi^-1(3/4): converts a median absolute deviation into a Gaussian sigma.
inline constexpr double kMadToSigma = 1.482602218505602;

// An allocator whose value-construction leaves trivial types uninitialised, so that a
// buffer about to be overwritten is not zero-filled first.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() noexcept = default;
    template <class U>
    DefaultInitAllocator(DefaultInitAllocator<U> const&) noexcept {}
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <class T>
using Buffer = std::vector<T, DefaultInitAllocator<T>>;

// Reusable work space of the selections (one per thread or call).
template <class T>
struct Scratch {
    Buffer<T> values;
    std::vector<uint32_t> hist = std::vector<uint32_t>(kBuckets);
};

// Monotonic map from [lo, hi] to bucket numbers 0 .. kBuckets - 1.
struct Bucketer {
    double lo, hi, scale;
    Bucketer(double l, double h) : lo(l), hi(h), scale((h > l) ? static_cast<double>(kBuckets) / (h - l) : 0.0) {}
    // Branch-free: clamped in double (also for values outside [lo, hi]) before conversion.
    size_t operator()(double x) const {
        const double t = std::min(std::max((x - lo) * scale, 0.0), static_cast<double>(kBuckets - 1));
        return static_cast<size_t>(static_cast<int64_t>(t));
    }
    bool contains(double x) const { return (x >= lo) & (x <= hi); }
};

template <class T>
void histogram(const T* a, size_t n, Bucketer const& b, uint32_t* hist) {
    std::fill(hist, hist + kBuckets, 0U);
    for (size_t i = 0; i < n; ++i) {
        ++hist[b(static_cast<double>(a[i]))];
    }
}

// Ranks k and k + 1 (0-based, ascending) among the m values of src[0..n) that lie inside
// [b.lo, b.hi], given their histogram `hist` (which may be scratch.hist itself); the second
// equals the first when k + 1 == m. `src` must not alias scratch.values unless every value
// of src is inside the range.
template <class T>
std::pair<double, double> select_from_histogram(const T* src, size_t n, Bucketer b, const uint32_t* hist, size_t m,
                                                size_t k, Scratch<T>& scratch) {
    for (int level = 0;; ++level) {
        const bool want_next = k + 1 < m;
        size_t before = 0;
        size_t b0 = 0;
        while (before + hist[b0] <= k) {
            before += hist[b0];
            ++b0;
        }
        k -= before;
        size_t b1 = b0;
        size_t count = hist[b0];
        if (want_next && k + 1 >= hist[b0]) {
            b1 = b0 + 1;
            while (hist[b1] == 0) {
                ++b1;
            }
            count += hist[b1];
        }
        if (src != scratch.values.data()) {
            scratch.values.resize(std::max(scratch.values.size(), count));
        }
        T* dst = scratch.values.data();
        size_t w = 0;
        double lo = kInf;
        double hi = -kInf;
        const size_t span = b1 - b0;
        for (size_t i = 0; i < n; ++i) {
            const double x = static_cast<double>(src[i]);
            // One rarely taken branch: bucket in [b0, b1] as a single unsigned comparison.
            if (b.contains(x) & (b(x) - b0 <= span)) {
                dst[w++] = src[i];  // in place on later levels: w <= i
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            }
        }
        src = dst;
        n = m = w;
        if (!(lo < hi)) {
            return {lo, lo};  // every candidate is equal
        }
        if (m <= kSmallSelect || level + 1 >= kMaxSelectLevels) {
            T* s = scratch.values.data();
            std::nth_element(s, s + k, s + m);
            const double v0 = static_cast<double>(s[k]);
            const double v1 = (k + 1 < m) ? static_cast<double>(*std::min_element(s + k + 1, s + m)) : v0;
            return {v0, v1};
        }
        b = Bucketer(lo, hi);
        histogram(src, n, b, scratch.hist.data());
        hist = scratch.hist.data();
    }
}

// Ranks k and k + 1 of a[0..n) (n >= 1, k < n); lo and hi are the minimum and maximum.
template <class T>
std::pair<double, double> select_pair(const T* a, size_t n, size_t k, double lo, double hi, Scratch<T>& scratch) {
    if (!(lo < hi)) {
        return {lo, lo};
    }
    if (n <= kSmallSelect) {
        scratch.values.assign(a, a + n);
        T* s = scratch.values.data();
        std::nth_element(s, s + k, s + n);
        const double v0 = static_cast<double>(s[k]);
        const double v1 = (k + 1 < n) ? static_cast<double>(*std::min_element(s + k + 1, s + n)) : v0;
        return {v0, v1};
    }
    const Bucketer b(lo, hi);
    histogram(a, n, b, scratch.hist.data());
    return select_from_histogram(a, n, b, scratch.hist.data(), n, k, scratch);
}

// Median: the middle value, or the mean of the two middle values when n is even.
template <class T>
double median(const T* a, size_t n, double lo, double hi, Scratch<T>& scratch) {
    if (n == 0) {
        return kNaN;
    }
    const auto [v0, v1] = select_pair(a, n, (n - 1) / 2, lo, hi, scratch);
    return (n % 2 == 1) ? v0 : 0.5 * (v0 + v1);
}

// Quantile p in [0, 1] with numpy's default ("linear") rule: position p (n - 1) between
// the two neighbouring order statistics. NaN for n == 0.
template <class T>
double quantile(const T* a, size_t n, double p, double lo, double hi, Scratch<T>& scratch) {
    if (n == 0) {
        return kNaN;
    }
    const double pos = p * static_cast<double>(n - 1);
    const auto k = std::min(static_cast<size_t>(std::floor(pos)), n - 1);
    const double frac = pos - static_cast<double>(k);
    const auto [v0, v1] = select_pair(a, n, k, lo, hi, scratch);
    if (frac == 0.0) {
        return v0;
    }
    return (frac < 0.5) ? v0 + (v1 - v0) * frac : v1 - (v1 - v0) * (1.0 - frac);
}

// 1.4826 * median(|x - med|), with the deviations formed in double.
template <class T>
double mad_sigma(const T* a, size_t n, double med, Buffer<double>& dev, Scratch<double>& scratch) {
    if (n == 0) {
        return kNaN;
    }
    dev.resize(n);
    double lo = kInf;
    double hi = 0.0;
    for (size_t i = 0; i < n; ++i) {
        dev[i] = std::abs(static_cast<double>(a[i]) - med);
        lo = std::min(lo, dev[i]);
        hi = std::max(hi, dev[i]);
    }
    return kMadToSigma * median(dev.data(), n, lo, hi, scratch);
}

// Weighted sums of d = x - shift: W = sum w, S1 = sum w d, S2 = sum w d^2, W2 = sum w^2
// (for unit weights W = W2 = n).
struct Sums {
    double shift = 0.0;
    double w = 0, s1 = 0, s2 = 0, w2 = 0;
};

struct Moments {
    double mean = kNaN;
    double variance = kNaN;  // sample (n - 1) or reliability-weighted
    double sum_w = 0;
};

// Mean shift + S1 / W and variance (S2 - S1^2 / W) / (W - W2 / W); NaN where undefined.
inline Moments moments_from(Sums const& s) {
    Moments out;
    out.sum_w = s.w;
    if (s.w > 0) {
        out.mean = s.shift + s.s1 / s.w;
        const double dof = s.w - s.w2 / s.w;
        if (dof > 0) {
            out.variance = std::max(0.0, (s.s2 - s.s1 * s.s1 / s.w) / dof);
        }
    }
    return out;
}

// Population standard deviation from unit-weight sums.
inline double population_sd(Sums const& s) {
    if (!(s.w > 0)) {
        return kNaN;
    }
    const double m1 = s.s1 / s.w;
    return std::sqrt(std::max(0.0, s.s2 / s.w - m1 * m1));
}

// Four-lane accumulators of count, sum d and sum d^2 (unit weights), with block flushes.
struct LaneSums {
    double n[4] = {0, 0, 0, 0};
    double s1[4] = {0, 0, 0, 0};
    double s2[4] = {0, 0, 0, 0};
    Sums total;

    explicit LaneSums(double shift) { total.shift = shift; }
    void flush() {
        for (int l = 0; l < 4; ++l) {
            total.w += n[l];
            total.s1 += s1[l];
            total.s2 += s2[l];
            n[l] = s1[l] = s2[l] = 0.0;
        }
    }
    Sums result() {
        flush();
        total.w2 = total.w;
        return total;
    }
};

// Sums of (x - shift), unit weights or w[i], over a[0..n).
template <class T>
Sums sums_about(const T* a, const double* w, size_t n, double shift) {
    if (w) {
        Sums s;
        s.shift = shift;
        for (size_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(a[i]) - shift;
            s.w += w[i];
            s.s1 += w[i] * d;
            s.s2 += w[i] * d * d;
            s.w2 += w[i] * w[i];
        }
        return s;
    }
    LaneSums acc(shift);
    for (size_t start = 0; start < n; start += kBlock) {
        const size_t end = std::min(n, start + kBlock);
        size_t i = start;
        for (; i + 4 <= end; i += 4) {
            for (int l = 0; l < 4; ++l) {
                const double d = static_cast<double>(a[i + l]) - shift;
                acc.n[l] += 1.0;
                acc.s1[l] += d;
                acc.s2[l] += d * d;
            }
        }
        for (; i < end; ++i) {
            const double d = static_cast<double>(a[i]) - shift;
            acc.n[0] += 1.0;
            acc.s1[0] += d;
            acc.s2[0] += d * d;
        }
        acc.flush();
    }
    return acc.result();
}

struct ClipResult {
    Moments moments;     // of the survivors (weighted when weights were given)
    size_t n_kept = 0;   // survivors
    int iterations = 0;  // clipping iterations performed (the one rejecting nothing counts)
};

// One clipping pass: the values of a[0..n) inside [lower, upper], their sums about `shift`
// (weighted by w when given) and, when `hist` is non-null, their histogram over the bounds.
template <class T>
size_t clip_pass(const T* a, const double* w, size_t n, double lower, double upper, double shift, uint32_t* hist,
                 Sums& sums) {
    const Bucketer b(lower, upper);
    if (hist) {
        std::fill(hist, hist + kBuckets + 1, 0U);  // bucket kBuckets collects the rejected values
    }
    if (w) {
        Sums s;
        s.shift = shift;
        size_t kept = 0;
        for (size_t i = 0; i < n; ++i) {
            const double x = static_cast<double>(a[i]);
            if (b.contains(x)) {
                const double d = x - shift;
                s.w += w[i];
                s.s1 += w[i] * d;
                s.s2 += w[i] * d * d;
                s.w2 += w[i] * w[i];
                ++kept;
                if (hist) {
                    ++hist[b(x)];
                }
            }
        }
        sums = s;
        return kept;
    }
    LaneSums acc(shift);
    for (size_t start = 0; start < n; start += kBlock) {
        const size_t end = std::min(n, start + kBlock);
        size_t i = start;
        for (; i + 4 <= end; i += 4) {
            for (int l = 0; l < 4; ++l) {
                const double x = static_cast<double>(a[i + l]);
                const bool keep = b.contains(x);
                const double d = keep ? x - shift : 0.0;
                acc.n[l] += keep ? 1.0 : 0.0;
                acc.s1[l] += d;
                acc.s2[l] += d * d;
                if (hist) {
                    ++hist[keep ? b(x) : kBuckets];
                }
            }
        }
        for (; i < end; ++i) {
            const double x = static_cast<double>(a[i]);
            const bool keep = b.contains(x);
            const double d = keep ? x - shift : 0.0;
            acc.n[0] += keep ? 1.0 : 0.0;
            acc.s1[0] += d;
            acc.s2[0] += d * d;
            if (hist) {
                ++hist[keep ? b(x) : kBuckets];
            }
        }
        acc.flush();
    }
    sums = acc.result();
    return static_cast<size_t>(sums.w);
}

// Median-centred iterative sigma clipping of a[0..n) (see the header comment); `a` is not
// modified. lo and hi are the minimum and maximum of a, `all` its unit-weight sums about
// any central shift (used for the first standard deviation).
template <class T>
ClipResult sigma_clip(const T* a, const double* w, size_t n, double lo, double hi, Sums const& all, double n_sigma,
                      int n_iter, Scratch<T>& scratch) {
    ClipResult out;
    if (n == 0) {
        return out;
    }
    std::vector<uint32_t> hist(kBuckets + 1);
    double lower = -kInf;
    double upper = kInf;
    size_t m = n;
    double c = median(a, n, lo, hi, scratch);
    double sd = population_sd(all);
    Sums sums;
    bool have_sums = false;
    for (int it = 0; it < n_iter; ++it) {
        lower = std::max(lower, c - n_sigma * sd);
        upper = std::min(upper, c + n_sigma * sd);
        const bool more = it + 1 < n_iter;
        const size_t kept = clip_pass(a, w, n, lower, upper, c, more ? hist.data() : nullptr, sums);
        have_sums = true;
        out.iterations = it + 1;
        if (kept == m || kept == 0) {
            m = kept;
            break;
        }
        m = kept;
        if (more) {
            const auto [v0, v1] = select_from_histogram(a, n, Bucketer(lower, upper), hist.data(), m, (m - 1) / 2,
                                                        scratch);
            // The clipping sigma is unweighted: with weights, recompute it from the survivors.
            Sums plain = sums;
            if (w) {
                clip_pass(a, static_cast<const double*>(nullptr), n, lower, upper, c, nullptr, plain);
            }
            c = (m % 2 == 1) ? v0 : 0.5 * (v0 + v1);
            sd = population_sd(plain);
        }
    }
    if (!have_sums) {  // n_iter == 0: moments of everything
        clip_pass(a, w, n, -kInf, kInf, c, nullptr, sums);
    }
    out.n_kept = m;
    out.moments = moments_from(sums);
    return out;
}

// A 2-D region of pixels (rows `stride` elements apart, columns adjacent) with an optional
// int32 mask (pixels with a bit of `bitmask` set are bad) and optional float variance
// (when given, pixels without a finite positive variance are bad). Non-finite pixels are bad.
template <class T>
struct ImageRegion {
    const T* data;
    int64_t stride;  // elements between rows
    size_t ny, nx;
    const int32_t* mask;  // nullptr: no mask
    int64_t mask_stride;
    int32_t bitmask;
    const float* var;  // nullptr: unweighted
    int64_t var_stride;

    bool good(size_t j, size_t i) const {
        const T x = data[static_cast<int64_t>(j) * stride + static_cast<int64_t>(i)];
        if (!std::isfinite(x) || (mask && (mask[static_cast<int64_t>(j) * mask_stride + static_cast<int64_t>(i)] & bitmask) != 0)) {
            return false;
        }
        if (var) {
            const float v = var[static_cast<int64_t>(j) * var_stride + static_cast<int64_t>(i)];
            return v > 0.0f && std::isfinite(v);
        }
        return true;
    }
};

// Up to about max_sample good pixels spread over the region (strided), or the first good pixels when
// the strided positions miss them all.
template <class T>
std::vector<double> good_sample(ImageRegion<T> const& reg, size_t max_sample) {
    const size_t total = reg.ny * reg.nx;
    const size_t step = std::max<size_t>(1, total / max_sample);
    std::vector<double> sample;
    for (size_t k = 0; k < total; k += step) {
        if (reg.good(k / reg.nx, k % reg.nx)) {
            sample.push_back(static_cast<double>(reg.data[static_cast<int64_t>(k / reg.nx) * reg.stride +
                                                          static_cast<int64_t>(k % reg.nx)]));
        }
    }
    for (size_t k = 0; k < total && sample.empty(); ++k) {
        if (reg.good(k / reg.nx, k % reg.nx)) {
            sample.push_back(static_cast<double>(reg.data[static_cast<int64_t>(k / reg.nx) * reg.stride +
                                                          static_cast<int64_t>(k % reg.nx)]));
        }
    }
    return sample;
}

// Up to about max_sample good pixels on a regular grid over the region (rows and columns
// spread evenly), or the first good pixels when the grid misses them all.
template <class T>
std::vector<double> grid_sample(ImageRegion<T> const& reg, size_t max_sample) {
    std::vector<double> sample;
    if (reg.ny == 0 || reg.nx == 0) {
        return sample;
    }
    const double aspect = static_cast<double>(reg.ny) / static_cast<double>(reg.nx);
    const auto ry = std::clamp<size_t>(static_cast<size_t>(std::lround(std::sqrt(max_sample * aspect))), 1, reg.ny);
    const auto rx = std::clamp<size_t>(max_sample / ry, 1, reg.nx);
    sample.reserve(ry * rx);
    for (size_t a = 0; a < ry; ++a) {
        const size_t j = (2 * a + 1) * reg.ny / (2 * ry);
        for (size_t b = 0; b < rx; ++b) {
            const size_t i = (2 * b + 1) * reg.nx / (2 * rx);
            if (reg.good(j, i)) {
                const T x = reg.data[static_cast<int64_t>(j) * reg.stride + static_cast<int64_t>(i)];
                sample.push_back(static_cast<double>(x));
            }
        }
    }
    if (sample.empty()) {
        return good_sample(reg, max_sample);
    }
    return sample;
}

// Calls fn(x) for every good pixel of an unweighted region, row by row.
template <class T>
struct GoodPixels {
    ImageRegion<T> const& reg;
    template <class Fn>
    void operator()(Fn&& fn) const {
        for (size_t j = 0; j < reg.ny; ++j) {
            const T* row = reg.data + static_cast<int64_t>(j) * reg.stride;
            if (reg.mask) {
                const int32_t* mrow = reg.mask + static_cast<int64_t>(j) * reg.mask_stride;
                for (size_t i = 0; i < reg.nx; ++i) {
                    if (std::isfinite(row[i]) && (mrow[i] & reg.bitmask) == 0) {
                        fn(row[i]);
                    }
                }
            } else {
                for (size_t i = 0; i < reg.nx; ++i) {
                    if (std::isfinite(row[i])) {
                        fn(row[i]);
                    }
                }
            }
        }
    }
};

// The values of an array sorted by bucket (a counting sort), for repeated queries on value
// intervals [L, H]: counts and sums of the values inside, and their order statistics. The
// bucket map is monotonic: K equal-width core buckets over [A, B] (the 0.5% and 99.5%
// points of a sample of the values), plus one bucket below A and one above B. A query
// adds the per-bucket sums of the buckets strictly inside the interval and scans only the
// two buckets holding L and H, so a clipping iteration costs O(K) plus a few buckets.
template <class T>
class Partition {
public:
    // Builds from the values that for_each(fn) passes to fn(T) (one call), into n_buckets
    // core buckets. `sample` holds some
    // of the values (any order, at least one): its median becomes the shift of the sums and
    // its 0.5% and 99.5% points the core range. Returns false when there are no values.
    // With Keep, the first pass also keeps the values and their buckets (`capacity`: the
    // most values expected; more are handled by reallocation) and the scatter reads those:
    // best for small, cache-resident inputs. Without, the scatter calls for_each a second
    // time (which must then pass the same values in the same order): best for large inputs,
    // where the extra buffers would cost more in fresh memory than the re-read.
    // `replay`, when given with Keep, is a compact array that for_each walks in order: the
    // scatter then reads it instead of a kept copy.
    template <bool Keep, class ForEach>
    bool build(std::vector<double> sample, ForEach&& for_each, size_t n_buckets, size_t capacity,
               const T* replay = nullptr) {
        k_ = std::min(std::max<size_t>(1, n_buckets), kMaxPartitionBuckets);
        if (sample.empty()) {
            n_ = 0;
            return false;
        }
        const size_t ns = sample.size();
        const size_t i_lo = static_cast<size_t>(0.005 * static_cast<double>(ns));
        const size_t i_hi = std::min(ns - 1, static_cast<size_t>(0.995 * static_cast<double>(ns)));
        auto at = [&sample](size_t i) {
            std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(i), sample.end());
            return sample[i];
        };
        shift_ = at(ns / 2);
        double core_lo = at(i_lo);
        double core_hi = at(i_hi);
        if (!(core_lo < core_hi)) {
            core_lo = *std::min_element(sample.begin(), sample.end());
            core_hi = *std::max_element(sample.begin(), sample.end());
        }
        if (!(core_lo < core_hi) || !std::isfinite(static_cast<double>(k_) / (core_hi - core_lo))) {
            core_lo -= 0.5;  // all equal, or too close for a finite scale: one wide core
            core_hi += 0.5;
        }
        origin_ = core_lo;
        scale_ = static_cast<double>(k_) / (core_hi - core_lo);
        const size_t nb = k_ + 2;
        // Pass 1: per bucket, count and sums around the shift (interleaved, one cache line).
        acc_.assign(3 * nb, 0.0);
        double* acc = acc_.data();
        // The values and their buckets are also kept, so the scatter needs neither the
        // source nor the bucket map again.
        const bool copy = Keep && replay == nullptr;
        if (Keep && index_.size() < capacity) {
            index_.resize(capacity);
            if (copy) {
                compact_.resize(capacity);
            }
        }
        size_t m = 0;
        for_each([&](T x) {
            const double xd = static_cast<double>(x);
            const size_t b = bucket(xd);
            const double d = xd - shift_;
            if constexpr (Keep) {
                if (m == index_.size()) {
                    index_.resize(std::max<size_t>(1024, 2 * m));
                    if (copy) {
                        compact_.resize(index_.size());
                    }
                }
                if (copy) {
                    compact_[m] = x;
                }
                index_[m] = static_cast<uint16_t>(b);
                ++m;
            }
            double* a = acc + 3 * b;
            a[0] += 1.0;
            a[1] += d;
            a[2] += d * d;
        });
        start_.assign(nb + 1, 0);
        for (size_t b = 0; b < nb; ++b) {
            start_[b + 1] = start_[b] + static_cast<size_t>(acc[3 * b]);
        }
        n_ = start_[nb];
        // Pass 2: scatter into bucket order.
        pos_.assign(start_.begin(), start_.end() - 1);
        vals_.resize(n_);
        T* dst = vals_.data();
        size_t* pos = pos_.data();
        if constexpr (Keep) {
            const T* src = copy ? compact_.data() : replay;
            const uint16_t* idx = index_.data();
            for (size_t i = 0; i < n_; ++i) {
                dst[pos[idx[i]]++] = src[i];
            }
        } else {
            for_each([&](T x) { dst[pos[bucket(static_cast<double>(x))]++] = x; });
        }
        return n_ > 0;
    }

    // Builds from a compact array a[0..n), sampling up to max_sample values.
    bool build(const T* a, size_t n, size_t n_buckets, size_t max_sample = 1024) {
        std::vector<double> sample;
        const size_t step = std::max<size_t>(1, n / max_sample);
        for (size_t i = 0; i < n; i += step) {
            sample.push_back(static_cast<double>(a[i]));
        }
        auto each = [a, n](auto&& fn) {
            for (size_t i = 0; i < n; ++i) {
                fn(a[i]);
            }
        };
        return build<true>(std::move(sample), each, n_buckets, n, a);
    }

    // Smallest and largest values (NaN when empty), from the outermost non-empty buckets.
    double min() const {
        for (size_t b = 0; b + 1 < start_.size(); ++b) {
            if (start_[b + 1] > start_[b]) {
                return static_cast<double>(*std::min_element(vals_.data() + start_[b], vals_.data() + start_[b + 1]));
            }
        }
        return kNaN;
    }
    double max() const {
        for (size_t b = start_.size() - 1; b-- > 0;) {
            if (start_[b + 1] > start_[b]) {
                return static_cast<double>(*std::max_element(vals_.data() + start_[b], vals_.data() + start_[b + 1]));
            }
        }
        return kNaN;
    }
    size_t size() const { return n_; }
    double shift() const { return shift_; }
    const T* values() const { return vals_.data(); }

    // Count and sums of (x - shift) over the values in [lower, upper] (unit weights).
    Sums sums(double lower, double upper) const {
        Sums out;
        out.shift = shift_;
        if (!(lower <= upper)) {
            return out;
        }
        const size_t bl = bucket(lower);
        const size_t bh = bucket(upper);
        auto scan = [&](size_t b) {
            for (size_t i = start_[b]; i < start_[b + 1]; ++i) {
                const double x = static_cast<double>(vals_[i]);
                if ((x >= lower) & (x <= upper)) {
                    const double d = x - shift_;
                    out.w += 1.0;
                    out.s1 += d;
                    out.s2 += d * d;
                }
            }
        };
        scan(bl);
        if (bh != bl) {
            for (size_t b = bl + 1; b < bh; ++b) {
                out.w += static_cast<double>(start_[b + 1] - start_[b]);
                out.s1 += acc_[3 * b + 1];
                out.s2 += acc_[3 * b + 2];
            }
            scan(bh);
        }
        out.w2 = out.w;
        return out;
    }

    // Ranks k and k + 1 among the values in [lower, upper] (k below their count); the second
    // equals the first when k is the last rank.
    std::pair<double, double> select(double lower, double upper, size_t k, Buffer<T>& scratch) const {
        const size_t bl = bucket(lower);
        const size_t bh = bucket(upper);
        auto inside = [&](size_t b) {  // count of the values of bucket b inside the interval
            if (b != bl && b != bh) {
                return start_[b + 1] - start_[b];
            }
            size_t c = 0;
            for (size_t i = start_[b]; i < start_[b + 1]; ++i) {
                const double x = static_cast<double>(vals_[i]);
                c += ((x >= lower) & (x <= upper)) ? 1 : 0;
            }
            return c;
        };
        auto gather = [&](size_t b) {
            scratch.clear();
            for (size_t i = start_[b]; i < start_[b + 1]; ++i) {
                const double x = static_cast<double>(vals_[i]);
                if ((x >= lower) & (x <= upper)) {
                    scratch.push_back(vals_[i]);
                }
            }
        };
        size_t b = bl;
        size_t before = 0;
        size_t cb = inside(b);
        while (before + cb <= k) {
            before += cb;
            ++b;
            cb = inside(b);
        }
        const size_t r = k - before;
        gather(b);
        std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(r), scratch.end());
        const double v0 = static_cast<double>(scratch[r]);
        if (r + 1 < cb) {
            return {v0, static_cast<double>(*std::min_element(scratch.begin() + static_cast<std::ptrdiff_t>(r) + 1,
                                                              scratch.end()))};
        }
        for (size_t nb = b + 1; nb <= bh; ++nb) {  // the next value lives in a later bucket
            if (inside(nb) > 0) {
                gather(nb);
                return {v0, static_cast<double>(*std::min_element(scratch.begin(), scratch.end()))};
            }
        }
        return {v0, v0};
    }

    // Median of the values in [lower, upper] holding m values (m >= 1).
    double median(double lower, double upper, size_t m, Buffer<T>& scratch) const {
        const auto [v0, v1] = select(lower, upper, (m - 1) / 2, scratch);
        return (m % 2 == 1) ? v0 : 0.5 * (v0 + v1);
    }

    // Quantile p with numpy's "linear" rule over all values.
    double quantile(double p, Buffer<T>& scratch) const {
        const double pos = p * static_cast<double>(n_ - 1);
        const auto k = std::min(static_cast<size_t>(std::floor(pos)), n_ - 1);
        const double frac = pos - static_cast<double>(k);
        const auto [v0, v1] = select(-kInf, kInf, k, scratch);
        if (frac == 0.0) {
            return v0;
        }
        return (frac < 0.5) ? v0 + (v1 - v0) * frac : v1 - (v1 - v0) * (1.0 - frac);
    }

private:
    // Monotonic: 0 below the core, 1..K inside, K + 1 above (infinities included).
    size_t bucket(double x) const {
        const double t = std::min(std::max((x - origin_) * scale_ + 1.0, 0.0), static_cast<double>(k_ + 1));
        return static_cast<size_t>(static_cast<int64_t>(t));
    }

    size_t n_ = 0, k_ = 1;
    double origin_ = 0.0, scale_ = 1.0, shift_ = 0.0;
    std::vector<size_t> start_, pos_;
    std::vector<double> acc_;  // per bucket: count, sum of d, sum of d^2
    Buffer<T> vals_;
    Buffer<T> compact_;
    Buffer<uint16_t> index_;
};

// Sigma clipping as sigma_clip (unit weights), answered from a Partition.
template <class T>
ClipResult sigma_clip(Partition<T> const& part, double n_sigma, int n_iter, Buffer<T>& scratch) {
    ClipResult out;
    const size_t n = part.size();
    if (n == 0) {
        return out;
    }
    double lower = -kInf;
    double upper = kInf;
    Sums sums = part.sums(lower, upper);
    size_t m = n;
    double c = part.median(lower, upper, m, scratch);
    double sd = population_sd(sums);
    for (int it = 0; it < n_iter; ++it) {
        lower = std::max(lower, c - n_sigma * sd);
        upper = std::min(upper, c + n_sigma * sd);
        sums = part.sums(lower, upper);
        const auto kept = static_cast<size_t>(sums.w);
        out.iterations = it + 1;
        if (kept == m || kept == 0) {
            m = kept;
            break;
        }
        m = kept;
        if (it + 1 < n_iter) {
            c = part.median(lower, upper, m, scratch);
            sd = population_sd(sums);
        }
    }
    out.n_kept = m;
    out.moments = moments_from(sums);
    return out;
}

#if defined(__SSE2__) && !defined(OSPREY_AFW_STATS_NO_SIMD)
#define OSPREY_AFW_STATS_SIMD 1  // x86-64 baseline: SSE2 lanes in CoreBand's loops
#else
#define OSPREY_AFW_STATS_SIMD 0  // portable scalar loops (same results)
#endif

// For a 4-bit lane selection: byte 0 its count, byte l (1..3) the selected lanes before lane l.
inline constexpr uint32_t kPrefix4[16] = {
    0x00000000, 0x01010101, 0x01010001, 0x02020102, 0x01000001, 0x02010102, 0x02010002, 0x03020103,
    0x00000001, 0x01010102, 0x01010002, 0x02020103, 0x01000002, 0x02010103, 0x02010003, 0x03020104};

// The unweighted median and clipping path: a CoreBand, built by one pass over a region's
// good values and planned from a grid sample of them (median c, robust sigma s from the
// 16% and 84% points; both rounded to T so the pass compares in T exactly as in double):
// * values inside the core [A, B] = c -+ 0.7 n_sigma s are only counted and summed (about
//   c, in double), in SIMD lanes (SSE2 on x86-64, scalar elsewhere), without branches;
// * the others (tails and outliers, a few percent) are appended to the outer list;
// * values inside the band [P1, P2] = c -+ max(0.15, 4 / sqrt(sample size)) s (inside the
//   core) are appended to the band list, and the core values below P1 are counted.
// An interval [L, H] holding the core (every clipping interval in practice: the bounds sit
// near c -+ n_sigma sigma) then gets its count and sums from the core's plus one scan of
// the outer list, and its median from the band: the rank below the band is the outer
// values in [L, A) plus the core values below P1; inside the band, bucket counts over
// [P1, P2] name the bucket holding the rank, whose values are gathered and selected with
// nth_element. An interval that cuts into the core, or a median outside the band, falls
// back to an exact pass over the region (fallbacks() counts them), so every answer is exact
// whatever the sample; only the speed depends on it.
template <class T>
class CoreBand {
public:
    // The pass over reg (unweighted: variance ignored). `sample`: some good values (any
    // order); `n_sigma` sizes the core. With MinMax the extremes are tracked too. Returns
    // false when the region has no good values.
    template <bool MinMax>
    bool build(ImageRegion<T> const& reg, std::vector<double> sample, double n_sigma) {
        reg_ = reg;
        n_ = n_out_ = n_band_ = 0;
        band_indexed_ = false;
        have_cache_ = false;
        lo_ = kInf;
        hi_ = -kInf;
        if (sample.empty()) {
            return false;
        }
        plan(sample, n_sigma);
        const size_t cap = reg.ny * reg.nx;
        if (out_.size() < cap) {
            out_.resize(cap);
            band_.resize(cap);
        }
        if (reg.mask) {
            scan<true, MinMax>();
        } else {
            scan<false, MinMax>();
        }
        return n_ > 0;
    }

    size_t size() const { return n_; }
    size_t n_out() const { return n_out_; }
    size_t n_band() const { return n_band_; }
    size_t fallbacks() const { return fallbacks_; }
    double shift() const { return shift_; }
    double min() const { return n_ ? lo_ : kNaN; }  // only after build<true>
    double max() const { return n_ ? hi_ : kNaN; }

    // Count and sums of (x - shift) over the good values in [lower, upper]. With `prune`,
    // the caller promises that later queries stay inside [lower, upper] (as clipping
    // intervals do), and the outer values outside it are dropped.
    Sums sums(double lower, double upper, bool prune = false) {
        Sums s;
        s.shift = shift_;
        if (!(lower <= upper)) {
            return s;
        }
        if (have_cache_ && cache_lower_ == lower && cache_upper_ == upper && !prune) {
            return cache_sums_;
        }
        if (holds_core(lower, upper)) {
            s = core_;
            const T* o = out_.data();
            size_t i = 0;
            size_t kept = 0, below = 0;
            double s1 = 0.0, s2 = 0.0;
#if OSPREY_AFW_STATS_SIMD
            {
                const __m128d lo2 = _mm_set1_pd(lower), hi2 = _mm_set1_pd(upper), a2 = _mm_set1_pd(a_),
                              sh2 = _mm_set1_pd(shift_);
                __m128d acc1 = _mm_setzero_pd(), acc2 = acc1;
                __m128i cnt = _mm_setzero_si128(), cnt_below = cnt;
                auto lanes = [&](__m128d x) {
                    const __m128d keep = _mm_and_pd(_mm_cmpge_pd(x, lo2), _mm_cmple_pd(x, hi2));
                    const __m128d d = _mm_and_pd(_mm_sub_pd(x, sh2), keep);
                    cnt = _mm_sub_epi64(cnt, _mm_castpd_si128(keep));
                    cnt_below = _mm_sub_epi64(cnt_below, _mm_castpd_si128(_mm_and_pd(keep, _mm_cmplt_pd(x, a2))));
                    acc1 = _mm_add_pd(acc1, d);
                    acc2 = _mm_add_pd(acc2, _mm_mul_pd(d, d));
                };
                for (; i + 4 <= n_out_; i += 4) {
                    if constexpr (std::is_same_v<T, float>) {
                        const __m128 xv = _mm_loadu_ps(o + i);
                        lanes(_mm_cvtps_pd(xv));
                        lanes(_mm_cvtps_pd(_mm_movehl_ps(xv, xv)));
                    } else {
                        lanes(_mm_loadu_pd(o + i));
                        lanes(_mm_loadu_pd(o + i + 2));
                    }
                }
                alignas(16) int64_t c2[2], b2[2];
                alignas(16) double v1[2], v2[2];
                _mm_store_si128(reinterpret_cast<__m128i*>(c2), cnt);
                _mm_store_si128(reinterpret_cast<__m128i*>(b2), cnt_below);
                _mm_store_pd(v1, acc1);
                _mm_store_pd(v2, acc2);
                for (int l = 0; l < 2; ++l) {
                    kept += static_cast<size_t>(c2[l]);
                    below += static_cast<size_t>(b2[l]);
                    s1 += v1[l];
                    s2 += v2[l];
                }
            }
#endif
            for (; i < n_out_; ++i) {
                const double x = static_cast<double>(o[i]);
                if ((x >= lower) & (x <= upper)) {
                    const double d = x - shift_;
                    ++kept;
                    s1 += d;
                    s2 += d * d;
                    below += (x < a_) ? 1 : 0;
                }
            }
            s.w += static_cast<double>(kept);
            s.s1 += s1;
            s.s2 += s2;
            if (prune && kept < n_out_) {
                T* w = out_.data();
                size_t m = 0;
                for (size_t k = 0; k < n_out_; ++k) {
                    const double x = static_cast<double>(w[k]);
                    w[m] = w[k];
                    m += ((x >= lower) & (x <= upper)) ? 1 : 0;
                }
                n_out_ = m;
            }
            have_cache_ = true;
            cache_lower_ = lower;
            cache_upper_ = upper;
            cache_below_ = below;
        } else {
            ++fallbacks_;
            have_cache_ = false;
            GoodPixels<T>{reg_}([&](T v) {
                const double x = static_cast<double>(v);
                if ((x >= lower) & (x <= upper)) {
                    const double d = x - shift_;
                    s.w += 1.0;
                    s.s1 += d;
                    s.s2 += d * d;
                }
            });
        }
        s.w2 = s.w;
        cache_sums_ = s;
        return s;
    }

    // Median of the good values in [lower, upper], which hold m >= 1 values.
    double median(double lower, double upper, size_t m) {
        const auto [v0, v1] = select(lower, upper, m, (m - 1) / 2);
        return (m % 2 == 1) ? v0 : 0.5 * (v0 + v1);
    }

    // Ranks k and k + 1 (0-based, ascending) among the m good values in [lower, upper];
    // the second equals the first when k + 1 == m.
    std::pair<double, double> select(double lower, double upper, size_t m, size_t k) {
        const bool want_next = k + 1 < m;
        if (holds_core(lower, upper)) {
            size_t below = core_below_band_;
            if (have_cache_ && cache_lower_ == lower && cache_upper_ == upper) {
                below += cache_below_;
            } else {
                for (size_t i = 0; i < n_out_; ++i) {
                    const double x = static_cast<double>(out_[i]);
                    below += ((x >= lower) & (x <= upper) & (x < a_)) ? 1 : 0;
                }
            }
            if (k >= below && k - below + (want_next ? 1 : 0) < n_band_) {
                return band_select(k - below, want_next);
            }
        }
        // Fallback: the values of [lower, upper], selected exactly.
        ++fallbacks_;
        sel_.clear();
        double lo = kInf;
        double hi = -kInf;
        GoodPixels<T>{reg_}([&](T v) {
            const double x = static_cast<double>(v);
            if ((x >= lower) & (x <= upper)) {
                sel_.push_back(v);
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            }
        });
        if (sel_.empty()) {
            return {kNaN, kNaN};
        }
        return select_pair(sel_.data(), sel_.size(), std::min(k, sel_.size() - 1), lo, hi, scratch_);
    }

private:
    bool holds_core(double lower, double upper) const { return lower <= a_ && upper >= b_; }

    void plan(std::vector<double>& sample, double n_sigma) {
        const size_t ns = sample.size();
        // The median, then the 16% point in the lower part and the 84% point in the upper.
        const auto mid = sample.begin() + static_cast<std::ptrdiff_t>(ns / 2);
        std::nth_element(sample.begin(), mid, sample.end());
        shift_ = *mid;
        const auto i16 = sample.begin() + static_cast<std::ptrdiff_t>(0.15866 * static_cast<double>(ns - 1));
        const auto i84 = sample.begin() + static_cast<std::ptrdiff_t>(0.84134 * static_cast<double>(ns - 1));
        std::nth_element(sample.begin(), i16, mid);
        std::nth_element(mid, i84, sample.end());
        const double q16 = *i16;
        const double q84 = *i84;
        const double sigma = std::max(0.0, 0.5 * (q84 - q16));
        const double h = 0.7 * n_sigma * sigma;
        const double delta = std::min(h, std::max(0.15, 4.0 / std::sqrt(static_cast<double>(ns))) * sigma);
        // Bounds representable in T, so that the pass may compare in T (exactly as in double).
        auto in_t = [](double v) {
            constexpr double top = static_cast<double>(std::numeric_limits<T>::max());
            return (v > top) ? kInf : (v < -top) ? -kInf : static_cast<double>(static_cast<T>(v));
        };
        a_ = in_t(shift_ - h);
        b_ = in_t(shift_ + h);
        p1_ = std::max(a_, in_t(shift_ - delta));
        p2_ = std::min(b_, in_t(shift_ + delta));
        if (!(a_ <= b_) || !(p1_ <= p2_)) {  // not expected; an empty core is always correct
            a_ = p1_ = kInf;
            b_ = p2_ = -kInf;
        }
    }

    // The one pass: core count and sums, the outer list, the band, the core values below it.
    // Four values at a time are classified in SIMD lanes (counts, sums, extremes); the band
    // lanes are appended without a branch (kPrefix4), the rare outer ones behind one.
    template <bool HasMask, bool MinMax>
    void scan() {
        const T a = static_cast<T>(a_), b = static_cast<T>(b_), p1 = static_cast<T>(p1_), p2 = static_cast<T>(p2_);
        const double shift = shift_;
        T* out = out_.data();
        T* band = band_.data();
        size_t no = 0, nb = 0, below = 0, n_core = 0;
        double s1 = 0.0, s2 = 0.0;
        T lo = std::numeric_limits<T>::infinity();
        T hi = -std::numeric_limits<T>::infinity();
        for (size_t j = 0; j < reg_.ny; ++j) {
            const T* row = reg_.data + static_cast<int64_t>(j) * reg_.stride;
            const int32_t* mrow = HasMask ? reg_.mask + static_cast<int64_t>(j) * reg_.mask_stride : nullptr;
            size_t i = 0;
#if OSPREY_AFW_STATS_SIMD
            if constexpr (std::is_same_v<T, float>) {
                const __m128 av = _mm_set1_ps(a), bv = _mm_set1_ps(b), p1v = _mm_set1_ps(p1), p2v = _mm_set1_ps(p2);
                const __m128 zero = _mm_setzero_ps(), inf = _mm_set1_ps(std::numeric_limits<float>::infinity());
                const __m128 minus_inf = _mm_sub_ps(zero, inf);
                const __m128i bits = _mm_set1_epi32(reg_.bitmask);
                const __m128d shv = _mm_set1_pd(shift);
                __m128d s1a = _mm_setzero_pd(), s1b = s1a, s2a = s1a, s2b = s1a;
                __m128i cnt = _mm_setzero_si128(), cnt_below = cnt;
                __m128 vlo = inf, vhi = minus_inf;
                for (; i + 4 <= reg_.nx; i += 4) {
                    const __m128 x = _mm_loadu_ps(row + i);
                    __m128 good = _mm_cmpeq_ps(_mm_sub_ps(x, x), zero);  // finite
                    if constexpr (HasMask) {
                        const __m128i mk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mrow + i));
                        good = _mm_and_ps(good, _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(mk, bits),
                                                                                  _mm_setzero_si128())));
                    }
                    const __m128 core = _mm_and_ps(good, _mm_and_ps(_mm_cmpge_ps(x, av), _mm_cmple_ps(x, bv)));
                    const __m128 in_band = _mm_and_ps(good, _mm_and_ps(_mm_cmpge_ps(x, p1v), _mm_cmple_ps(x, p2v)));
                    const __m128i core_i = _mm_castps_si128(core);
                    cnt = _mm_sub_epi32(cnt, core_i);
                    cnt_below = _mm_sub_epi32(cnt_below, _mm_castps_si128(_mm_and_ps(core, _mm_cmplt_ps(x, p1v))));
                    const __m128d ml = _mm_castsi128_pd(_mm_unpacklo_epi32(core_i, core_i));
                    const __m128d mh = _mm_castsi128_pd(_mm_unpackhi_epi32(core_i, core_i));
                    const __m128d dl = _mm_and_pd(_mm_sub_pd(_mm_cvtps_pd(x), shv), ml);
                    const __m128d dh = _mm_and_pd(_mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(x, x)), shv), mh);
                    s1a = _mm_add_pd(s1a, dl);
                    s1b = _mm_add_pd(s1b, dh);
                    s2a = _mm_add_pd(s2a, _mm_mul_pd(dl, dl));
                    s2b = _mm_add_pd(s2b, _mm_mul_pd(dh, dh));
                    // Branch-free append of the band lanes: lane l goes to slot nb + (number of
                    // band lanes before it); the others are overwritten by the next append.
                    const auto sel = static_cast<unsigned>(_mm_movemask_ps(in_band));
                    const uint32_t off = kPrefix4[sel];
                    band[nb] = row[i];
                    band[nb + ((off >> 8) & 0xff)] = row[i + 1];
                    band[nb + ((off >> 16) & 0xff)] = row[i + 2];
                    band[nb + (off >> 24)] = row[i + 3];
                    nb += off & 0xff;
                    const int outer = _mm_movemask_ps(_mm_andnot_ps(core, good));
                    if (outer != 0) {  // rare: the tails and the outliers
                        for (int l = 0; l < 4; ++l) {
                            out[no] = row[i + l];
                            no += static_cast<size_t>((outer >> l) & 1);
                        }
                    }
                    if constexpr (MinMax) {
                        vlo = _mm_min_ps(vlo, _mm_or_ps(_mm_and_ps(good, x), _mm_andnot_ps(good, inf)));
                        vhi = _mm_max_ps(vhi, _mm_or_ps(_mm_and_ps(good, x), _mm_andnot_ps(good, minus_inf)));
                    }
                }
                alignas(16) int32_t c4[4], b4[4];
                alignas(16) float lo4[4], hi4[4];
                alignas(16) double s1v[4], s2v[4];
                _mm_store_si128(reinterpret_cast<__m128i*>(c4), cnt);
                _mm_store_si128(reinterpret_cast<__m128i*>(b4), cnt_below);
                _mm_store_ps(lo4, vlo);
                _mm_store_ps(hi4, vhi);
                _mm_store_pd(s1v, s1a);
                _mm_store_pd(s1v + 2, s1b);
                _mm_store_pd(s2v, s2a);
                _mm_store_pd(s2v + 2, s2b);
                for (int l = 0; l < 4; ++l) {
                    n_core += static_cast<size_t>(c4[l]);
                    below += static_cast<size_t>(b4[l]);
                    s1 += s1v[l];
                    s2 += s2v[l];
                    if constexpr (MinMax) {
                        lo = std::min(lo, lo4[l]);
                        hi = std::max(hi, hi4[l]);
                    }
                }
            } else {
                const __m128d av = _mm_set1_pd(a), bv = _mm_set1_pd(b), p1v = _mm_set1_pd(p1), p2v = _mm_set1_pd(p2);
                const __m128d zero = _mm_setzero_pd(), inf = _mm_set1_pd(kInf), minus_inf = _mm_set1_pd(-kInf);
                const __m128i bits = _mm_set1_epi32(reg_.bitmask);
                const __m128d shv = _mm_set1_pd(shift);
                __m128d s1a = _mm_setzero_pd(), s2a = s1a;
                __m128i cnt = _mm_setzero_si128(), cnt_below = cnt;
                __m128d vlo = inf, vhi = minus_inf;
                for (; i + 2 <= reg_.nx; i += 2) {
                    const __m128d x = _mm_loadu_pd(row + i);
                    __m128d good = _mm_cmpeq_pd(_mm_sub_pd(x, x), zero);
                    if constexpr (HasMask) {
                        const __m128i mk = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mrow + i));
                        const __m128i ok = _mm_cmpeq_epi32(_mm_and_si128(mk, bits), _mm_setzero_si128());
                        good = _mm_and_pd(good, _mm_castsi128_pd(_mm_unpacklo_epi32(ok, ok)));
                    }
                    const __m128d core = _mm_and_pd(good, _mm_and_pd(_mm_cmpge_pd(x, av), _mm_cmple_pd(x, bv)));
                    const __m128d in_band = _mm_and_pd(good, _mm_and_pd(_mm_cmpge_pd(x, p1v), _mm_cmple_pd(x, p2v)));
                    cnt = _mm_sub_epi64(cnt, _mm_castpd_si128(core));
                    cnt_below = _mm_sub_epi64(cnt_below, _mm_castpd_si128(_mm_and_pd(core, _mm_cmplt_pd(x, p1v))));
                    const __m128d d = _mm_and_pd(_mm_sub_pd(x, shv), core);
                    s1a = _mm_add_pd(s1a, d);
                    s2a = _mm_add_pd(s2a, _mm_mul_pd(d, d));
                    const auto sel = static_cast<unsigned>(_mm_movemask_pd(in_band));
                    band[nb] = row[i];
                    band[nb + (sel & 1)] = row[i + 1];
                    nb += (sel & 1) + (sel >> 1);
                    const int outer = _mm_movemask_pd(_mm_andnot_pd(core, good));
                    if (outer != 0) {
                        for (int l = 0; l < 2; ++l) {
                            out[no] = row[i + l];
                            no += static_cast<size_t>((outer >> l) & 1);
                        }
                    }
                    if constexpr (MinMax) {
                        vlo = _mm_min_pd(vlo, _mm_or_pd(_mm_and_pd(good, x), _mm_andnot_pd(good, inf)));
                        vhi = _mm_max_pd(vhi, _mm_or_pd(_mm_and_pd(good, x), _mm_andnot_pd(good, minus_inf)));
                    }
                }
                alignas(16) int64_t c2[2], b2[2];
                alignas(16) double s1v[2], s2v[2], lo2[2], hi2[2];
                _mm_store_si128(reinterpret_cast<__m128i*>(c2), cnt);
                _mm_store_si128(reinterpret_cast<__m128i*>(b2), cnt_below);
                _mm_store_pd(s1v, s1a);
                _mm_store_pd(s2v, s2a);
                _mm_store_pd(lo2, vlo);
                _mm_store_pd(hi2, vhi);
                for (int l = 0; l < 2; ++l) {
                    n_core += static_cast<size_t>(c2[l]);
                    below += static_cast<size_t>(b2[l]);
                    s1 += s1v[l];
                    s2 += s2v[l];
                    if constexpr (MinMax) {
                        lo = std::min(lo, lo2[l]);
                        hi = std::max(hi, hi2[l]);
                    }
                }
            }
#endif
            for (; i < reg_.nx; ++i) {
                const T x = row[i];
                bool good = std::isfinite(x);
                if constexpr (HasMask) {
                    good = good && (mrow[i] & reg_.bitmask) == 0;
                }
                const bool core = good & (x >= a) & (x <= b);
                if (core) {
                    const double d = static_cast<double>(x) - shift;
                    ++n_core;
                    s1 += d;
                    s2 += d * d;
                    below += (x < p1) ? 1 : 0;
                }
                out[no] = x;
                no += (good & !core) ? 1 : 0;
                band[nb] = x;
                nb += (good & (x >= p1) & (x <= p2)) ? 1 : 0;
                if constexpr (MinMax) {
                    lo = good ? std::min(lo, x) : lo;
                    hi = good ? std::max(hi, x) : hi;
                }
            }
        }
        core_ = Sums{};
        core_.shift = shift;
        core_.w = core_.w2 = static_cast<double>(n_core);
        core_.s1 = s1;
        core_.s2 = s2;
        n_out_ = no;
        n_band_ = nb;
        core_below_band_ = below;
        n_ = n_core + no;
        lo_ = static_cast<double>(lo);
        hi_ = static_cast<double>(hi);
    }

    // Ranks r and r + 1 (when want_next) of the band: the bucket(s) holding them from the
    // band's bucket counts, their values gathered by one scan of the bucket numbers.
    std::pair<double, double> band_select(size_t r, bool want_next) {
        if (!band_indexed_) {
            index_band();
        }
        const auto* cum = start_.data();  // cum[b]: band values in buckets before b; cum[K] = n_band_
        const size_t k_buckets = start_.size() - 1;
        auto bucket_of_rank = [&](size_t rank) {
            return static_cast<size_t>(std::upper_bound(cum, cum + k_buckets + 1, rank) - cum) - 1;
        };
        const size_t b0 = bucket_of_rank(r);
        const size_t b1 = want_next ? bucket_of_rank(r + 1) : b0;
        const size_t count = cum[b1 + 1] - cum[b0];
        sel_.resize(count);
        T* dst = sel_.data();
        const uint16_t* idx = idx_.data();
        const T* src = band_.data();
        const size_t span = b1 - b0;
        size_t w = 0;
        size_t i = 0;
#if OSPREY_AFW_STATS_SIMD
        const __m128i lo = _mm_set1_epi16(static_cast<int16_t>(static_cast<int>(b0) - 1));
        const __m128i hi = _mm_set1_epi16(static_cast<int16_t>(b1 + 1));
        for (; i + 8 <= n_band_; i += 8) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(idx + i));
            if (_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi16(v, lo), _mm_cmplt_epi16(v, hi))) != 0) {
                for (size_t k = i; k < i + 8; ++k) {
                    if (static_cast<size_t>(idx[k]) - b0 <= span) {
                        dst[w++] = src[k];
                    }
                }
            }
        }
#endif
        for (; i < n_band_; ++i) {
            if (static_cast<size_t>(idx[i]) - b0 <= span) {
                dst[w++] = src[i];
            }
        }
        const size_t local = r - cum[b0];
        std::nth_element(dst, dst + local, dst + w);
        const double v0 = static_cast<double>(dst[local]);
        const double v1 = want_next ? static_cast<double>(*std::min_element(dst + local + 1, dst + w)) : v0;
        return {v0, v1};
    }

    // Bucket numbers of the band values (at most 4096 equal-width buckets over [P1, P2],
    // mapped in T: monotonic) and the cumulative bucket counts.
    void index_band() {
        const size_t n = n_band_;
        const size_t k_buckets = std::min<size_t>(4096, std::max<size_t>(1, n / 8));
        T scale = static_cast<T>((p2_ > p1_) ? static_cast<double>(k_buckets) / (p2_ - p1_) : 0.0);
        if (!std::isfinite(scale)) {
            scale = 0;
        }
        const T origin = static_cast<T>(p1_);
        const T top = static_cast<T>(k_buckets - 1);
        idx_.resize(n + 8);
        const T* src = band_.data();
        uint16_t* idx = idx_.data();
        for (size_t i = 0; i < n; ++i) {
            const T t = std::min(std::max((src[i] - origin) * scale, T(0)), top);
            idx[i] = static_cast<uint16_t>(static_cast<int32_t>(t));
        }
        start_.assign(k_buckets + 1, 0);
        size_t* count = start_.data() + 1;
        for (size_t i = 0; i < n; ++i) {
            ++count[idx[i]];
        }
        for (size_t b = 0; b < k_buckets; ++b) {
            start_[b + 1] += start_[b];
        }
        band_indexed_ = true;
    }

    ImageRegion<T> reg_{};
    double shift_ = 0.0, a_ = kInf, b_ = -kInf, p1_ = kInf, p2_ = -kInf;
    double lo_ = kInf, hi_ = -kInf;
    Sums core_;
    size_t n_ = 0, n_out_ = 0, n_band_ = 0, core_below_band_ = 0;
    Buffer<T> out_, band_, sel_;
    Buffer<uint16_t> idx_;
    std::vector<size_t> start_;
    bool band_indexed_ = false;
    bool have_cache_ = false;
    double cache_lower_ = 0.0, cache_upper_ = 0.0;
    size_t cache_below_ = 0;
    Sums cache_sums_;
    size_t fallbacks_ = 0;  // exact passes over the region (slow paths taken)
    Scratch<T> scratch_;
};

// Sigma clipping as sigma_clip (unit weights), answered from a CoreBand.
template <class T>
ClipResult sigma_clip(CoreBand<T>& cb, double n_sigma, int n_iter) {
    ClipResult out;
    const size_t n = cb.size();
    if (n == 0) {
        return out;
    }
    double lower = -kInf;
    double upper = kInf;
    Sums sums = cb.sums(lower, upper);
    size_t m = n;
    double c = cb.median(lower, upper, m);
    double sd = population_sd(sums);
    for (int it = 0; it < n_iter; ++it) {
        lower = std::max(lower, c - n_sigma * sd);
        upper = std::min(upper, c + n_sigma * sd);
        sums = cb.sums(lower, upper, true);
        const auto kept = static_cast<size_t>(sums.w);
        out.iterations = it + 1;
        if (kept == m || kept == 0) {
            m = kept;
            break;
        }
        m = kept;
        if (it + 1 < n_iter) {
            c = cb.median(lower, upper, m);
            sd = population_sd(sums);
        }
    }
    out.n_kept = m;
    out.moments = moments_from(sums);
    return out;
}

}  // namespace osprey::afw::stats
