// Per-line robust levels (serial/parallel overscan), level subtraction and the polynomial
// linearizer: the per-row and per-pixel loops of osprey.ip.isr.steps.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "clones.h"
#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy's median of float64 values: middle value, or the mean of the two middle values.
double median_inplace(double* b, std::size_t n) {
    const std::size_t k = n / 2;
    std::nth_element(b, b + k, b + n);
    const double hi = b[k];
    if (n % 2 == 1) return hi;
    const double lo = *std::max_element(b, b + k);
    return (lo + hi) / 2.0;
}

double mean_of(const double* b, std::size_t n) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += b[i];
    return s / static_cast<double>(n);
}

double clipped_mean(std::vector<double>& kept, std::vector<double>& scratch, double n_sigma, int n_iter) {
    for (int it = 0; it < n_iter && !kept.empty(); ++it) {
        const std::size_t n = kept.size();
        scratch.assign(kept.begin(), kept.end());
        const double centre = median_inplace(scratch.data(), n);
        const double mean = mean_of(kept.data(), n);
        double ss = 0.0;
        for (double v : kept) ss += (v - mean) * (v - mean);
        const double sigma = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : kNaN;
        const double thr = n_sigma * sigma;
        const auto end = std::remove_if(kept.begin(), kept.end(),
                                        [&](double v) { return std::fabs(v - centre) > thr; });
        if (end == kept.end()) break;  // nothing clipped: later passes would not change anything
        kept.erase(end, kept.end());
    }
    return kept.empty() ? kNaN : mean_of(kept.data(), kept.size());
}

}  // namespace

void line_levels(View2D<const float> values, LineStatistic statistic, double n_sigma, int n_iter, double* out) {
    std::vector<double> buf, scratch;
    buf.reserve(static_cast<std::size_t>(values.nx));
    for (std::ptrdiff_t y = 0; y < values.ny; ++y) {
        buf.clear();
        bool any_nan = false;
        for (std::ptrdiff_t x = 0; x < values.nx; ++x) {
            const double v = values(y, x);
            if (std::isnan(v)) {
                any_nan = true;
                if (statistic == LineStatistic::MeanClip) continue;
            }
            buf.push_back(v);
        }
        switch (statistic) {
            case LineStatistic::Median:
                out[y] = (any_nan || buf.empty()) ? kNaN : median_inplace(buf.data(), buf.size());
                break;
            case LineStatistic::Mean:
                out[y] = (any_nan || buf.empty()) ? kNaN : mean_of(buf.data(), buf.size());
                break;
            case LineStatistic::MeanClip:
                out[y] = clipped_mean(buf, scratch, n_sigma, n_iter);
                break;
        }
    }
}

void subtract_levels(View2D<float> image, const double* levels, bool per_column, float gain) {
    for (std::ptrdiff_t y = 0; y < image.ny; ++y) {
        float* row = &image(y, 0);
        if (per_column) {
            for (std::ptrdiff_t x = 0; x < image.nx; ++x)
                row[x * image.sx] = (row[x * image.sx] - static_cast<float>(levels[x])) * gain;
        } else {
            const float level = static_cast<float>(levels[y]);
            if (image.sx == 1) {
                for (std::ptrdiff_t x = 0; x < image.nx; ++x) row[x] = (row[x] - level) * gain;
            } else {
                for (std::ptrdiff_t x = 0; x < image.nx; ++x) row[x * image.sx] = (row[x * image.sx] - level) * gain;
            }
        }
    }
}

void overscan_gain_assemble(View2D<const float> src_image, View2D<const float> src_variance,
                            View2D<const std::int32_t> src_mask, const double* levels, float gain, float gain2,
                            View2D<float> dst_image, View2D<float> dst_variance, View2D<std::int32_t> dst_mask) {
    for (std::ptrdiff_t y = 0; y < src_image.ny; ++y) {
        const float level = static_cast<float>(levels[y]);
        for (std::ptrdiff_t x = 0; x < src_image.nx; ++x) {
            dst_image(y, x) = (src_image(y, x) - level) * gain;
            dst_variance(y, x) = src_variance(y, x) * gain2;
            dst_mask(y, x) = src_mask(y, x);
        }
    }
}

OSPREY_ISR_CLONES
void linearize_polynomial(View2D<float> image, const std::vector<double>& coeffs) {
    if (coeffs.empty()) return;
    const std::size_t nc = coeffs.size(), n = static_cast<std::size_t>(image.nx);
    std::vector<double> deriv(nc);
    for (std::size_t k = 0; k < nc; ++k) deriv[k] = static_cast<double>(k + 2) * coeffs[k];
    std::vector<double> m(n), x(n), tail(n), dp(n);
    // Newton on one row at a time, until every pixel of the row has converged (as
    // calibs.Linearizer.correct does for the whole array). Loops run over pixels innermost
    // so they vectorise; the start is the first-order inverse x = m - tail(m).
    for (std::ptrdiff_t y = 0; y < image.ny; ++y) {
        for (std::size_t i = 0; i < n; ++i) m[i] = image(y, static_cast<std::ptrdiff_t>(i));
        std::fill(tail.begin(), tail.end(), 0.0);
        for (std::size_t k = nc; k-- > 0;)
            for (std::size_t i = 0; i < n; ++i) tail[i] = (tail[i] + coeffs[k]) * m[i];
        for (std::size_t i = 0; i < n; ++i) x[i] = m[i] - tail[i] * m[i];
        for (int it = 0; it < 30; ++it) {
            std::fill(tail.begin(), tail.end(), 0.0);
            std::fill(dp.begin(), dp.end(), 0.0);
            for (std::size_t k = nc; k-- > 0;) {
                const double c = coeffs[k], d = deriv[k];
                for (std::size_t i = 0; i < n; ++i) {
                    tail[i] = (tail[i] + c) * x[i];  // Σ c_k x^(k+1); times x below: Horner as _poly_tail
                    dp[i] = (dp[i] + d) * x[i];      // Σ (k+2) c_k x^(k+1)
                }
            }
            int not_done = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double step = (x[i] + tail[i] * x[i] - m[i]) / (1.0 + dp[i]);
                x[i] -= step;
                not_done |= !(std::fabs(step) < 1e-10 * std::max(1.0, std::fabs(x[i])));
            }
            if (!not_done) break;
        }
        for (std::size_t i = 0; i < n; ++i) image(y, static_cast<std::ptrdiff_t>(i)) = static_cast<float>(x[i]);
    }
}

}  // namespace osprey::ip::isr
