// Per-pixel sigma-clipped mean across a stack of frames, one pass over the pixels with a
// scratch buffer of n values (no n×H×W temporaries). Mirrors combine.clipped_mean_stack.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

namespace {

constexpr float kMadToSigma = 1.482602218505602f;

// numpy's float32 median: middle value or float32 mean of the two middle values.
float median_f32(float* b, std::size_t n) {
    const std::size_t k = n / 2;
    std::nth_element(b, b + k, b + n);
    const float hi = b[k];
    if (n % 2 == 1) return hi;
    const float lo = *std::max_element(b, b + k);
    return (lo + hi) / 2.0f;
}

}  // namespace

void clipped_mean_combine(const CombineInputs& in, double n_sigma, int n_iter, float* mean_out, float* stdev_out,
                          std::int32_t* n_out) {
    const std::size_t n = in.frames.size();
    if (n == 0) return;
    const std::ptrdiff_t ny = in.frames[0].ny, nx = in.frames[0].nx;
    const bool masked = !in.masks.empty();
    const int last = std::max(n_iter, 1);
    const float nsig = static_cast<float>(n_sigma);
    const float nanf = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> d(n), work(n);
    std::vector<char> keep(n);
    for (std::ptrdiff_t y = 0; y < ny; ++y) {
        for (std::ptrdiff_t x = 0; x < nx; ++x) {
            std::size_t nv = 0;
            bool any_nan = false;
            for (std::size_t i = 0; i < n; ++i) {
                d[i] = in.frames[i](y, x) * in.inv_scales[i];
                keep[i] = masked ? ((in.masks[i](y, x) & in.bits[i]) == 0) : 1;
                if (std::isnan(d[i])) {
                    any_nan = true;
                    if (masked) continue;  // nanmedian ignores NaN values
                }
                if (keep[i]) work[nv++] = d[i];
            }
            float centre, mad;
            if (nv == 0 || (!masked && any_nan)) {
                centre = nanf;
                mad = nanf;
            } else {
                centre = median_f32(work.data(), nv);
                for (std::size_t i = 0; i < nv; ++i) work[i] = std::fabs(work[i] - centre);
                mad = median_f32(work.data(), nv);
            }
            float sigma = kMadToSigma * mad;
            double mean = 0.0, var = 0.0;
            std::int32_t kept = 0;
            for (int it = 0; it <= last; ++it) {
                if (it > 0 || n > 2) {
                    const float thr = nsig * sigma;
                    for (std::size_t i = 0; i < n; ++i)
                        if (keep[i] && std::fabs(d[i] - centre) > thr) keep[i] = 0;
                }
                kept = 0;
                double s1 = 0.0;
                for (std::size_t i = 0; i < n; ++i)
                    if (keep[i]) {
                        ++kept;
                        s1 += d[i];
                    }
                mean = s1 / static_cast<double>(kept);
                const float mf = static_cast<float>(mean);
                double ss = 0.0;
                for (std::size_t i = 0; i < n; ++i)
                    if (keep[i]) {
                        const double dev = static_cast<double>(d[i] - mf);
                        ss += dev * dev;
                    }
                var = ss / static_cast<double>(kept - 1);
                if (it == last) break;
                centre = mf;
                sigma = static_cast<float>(std::sqrt(var));
                if (!std::isfinite(sigma)) sigma = std::numeric_limits<float>::infinity();
            }
            const std::ptrdiff_t o = y * nx + x;
            mean_out[o] = static_cast<float>(mean);
            stdev_out[o] = static_cast<float>(std::sqrt(var));
            n_out[o] = kept;
        }
    }
}

}  // namespace osprey::ip::isr
