// Robust one-dimensional statistics shared by osprey.afw.math's Statistics and Background
// kernels. Header-only, no Python types; every routine works on a compact array of finite
// values (the caller has already removed masked and non-finite pixels).
//
// * Exact order statistics by histogram selection: the values are counted into 4096
//   equal-width buckets between their minimum and maximum; the bucket holding the wanted
//   rank is found from the cumulative counts and only its members are kept, and the search
//   repeats on them (the mapping value -> bucket is monotonic, so the ranks inside a bucket
//   are contiguous). Below 4096 candidates, or after 8 levels, std::nth_element finishes.
//   Each level is two streaming passes, against the O(n) but cache-unfriendly partitioning
//   of nth_element on the whole array.
// * Sigma clipping (median-centred, astropy-compatible): iteration k takes the median c
//   and the population standard deviation s of the current survivors and keeps the values
//   with c - n_sigma s <= x <= c + n_sigma s; it stops after n_iter iterations or as soon
//   as an iteration rejects nothing. The clipped mean and the sample (n - 1) variance of
//   the survivors are returned.
// * Sums are accumulated in double, in blocks of kBlock values added into a running total,
//   and variances use the corrected two-pass formula around a central value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace osprey::afw::stats {

inline constexpr size_t kBuckets = 4096;
inline constexpr size_t kSmallSelect = 4096;
inline constexpr int kMaxSelectLevels = 8;
inline constexpr size_t kBlock = 2048;
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 1 / Phi^-1(3/4): converts a median absolute deviation into a Gaussian sigma.
inline constexpr double kMadToSigma = 1.482602218505602;

// The values of ranks k and k + 1 (0-based, ascending) among a[0..n), n >= 1 and k < n;
// the second equals the first when k + 1 == n. `lo` and `hi` must be the minimum and the
// maximum of a[0..n). `a` is not modified; `scratch` (which must not alias `a`) is reused.
template <class T>
std::pair<double, double> select_pair(const T* a, size_t n, size_t k, T lo, T hi, std::vector<T>& scratch) {
    const bool want_next = k + 1 < n;
    const T* src = a;
    size_t m = n;
    size_t r = k;
    std::vector<uint32_t> hist(kBuckets);
    for (int level = 0;; ++level) {
        if (!(lo < hi)) {
            return {static_cast<double>(lo), static_cast<double>(lo)};  // every candidate is equal
        }
        if (m <= kSmallSelect || level == kMaxSelectLevels) {
            if (src != scratch.data()) {
                scratch.assign(src, src + m);
            }
            T* s = scratch.data();
            std::nth_element(s, s + r, s + m);
            const double v0 = static_cast<double>(s[r]);
            const double v1 = (want_next) ? static_cast<double>(*std::min_element(s + r + 1, s + m)) : v0;
            return {v0, v1};
        }
        const double base = static_cast<double>(lo);
        const double scale = static_cast<double>(kBuckets) / (static_cast<double>(hi) - base);
        auto bucket = [base, scale](T x) {
            const auto b = static_cast<size_t>((static_cast<double>(x) - base) * scale);
            return std::min(b, kBuckets - 1);
        };
        std::fill(hist.begin(), hist.end(), 0U);
        for (size_t i = 0; i < m; ++i) {
            ++hist[bucket(src[i])];
        }
        size_t before = 0;
        size_t b0 = 0;
        while (before + hist[b0] <= r) {
            before += hist[b0];
            ++b0;
        }
        r -= before;
        size_t b1 = b0;
        size_t count = hist[b0];
        if (want_next && r + 1 >= hist[b0]) {
            b1 = b0 + 1;
            while (hist[b1] == 0) {
                ++b1;
            }
            count += hist[b1];
        }
        if (src != scratch.data()) {
            scratch.resize(count);
        }
        T* dst = scratch.data();
        size_t w = 0;
        T new_lo = std::numeric_limits<T>::max();
        T new_hi = std::numeric_limits<T>::lowest();
        for (size_t i = 0; i < m; ++i) {
            const T x = src[i];
            const size_t b = bucket(x);
            if (b >= b0 && b <= b1) {
                dst[w++] = x;  // in place on later levels: w <= i
                new_lo = std::min(new_lo, x);
                new_hi = std::max(new_hi, x);
            }
        }
        src = dst;
        m = w;
        lo = new_lo;
        hi = new_hi;
    }
}

// Quantile p in [0, 1] with numpy's default ("linear") rule: position p (n - 1) between
// the two neighbouring order statistics. NaN for n == 0.
template <class T>
double quantile(const T* a, size_t n, double p, T lo, T hi, std::vector<T>& scratch) {
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

// Median: the middle value, or the mean of the two middle values when n is even.
template <class T>
double median(const T* a, size_t n, T lo, T hi, std::vector<T>& scratch) {
    if (n == 0) {
        return kNaN;
    }
    const auto [v0, v1] = select_pair(a, n, (n - 1) / 2, lo, hi, scratch);
    return (n % 2 == 1) ? v0 : 0.5 * (v0 + v1);
}

// 1.4826 * median(|x - med|), with the deviations formed in double.
template <class T>
double mad_sigma(const T* a, size_t n, double med, std::vector<double>& dev, std::vector<double>& scratch) {
    if (n == 0) {
        return kNaN;
    }
    dev.resize(n);
    double hi = 0.0;
    for (size_t i = 0; i < n; ++i) {
        dev[i] = std::abs(static_cast<double>(a[i]) - med);
        hi = std::max(hi, dev[i]);
    }
    const double lo = *std::min_element(dev.begin(), dev.end());
    return kMadToSigma * median(dev.data(), n, lo, hi, scratch);
}

// Sums over (value, weight) pairs in double, flushed into totals every kBlock values.
struct BlockedSums {
    double w = 0, wx = 0, wx2 = 0, w2 = 0;      // totals
    double pw = 0, pwx = 0, pwx2 = 0, pw2 = 0;  // current block
    size_t in_block = 0;

    void add(double x, double wt) {
        pw += wt;
        pwx += wt * x;
        pwx2 += wt * x * x;
        pw2 += wt * wt;
        if (++in_block == kBlock) {
            flush();
        }
    }
    void flush() {
        w += pw;
        wx += pwx;
        wx2 += pwx2;
        w2 += pw2;
        pw = pwx = pwx2 = pw2 = 0;
        in_block = 0;
    }
};

// Weighted mean and variance from sums of (x - shift): the mean is shift + S1 / W and
// the variance (S2 - S1^2 / W) / (W - W2 / W), which for unit weights is the sample
// variance with n - 1. NaN where undefined.
struct Moments {
    double mean = kNaN;
    double variance = kNaN;
    double sum_w = 0;
};

inline Moments moments_from_sums(BlockedSums s, double shift) {
    s.flush();
    Moments out;
    out.sum_w = s.w;
    if (s.w > 0) {
        out.mean = shift + s.wx / s.w;
        const double dof = s.w - s.w2 / s.w;
        if (dof > 0) {
            out.variance = std::max(0.0, (s.wx2 - s.wx * s.wx / s.w) / dof);
        }
    }
    return out;
}

// Two-pass moments of a[0..n) with optional weights w (nullptr: unit weights).
template <class T>
Moments two_pass_moments(const T* a, const double* w, size_t n) {
    if (n == 0) {
        return {};
    }
    BlockedSums first;
    for (size_t i = 0; i < n; ++i) {
        first.add(static_cast<double>(a[i]), w ? w[i] : 1.0);
    }
    first.flush();
    const double mean0 = first.wx / first.w;
    BlockedSums second;
    for (size_t i = 0; i < n; ++i) {
        second.add(static_cast<double>(a[i]) - mean0, w ? w[i] : 1.0);
    }
    return moments_from_sums(second, mean0);
}

struct ClipResult {
    Moments moments;     // of the survivors (weighted when weights were given)
    size_t n_kept = 0;   // survivors
    int iterations = 0;  // clipping iterations performed (an iteration rejecting nothing counts)
};

// Median-centred iterative sigma clipping of a[0..n) in place (survivors are compacted to
// the front of `a`, and of `w` when weights are given). See the header comment.
template <class T>
ClipResult sigma_clip(T* a, double* w, size_t n, T lo, T hi, double n_sigma, int n_iter, std::vector<T>& scratch) {
    ClipResult out;
    size_t m = n;
    for (int it = 0; it < n_iter && m > 0; ++it) {
        const double c = median(a, m, lo, hi, scratch);
        BlockedSums s;
        for (size_t i = 0; i < m; ++i) {
            s.add(static_cast<double>(a[i]) - c, 1.0);
        }
        s.flush();
        const double mean_off = s.wx / s.w;
        const double sd = std::sqrt(std::max(0.0, s.wx2 / s.w - mean_off * mean_off));
        const double lower = c - n_sigma * sd;
        const double upper = c + n_sigma * sd;
        size_t kept = 0;
        T new_lo = std::numeric_limits<T>::max();
        T new_hi = std::numeric_limits<T>::lowest();
        for (size_t i = 0; i < m; ++i) {
            const T x = a[i];
            const double xd = static_cast<double>(x);
            if (xd >= lower && xd <= upper) {
                a[kept] = x;
                if (w) {
                    w[kept] = w[i];
                }
                ++kept;
                new_lo = std::min(new_lo, x);
                new_hi = std::max(new_hi, x);
            }
        }
        out.iterations = it + 1;
        if (kept == m) {
            break;
        }
        m = kept;
        lo = new_lo;
        hi = new_hi;
    }
    out.n_kept = m;
    out.moments = two_pass_moments(a, w, m);
    return out;
}

}  // namespace osprey::afw::stats
