// Vectorised HEALPix kernels (NEST and RING): positions -> pixels, pixels -> positions and
// scheme conversion.  Private to osprey.geom; osprey/geom/healpix.py validates and documents.
// Every kernel checks its inputs in the GIL-free loop and throws (ValueError) afterwards.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>

#include "osprey/geom/healpix.h"

namespace nb = nanobind;
using namespace nb::literals;
namespace hp = osprey::geom::healpix;

namespace {

using Coords = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Pixels = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutF64 = nb::ndarray<nb::numpy, double, nb::ndim<1>>;
using OutI64 = nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>;

template <typename T>
std::pair<T*, nb::capsule> owned_buffer(std::size_t n) {
    auto buf = std::make_unique<T[]>(n == 0 ? 1 : n);
    T* ptr = buf.get();
    nb::capsule owner(buf.release(), [](void* p) noexcept { delete[] static_cast<T*>(p); });
    return {ptr, std::move(owner)};
}

constexpr double HALF_PI = 1.5707963267948966192313216916397514;

template <bool Nest>
bool ang2pix_loop(int order, const double* lon, const double* lat, std::size_t n, std::int64_t* out) {
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) {
        const double lo = lon[i], la = lat[i];
        // One test catches NaN, infinities and |lat| > pi/2.
        if (!(std::fabs(la) <= HALF_PI) || !std::isfinite(lo)) {
            ok = false;
            out[i] = -1;
            continue;
        }
        out[i] = Nest ? hp::ang_to_nest(order, lo, la) : hp::ang_to_ring(order, lo, la);
    }
    return ok;
}

OutI64 ang2pix(int order, bool nest, Coords lon, Coords lat) {
    hp::check_order(order);
    if (lon.shape(0) != lat.shape(0)) throw std::invalid_argument("lon and lat must have the same length");
    const std::size_t n = lon.shape(0);
    auto [out, owner] = owned_buffer<std::int64_t>(n);
    bool ok;
    {
        nb::gil_scoped_release nogil;
        ok = nest ? ang2pix_loop<true>(order, lon.data(), lat.data(), n, out)
                  : ang2pix_loop<false>(order, lon.data(), lat.data(), n, out);
    }
    if (!ok) throw std::invalid_argument("lon must be finite and lat finite within [-pi/2, pi/2]");
    return OutI64(out, {n}, owner);
}

OutI64 vec2pix(int order, bool nest, Coords x, Coords y, Coords z) {
    hp::check_order(order);
    if (x.shape(0) != y.shape(0) || x.shape(0) != z.shape(0))
        throw std::invalid_argument("x, y and z must have the same length");
    const std::size_t n = x.shape(0);
    auto [out, owner] = owned_buffer<std::int64_t>(n);
    bool ok = true;
    {
        nb::gil_scoped_release nogil;
        const double *px = x.data(), *py = y.data(), *pz = z.data();
        for (std::size_t i = 0; i < n; ++i) {
            const double r2 = px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i];
            if (!(r2 > 0.0) || !std::isfinite(r2)) {
                ok = false;
                out[i] = -1;
                continue;
            }
            out[i] = nest ? hp::vec_to_nest(order, px[i], py[i], pz[i]) : hp::vec_to_ring(order, px[i], py[i], pz[i]);
        }
    }
    if (!ok) throw std::invalid_argument("vectors must be finite and non-zero");
    return OutI64(out, {n}, owner);
}

// Position at fractional offsets (fx, fy) inside each pixel; fx/fy have length n or 1.
nb::tuple pix2ang(int order, bool nest, Pixels pix, Coords fx, Coords fy) {
    hp::check_order(order);
    const std::size_t n = pix.shape(0);
    const std::size_t nfx = fx.shape(0), nfy = fy.shape(0);
    if ((nfx != n && nfx != 1) || (nfy != n && nfy != 1))
        throw std::invalid_argument("fx and fy must have length 1 or the length of pix");
    auto [lon, lon_owner] = owned_buffer<double>(n);
    auto [lat, lat_owner] = owned_buffer<double>(n);
    const std::int64_t npix = hp::npix_of(order);
    bool ok = true;
    {
        nb::gil_scoped_release nogil;
        const std::int64_t* p = pix.data();
        const double *px = fx.data(), *py = fy.data();
        for (std::size_t i = 0; i < n; ++i) {
            const double a = px[nfx == 1 ? 0 : i], b = py[nfy == 1 ? 0 : i];
            if (p[i] < 0 || p[i] >= npix || !(a >= 0.0 && a <= 1.0) || !(b >= 0.0 && b <= 1.0)) {
                ok = false;
                lon[i] = lat[i] = std::nan("");
                continue;
            }
            const hp::FacePixel f = nest ? hp::nest_to_face(order, p[i]) : hp::ring_to_face(order, p[i]);
            hp::face_point_to_ang(order, f, a, b, lon[i], lat[i]);
        }
    }
    if (!ok) throw std::invalid_argument("pixel index out of range or offset outside [0, 1]");
    return nb::make_tuple(OutF64(lon, {n}, lon_owner), OutF64(lat, {n}, lat_owner));
}

template <bool ToRing>
OutI64 convert(int order, Pixels pix) {
    hp::check_order(order);
    const std::size_t n = pix.shape(0);
    auto [out, owner] = owned_buffer<std::int64_t>(n);
    const std::int64_t npix = hp::npix_of(order);
    bool ok = true;
    {
        nb::gil_scoped_release nogil;
        const std::int64_t* p = pix.data();
        for (std::size_t i = 0; i < n; ++i) {
            if (p[i] < 0 || p[i] >= npix) {
                ok = false;
                out[i] = -1;
                continue;
            }
            out[i] = ToRing ? hp::nest_to_ring(order, p[i]) : hp::ring_to_nest(order, p[i]);
        }
    }
    if (!ok) throw std::invalid_argument("pixel index out of range for this order");
    return OutI64(out, {n}, owner);
}

}  // namespace

void bind_healpix(nb::module_& m) {
    m.def("healpix_ang2pix", &ang2pix, "order"_a, "nest"_a, "lon"_a.noconvert(), "lat"_a.noconvert());
    m.def("healpix_vec2pix", &vec2pix, "order"_a, "nest"_a, "x"_a.noconvert(), "y"_a.noconvert(),
          "z"_a.noconvert());
    m.def("healpix_pix2ang", &pix2ang, "order"_a, "nest"_a, "pix"_a.noconvert(), "fx"_a.noconvert(),
          "fy"_a.noconvert());
    m.def("healpix_nest2ring", &convert<true>, "order"_a, "pix"_a.noconvert());
    m.def("healpix_ring2nest", &convert<false>, "order"_a, "pix"_a.noconvert());
}
