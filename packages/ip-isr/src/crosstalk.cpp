// Intra-detector crosstalk removal over the amps' data regions, blocked over pixels so the
// n×n matrix-vector products vectorise.
#include <algorithm>
#include <vector>

#include "clones.h"
#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

OSPREY_ISR_CLONES
void crosstalk_correct(const std::vector<View2D<float>>& views, const double* coeffs, const double* coeffs_sqr,
                       int iterations, double* signal) {
    const std::size_t n = views.size();
    if (n == 0) return;
    const std::ptrdiff_t ny = views[0].ny, nx = views[0].nx;
    constexpr std::ptrdiff_t B = 256;
    std::vector<double> obs(n * B), clean(n * B), next(n * B), sq(n * B);
    const int passes = std::max(1, iterations);
    for (std::ptrdiff_t y = 0; y < ny; ++y) {
        for (std::ptrdiff_t x0 = 0; x0 < nx; x0 += B) {
            const std::ptrdiff_t nb = std::min(B, nx - x0);
            for (std::size_t j = 0; j < n; ++j)
                for (std::ptrdiff_t k = 0; k < nb; ++k) obs[j * B + k] = views[j](y, x0 + k);
            std::copy(obs.begin(), obs.end(), clean.begin());
            for (int p = 0; p < passes; ++p) {
                if (coeffs_sqr)
                    for (std::size_t j = 0; j < n * B; ++j) sq[j] = clean[j] * clean[j];
                for (std::size_t i = 0; i < n; ++i) {
                    double* out = &next[i * B];
                    for (std::ptrdiff_t k = 0; k < nb; ++k) out[k] = 0.0;
                    for (std::size_t j = 0; j < n; ++j) {
                        const double c = coeffs[i * n + j];
                        const double* src = &clean[j * B];
                        if (c != 0.0)
                            for (std::ptrdiff_t k = 0; k < nb; ++k) out[k] += c * src[k];
                        if (coeffs_sqr && coeffs_sqr[i * n + j] != 0.0) {
                            const double c2 = coeffs_sqr[i * n + j];
                            const double* s2 = &sq[j * B];
                            for (std::ptrdiff_t k = 0; k < nb; ++k) out[k] += c2 * s2[k];
                        }
                    }
                    const double* o = &obs[i * B];
                    for (std::ptrdiff_t k = 0; k < nb; ++k) out[k] = o[k] - out[k];
                }
                std::swap(clean, next);
            }
            for (std::size_t i = 0; i < n; ++i) {
                for (std::ptrdiff_t k = 0; k < nb; ++k) {
                    const double s = obs[i * B + k] - clean[i * B + k];
                    views[i](y, x0 + k) -= static_cast<float>(s);
                    if (signal) signal[(static_cast<std::ptrdiff_t>(i) * ny + y) * nx + x0 + k] = s;
                }
            }
        }
    }
}

}  // namespace osprey::ip::isr
