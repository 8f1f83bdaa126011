// Bindings of the HTM kernels: vectorised indexing, trixel vertices, and the envelope and
// interior of a region as [begin, end) id ranges. Private: osprey/geom/htm.py validates
// levels and inputs and carries the docs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "osprey/geom/htm.h"

namespace nb = nanobind;
using namespace nb::literals;
namespace g = osprey::geom;

namespace {

using In1 = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using In2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using OutIds = nb::ndarray<nb::numpy, std::uint64_t, nb::ndim<1>>;
using OutRanges = nb::ndarray<nb::numpy, std::uint64_t, nb::ndim<2>>;
using Out2 = nb::ndarray<nb::numpy, double, nb::ndim<2>>;

void check_level(int level) {
    if (level < 0 || level > g::htm::kMaxLevel) throw std::invalid_argument("HTM level must be in [0, 24]");
}

OutIds make_ids(std::size_t n, std::uint64_t*& out) {
    out = new std::uint64_t[n == 0 ? 1 : n];
    nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<std::uint64_t*>(p); });
    return OutIds(out, {n}, owner);
}

// ----------------------------------------------------------------------------------------
// Array indexing, with an AVX2 variant chosen at run time on x86-64
// ----------------------------------------------------------------------------------------
// The exact one-point paths, kept out of line in the baseline target: they reproduce
// lsst-sphgeom's rounding, which fused multiply-adds (allowed in the AVX2 kernel, where
// they only tighten its error bounds) would change.
__attribute__((noinline)) std::uint64_t exact_index(g::Vector3d const& p, int level) {
    return g::htm::index(p, level);
}
__attribute__((noinline)) std::uint64_t exact_index_lonlat(double lon, double lat, int level) {
    return g::htm::index(g::UnitVector3d::from_lonlat(lon, lat), level);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(OSPREY_GEOM_HTM_SIMD)
#define OSPREY_HTM_AVX2 1
#define OSPREY_HTM_AVX2_FN __attribute__((target("avx2,fma")))

// Four lanes per vector. The helpers take vectors by reference (see Sse2Ops).
struct Avx2Ops {
    typedef double Pack __attribute__((vector_size(32)));
    typedef long long Mask __attribute__((vector_size(32)));
    static inline OSPREY_HTM_AVX2_FN void rsqrt(Pack& out, Pack const& x) {
        out = (Pack)_mm256_div_pd(_mm256_set1_pd(1.0), _mm256_sqrt_pd((__m256d)x));
    }
    static inline OSPREY_HTM_AVX2_FN void select(Pack& out, Mask const& m, Pack const& a, Pack const& b) {
        out = (Pack)_mm256_blendv_pd((__m256d)b, (__m256d)a, (__m256d)m);
    }
    static inline OSPREY_HTM_AVX2_FN void min(Pack& out, Pack const& a, Pack const& b) {
        out = (Pack)_mm256_min_pd((__m256d)a, (__m256d)b);
    }
};

// flatten: the kernel (baseline target) can take the AVX2 helpers only once it is inlined
// here, so everything is inlined into these functions and compiled for AVX2 + FMA.
__attribute__((flatten)) OSPREY_HTM_AVX2_FN void index_lonlat_avx2(std::size_t n, int level, double const* lon,
                                                                    double const* lat, std::uint64_t* out) {
    g::htm::detail::index_blocks<Avx2Ops, 4>(
        n, level, g::htm::detail::FillLonLat<Avx2Ops>{lon, lat},
        [=](std::size_t i) { return exact_index_lonlat(lon[i], lat[i], level); }, out);
}

__attribute__((flatten)) OSPREY_HTM_AVX2_FN void index_xyz_avx2(std::size_t n, int level, double const* p,
                                                                 std::uint64_t* out) {
    auto point = [p](std::size_t i) { return g::Vector3d(p[3 * i], p[3 * i + 1], p[3 * i + 2]); };
    g::htm::detail::index_blocks<Avx2Ops, 4>(
        n, level, g::htm::detail::FillPoints<decltype(point)>{point},
        [&](std::size_t i) { return exact_index(point(i), level); }, out);
}

bool have_avx2() {
    static bool const ok = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return ok;
}
#endif

// Kernel choice (a private argument, for tests and benchmarks): 0 the fastest available,
// 1 the portable blocked kernel, 2 the one-point exact loop. All give the same ids.
void check_kernel(int kernel) {
    if (kernel < 0 || kernel > 2) throw std::invalid_argument("HTM kernel must be 0, 1 or 2");
}

void index_lonlat(std::size_t n, int level, double const* lon, double const* lat, std::uint64_t* out, int kernel) {
    if (kernel == 2) {
        for (std::size_t i = 0; i < n; ++i) out[i] = exact_index_lonlat(lon[i], lat[i], level);
        return;
    }
#if defined(OSPREY_HTM_AVX2)
    if (kernel == 0 && have_avx2()) return index_lonlat_avx2(n, level, lon, lat, out);
#endif
    g::htm::index_lonlat(n, level, lon, lat, out);
}

void index_xyz(std::size_t n, int level, double const* p, std::uint64_t* out, int kernel) {
    auto point = [p](std::size_t i) { return g::Vector3d(p[3 * i], p[3 * i + 1], p[3 * i + 2]); };
    if (kernel == 2) {
        for (std::size_t i = 0; i < n; ++i) out[i] = exact_index(point(i), level);
        return;
    }
#if defined(OSPREY_HTM_AVX2)
    if (kernel == 0 && have_avx2()) return index_xyz_avx2(n, level, p, out);
#endif
    g::htm::index_array(n, level, point, out);
}

OutIds htm_index(In1 lon, In1 lat, int level, int kernel) {
    check_level(level);
    check_kernel(kernel);
    std::size_t const n = lon.shape(0);
    if (lat.shape(0) != n) throw std::invalid_argument("lon and lat must have the same length");
    std::uint64_t* out = nullptr;
    OutIds result = make_ids(n, out);
    {
        nb::gil_scoped_release nogil;
        double const* lo = lon.data();
        double const* la = lat.data();
        index_lonlat(n, level, lo, la, out, kernel);
    }
    return result;
}

OutIds htm_index_xyz(In2 xyz, int level, int kernel) {
    check_level(level);
    check_kernel(kernel);
    if (xyz.shape(1) != 3) throw std::invalid_argument("xyz must have shape (n, 3)");
    std::size_t const n = xyz.shape(0);
    std::uint64_t* out = nullptr;
    OutIds result = make_ids(n, out);
    {
        nb::gil_scoped_release nogil;
        double const* p = xyz.data();
        index_xyz(n, level, p, out, kernel);
    }
    return result;
}

Out2 htm_trixel(std::uint64_t id) {
    if (g::htm::level_of(id) < 0) throw std::invalid_argument("not a valid HTM id");
    auto const v = g::htm::trixel_vertices(id);
    double* out = new double[9];
    nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<double*>(p); });
    for (int i = 0; i < 3; ++i) {
        out[3 * i] = v[i].x;
        out[3 * i + 1] = v[i].y;
        out[3 * i + 2] = v[i].z;
    }
    return Out2(out, {3, 3}, owner);
}

OutRanges to_array(g::htm::Ranges const& r) {
    std::size_t const n = r.size();
    std::uint64_t* out = new std::uint64_t[n == 0 ? 2 : 2 * n];
    nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<std::uint64_t*>(p); });
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = r[i].first;
        out[2 * i + 1] = r[i].second;
    }
    return OutRanges(out, {n, 2}, owner);
}

// (envelope, interior) of a region at `level`, each an (n, 2) uint64 array of ranges.
nb::tuple htm_cover(int kind, In1 params, int level, std::size_t max_ranges) {
    check_level(level);
    g::htm::Ranges env, inner;
    g::visit_region(kind, params.data(), params.shape(0), [&](auto const& region) {
        nb::gil_scoped_release nogil;
        g::htm::cover(region, level, max_ranges, env, inner);
        return 0;
    });
    return nb::make_tuple(to_array(env), to_array(inner));
}

}  // namespace

void bind_htm(nb::module_& m) {
    m.def("htm_index", &htm_index, "lon"_a.noconvert(), "lat"_a.noconvert(), "level"_a, "kernel"_a = 0);
    m.def("htm_index_xyz", &htm_index_xyz, "xyz"_a.noconvert(), "level"_a, "kernel"_a = 0);
    m.def("htm_trixel", &htm_trixel, "id"_a);
    m.def("htm_cover", &htm_cover, "kind"_a, "params"_a.noconvert(), "level"_a, "max_ranges"_a);
}
