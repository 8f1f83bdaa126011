// Bindings of the convolution kernels (include/osprey/afw/convolve.h) for
// osprey.afw.math.convolve. Outputs are allocated by the Python wrapper and filled in
// place (interior only); every kernel runs with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "osprey/afw/convolve.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

template <class T>
using In2 = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using Out2 = nb::ndarray<T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using In1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

void check_geometry(size_t ny, size_t nx, size_t oy, size_t ox, size_t kh, size_t kw, int64_t cx, int64_t cy) {
    if (oy != ny || ox != nx) {
        throw std::invalid_argument("output shape (" + std::to_string(oy) + ", " + std::to_string(ox) +
                                    ") must equal the input shape (" + std::to_string(ny) + ", " +
                                    std::to_string(nx) + ")");
    }
    if (kh == 0 || kw == 0) throw std::invalid_argument("kernel must not be empty");
    if (cx < 0 || cy < 0 || cx >= static_cast<int64_t>(kw) || cy >= static_cast<int64_t>(kh)) {
        throw std::invalid_argument("kernel centre (" + std::to_string(cx) + ", " + std::to_string(cy) +
                                    ") must lie inside the kernel (" + std::to_string(kw) + " x " +
                                    std::to_string(kh) + ")");
    }
}

template <class T>
void direct_py(In2<T> in, In2<T> kernel, int64_t cx, int64_t cy, Out2<T> out) {
    check_geometry(in.shape(0), in.shape(1), out.shape(0), out.shape(1), kernel.shape(0), kernel.shape(1), cx, cy);
    nb::gil_scoped_release nogil;
    osprey::afw::conv::convolve_direct(in.data(), static_cast<int64_t>(in.shape(1)), static_cast<int64_t>(in.shape(0)),
                                       kernel.data(), static_cast<int64_t>(kernel.shape(1)),
                                       static_cast<int64_t>(kernel.shape(0)), cx, cy, out.data());
}

template <class T>
void separable_py(In2<T> in, In1<T> kx, In1<T> ky, int64_t cx, int64_t cy, Out2<T> out) {
    check_geometry(in.shape(0), in.shape(1), out.shape(0), out.shape(1), ky.shape(0), kx.shape(0), cx, cy);
    nb::gil_scoped_release nogil;
    osprey::afw::conv::convolve_separable(in.data(), static_cast<int64_t>(in.shape(1)),
                                          static_cast<int64_t>(in.shape(0)), kx.data(),
                                          static_cast<int64_t>(kx.shape(0)), ky.data(),
                                          static_cast<int64_t>(ky.shape(0)), cx, cy, out.data());
}

void mask_or_py(In2<int32_t> in, In2<uint8_t> footprint, int64_t cx, int64_t cy, Out2<int32_t> out) {
    check_geometry(in.shape(0), in.shape(1), out.shape(0), out.shape(1), footprint.shape(0), footprint.shape(1), cx,
                   cy);
    nb::gil_scoped_release nogil;
    osprey::afw::conv::mask_or(in.data(), static_cast<int64_t>(in.shape(1)), static_cast<int64_t>(in.shape(0)),
                               footprint.data(), static_cast<int64_t>(footprint.shape(1)),
                               static_cast<int64_t>(footprint.shape(0)), cx, cy, out.data());
}

}  // namespace

void bind_convolve(nb::module_& m) {
    m.def("convolve_direct", &direct_py<float>, "image"_a.noconvert(), "kernel"_a.noconvert(), "ctr_x"_a, "ctr_y"_a,
          "out"_a.noconvert());
    m.def("convolve_direct", &direct_py<double>, "image"_a.noconvert(), "kernel"_a.noconvert(), "ctr_x"_a, "ctr_y"_a,
          "out"_a.noconvert());
    m.def("convolve_separable", &separable_py<float>, "image"_a.noconvert(), "kx"_a.noconvert(), "ky"_a.noconvert(),
          "ctr_x"_a, "ctr_y"_a, "out"_a.noconvert());
    m.def("convolve_separable", &separable_py<double>, "image"_a.noconvert(), "kx"_a.noconvert(),
          "ky"_a.noconvert(), "ctr_x"_a, "ctr_y"_a, "out"_a.noconvert());
    m.def("convolve_mask_or", &mask_or_py, "mask"_a.noconvert(), "footprint"_a.noconvert(), "ctr_x"_a, "ctr_y"_a,
          "out"_a.noconvert());
}
