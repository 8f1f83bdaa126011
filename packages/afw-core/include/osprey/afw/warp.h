// Resampling kernel behind osprey.afw.math.warp_image: separable Lanczos-a (or bilinear)
// interpolation of a source image at positions given on a coarse grid over the destination
// and interpolated bilinearly in between. Header-only, no Python types.
//
// Positions are source array coordinates (pixel centres at integers). For a position xs,
// the taps are the 2a source columns i0 .. i0 + 2a - 1, i0 = floor(xs) - a + 1, with weights
// L(xs - i) (L(d) = sinc(d) sinc(d / a), |d| < a; bilinear: 1 - |d|), normalised to sum 1.
// The weights come from a table of 4096 sub-pixel phases with linear interpolation between
// phases (error < 1e-7 of the weight), so no trigonometry runs per pixel.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace osprey::afw::warp {

constexpr double kPi = 3.14159265358979323846;

// Weights of the 2a taps for every phase f = b / nbin, b = 0 .. nbin.
class WeightTable {
   public:
    static constexpr int kBins = 4096;
    static constexpr int kMaxTaps = 10;

    explicit WeightTable(int a) : a_(a), ntap_(2 * a), w_(static_cast<size_t>((kBins + 1) * 2 * a)) {
        for (int b = 0; b <= kBins; ++b) {
            const double f = static_cast<double>(b) / kBins;
            for (int k = 0; k < ntap_; ++k) w_[static_cast<size_t>(b * ntap_ + k)] = kernel(f + a_ - 1 - k);
        }
    }

    int a() const { return a_; }
    int ntap() const { return ntap_; }

    // Normalised weights for phase f in [0, 1) into out[0 .. 2a).
    void weights(double f, double* out) const {
        const double t = f * kBins;
        int b = static_cast<int>(t);
        b = std::min(std::max(b, 0), kBins - 1);
        const double s = t - b;
        double const* w0 = w_.data() + static_cast<size_t>(b * ntap_);
        double const* w1 = w0 + ntap_;
        double sum = 0.0;
        for (int k = 0; k < ntap_; ++k) {
            out[k] = w0[k] + s * (w1[k] - w0[k]);
            sum += out[k];
        }
        const double inv = 1.0 / sum;
        for (int k = 0; k < ntap_; ++k) out[k] *= inv;
    }

   private:
    double kernel(double d) const {
        const double ad = std::abs(d);
        if (a_ == 1) return ad < 1.0 ? 1.0 - ad : 0.0;  // bilinear
        if (ad >= a_) return 0.0;
        if (ad < 1e-12) return 1.0;
        const double px = kPi * d;
        return a_ * std::sin(px) * std::sin(px / a_) / (px * px);
    }

    int a_, ntap_;
    std::vector<double> w_;
};

// Destination->source mapping on grid nodes (node positions gx[0..ngx), gy[0..ngy) in
// destination array coordinates, strictly increasing; node values sx, sy of shape ngy x ngx),
// evaluated bilinearly, with the Jacobian of that bilinear surface.
struct Grid {
    double const* gx;
    double const* gy;
    double const* sx;
    double const* sy;
    int64_t ngx, ngy;
};

struct Params {
    double mask_threshold;  // a tap's mask bits are ORed when |wx * wy| > this
    int32_t edge_bits;      // set where the kernel was truncated by the source boundary
    int32_t no_data_bits;   // set where the source does not cover the pixel
    bool conserve_flux;     // multiply by |det d(src)/d(dest)| (variance by its square)
};

template <class T>
struct Source {
    T const* img;
    float const* var;      // may be null
    int32_t const* mask;   // may be null
    int64_t nx, ny;
};

template <class T>
struct Dest {
    T* img;
    float* var;     // may be null
    int32_t* mask;  // always written
    float* sumw2;   // sum of the squared 2-D weights; NaN where no data
    int64_t nx, ny;
};

template <class T>
void warp(Source<T> const& src, Dest<T> const& dst, Grid const& g, WeightTable const& table, Params const& p) {
    const int a = table.a();
    const int nt = table.ntap();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    std::vector<double> rx(static_cast<size_t>(g.ngx)), ry(static_cast<size_t>(g.ngx));
    std::vector<double> dxy(static_cast<size_t>(g.ngx)), dyy(static_cast<size_t>(g.ngx));
    double wx[WeightTable::kMaxTaps], wy[WeightTable::kMaxTaps], wx2[WeightTable::kMaxTaps];
    int64_t jg = 0;
    for (int64_t j = 0; j < dst.ny; ++j) {
        const double yd = static_cast<double>(j);
        while (jg + 2 < g.ngy && g.gy[jg + 1] <= yd) ++jg;
        const double hy = g.gy[jg + 1] - g.gy[jg];
        const double ty = (yd - g.gy[jg]) / hy;
        double const* sx0 = g.sx + jg * g.ngx;
        double const* sy0 = g.sy + jg * g.ngx;
        for (int64_t i = 0; i < g.ngx; ++i) {  // the mapping along this destination row's nodes
            rx[i] = sx0[i] + ty * (sx0[i + g.ngx] - sx0[i]);
            ry[i] = sy0[i] + ty * (sy0[i + g.ngx] - sy0[i]);
            dxy[i] = (sx0[i + g.ngx] - sx0[i]) / hy;
            dyy[i] = (sy0[i + g.ngx] - sy0[i]) / hy;
        }
        int64_t ig = 0;
        T* out = dst.img + j * dst.nx;
        float* vout = dst.var ? dst.var + j * dst.nx : nullptr;
        int32_t* mout = dst.mask + j * dst.nx;
        float* w2out = dst.sumw2 + j * dst.nx;
        for (int64_t i = 0; i < dst.nx; ++i) {
            const double xd = static_cast<double>(i);
            while (ig + 2 < g.ngx && g.gx[ig + 1] <= xd) ++ig;
            const double hx = g.gx[ig + 1] - g.gx[ig];
            const double tx = (xd - g.gx[ig]) / hx;
            const double xs = rx[ig] + tx * (rx[ig + 1] - rx[ig]);
            const double ys = ry[ig] + tx * (ry[ig + 1] - ry[ig]);
            if (!(xs >= -0.5 && xs <= src.nx - 0.5 && ys >= -0.5 && ys <= src.ny - 0.5)) {  // NaN fails too
                out[i] = nan;
                if (vout) vout[i] = std::numeric_limits<float>::quiet_NaN();
                mout[i] = p.no_data_bits;
                w2out[i] = std::numeric_limits<float>::quiet_NaN();
                continue;
            }
            const double fxs = std::floor(xs), fys = std::floor(ys);
            const int64_t i0 = static_cast<int64_t>(fxs) - a + 1, j0 = static_cast<int64_t>(fys) - a + 1;
            table.weights(xs - fxs, wx);
            table.weights(ys - fys, wy);
            // taps inside the source; a truncated kernel is renormalised over what is left
            const int kx0 = static_cast<int>(std::max<int64_t>(0, -i0));
            const int kx1 = static_cast<int>(std::min<int64_t>(nt, src.nx - i0));
            const int ky0 = static_cast<int>(std::max<int64_t>(0, -j0));
            const int ky1 = static_cast<int>(std::min<int64_t>(nt, src.ny - j0));
            int32_t bits = 0;
            if (kx0 > 0 || kx1 < nt || ky0 > 0 || ky1 < nt) {
                double sx = 0.0, sy = 0.0;
                for (int k = kx0; k < kx1; ++k) sx += wx[k];
                for (int k = ky0; k < ky1; ++k) sy += wy[k];
                for (int k = kx0; k < kx1; ++k) wx[k] /= sx;
                for (int k = ky0; k < ky1; ++k) wy[k] /= sy;
                bits = p.edge_bits;
            }
            double sx2 = 0.0, sy2 = 0.0;
            for (int k = kx0; k < kx1; ++k) {
                wx2[k] = wx[k] * wx[k];
                sx2 += wx2[k];
            }
            for (int k = ky0; k < ky1; ++k) sy2 += wy[k] * wy[k];
            double value = 0.0, variance = 0.0;
            for (int k = ky0; k < ky1; ++k) {
                const int64_t row = (j0 + k) * src.nx + i0;
                T const* s = src.img + row;
                double acc = 0.0;
                for (int q = kx0; q < kx1; ++q) acc += wx[q] * static_cast<double>(s[q]);
                value += wy[k] * acc;
                if (vout) {
                    float const* v = src.var + row;
                    double vacc = 0.0;
                    for (int q = kx0; q < kx1; ++q) vacc += wx2[q] * static_cast<double>(v[q]);
                    variance += wy[k] * wy[k] * vacc;
                }
                if (src.mask) {
                    int32_t const* m = src.mask + row;
                    const double lim = p.mask_threshold / std::abs(wy[k]);
                    for (int q = kx0; q < kx1; ++q) {
                        if (std::abs(wx[q]) > lim) bits |= m[q];
                    }
                }
            }
            if (p.conserve_flux) {
                const double dxx = (rx[ig + 1] - rx[ig]) / hx, dyx = (ry[ig + 1] - ry[ig]) / hx;
                const double dxy_ = dxy[ig] + tx * (dxy[ig + 1] - dxy[ig]);
                const double dyy_ = dyy[ig] + tx * (dyy[ig + 1] - dyy[ig]);
                const double jac = std::abs(dxx * dyy_ - dxy_ * dyx);
                value *= jac;
                variance *= jac * jac;
            }
            out[i] = static_cast<T>(value);
            if (vout) vout[i] = static_cast<float>(variance);
            mout[i] = bits;
            w2out[i] = static_cast<float>(sx2 * sy2);
        }
    }
}

}  // namespace osprey::afw::warp
