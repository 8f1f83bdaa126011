// Bindings of the spherical kernels: lon/lat <-> vectors, separations, bearings, offsets,
// rotations, region containment/relations/bounds and convex hulls. Private: the Python
// wrappers in osprey/geom/sphere.py and regions.py validate inputs and carry the docs.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "osprey/geom/regions.h"
#include "osprey/geom/vector3d.h"

namespace nb = nanobind;
using namespace nb::literals;
namespace g = osprey::geom;

namespace {

using In1 = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using In2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Out1 = nb::ndarray<nb::numpy, double, nb::ndim<1>>;
using Out2 = nb::ndarray<nb::numpy, double, nb::ndim<2>>;
using OutBool = nb::ndarray<nb::numpy, bool, nb::ndim<1>>;
using OutIdx = nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>;

template <class T>
T* new_buffer(std::size_t n, nb::capsule& owner) {
    T* p = new T[n == 0 ? 1 : n];
    owner = nb::capsule(p, [](void* q) noexcept { delete[] static_cast<T*>(q); });
    return p;
}

void check_same(std::size_t a, std::size_t b, char const* what) {
    if (a != b) throw std::invalid_argument(std::string(what) + " must have the same length");
}

Out2 lonlat_to_xyz(In1 lon, In1 lat) {
    check_same(lon.shape(0), lat.shape(0), "lon and lat");
    std::size_t const n = lon.shape(0);
    nb::capsule owner;
    double* out = new_buffer<double>(3 * n, owner);
    {
        nb::gil_scoped_release nogil;
        double const* lo = lon.data();
        double const* la = lat.data();
        for (std::size_t i = 0; i < n; ++i) {
            g::UnitVector3d const v = g::UnitVector3d::from_lonlat(lo[i], la[i]);
            out[3 * i] = v.x;
            out[3 * i + 1] = v.y;
            out[3 * i + 2] = v.z;
        }
    }
    return Out2(out, {n, 3}, owner);
}

nb::tuple xyz_to_lonlat(In2 xyz) {
    if (xyz.shape(1) != 3) throw std::invalid_argument("xyz must have shape (n, 3)");
    std::size_t const n = xyz.shape(0);
    nb::capsule o1, o2;
    double* lon = new_buffer<double>(n, o1);
    double* lat = new_buffer<double>(n, o2);
    {
        nb::gil_scoped_release nogil;
        double const* p = xyz.data();
        for (std::size_t i = 0; i < n; ++i) {
            g::Vector3d const v(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
            lon[i] = g::longitude_of(v);
            lat[i] = g::latitude_of(v);
        }
    }
    return nb::make_tuple(Out1(lon, {n}, o1), Out1(lat, {n}, o2));
}

Out1 separation(In1 lon1, In1 lat1, In1 lon2, In1 lat2) {
    std::size_t const n = lon1.shape(0);
    check_same(n, lat1.shape(0), "coordinate arrays");
    check_same(n, lon2.shape(0), "coordinate arrays");
    check_same(n, lat2.shape(0), "coordinate arrays");
    nb::capsule owner;
    double* out = new_buffer<double>(n, owner);
    {
        nb::gil_scoped_release nogil;
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = g::angular_separation(g::UnitVector3d::from_lonlat(lon1.data()[i], lat1.data()[i]),
                                           g::UnitVector3d::from_lonlat(lon2.data()[i], lat2.data()[i]));
        }
    }
    return Out1(out, {n}, owner);
}

Out1 bearing(In1 lon1, In1 lat1, In1 lon2, In1 lat2) {
    std::size_t const n = lon1.shape(0);
    check_same(n, lat1.shape(0), "coordinate arrays");
    check_same(n, lon2.shape(0), "coordinate arrays");
    check_same(n, lat2.shape(0), "coordinate arrays");
    nb::capsule owner;
    double* out = new_buffer<double>(n, owner);
    {
        nb::gil_scoped_release nogil;
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = g::bearing(lon1.data()[i], lat1.data()[i], lon2.data()[i], lat2.data()[i]);
        }
    }
    return Out1(out, {n}, owner);
}

nb::tuple offset(In1 lon, In1 lat, In1 bear, In1 dist) {
    std::size_t const n = lon.shape(0);
    check_same(n, lat.shape(0), "input arrays");
    check_same(n, bear.shape(0), "input arrays");
    check_same(n, dist.shape(0), "input arrays");
    nb::capsule o1, o2;
    double* lo = new_buffer<double>(n, o1);
    double* la = new_buffer<double>(n, o2);
    {
        nb::gil_scoped_release nogil;
        for (std::size_t i = 0; i < n; ++i) {
            g::offset(lon.data()[i], lat.data()[i], bear.data()[i], dist.data()[i], lo[i], la[i]);
        }
    }
    return nb::make_tuple(Out1(lo, {n}, o1), Out1(la, {n}, o2));
}

nb::tuple rotate(In1 lon, In1 lat, double ax, double ay, double az, double angle) {
    std::size_t const n = lon.shape(0);
    check_same(n, lat.shape(0), "lon and lat");
    g::Vector3d const axis(ax, ay, az);
    if (!(std::fabs(axis.squared_norm() - 1.0) < 1e-12)) throw std::invalid_argument("axis must be a unit vector");
    nb::capsule o1, o2;
    double* lo = new_buffer<double>(n, o1);
    double* la = new_buffer<double>(n, o2);
    {
        nb::gil_scoped_release nogil;
        double const c = std::cos(angle), s = std::sin(angle);
        for (std::size_t i = 0; i < n; ++i) {
            g::Vector3d const v = g::UnitVector3d::from_lonlat(lon.data()[i], lat.data()[i]);
            g::Vector3d const r = v * c + axis.cross(v) * s + axis * (axis.dot(v) * (1.0 - c));
            lo[i] = g::longitude_of(r);
            la[i] = g::latitude_of(r);
        }
    }
    return nb::make_tuple(Out1(lo, {n}, o1), Out1(la, {n}, o2));
}

// Containment of lon/lat points (NaN or infinite coordinates are outside).
OutBool region_contains(int kind, In1 params, In1 lon, In1 lat) {
    std::size_t const n = lon.shape(0);
    check_same(n, lat.shape(0), "lon and lat");
    nb::capsule owner;
    bool* out = new_buffer<bool>(n, owner);
    double const* lo = lon.data();
    double const* la = lat.data();
    g::visit_region(kind, params.data(), params.shape(0), [&](auto const& region) {
        nb::gil_scoped_release nogil;
        using R = std::decay_t<decltype(region)>;
        for (std::size_t i = 0; i < n; ++i) {
            if (!(std::isfinite(lo[i]) && std::isfinite(la[i]))) {
                out[i] = false;
                continue;
            }
            if constexpr (std::is_same_v<R, g::LonLatBox>) {
                out[i] = region.contains_lonlat(g::wrap_2pi(lo[i]), la[i]);
            } else {
                out[i] = region.contains(g::UnitVector3d::from_lonlat(lo[i], la[i]));
            }
        }
        return 0;
    });
    return OutBool(out, {n}, owner);
}

// Containment of (not necessarily unit) vectors; non-finite components are outside.
OutBool region_contains_xyz(int kind, In1 params, In1 x, In1 y, In1 z) {
    std::size_t const n = x.shape(0);
    check_same(n, y.shape(0), "x, y and z");
    check_same(n, z.shape(0), "x, y and z");
    nb::capsule owner;
    bool* out = new_buffer<bool>(n, owner);
    double const* px = x.data();
    double const* py = y.data();
    double const* pz = z.data();
    g::visit_region(kind, params.data(), params.shape(0), [&](auto const& region) {
        nb::gil_scoped_release nogil;
        using R = std::decay_t<decltype(region)>;
        for (std::size_t i = 0; i < n; ++i) {
            g::Vector3d const v(px[i], py[i], pz[i]);
            if (!(std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z)) || v.is_zero()) {
                out[i] = false;
                continue;
            }
            if constexpr (std::is_same_v<R, g::ConvexPolygon> || std::is_same_v<R, g::LonLatBox>) {
                out[i] = region.contains(v);  // scale-invariant tests
            } else {
                out[i] = region.contains(g::UnitVector3d(v));
            }
        }
        return 0;
    });
    return OutBool(out, {n}, owner);
}

unsigned region_relate(int kind_a, In1 params_a, int kind_b, In1 params_b) {
    return g::visit_region(kind_a, params_a.data(), params_a.shape(0), [&](auto const& a) {
        return g::visit_region(kind_b, params_b.data(), params_b.shape(0),
                               [&](auto const& b) { return g::relate(a, b); });
    });
}

nb::tuple region_bounding_box(int kind, In1 params) {
    g::LonLatBox const b = g::visit_region(kind, params.data(), params.shape(0),
                                           [](auto const& r) { return g::bounding_box(r); });
    return nb::make_tuple(b.lon.a, b.lon.length, b.lat_a, b.lat_b);
}

nb::tuple region_bounding_circle(int kind, In1 params) {
    g::Circle const c = g::visit_region(kind, params.data(), params.shape(0),
                                        [](auto const& r) { return g::bounding_circle(r); });
    return nb::make_tuple(c.center.x, c.center.y, c.center.z, c.angle);
}

// Indices of the convex hull vertices (counter-clockwise) of unit vectors lying in an
// open hemisphere around their mean; an empty array when they do not, or when the hull
// is degenerate (fewer than 3 vertices).
OutIdx convex_hull(In2 xyz) {
    if (xyz.shape(1) != 3) throw std::invalid_argument("xyz must have shape (n, 3)");
    std::size_t const n = xyz.shape(0);
    std::vector<std::int64_t> hull;
    {
        nb::gil_scoped_release nogil;
        double const* p = xyz.data();
        g::Vector3d s;
        for (std::size_t i = 0; i < n; ++i) s = s + g::Vector3d(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
        bool ok = n >= 3 && s.squared_norm() > 1e-24;
        if (ok) {
            g::UnitVector3d const c(s);
            g::UnitVector3d const e1 = c.orthogonal();
            g::Vector3d const e2 = c.cross(e1);
            // Gnomonic projection about c maps great circles to lines, so the planar
            // hull of the projected points is the spherical hull.
            struct P {
                double u, v;
                std::int64_t i;
            };
            std::vector<P> pts;
            pts.reserve(n);
            for (std::size_t i = 0; i < n && ok; ++i) {
                g::Vector3d const v(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
                double const d = v.dot(c);
                if (!(d > 1e-12)) {
                    ok = false;
                    break;
                }
                pts.push_back({v.dot(e1) / d, v.dot(e2) / d, static_cast<std::int64_t>(i)});
            }
            if (ok) {
                std::sort(pts.begin(), pts.end(),
                          [](P const& a, P const& b) { return a.u < b.u || (a.u == b.u && a.v < b.v); });
                auto cross = [](P const& o, P const& a, P const& b) {
                    return (a.u - o.u) * (b.v - o.v) - (a.v - o.v) * (b.u - o.u);
                };
                std::vector<P> h(2 * pts.size());
                std::size_t k = 0;
                for (std::size_t i = 0; i < pts.size(); ++i) {  // lower hull
                    while (k >= 2 && cross(h[k - 2], h[k - 1], pts[i]) <= 0.0) --k;
                    h[k++] = pts[i];
                }
                for (std::size_t i = pts.size() - 1, t = k + 1; i-- > 0;) {  // upper hull
                    while (k >= t && cross(h[k - 2], h[k - 1], pts[i]) <= 0.0) --k;
                    h[k++] = pts[i];
                }
                if (k > 0) --k;  // last point repeats the first
                // (e1, e2, c) is right-handed, so counter-clockwise in the plane is
                // counter-clockwise seen from outside the sphere.
                for (std::size_t i = 0; i < k; ++i) hull.push_back(h[i].i);
                if (hull.size() < 3) hull.clear();
            }
        }
    }
    std::size_t const m = hull.size();
    nb::capsule owner;
    std::int64_t* out = new_buffer<std::int64_t>(m, owner);
    std::copy(hull.begin(), hull.end(), out);
    return OutIdx(out, {m}, owner);
}

}  // namespace

void bind_sphere(nb::module_& m) {
    m.def("lonlat_to_xyz", &lonlat_to_xyz, "lon"_a.noconvert(), "lat"_a.noconvert());
    m.def("xyz_to_lonlat", &xyz_to_lonlat, "xyz"_a.noconvert());
    m.def("separation", &separation, "lon1"_a.noconvert(), "lat1"_a.noconvert(), "lon2"_a.noconvert(),
          "lat2"_a.noconvert());
    m.def("bearing", &bearing, "lon1"_a.noconvert(), "lat1"_a.noconvert(), "lon2"_a.noconvert(),
          "lat2"_a.noconvert());
    m.def("offset", &offset, "lon"_a.noconvert(), "lat"_a.noconvert(), "bearing"_a.noconvert(),
          "distance"_a.noconvert());
    m.def("rotate", &rotate, "lon"_a.noconvert(), "lat"_a.noconvert(), "ax"_a, "ay"_a, "az"_a, "angle"_a);
    m.def("region_contains", &region_contains, "kind"_a, "params"_a.noconvert(), "lon"_a.noconvert(),
          "lat"_a.noconvert());
    m.def("region_contains_xyz", &region_contains_xyz, "kind"_a, "params"_a.noconvert(), "x"_a.noconvert(),
          "y"_a.noconvert(), "z"_a.noconvert());
    m.def("region_relate", &region_relate, "kind_a"_a, "params_a"_a.noconvert(), "kind_b"_a,
          "params_b"_a.noconvert());
    m.def("region_bounding_box", &region_bounding_box, "kind"_a, "params"_a.noconvert());
    m.def("region_bounding_circle", &region_bounding_circle, "kind"_a, "params"_a.noconvert());
    m.def("convex_hull", &convex_hull, "xyz"_a.noconvert());
}
