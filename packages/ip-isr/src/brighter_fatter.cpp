// Brighter-fatter correction (brighter_fatter.py): the fixed-point iteration
// I_{n+1} = I_obs - ½ ∇·(I_n ∇(K ⊛ I_n)) with a direct convolution by the (small) kernel
// over a reflect-padded image, and the gradients, Laplacian and update fused in one pass.
// Built with -ffp-contract=fast (meson.build): the convolution's multiply-adds may fuse; the
// numpy reference convolves by FFT, so the two agree to rounding, not to the bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "clones.h"
#include "osprey/ip/isr/kernels.h"

namespace osprey::ip::isr {

namespace {

// numpy's 'reflect' padding index (edge pixel not repeated); needs n > r.
inline std::ptrdiff_t reflect(std::ptrdiff_t i, std::ptrdiff_t n) {
    if (i < 0) return -i;
    if (i >= n) return 2 * (n - 1) - i;
    return i;
}

inline double nan_to_num(double v) {
    if (std::isnan(v)) return 0.0;
    if (std::isinf(v)) return v > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
    return v;
}

// phi = K ⊛ P cropped to the image: phi[y,x] = Σ K[i,j] P[y + 2r - i, x + 2r - j].
// Register blocking: 16 outputs of a row are accumulated in four 4-double vectors over all
// k² taps, so each tap costs four loads and four multiply-adds and no store. GCC/Clang
// vector extensions; the baseline copy lowers them to SSE2 pairs.
#if defined(__GNUC__)
// aligned(8): unaligned loads and stores; may_alias: reads the doubles of P and phi.
typedef double V4 __attribute__((vector_size(32), aligned(8), may_alias));
#define OSPREY_ISR_V4 1
#endif

// One output row of phi = K ⊛ P: phi[x] = Σ K[i,j] rows[i][x + 2r - j], where rows[i] is
// the padded row that kernel row i meets. With K[i] == K[k-1-i] (fold) the two rows that
// meet kernel rows i and k-1-i are summed first (into S) and convolved with row i:
// (r+1)·k taps per pixel instead of k².
OSPREY_ISR_CLONES
void convolve_row(const double* const* rows, std::ptrdiff_t pw, const double* K, std::ptrdiff_t k,
                  std::ptrdiff_t nx, bool fold, double* S, const double** src_rows, double* phi) {
    const std::ptrdiff_t r = k / 2, r2 = 2 * r;
    const std::ptrdiff_t nr = fold ? r + 1 : k;
    for (std::ptrdiff_t i = 0; i < nr; ++i) {
        if (fold && i < r) {
            const double* a = rows[i];
            const double* b = rows[k - 1 - i];
            double* s = S + i * pw;
            for (std::ptrdiff_t x = 0; x < pw; ++x) s[x] = a[x] + b[x];
            src_rows[i] = s;
        } else {
            src_rows[i] = rows[i];
        }
    }
    std::ptrdiff_t x0 = 0;
#ifdef OSPREY_ISR_V4
    for (; x0 + 16 <= nx; x0 += 16) {
        V4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
        for (std::ptrdiff_t i = 0; i < nr; ++i) {
            const double* prow = src_rows[i] + x0 + r2;
            const double* krow = K + i * k;
            for (std::ptrdiff_t j = 0; j < k; ++j) {
                const double c = krow[j];
                const V4 cv = {c, c, c, c};
                const double* src = prow - j;
                a0 += cv * *reinterpret_cast<const V4*>(src);
                a1 += cv * *reinterpret_cast<const V4*>(src + 4);
                a2 += cv * *reinterpret_cast<const V4*>(src + 8);
                a3 += cv * *reinterpret_cast<const V4*>(src + 12);
            }
        }
        V4* out = reinterpret_cast<V4*>(phi + x0);
        out[0] = a0;
        out[1] = a1;
        out[2] = a2;
        out[3] = a3;
    }
#endif
    for (std::ptrdiff_t x = x0; x < nx; ++x) {
        double acc = 0.0;
        for (std::ptrdiff_t i = 0; i < nr; ++i) {
            const double* prow = src_rows[i] + x + r2;
            for (std::ptrdiff_t j = 0; j < k; ++j) acc += K[i * k + j] * prow[-j];
        }
        phi[x] = acc;
    }
}

}  // namespace

std::pair<int, double> brighter_fatter_correct(View2D<float> image, const double* K, std::ptrdiff_t k, int max_iter,
                                               double threshold) {
    const std::ptrdiff_t ny = image.ny, nx = image.nx, r = k / 2, pw = nx + 2 * r;
    // Streaming: the padded, NaN-free estimate lives in a ring of R padded rows and phi in a
    // ring of 3 rows, so each pass reads `cur` and writes `next` once (no padded or phi
    // frame). Rows of K symmetric to 1e-12 of its largest value (kernels from
    // bf_kernel_from_a_matrix are, to rounding) are folded; using row i for both rows is an
    // O(1e-12) relative change, far below the FFT reference's own rounding.
    const std::ptrdiff_t R = 2 * r + 3;
    std::vector<double> cur(static_cast<std::size_t>(ny * nx)), next(cur.size());
    std::vector<double> ring(static_cast<std::size_t>(R * pw)), phi(static_cast<std::size_t>(3 * nx));
    std::vector<double> S(static_cast<std::size_t>(std::max<std::ptrdiff_t>(r, 1) * pw));
    std::vector<const double*> rows(static_cast<std::size_t>(k)), src_rows(static_cast<std::size_t>(k));
    double kmax = 0.0, asym = 0.0;
    for (std::ptrdiff_t i = 0; i < k * k; ++i) kmax = std::max(kmax, std::fabs(K[i]));
    for (std::ptrdiff_t i = 0; i < k; ++i)
        for (std::ptrdiff_t j = 0; j < k; ++j) asym = std::max(asym, std::fabs(K[i * k + j] - K[(k - 1 - i) * k + j]));
    const bool fold = asym <= 1e-12 * kmax;
    for (std::ptrdiff_t y = 0; y < ny; ++y)
        for (std::ptrdiff_t x = 0; x < nx; ++x) cur[y * nx + x] = image(y, x);
    // padded row py (0 <= py < ny + 2r) of the NaN-free current estimate, numpy 'reflect'
    auto prow = [&](std::ptrdiff_t py) { return ring.data() + (py % R) * pw; };
    auto build = [&](std::ptrdiff_t py) {
        double* dst = prow(py) + r;
        const double* src = cur.data() + reflect(py - r, ny) * nx;
        for (std::ptrdiff_t x = 0; x < nx; ++x) dst[x] = nan_to_num(src[x]);
        for (std::ptrdiff_t x = 1; x <= r; ++x) {
            dst[-x] = dst[x];
            dst[nx - 1 + x] = dst[nx - 1 - x];
        }
    };
    auto conv = [&](std::ptrdiff_t y) {  // phi row y needs padded rows y .. y + 2r
        for (std::ptrdiff_t i = 0; i < k; ++i) rows[i] = prow(y + 2 * r - i);
        convolve_row(rows.data(), pw, K, k, nx, fold, S.data(), src_rows.data(), phi.data() + (y % 3) * nx);
    };
    int n = 0;
    double change = std::numeric_limits<double>::infinity();
    for (int it = 1; it <= max_iter; ++it) {
        n = it;
        for (std::ptrdiff_t py = 0; py <= 2 * r; ++py) build(py);
        conv(0);
        change = -std::numeric_limits<double>::infinity();
        bool any = false;
        for (std::ptrdiff_t y = 0; y < ny; ++y) {
            if (y + 1 < ny) {
                build(y + 1 + 2 * r);
                conv(y + 1);
            }
            // np.gradient (central differences, one-sided at the edges) and the 5-point
            // Laplacian with edge-replicated borders, as brighter_fatter_term.
            const std::ptrdiff_t ym = std::max<std::ptrdiff_t>(y - 1, 0), yp = std::min(y + 1, ny - 1);
            const double hy = (y == 0 || y == ny - 1) ? 1.0 : 0.5;  // x/2 == x*0.5 exactly
            const double* im = prow(ym + r) + r;
            const double* i0 = prow(y + r) + r;
            const double* ip = prow(yp + r) + r;
            const double* fm = phi.data() + (ym % 3) * nx;
            const double* f0 = phi.data() + (y % 3) * nx;
            const double* fp = phi.data() + (yp % 3) * nx;
            const double* c = cur.data() + y * nx;
            double* out = next.data() + y * nx;
            for (std::ptrdiff_t x = 0; x < nx; ++x) {
                const std::ptrdiff_t xm = std::max<std::ptrdiff_t>(x - 1, 0), xp = std::min(x + 1, nx - 1);
                const double hx = (x == 0 || x == nx - 1) ? 1.0 : 0.5;
                const double gy = (ip[x] - im[x]) * hy;
                const double gx = (i0[xp] - i0[xm]) * hx;
                const double py = (fp[x] - fm[x]) * hy;
                const double px = (f0[xp] - f0[xm]) * hx;
                const double lap = fm[x] + fp[x] + f0[xm] + f0[xp] - 4.0 * f0[x];
                const double term = 0.5 * (gx * px + gy * py + i0[x] * lap);
                const double v = static_cast<double>(image(y, x)) - term;
                const double d = std::fabs(v - c[x]);
                if (!std::isnan(d)) {
                    any = true;
                    change = std::max(change, d);
                }
                out[x] = v;
            }
        }
        std::swap(cur, next);
        if (!any) change = std::numeric_limits<double>::quiet_NaN();
        if (change < threshold) break;
    }
    for (std::ptrdiff_t y = 0; y < ny; ++y)
        for (std::ptrdiff_t x = 0; x < nx; ++x)
            if (std::isfinite(image(y, x))) image(y, x) = static_cast<float>(cur[y * nx + x]);
    return {n, change};
}

}  // namespace osprey::ip::isr
