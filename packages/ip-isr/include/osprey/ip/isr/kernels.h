// Pixel kernels of osprey-ip-isr: plain C++ (no Python types), called by src/bindings.cpp
// with the GIL released. Images are float32, masks int32 bit planes, indices [y, x].
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace osprey::ip::isr {

// A strided 2-D view; strides are in elements and may be negative (flipped views).
template <class T>
struct View2D {
    T* data = nullptr;
    std::ptrdiff_t ny = 0, nx = 0, sy = 0, sx = 0;
    T& operator()(std::ptrdiff_t y, std::ptrdiff_t x) const { return data[y * sy + x * sx]; }
};

enum class LineStatistic : int { Median = 0, Mean = 1, MeanClip = 2 };

// One robust level per row of `values` (float64 arithmetic): MEDIAN, MEAN, or MEANCLIP —
// iterate n_iter times: centre = median, sigma = stdev (ddof=1) of the kept values, drop
// |v - centre| > n_sigma * sigma; level = mean of the kept values. NaNs are ignored by
// MEANCLIP and propagate for MEDIAN/MEAN (numpy's nanmedian/median semantics).
void line_levels(View2D<const float> values, LineStatistic statistic, double n_sigma, int n_iter,
                 double* out);

// Subtract level[y] (or level[x] when per_column) from every pixel, then multiply by gain.
void subtract_levels(View2D<float> image, const double* levels, bool per_column, float gain);

// One amplifier from the raw frame to the assembled frame in one pass: dst = (src - level[y])
// × gain (float32, as overscan_correct then apply_gains), variance × gain2, mask copied.
// The source views are the amp's raw data region already flipped into the assembled
// orientation (negative strides); level[y] is the overscan level of source row y.
void overscan_gain_assemble(View2D<const float> src_image, View2D<const float> src_variance,
                            View2D<const std::int32_t> src_mask, const double* levels, float gain, float gain2,
                            View2D<float> dst_image, View2D<float> dst_variance, View2D<std::int32_t> dst_mask);

// Linear interpolation over pixels with any of `bad_bits` set, along rows (x) or columns (y),
// between the nearest good pixels; one good side copies it, none gives `fallback` and
// NO_DATA. Sets INTRP on every interpolated pixel; variance = mean of the neighbours'.
// Returns the number of interpolated pixels.
std::int64_t interpolate_masked(View2D<float> image, View2D<float> variance, View2D<std::int32_t> mask,
                                std::int32_t bad_bits, std::int32_t intrp_bit, std::int32_t no_data_bit,
                                bool along_columns, double fallback);

// Calibration frames applied in one pass: image -= bias; image -= dark * dark_scale;
// image /= flat / flat_norm (flat pixels that are not finite and > 0 become NaN and get
// flat_bad_bit). Variances and masks combine as in bias_correct/dark_correct/flat_correct.
// Null pointers skip a frame. All views share the image's shape.
struct CalibFrames {
    View2D<const float> bias_image, bias_variance;
    View2D<const std::int32_t> bias_mask;
    View2D<const float> dark_image, dark_variance;
    View2D<const std::int32_t> dark_mask;
    float dark_scale = 1.0f;
    View2D<const float> flat_image;
    double flat_norm = 1.0;
    std::int32_t flat_bad_bit = 0;
};
void apply_calibs(View2D<float> image, View2D<float> variance, View2D<std::int32_t> mask, const CalibFrames& c);

// Median of the finite, positive pixels (numpy's median of float64 values); count in *n_good.
double positive_median(View2D<const float> image, std::int64_t* n_good);

// Invert m = x + Σ_k c[k] x^(k+2) per pixel by Newton iteration (float64), in place.
void linearize_polynomial(View2D<float> image, const std::vector<double>& coeffs);

// Crosstalk: for every pixel position, clean = observed - C·clean - S·clean² (iterations
// fixed-point passes from clean = observed), then view_i -= observed_i - clean_i.
// `views` are the amps' data in readout order (same shape); C, S are n×n row-major (S may
// be null). When `signal` is not null it receives the subtracted signal, shape (n, ny, nx).
void crosstalk_correct(const std::vector<View2D<float>>& views, const double* coeffs, const double* coeffs_sqr,
                       int iterations, double* signal);

// Brighter-fatter: iterate I <- I_obs - ½ ∇·(I ∇(K ⊛ I)) (K: k×k, k odd, row-major; the image
// reflect-padded by k/2, needs ny, nx > k/2 and >= 2) until the largest change is below
// `threshold` or `max_iter` passes; float64 work arrays, finite pixels written back.
// Returns (passes, last largest change).
std::pair<int, double> brighter_fatter_correct(View2D<float> image, const double* kernel, std::ptrdiff_t k,
                                               int max_iter, double threshold);

// Per-pixel sigma-clipped mean across n frames (see combine.py clipped_mean_stack):
// values frame_i * inv_scale_i, left out where mask_i & bits_i; first pass median / 1.4826 MAD,
// then n_iter passes of mean ± n_sigma stdev. Outputs are C-contiguous (ny, nx).
struct CombineInputs {
    std::vector<View2D<const float>> frames;
    std::vector<View2D<const std::int32_t>> masks;  // empty, or one per frame
    std::vector<std::int32_t> bits;                  // one per frame when masks are given
    std::vector<float> inv_scales;                   // one per frame
};
void clipped_mean_combine(const CombineInputs& in, double n_sigma, int n_iter, float* mean, float* stdev,
                          std::int32_t* n_kept);

}  // namespace osprey::ip::isr
