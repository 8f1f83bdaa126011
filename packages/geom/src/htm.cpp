// Bindings of the HTM kernels: vectorised indexing, trixel vertices, and the envelope and
// interior of a region as [begin, end) id ranges. Private: osprey/geom/htm.py validates
// levels and inputs and carries the docs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

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

OutIds htm_index(In1 lon, In1 lat, int level) {
    check_level(level);
    std::size_t const n = lon.shape(0);
    if (lat.shape(0) != n) throw std::invalid_argument("lon and lat must have the same length");
    std::uint64_t* out = nullptr;
    OutIds result = make_ids(n, out);
    {
        nb::gil_scoped_release nogil;
        double const* lo = lon.data();
        double const* la = lat.data();
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = g::htm::index(g::UnitVector3d::from_lonlat(lo[i], la[i]), level);
        }
    }
    return result;
}

OutIds htm_index_xyz(In2 xyz, int level) {
    check_level(level);
    if (xyz.shape(1) != 3) throw std::invalid_argument("xyz must have shape (n, 3)");
    std::size_t const n = xyz.shape(0);
    std::uint64_t* out = nullptr;
    OutIds result = make_ids(n, out);
    {
        nb::gil_scoped_release nogil;
        double const* p = xyz.data();
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = g::htm::index(g::Vector3d(p[3 * i], p[3 * i + 1], p[3 * i + 2]), level);
        }
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
    m.def("htm_index", &htm_index, "lon"_a.noconvert(), "lat"_a.noconvert(), "level"_a);
    m.def("htm_index_xyz", &htm_index_xyz, "xyz"_a.noconvert(), "level"_a);
    m.def("htm_trixel", &htm_trixel, "id"_a);
    m.def("htm_cover", &htm_cover, "kind"_a, "params"_a.noconvert(), "level"_a, "max_ranges"_a);
}
