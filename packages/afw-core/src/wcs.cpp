// Compiled kernels of osprey.afw.wcs: TAN(-SIP) pixel <-> sky for arrays of points.
//
// Private: the Python wrapper (osprey/afw/wcs/_skywcs.py) validates every input, builds
// the packed parameter vector and documents the model. The model, pixel -> sky, is
//
//   p' = L p + t                      (affine pixel transform; identity unless composed)
//   u  = p' - crpix                   (0-based pixel offsets)
//   u' = u + A(u, v), v' = v + B(u, v) (SIP forward polynomials; TPV is converted to this)
//   (x, y) = CD (u', v')              (intermediate world coordinates, degrees)
//   n  = (-y, x, 1) (radians)         (TAN: native direction, up to a positive factor)
//   c  = R n                          (native -> celestial rotation); lon, lat of c
//
// Sky -> pixel inverts each step; the SIP step starts from AP/BP when given and is refined
// by Newton iteration on the forward polynomials, so round trips hold to ~1e-10 pixel.
#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using Coords = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Coeffs = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Params = nb::ndarray<const double, nb::shape<31>, nb::c_contig, nb::device::cpu>;
using OutArray = nb::ndarray<nb::numpy, double, nb::ndim<1>>;

constexpr double kDegToRad = 0.017453292519943295;
constexpr double kRadToDeg = 57.29577951308232;
constexpr double kTwoPi = 6.283185307179586;

// Offsets into the packed parameter vector (see `_kernel_params` in _skywcs.py).
enum : int { kAffine = 0, kAffineInv = 6, kCrpix = 12, kCd = 14, kCdInv = 18, kRot = 22 };

// A bivariate polynomial sum c[p, q] u^p v^q with c stored row-major, (n + 1) x (n + 1).
struct Poly {
    const double* c = nullptr;
    int n1 = 0;  // n + 1; zero means "no polynomial"

    double value(double u, double v) const {
        double acc = 0.0;
        for (int p = n1 - 1; p >= 0; --p) {
            const double* row = c + static_cast<std::ptrdiff_t>(p) * n1;
            double s = 0.0;
            for (int q = n1 - 1 - p; q >= 0; --q) s = s * v + row[q];
            acc = acc * u + s;
        }
        return acc;
    }

    // Value and both partial derivatives, by nested Horner schemes.
    void value_and_grad(double u, double v, double& f, double& fu, double& fv) const {
        f = fu = fv = 0.0;
        for (int p = n1 - 1; p >= 0; --p) {
            const double* row = c + static_cast<std::ptrdiff_t>(p) * n1;
            double s = 0.0, ds = 0.0;
            for (int q = n1 - 1 - p; q >= 0; --q) {
                ds = ds * v + s;
                s = s * v + row[q];
            }
            fu = fu * u + f;
            f = f * u + s;
            fv = fv * u + ds;
        }
    }
};

Poly make_poly(const Coeffs& a) {
    if (a.shape(0) != a.shape(1)) throw std::invalid_argument("polynomial coefficients must be square");
    Poly p;
    if (a.shape(0) > 0) {
        p.c = a.data();
        p.n1 = static_cast<int>(a.shape(0));
    }
    return p;
}

struct Model {
    const double* prm;
    Poly a, b, ap, bp;
};

void pixel_to_sky_loop(const Model& m, const double* x, const double* y, std::size_t n, double* lon,
                       double* lat) {
    const double* P = m.prm;
    const double* L = P + kAffine;
    const double* cd = P + kCd;
    const double* R = P + kRot;
    const double cx = P[kCrpix], cy = P[kCrpix + 1];
    const bool sip = m.a.n1 > 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double xp = L[0] * x[i] + L[1] * y[i] + L[4];
        const double yp = L[2] * x[i] + L[3] * y[i] + L[5];
        double u = xp - cx, v = yp - cy;
        if (sip) {
            const double du = m.a.value(u, v), dv = m.b.value(u, v);
            u += du;
            v += dv;
        }
        const double X = (cd[0] * u + cd[1] * v) * kDegToRad;
        const double Y = (cd[2] * u + cd[3] * v) * kDegToRad;
        // native direction (-Y, X, 1), rotated to celestial
        const double c0 = -R[0] * Y + R[1] * X + R[2];
        const double c1 = -R[3] * Y + R[4] * X + R[5];
        const double c2 = -R[6] * Y + R[7] * X + R[8];
        double a = std::atan2(c1, c0);
        if (a < 0.0) a += kTwoPi;
        lon[i] = a;
        lat[i] = std::atan2(c2, std::sqrt(c0 * c0 + c1 * c1));
    }
}

void sky_to_pixel_loop(const Model& m, bool refine, int max_iter, const double* lon, const double* lat,
                       std::size_t n, double* x, double* y) {
    const double* P = m.prm;
    const double* Li = P + kAffineInv;
    const double* ci = P + kCdInv;
    const double* R = P + kRot;
    const double cx = P[kCrpix], cy = P[kCrpix + 1];
    const bool sip = m.a.n1 > 0;
    const bool inv = m.ap.n1 > 0;
    const double nan = std::nan("");
    constexpr double tol2 = 1e-20;  // (1e-10 pixel)^2
    for (std::size_t i = 0; i < n; ++i) {
        const double cl = std::cos(lat[i]);
        const double s0 = cl * std::cos(lon[i]), s1 = cl * std::sin(lon[i]), s2 = std::sin(lat[i]);
        // native = R^T celestial
        const double n0 = R[0] * s0 + R[3] * s1 + R[6] * s2;
        const double n1 = R[1] * s0 + R[4] * s1 + R[7] * s2;
        const double n2 = R[2] * s0 + R[5] * s1 + R[8] * s2;
        if (!(n2 > 0.0)) {  // on or behind the plane of the sky's tangent point (or NaN)
            x[i] = y[i] = nan;
            continue;
        }
        const double X = n1 / n2 * kRadToDeg, Y = -n0 / n2 * kRadToDeg;
        const double U = ci[0] * X + ci[1] * Y, V = ci[2] * X + ci[3] * Y;
        double u = U, v = V;
        if (inv) {
            u = U + m.ap.value(U, V);
            v = V + m.bp.value(U, V);
        }
        if (sip && (refine || !inv)) {
            bool ok = false;
            double step2 = HUGE_VAL;
            for (int it = 0; it < max_iter; ++it) {
                double f, fu, fv, g, gu, gv;
                m.a.value_and_grad(u, v, f, fu, fv);
                m.b.value_and_grad(u, v, g, gu, gv);
                const double r0 = u + f - U, r1 = v + g - V;
                const double j00 = 1.0 + fu, j01 = fv, j10 = gu, j11 = 1.0 + gv;
                const double det = j00 * j11 - j01 * j10;
                if (!(det != 0.0) || !std::isfinite(det)) {
                    step2 = HUGE_VAL;
                    break;
                }
                const double du = (j11 * r0 - j01 * r1) / det;
                const double dv = (j00 * r1 - j10 * r0) / det;
                u -= du;
                v -= dv;
                step2 = du * du + dv * dv;
                if (step2 < tol2) {
                    ok = true;
                    break;
                }
            }
            // Rounding can keep the last step just above 1e-10 pixel far from CRPIX; a step
            // under 1e-6 pixel is still a converged answer, anything else is not.
            if (!ok && !(step2 < 1e-12)) {
                x[i] = y[i] = nan;
                continue;
            }
        }
        const double xp = u + cx, yp = v + cy;
        x[i] = Li[0] * xp + Li[1] * yp + Li[4];
        y[i] = Li[2] * xp + Li[3] * yp + Li[5];
    }
}

OutArray new_array(std::size_t n, double** data) {
    std::unique_ptr<double[]> buf(new double[n > 0 ? n : 1]);
    *data = buf.get();
    nb::capsule owner(buf.get(), [](void* p) noexcept { delete[] static_cast<double*>(p); });
    buf.release();
    return OutArray(*data, {n}, owner);
}

std::pair<OutArray, OutArray> pixel_to_sky_py(Params prm, Coeffs a, Coeffs b, Coords x, Coords y) {
    if (x.shape(0) != y.shape(0)) throw std::invalid_argument("x and y must have the same length");
    if (a.shape(0) != b.shape(0)) throw std::invalid_argument("A and B must have the same order");
    const Model m{prm.data(), make_poly(a), make_poly(b), Poly{}, Poly{}};
    const std::size_t n = x.shape(0);
    double *lon, *lat;
    OutArray lon_arr = new_array(n, &lon), lat_arr = new_array(n, &lat);
    {
        nb::gil_scoped_release nogil;
        pixel_to_sky_loop(m, x.data(), y.data(), n, lon, lat);
    }
    return {lon_arr, lat_arr};
}

std::pair<OutArray, OutArray> sky_to_pixel_py(Params prm, Coeffs a, Coeffs b, Coeffs ap, Coeffs bp,
                                              bool refine, int max_iter, Coords lon, Coords lat) {
    if (lon.shape(0) != lat.shape(0)) throw std::invalid_argument("lon and lat must have the same length");
    if (a.shape(0) != b.shape(0)) throw std::invalid_argument("A and B must have the same order");
    if (ap.shape(0) != bp.shape(0)) throw std::invalid_argument("AP and BP must have the same order");
    if (max_iter < 1) throw std::invalid_argument("max_iter must be >= 1");
    const Model m{prm.data(), make_poly(a), make_poly(b), make_poly(ap), make_poly(bp)};
    const std::size_t n = lon.shape(0);
    double *x, *y;
    OutArray x_arr = new_array(n, &x), y_arr = new_array(n, &y);
    {
        nb::gil_scoped_release nogil;
        sky_to_pixel_loop(m, refine, max_iter, lon.data(), lat.data(), n, x, y);
    }
    return {x_arr, y_arr};
}

}  // namespace

void bind_wcs(nb::module_& m) {
    m.def("wcs_pixel_to_sky", &pixel_to_sky_py, "params"_a.noconvert(), "a"_a.noconvert(), "b"_a.noconvert(),
          "x"_a.noconvert(), "y"_a.noconvert());
    m.def("wcs_sky_to_pixel", &sky_to_pixel_py, "params"_a.noconvert(), "a"_a.noconvert(), "b"_a.noconvert(),
          "ap"_a.noconvert(), "bp"_a.noconvert(), "refine"_a, "max_iter"_a, "lon"_a.noconvert(),
          "lat"_a.noconvert());
}
