// Robust one-dimensional statistics shared by osprey.afw.math's Statistics and Background
// kernels. Header-only, no Python types. Inputs are the good (finite, unmasked) values,
// either a compact array, which is never modified, or an ImageRegion walked by GoodPixels.
//
// * Partition (the unweighted path): the values counting-sorted into K equal-width value
//   buckets over the 0.5%-99.5% range of a sample, plus one bucket below and one above,
//   with each bucket's count and sums kept. Two passes build it (counts and sums, then the
//   scatter); afterwards the count, sums and order statistics of the values inside any
//   interval [L, H] cost O(K) plus scans of the few buckets holding L, H and the wanted
//   rank. Medians, quantiles and clipping are answered from it.
// * Sigma clipping (median-centred, astropy-compatible): iteration k takes the median c
//   and the population standard deviation s of the current survivors and keeps the values
//   with c - n_sigma s <= x <= c + n_sigma s; it stops after n_iter iterations or as soon
//   as an iteration rejects nothing. Rejection is cumulative, so the survivors are always
//   the values inside [max of the lower bounds, min of the upper bounds], an interval:
//   exactly the query a Partition answers. The clipped mean and sample (n - 1) variance
//   of the survivors are returned. The weighted variant (weights carried beside a compact
//   array) uses one read-only pass per iteration plus the selection below.
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
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

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

}  // namespace osprey::afw::stats
