// Bindings of the resampling kernel (include/osprey/afw/warp.h) for
// osprey.afw.math.warp_image. Outputs are allocated by the Python wrapper and filled in
// place; the kernel runs with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "osprey/afw/warp.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

namespace wp = osprey::afw::warp;

template <class T>
using In2 = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using Out2 = nb::ndarray<T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Nodes = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

std::string shape_str(size_t a, size_t b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

void check_nodes(Nodes const& n, char const* what) {
    if (n.shape(0) < 2) throw std::invalid_argument(std::string(what) + " needs at least two grid nodes");
    for (size_t i = 1; i < n.shape(0); ++i) {
        if (!(n.data()[i] > n.data()[i - 1])) {
            throw std::invalid_argument(std::string(what) + " grid nodes must be strictly increasing");
        }
    }
}

template <class T>
void warp_py(In2<T> image, In2<float> variance, In2<int32_t> mask, Nodes gx, Nodes gy, In2<double> sx, In2<double> sy,
             int order, double mask_threshold, int32_t edge_bits, int32_t no_data_bits, bool conserve_flux,
             Out2<T> out_image, Out2<float> out_variance, Out2<int32_t> out_mask, Out2<float> out_sumw2) {
    const size_t ny = image.shape(0), nx = image.shape(1);
    const bool has_var = variance.shape(0) != 0, has_mask = mask.shape(0) != 0;
    if (ny == 0 || nx == 0) throw std::invalid_argument("source image is empty");
    if (has_var && (variance.shape(0) != ny || variance.shape(1) != nx)) {
        throw std::invalid_argument("variance shape must be " + shape_str(ny, nx));
    }
    if (has_mask && (mask.shape(0) != ny || mask.shape(1) != nx)) {
        throw std::invalid_argument("mask shape must be " + shape_str(ny, nx));
    }
    check_nodes(gx, "x");
    check_nodes(gy, "y");
    const size_t ngy = gy.shape(0), ngx = gx.shape(0);
    for (auto const* a : {&sx, &sy}) {
        if (a->shape(0) != ngy || a->shape(1) != ngx) {
            throw std::invalid_argument("grid positions must have shape " + shape_str(ngy, ngx));
        }
    }
    const size_t dy = out_image.shape(0), dx = out_image.shape(1);
    const bool want_var = out_variance.shape(0) != 0;
    if (want_var != has_var) throw std::invalid_argument("variance given for only one of source and destination");
    if ((want_var && (out_variance.shape(0) != dy || out_variance.shape(1) != dx)) || out_mask.shape(0) != dy ||
        out_mask.shape(1) != dx || out_sumw2.shape(0) != dy || out_sumw2.shape(1) != dx) {
        throw std::invalid_argument("destination planes must have shape " + shape_str(dy, dx));
    }
    if (!(gx.data()[0] <= 0.0 && gx.data()[ngx - 1] >= static_cast<double>(dx) - 1.0 && gy.data()[0] <= 0.0 &&
          gy.data()[ngy - 1] >= static_cast<double>(dy) - 1.0)) {
        throw std::invalid_argument("grid nodes must span the destination " + shape_str(dy, dx));
    }
    if (order < 1 || order > 5) throw std::invalid_argument("order must be 1 (bilinear) or 2..5 (Lanczos)");
    wp::Source<T> src{image.data(), has_var ? variance.data() : nullptr, has_mask ? mask.data() : nullptr,
                      static_cast<int64_t>(nx), static_cast<int64_t>(ny)};
    wp::Dest<T> dst{out_image.data(), want_var ? out_variance.data() : nullptr, out_mask.data(), out_sumw2.data(),
                    static_cast<int64_t>(dx), static_cast<int64_t>(dy)};
    wp::Grid grid{gx.data(), gy.data(), sx.data(), sy.data(), static_cast<int64_t>(ngx), static_cast<int64_t>(ngy)};
    wp::Params params{mask_threshold, edge_bits, no_data_bits, conserve_flux};
    nb::gil_scoped_release nogil;
    const wp::WeightTable table(order);
    wp::warp(src, dst, grid, table, params);
}

template <class T>
void def_warp(nb::module_& m) {
    m.def("warp_resample", &warp_py<T>, "image"_a.noconvert(), "variance"_a.noconvert(), "mask"_a.noconvert(),
          "grid_x"_a.noconvert(), "grid_y"_a.noconvert(), "src_x"_a.noconvert(), "src_y"_a.noconvert(), "order"_a,
          "mask_threshold"_a, "edge_bits"_a, "no_data_bits"_a, "conserve_flux"_a, "out_image"_a.noconvert(),
          "out_variance"_a.noconvert(), "out_mask"_a.noconvert(), "out_sumw2"_a.noconvert());
}

}  // namespace

void bind_warp(nb::module_& m) {
    def_warp<float>(m);
    def_warp<double>(m);
}
