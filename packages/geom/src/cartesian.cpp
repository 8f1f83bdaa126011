// Array kernels for planar geometry: affine transforms of point arrays and box containment.
// Private to osprey.geom; osprey/geom/transforms.py and cartesian.py validate and document.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <memory>
#include <stdexcept>

#include "osprey/geom/cartesian.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using Coords = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutF64 = nb::ndarray<nb::numpy, double, nb::ndim<1>>;
using OutBool = nb::ndarray<nb::numpy, bool, nb::ndim<1>>;

template <typename T>
std::pair<T*, nb::capsule> owned_buffer(std::size_t n) {
    auto buf = std::make_unique<T[]>(n == 0 ? 1 : n);
    T* ptr = buf.get();
    nb::capsule owner(buf.release(), [](void* p) noexcept { delete[] static_cast<T*>(p); });
    return {ptr, std::move(owner)};
}

nb::tuple affine_apply(double a00, double a01, double a10, double a11, double tx, double ty,
                       Coords x, Coords y) {
    if (x.shape(0) != y.shape(0)) throw std::invalid_argument("x and y must have the same length");
    const std::size_t n = x.shape(0);
    auto [xo, xo_owner] = owned_buffer<double>(n);
    auto [yo, yo_owner] = owned_buffer<double>(n);
    const osprey::geom::AffineTransform t{{a00, a01, a10, a11}, tx, ty};
    {
        nb::gil_scoped_release nogil;
        t.apply(x.data(), y.data(), n, xo, yo);
    }
    return nb::make_tuple(OutF64(xo, {n}, xo_owner), OutF64(yo, {n}, yo_owner));
}

OutBool box2d_contains(double x_min, double y_min, double x_max, double y_max, Coords x, Coords y) {
    if (x.shape(0) != y.shape(0)) throw std::invalid_argument("x and y must have the same length");
    const std::size_t n = x.shape(0);
    auto [out, owner] = owned_buffer<bool>(n);
    const osprey::geom::Box2D box{x_min, y_min, x_max, y_max};
    {
        nb::gil_scoped_release nogil;
        osprey::geom::box_contains(box, x.data(), y.data(), n, out);
    }
    return OutBool(out, {n}, owner);
}

}  // namespace

void bind_cartesian(nb::module_& m) {
    m.def("affine_apply", &affine_apply, "a00"_a, "a01"_a, "a10"_a, "a11"_a, "tx"_a, "ty"_a,
          "x"_a.noconvert(), "y"_a.noconvert());
    m.def("box2d_contains", &box2d_contains, "x_min"_a, "y_min"_a, "x_max"_a, "y_max"_a,
          "x"_a.noconvert(), "y"_a.noconvert());
}
