// nanobind module osprey.ip.isr._isr: thin array-in/array-out wrappers around the kernels in
// kernels.h. Callers (osprey/ip/isr/_native.py) check dtypes and allocate outputs; here the
// shapes are validated and the GIL is released around every pixel loop.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "osprey/ip/isr/abi.h"
#include "osprey/ip/isr/kernels.h"

namespace nb = nanobind;
using namespace nb::literals;
namespace isr = osprey::ip::isr;

namespace {

// Any strides (views of a frame, flipped readout views); the data are used in place.
template <class T>
using Arr2 = nb::ndarray<T, nb::ndim<2>, nb::device::cpu>;
template <class T>
using Vec = nb::ndarray<T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

template <class T>
isr::View2D<T> view(const Arr2<T>& a) {
    return {a.data(), static_cast<std::ptrdiff_t>(a.shape(0)), static_cast<std::ptrdiff_t>(a.shape(1)),
            static_cast<std::ptrdiff_t>(a.stride(0)), static_cast<std::ptrdiff_t>(a.stride(1))};
}

std::string shape_str(std::size_t ny, std::size_t nx) {
    return "(" + std::to_string(ny) + ", " + std::to_string(nx) + ")";
}

template <class A, class B>
void same_shape(const A& a, const B& b, const char* what) {
    if (a.shape(0) != b.shape(0) || a.shape(1) != b.shape(1))
        throw std::invalid_argument(std::string(what) + " must have shape " + shape_str(a.shape(0), a.shape(1)) +
                                    ", got " + shape_str(b.shape(0), b.shape(1)));
}

void line_levels_py(Arr2<const float> values, int statistic, double n_sigma, int n_iter, Vec<double> out) {
    if (statistic < 0 || statistic > 2) throw std::invalid_argument("statistic must be 0 (MEDIAN), 1 (MEAN), 2 (MEANCLIP)");
    if (out.shape(0) != values.shape(0))
        throw std::invalid_argument("out must have shape (" + std::to_string(values.shape(0)) + ",)");
    nb::gil_scoped_release nogil;
    isr::line_levels(view(values), static_cast<isr::LineStatistic>(statistic), n_sigma, n_iter, out.data());
}

void subtract_levels_py(Arr2<float> image, Vec<const double> levels, bool per_column, float gain) {
    const std::size_t need = per_column ? image.shape(1) : image.shape(0);
    if (levels.shape(0) != need) throw std::invalid_argument("levels must have shape (" + std::to_string(need) + ",)");
    nb::gil_scoped_release nogil;
    isr::subtract_levels(view(image), levels.data(), per_column, gain);
}

void overscan_gain_assemble_py(Arr2<const float> src_image, Arr2<const float> src_variance,
                                Arr2<const std::int32_t> src_mask, Vec<const double> levels, float gain, float gain2,
                                Arr2<float> dst_image, Arr2<float> dst_variance, Arr2<std::int32_t> dst_mask) {
    same_shape(src_image, src_variance, "src_variance");
    same_shape(src_image, src_mask, "src_mask");
    same_shape(src_image, dst_image, "dst_image");
    same_shape(src_image, dst_variance, "dst_variance");
    same_shape(src_image, dst_mask, "dst_mask");
    if (levels.shape(0) != src_image.shape(0))
        throw std::invalid_argument("levels must have shape (" + std::to_string(src_image.shape(0)) + ",)");
    nb::gil_scoped_release nogil;
    isr::overscan_gain_assemble(view(src_image), view(src_variance), view(src_mask), levels.data(), gain, gain2,
                                view(dst_image), view(dst_variance), view(dst_mask));
}

std::int64_t interpolate_masked_py(Arr2<float> image, Arr2<float> variance, Arr2<std::int32_t> mask,
                                   std::int32_t bad_bits, std::int32_t intrp_bit, std::int32_t no_data_bit,
                                   bool along_columns, double fallback) {
    same_shape(image, variance, "variance");
    same_shape(image, mask, "mask");
    nb::gil_scoped_release nogil;
    return isr::interpolate_masked(view(image), view(variance), view(mask), bad_bits, intrp_bit, no_data_bit,
                                   along_columns, fallback);
}

void apply_calibs_py(Arr2<float> image, Arr2<float> variance, Arr2<std::int32_t> mask,
                     std::optional<Arr2<const float>> bias_image, std::optional<Arr2<const float>> bias_variance,
                     std::optional<Arr2<const std::int32_t>> bias_mask, std::optional<Arr2<const float>> dark_image,
                     std::optional<Arr2<const float>> dark_variance,
                     std::optional<Arr2<const std::int32_t>> dark_mask, float dark_scale,
                     std::optional<Arr2<const float>> flat_image, double flat_norm, std::int32_t flat_bad_bit) {
    same_shape(image, variance, "variance");
    same_shape(image, mask, "mask");
    isr::CalibFrames c;
    if (bias_image) {
        if (!bias_variance || !bias_mask) throw std::invalid_argument("bias needs image, variance and mask");
        same_shape(image, *bias_image, "bias image");
        same_shape(image, *bias_variance, "bias variance");
        same_shape(image, *bias_mask, "bias mask");
        c.bias_image = view(*bias_image);
        c.bias_variance = view(*bias_variance);
        c.bias_mask = view(*bias_mask);
    }
    if (dark_image) {
        if (!dark_variance || !dark_mask) throw std::invalid_argument("dark needs image, variance and mask");
        same_shape(image, *dark_image, "dark image");
        same_shape(image, *dark_variance, "dark variance");
        same_shape(image, *dark_mask, "dark mask");
        c.dark_image = view(*dark_image);
        c.dark_variance = view(*dark_variance);
        c.dark_mask = view(*dark_mask);
        c.dark_scale = dark_scale;
    }
    if (flat_image) {
        same_shape(image, *flat_image, "flat image");
        c.flat_image = view(*flat_image);
        c.flat_norm = flat_norm;
        c.flat_bad_bit = flat_bad_bit;
    }
    nb::gil_scoped_release nogil;
    isr::apply_calibs(view(image), view(variance), view(mask), c);
}

std::pair<double, std::int64_t> positive_median_py(Arr2<const float> image) {
    std::int64_t n = 0;
    double med;
    {
        nb::gil_scoped_release nogil;
        med = isr::positive_median(view(image), &n);
    }
    return {med, n};
}

void linearize_polynomial_py(Arr2<float> image, std::vector<double> coeffs) {
    nb::gil_scoped_release nogil;
    isr::linearize_polynomial(view(image), coeffs);
}

using Mat = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Stack = nb::ndarray<double, nb::ndim<3>, nb::c_contig, nb::device::cpu>;

void crosstalk_correct_py(std::vector<Arr2<float>> views, Mat coeffs, std::optional<Mat> coeffs_sqr, int iterations,
                          std::optional<Stack> signal) {
    const std::size_t n = views.size();
    if (n == 0) throw std::invalid_argument("crosstalk needs at least one amplifier view");
    if (coeffs.shape(0) != n || coeffs.shape(1) != n)
        throw std::invalid_argument("coeffs must have shape " + shape_str(n, n));
    if (coeffs_sqr && (coeffs_sqr->shape(0) != n || coeffs_sqr->shape(1) != n))
        throw std::invalid_argument("coeffs_sqr must have shape " + shape_str(n, n));
    std::vector<isr::View2D<float>> vs;
    for (auto& v : views) {
        same_shape(views[0], v, "every amplifier view");
        vs.push_back(view(v));
    }
    if (signal && (signal->shape(0) != n || signal->shape(1) != views[0].shape(0) ||
                   signal->shape(2) != views[0].shape(1)))
        throw std::invalid_argument("signal must have shape (n_amp, ny, nx)");
    nb::gil_scoped_release nogil;
    isr::crosstalk_correct(vs, coeffs.data(), coeffs_sqr ? coeffs_sqr->data() : nullptr, iterations,
                           signal ? signal->data() : nullptr);
}

std::pair<int, double> brighter_fatter_correct_py(Arr2<float> image, Mat kernel, int max_iter, double threshold) {
    const std::size_t k = kernel.shape(0);
    if (kernel.shape(1) != k || k % 2 == 0)
        throw std::invalid_argument("kernel must be square with an odd size, got " +
                                    shape_str(kernel.shape(0), kernel.shape(1)));
    if (image.shape(0) <= k / 2 || image.shape(1) <= k / 2 || image.shape(0) < 2 || image.shape(1) < 2)
        throw std::invalid_argument("image must be larger than half the kernel in both axes");
    nb::gil_scoped_release nogil;
    return isr::brighter_fatter_correct(view(image), kernel.data(), static_cast<std::ptrdiff_t>(k), max_iter,
                                        threshold);
}

using OutF = nb::ndarray<float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using OutI = nb::ndarray<std::int32_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

void clipped_mean_combine_py(std::vector<Arr2<const float>> frames, std::vector<Arr2<const std::int32_t>> masks,
                             std::vector<std::int32_t> bits, std::vector<float> inv_scales, double n_sigma,
                             int n_iter, OutF mean, OutF stdev, OutI n_kept) {
    const std::size_t n = frames.size();
    if (n == 0) throw std::invalid_argument("combine needs at least one frame");
    if (inv_scales.size() != n) throw std::invalid_argument("inv_scales must have one value per frame");
    if (!masks.empty() && (masks.size() != n || bits.size() != n))
        throw std::invalid_argument("masks and bits must be empty or have one entry per frame");
    isr::CombineInputs in;
    for (auto& f : frames) {
        same_shape(frames[0], f, "every frame");
        in.frames.push_back(view(f));
    }
    for (auto& m : masks) {
        same_shape(frames[0], m, "every mask");
        in.masks.push_back(view(m));
    }
    same_shape(frames[0], mean, "mean");
    same_shape(frames[0], stdev, "stdev");
    same_shape(frames[0], n_kept, "n_kept");
    in.bits = std::move(bits);
    in.inv_scales = std::move(inv_scales);
    nb::gil_scoped_release nogil;
    isr::clipped_mean_combine(in, n_sigma, n_iter, mean.data(), stdev.data(), n_kept.data());
}

}  // namespace

NB_MODULE(_isr, m) {
    m.doc() = "Private compiled kernels of osprey.ip.isr; use the Python API (osprey.ip.isr.steps).";
    m.attr("header_abi_version") = isr::header_abi_version;
    m.def("line_levels", &line_levels_py, "values"_a.noconvert(), "statistic"_a, "n_sigma"_a, "n_iter"_a,
          "out"_a.noconvert());
    m.def("subtract_levels", &subtract_levels_py, "image"_a.noconvert(), "levels"_a.noconvert(), "per_column"_a,
          "gain"_a);
    m.def("overscan_gain_assemble", &overscan_gain_assemble_py, "src_image"_a.noconvert(),
          "src_variance"_a.noconvert(), "src_mask"_a.noconvert(), "levels"_a.noconvert(), "gain"_a, "gain2"_a,
          "dst_image"_a.noconvert(), "dst_variance"_a.noconvert(), "dst_mask"_a.noconvert());
    m.def("interpolate_masked", &interpolate_masked_py, "image"_a.noconvert(), "variance"_a.noconvert(),
          "mask"_a.noconvert(), "bad_bits"_a, "intrp_bit"_a, "no_data_bit"_a, "along_columns"_a, "fallback"_a);
    m.def("apply_calibs", &apply_calibs_py, "image"_a.noconvert(), "variance"_a.noconvert(), "mask"_a.noconvert(),
          "bias_image"_a.noconvert().none(), "bias_variance"_a.noconvert().none(), "bias_mask"_a.noconvert().none(),
          "dark_image"_a.noconvert().none(), "dark_variance"_a.noconvert().none(), "dark_mask"_a.noconvert().none(),
          "dark_scale"_a, "flat_image"_a.noconvert().none(), "flat_norm"_a, "flat_bad_bit"_a);
    m.def("positive_median", &positive_median_py, "image"_a.noconvert());
    m.def("linearize_polynomial", &linearize_polynomial_py, "image"_a.noconvert(), "coeffs"_a);
    m.def("crosstalk_correct", &crosstalk_correct_py, "views"_a.noconvert(), "coeffs"_a.noconvert(),
          "coeffs_sqr"_a.noconvert().none(), "iterations"_a, "signal"_a.noconvert().none());
    m.def("brighter_fatter_correct", &brighter_fatter_correct_py, "image"_a.noconvert(), "kernel"_a.noconvert(),
          "max_iter"_a, "threshold"_a);
    m.def("clipped_mean_combine", &clipped_mean_combine_py, "frames"_a.noconvert(), "masks"_a.noconvert(),
          "bits"_a, "inv_scales"_a, "n_sigma"_a, "n_iter"_a, "mean"_a.noconvert(), "stdev"_a.noconvert(),
          "n_kept"_a.noconvert());
}
