// Bias, dark and flat applied in one pass over the assembled frame, and the flat's median.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "clones.h"
#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

OSPREY_ISR_CLONES
void apply_calibs(View2D<float> image, View2D<float> variance, View2D<std::int32_t> mask, const CalibFrames& c) {
    const bool bias = c.bias_image.data != nullptr, dark = c.dark_image.data != nullptr;
    const bool flat = c.flat_image.data != nullptr;
    const float ds = c.dark_scale;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::ptrdiff_t y = 0; y < image.ny; ++y) {
        for (std::ptrdiff_t x = 0; x < image.nx; ++x) {
            float v = image(y, x), w = variance(y, x);
            std::int32_t m = mask(y, x);
            if (bias) {
                v -= c.bias_image(y, x);
                w += c.bias_variance(y, x);
                m |= c.bias_mask(y, x);
            }
            if (dark) {
                // float32 arithmetic, as numpy does for float32 arrays times a Python float
                v -= c.dark_image(y, x) * ds;
                w += c.dark_variance(y, x) * ds * ds;
                m |= c.dark_mask(y, x);
            }
            if (flat) {
                const double f = c.flat_image(y, x);
                const bool good = std::isfinite(f) && f > 0;
                const double fn = good ? f / c.flat_norm : nan;
                v = static_cast<float>(static_cast<double>(v) / fn);
                w = static_cast<float>(static_cast<double>(w) / (fn * fn));
                if (!good) m |= c.flat_bad_bit;
            }
            image(y, x) = v;
            variance(y, x) = w;
            mask(y, x) = m;
        }
    }
}

// Exact order statistics of the finite positive pixels by radix selection: for positive
// floats the IEEE bit pattern orders like the value, so a histogram of the top 16 bits
// finds the bin of the k-th value and a second of the low 16 bits inside that bin gives
// its exact bits. Two streaming passes, no copy of the image (nth_element on 16 M values
// costs ~10× more).
double positive_median(View2D<const float> image, std::int64_t* n_good) {
    auto bits_of = [](float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, sizeof u);
        return u;
    };
    auto good = [](float f) { return std::isfinite(f) && f > 0; };
    // Four interleaved histograms: a flat's values fall in a few bins, and one counter
    // incremented back to back would serialise on its own store.
    constexpr std::size_t kBins = 1 << 16;
    std::vector<std::int64_t> hist4(4 * kBins, 0), hi(kBins, 0);
    std::int64_t n = 0;
    for (std::ptrdiff_t y = 0; y < image.ny; ++y)
        for (std::ptrdiff_t x = 0; x < image.nx; ++x) {
            const float f = image(y, x);
            if (good(f)) {
                ++hist4[(static_cast<std::size_t>(x) & 3) * kBins + (bits_of(f) >> 16)];
                ++n;
            }
        }
    for (std::size_t b = 0; b < kBins; ++b)
        hi[b] = hist4[b] + hist4[kBins + b] + hist4[2 * kBins + b] + hist4[3 * kBins + b];
    *n_good = n;
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    // ranks wanted (0-based): the middle one, or the two middle ones
    const std::int64_t r1 = n / 2, r0 = (n % 2 == 1) ? r1 : r1 - 1;
    auto locate = [&](std::int64_t rank, std::uint32_t* bin, std::int64_t* within) {
        std::int64_t acc = 0;
        for (std::uint32_t b = 0; b < (1u << 16); ++b) {
            if (acc + hi[b] > rank) {
                *bin = b;
                *within = rank - acc;
                return;
            }
            acc += hi[b];
        }
    };
    std::uint32_t b0 = 0, b1 = 0;
    std::int64_t w0 = 0, w1 = 0;
    locate(r0, &b0, &w0);
    locate(r1, &b1, &w1);
    std::vector<std::int64_t> lo0(1 << 16, 0), lo1(1 << 16, 0);
    for (std::ptrdiff_t y = 0; y < image.ny; ++y)
        for (std::ptrdiff_t x = 0; x < image.nx; ++x) {
            const float f = image(y, x);
            if (!good(f)) continue;
            const std::uint32_t u = bits_of(f);
            if ((u >> 16) == b0) ++lo0[u & 0xffffu];
            if ((u >> 16) == b1) ++lo1[u & 0xffffu];
        }
    auto value = [&](std::uint32_t bin, std::int64_t within, const std::vector<std::int64_t>& lo) {
        std::int64_t acc = 0;
        std::uint32_t low = 0;
        for (; low < (1u << 16); ++low) {
            if (acc + lo[low] > within) break;
            acc += lo[low];
        }
        const std::uint32_t u = (bin << 16) | low;
        float f;
        std::memcpy(&f, &u, sizeof f);
        return static_cast<double>(f);
    };
    const double v1 = value(b1, w1, lo1);
    if (r0 == r1) return v1;
    const double v0 = value(b0, w0, lo0);
    return (v0 + v1) / 2.0;  // numpy: mean of the two middle values
}

}  // namespace osprey::ip::isr
