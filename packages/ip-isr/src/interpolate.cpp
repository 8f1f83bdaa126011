// Linear interpolation over masked pixels along rows or columns (LSST interpolateOverDefects
// along one axis): every run of bad pixels is filled from the nearest good pixel on each side.
#include <cmath>
#include <cstdint>
#include <limits>

#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

namespace {

// Fill one run [b, e) of a line of length n; `at(i)` maps a line index to (image, variance, mask).
template <class At>
void fill_run(std::ptrdiff_t b, std::ptrdiff_t e, std::ptrdiff_t n, At at, std::int32_t intrp_bit,
              std::int32_t no_data_bit, double fallback) {
    const bool has_l = b > 0, has_r = e < n;
    double vl = 0, vr = 0, wl = 0, wr = 0;
    if (has_l) {
        auto [img, var, msk] = at(b - 1);
        vl = *img;
        wl = *var;
        (void)msk;
    }
    if (has_r) {
        auto [img, var, msk] = at(e);
        vr = *img;
        wr = *var;
        (void)msk;
    }
    const double span = static_cast<double>(e - (b - 1));
    for (std::ptrdiff_t i = b; i < e; ++i) {
        auto [img, var, msk] = at(i);
        double value, variance;
        std::int32_t bits = intrp_bit;
        if (has_l && has_r) {
            const double frac = static_cast<double>(i - (b - 1)) / span;
            value = vl + (vr - vl) * frac;
            variance = 0.5 * (wl + wr);
        } else if (has_l) {
            value = vl;
            variance = wl;
        } else if (has_r) {
            value = vr;
            variance = wr;
        } else {
            value = fallback;
            variance = std::numeric_limits<double>::quiet_NaN();
            bits |= no_data_bit;
        }
        *img = static_cast<float>(value);
        *var = static_cast<float>(variance);
        *msk |= bits;
    }
}

struct Pix {
    float* img;
    float* var;
    std::int32_t* msk;
};

}  // namespace

std::int64_t interpolate_masked(View2D<float> image, View2D<float> variance, View2D<std::int32_t> mask,
                                std::int32_t bad_bits, std::int32_t intrp_bit, std::int32_t no_data_bit,
                                bool along_columns, double fallback) {
    std::int64_t count = 0;
    const std::ptrdiff_t ny = image.ny, nx = image.nx;
    // The bad set is fixed before any pixel changes: only bad pixels gain bits, and only
    // good pixels are read as neighbours, so the result does not depend on the scan order.
    auto is_bad = [&](std::ptrdiff_t y, std::ptrdiff_t x) { return (mask(y, x) & bad_bits) != 0; };
    if (!along_columns) {
        for (std::ptrdiff_t y = 0; y < ny; ++y) {
            auto at = [&](std::ptrdiff_t x) { return Pix{&image(y, x), &variance(y, x), &mask(y, x)}; };
            std::ptrdiff_t x = 0;
            while (x < nx) {
                if (!is_bad(y, x)) {
                    ++x;
                    continue;
                }
                const std::ptrdiff_t b = x;
                while (x < nx && is_bad(y, x)) ++x;
                fill_run(b, x, nx, at, intrp_bit, no_data_bit, fallback);
                count += x - b;
            }
        }
    } else {
        // Row-major scan for cache friendliness; a run starts where the pixel above is good.
        for (std::ptrdiff_t y = 0; y < ny; ++y) {
            for (std::ptrdiff_t x = 0; x < nx; ++x) {
                if (!is_bad(y, x) || (y > 0 && is_bad(y - 1, x))) continue;
                std::ptrdiff_t e = y;
                while (e < ny && is_bad(e, x)) ++e;
                auto at = [&](std::ptrdiff_t yy) { return Pix{&image(yy, x), &variance(yy, x), &mask(yy, x)}; };
                fill_run(y, e, ny, at, intrp_bit, no_data_bit, fallback);
                count += e - y;
            }
        }
    }
    return count;
}

}  // namespace osprey::ip::isr
