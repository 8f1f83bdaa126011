// Header-only spherical regions for osprey.geom: Circle, ConvexPolygon and LonLatBox.
//
// Every region is closed (it contains its boundary). relate(a, b) returns bit flags with
// lsst-sphgeom's meaning: DISJOINT (no common point), INTERSECTS (the regions may share a
// point), CONTAINS (a contains b), WITHIN (a lies inside b). Exactly one of DISJOINT and
// INTERSECTS is set. The answers are conservative: DISJOINT, CONTAINS and WITHIN are only
// claimed when they hold with a margin of kTol radians; near-tangent cases report
// INTERSECTS. Angles are radians; longitudes of boxes are in [0, 2*pi].
#ifndef OSPREY_GEOM_REGIONS_H
#define OSPREY_GEOM_REGIONS_H

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include "osprey/geom/vector3d.h"

namespace osprey {
namespace geom {

enum Relationship : unsigned { DISJOINT = 1u, INTERSECTS = 2u, CONTAINS = 4u, WITHIN = 8u };

// Safety margin (radians, or unitless for dot products of unit vectors) of every
// conservative decision.
constexpr double kTol = 1e-13;

// Swap CONTAINS and WITHIN: turns relate(a, b) into relate(b, a).
inline unsigned invert_relationship(unsigned r) {
    unsigned out = r & (DISJOINT | INTERSECTS);
    if (r & CONTAINS) out |= WITHIN;
    if (r & WITHIN) out |= CONTAINS;
    return out;
}

// ---------------------------------------------------------------------------------------
// Longitude intervals [a, a + length] on the circle (length in [0, 2*pi]).
// ---------------------------------------------------------------------------------------
inline double wrap_2pi(double x) {
    double w = std::fmod(x, kTwoPi);
    if (w < 0.0) w += kTwoPi;
    if (w >= kTwoPi) w = 0.0;
    return w;
}

struct LonInterval {
    double a = 0.0;       // start, in [0, 2*pi)
    double length = 0.0;  // in [0, 2*pi]; 2*pi means the full circle

    bool full() const { return length >= kTwoPi; }
    bool contains(double lon) const { return full() || wrap_2pi(lon - a) <= length; }
    bool contains(LonInterval const& o) const {
        if (full()) return true;
        if (o.full()) return false;
        return wrap_2pi(o.a - a) + o.length <= length;
    }
    bool intersects(LonInterval const& o) const { return contains(o.a) || o.contains(a); }
    // Closest longitude of the interval to lon.
    double nearest(double lon) const {
        if (contains(lon)) return lon;
        double const b = a + length;
        double const da = wrap_2pi(a - lon);  // eastward distance from lon to a
        double const db = wrap_2pi(lon - b);  // eastward distance from b to lon
        return da <= db ? a : b;
    }
    // Grow by m radians at both ends.
    LonInterval expanded(double m) const {
        if (full()) return *this;
        LonInterval r;
        r.length = length + 2.0 * m;
        if (r.length >= kTwoPi) {
            r.a = 0.0;
            r.length = kTwoPi;
        } else {
            r.a = wrap_2pi(a - m);
        }
        return r;
    }
};

// ---------------------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------------------

// Spherical cap: points within `angle` radians of `center`. angle < 0 is the empty
// circle, angle >= pi the full sphere.
struct Circle {
    UnitVector3d center;
    double angle = -1.0;
    double squared_chord = -1.0;

    Circle() = default;
    Circle(UnitVector3d const& c, double opening_angle) : center(c), angle(opening_angle) {
        if (angle < 0.0) {
            angle = -1.0;
            squared_chord = -1.0;
        } else if (angle >= kPi) {
            angle = kPi;
            squared_chord = 4.0;
        } else {
            squared_chord = squared_chord_of_angle(angle);
        }
    }
    bool is_empty() const { return angle < 0.0; }
    bool is_full() const { return angle >= kPi; }
    bool contains(Vector3d const& v) const {
        if (is_full()) return true;
        return (v - center).squared_norm() <= squared_chord;
    }
};

// Latitude/longitude rectangle: lat in [lat_a, lat_b], lon in the interval starting at
// lon_a and ending at lon_b going east (it wraps through 0 when lon_a > lon_b). A pole
// lying in the latitude range belongs to the box whatever its longitudes.
struct LonLatBox {
    LonInterval lon;
    double lat_a = 1.0, lat_b = -1.0;  // default: empty

    LonLatBox() = default;
    // lon_a, lon_b in [0, 2*pi]; full longitude when lon_b - lon_a >= 2*pi.
    LonLatBox(double lon_a, double lon_b, double lat_min, double lat_max) : lat_a(lat_min), lat_b(lat_max) {
        if (lon_b - lon_a >= kTwoPi) {
            lon.a = 0.0;
            lon.length = kTwoPi;
        } else {
            lon.a = wrap_2pi(lon_a);
            lon.length = lon_a <= lon_b ? lon_b - lon_a : kTwoPi - wrap_2pi(lon_a - lon_b);
            if (lon.length > kTwoPi) lon.length = kTwoPi;
        }
    }
    // Grown by m radians on every side (clamped at the poles).
    LonLatBox expanded(double m) const {
        LonLatBox b;
        b.lon = lon.expanded(m);
        b.lat_a = std::max(lat_a - m, -kHalfPi);
        b.lat_b = std::min(lat_b + m, kHalfPi);
        return b;
    }
    static LonLatBox full() { return LonLatBox(0.0, kTwoPi, -kHalfPi, kHalfPi); }
    bool is_empty() const { return !(lat_a <= lat_b); }
    bool is_full() const { return lon.full() && lat_a <= -kHalfPi && lat_b >= kHalfPi; }
    double lon_b() const { return lon.full() ? kTwoPi : wrap_2pi(lon.a + lon.length); }
    bool contains_lonlat(double lon_, double lat) const {
        if (!(lat >= lat_a && lat <= lat_b)) return false;  // also rejects NaN
        if (lat >= kHalfPi || lat <= -kHalfPi) return true;
        return lon.contains(lon_);
    }
    bool contains(Vector3d const& v) const {
        if (is_empty()) return false;
        if (v.x == 0.0 && v.y == 0.0) {
            if (v.z > 0.0) return lat_b >= kHalfPi;
            if (v.z < 0.0) return lat_a <= -kHalfPi;
            return false;
        }
        return contains_lonlat(longitude_of(v), latitude_of(v));
    }
};

// ----------------------------------------------------------------------------------------
// Exact sign of det[a, b, c] = a . (b x c)
// ----------------------------------------------------------------------------------------
namespace detail {

inline void two_sum(double a, double b, double& s, double& e) {
    s = a + b;
    double const bb = s - a;
    e = (a - (s - bb)) + (b - bb);
}

inline void two_product(double a, double b, double& p, double& e) {
    p = a * b;
    e = std::fma(a, b, -p);
}

// Add the exact product a*b*c (times sign) to the expansion `h` of length n (Shewchuk's
// grow-expansion; components stay non-overlapping, increasing in magnitude).
inline void add_triple(double a, double b, double c, double sign, double* h, int& n) {
    double p, pe;
    two_product(a, b, p, pe);
    double terms[4];
    two_product(p, c, terms[0], terms[1]);
    two_product(pe, c, terms[2], terms[3]);
    for (double t : terms) {
        double q = sign * t;
        if (q == 0.0) continue;
        int k = 0;
        for (int i = 0; i < n; ++i) {
            double s, e;
            two_sum(q, h[i], s, e);
            q = s;
            if (e != 0.0) h[k++] = e;
        }
        h[k++] = q;
        n = k;
    }
}

inline int orientation_exact(Vector3d const& a, Vector3d const& b, Vector3d const& c) {
    double h[32];
    int n = 0;
    add_triple(a.x, b.y, c.z, 1.0, h, n);
    add_triple(a.x, b.z, c.y, -1.0, h, n);
    add_triple(a.y, b.z, c.x, 1.0, h, n);
    add_triple(a.y, b.x, c.z, -1.0, h, n);
    add_triple(a.z, b.x, c.y, 1.0, h, n);
    add_triple(a.z, b.y, c.x, -1.0, h, n);
    for (int i = n - 1; i >= 0; --i) {
        if (h[i] > 0.0) return 1;
        if (h[i] < 0.0) return -1;
    }
    return 0;
}

}  // namespace detail

// Sign (+1, 0, -1) of det[a, b, c], exact: a fast floating-point evaluation is trusted
// only when it clears its rounding-error bound.
inline int orientation(Vector3d const& a, Vector3d const& b, Vector3d const& c) {
    double const p0 = b.y * c.z, p1 = b.z * c.y;
    double const p2 = b.z * c.x, p3 = b.x * c.z;
    double const p4 = b.x * c.y, p5 = b.y * c.x;
    double const det = a.x * (p0 - p1) + a.y * (p2 - p3) + a.z * (p4 - p5);
    double const perm = std::fabs(a.x) * (std::fabs(p0) + std::fabs(p1)) +
                        std::fabs(a.y) * (std::fabs(p2) + std::fabs(p3)) +
                        std::fabs(a.z) * (std::fabs(p4) + std::fabs(p5));
    double const bound = 1e-15 * perm;
    if (det > bound) return 1;
    if (det < -bound) return -1;
    return detail::orientation_exact(a, b, c);
}

// Convex spherical polygon: vertices in counter-clockwise order seen from outside the
// sphere; the polygon is the intersection of the hemispheres left of each edge.
struct ConvexPolygon {
    std::vector<UnitVector3d> vertices;
    std::vector<UnitVector3d> normals;  // normals[i]: unit normal of edge i -> i+1, pointing inside

    ConvexPolygon() = default;
    explicit ConvexPolygon(std::vector<UnitVector3d> v) : vertices(std::move(v)) {
        std::size_t const n = vertices.size();
        normals.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            normals.push_back(UnitVector3d(vertices[i].cross(vertices[(i + 1) % n])));
        }
    }
    bool contains(Vector3d const& p) const {
        for (auto const& n : normals) {
            if (!(n.dot(p) >= 0.0)) return false;  // NaN is outside
        }
        return true;
    }
    // True when every point of pts is in the closed polygon, decided exactly.
    bool contains_exactly(std::vector<UnitVector3d> const& pts) const {
        std::size_t const n = vertices.size();
        for (std::size_t i = 0; i < n; ++i) {
            Vector3d const& a = vertices[i];
            Vector3d const& b = vertices[(i + 1) % n];
            for (auto const& p : pts) {
                if (orientation(a, b, p) < 0) return false;
            }
        }
        return true;
    }
    // True when p is inside every edge by at least `margin` (a dot product).
    bool contains_strictly(Vector3d const& p, double margin) const {
        for (auto const& n : normals) {
            if (n.dot(p) < margin) return false;
        }
        return true;
    }
};

// ---------------------------------------------------------------------------------------
// Distances
// ---------------------------------------------------------------------------------------

// Smallest angle between p and a point of the minor arc a -> b, whose unit normal is n.
inline double min_distance_to_arc(Vector3d const& p, Vector3d const& a, Vector3d const& b, Vector3d const& n) {
    if (a.cross(p).dot(n) >= 0.0 && p.cross(b).dot(n) >= 0.0) {
        double const pn = p.dot(n);
        Vector3d const q = p - n * pn;  // projection onto the plane of the arc
        return std::atan2(std::fabs(pn), q.norm());
    }
    return std::min(angular_separation(p, a), angular_separation(p, b));
}

inline double min_distance(Vector3d const& p, ConvexPolygon const& poly) {
    if (poly.contains(p)) return 0.0;
    double d = kPi;
    std::size_t const n = poly.vertices.size();
    for (std::size_t i = 0; i < n; ++i) {
        d = std::min(d, min_distance_to_arc(p, poly.vertices[i], poly.vertices[(i + 1) % n], poly.normals[i]));
    }
    return d;
}

inline double max_distance(Vector3d const& p, ConvexPolygon const& poly) { return kPi - min_distance(-p, poly); }

inline Vector3d lonlat_vector(double lon, double lat) {
    double const cl = std::cos(lat);
    return {std::cos(lon) * cl, std::sin(lon) * cl, std::sin(lat)};
}

// Smallest angle between unit p (at longitude plon) and the parallel `lat` restricted to
// the longitude interval.
inline double min_distance_to_parallel(Vector3d const& p, double plon, double lat, LonInterval const& lon) {
    return angular_separation(p, lonlat_vector(lon.nearest(plon), lat));
}

// Smallest angle between unit p and the meridian segment at longitude lon, lat in [la, lb].
inline double min_distance_to_meridian(Vector3d const& p, double lon, double la, double lb) {
    double const c = std::cos(lon), s = std::sin(lon);
    double const u = p.x * c + p.y * s;  // component towards longitude lon
    double const w = p.z;
    double const off = -p.x * s + p.y * c;  // component along the meridian plane normal
    if (u >= 0.0) {
        double const lat_foot = std::atan2(w, u);
        if (lat_foot >= la && lat_foot <= lb) return std::atan2(std::fabs(off), std::hypot(u, w));
    }
    return std::min(angular_separation(p, lonlat_vector(lon, la)), angular_separation(p, lonlat_vector(lon, lb)));
}

inline double min_distance(Vector3d const& p, LonLatBox const& box) {
    if (box.is_empty()) return kPi;  // callers check emptiness first; harmless sentinel
    if (box.contains(p)) return 0.0;
    double const plon = longitude_of(p);
    double d = kPi;
    if (box.lat_a > -kHalfPi) d = std::min(d, min_distance_to_parallel(p, plon, box.lat_a, box.lon));
    if (box.lat_b < kHalfPi) d = std::min(d, min_distance_to_parallel(p, plon, box.lat_b, box.lon));
    if (!box.lon.full()) {
        d = std::min(d, min_distance_to_meridian(p, box.lon.a, box.lat_a, box.lat_b));
        d = std::min(d, min_distance_to_meridian(p, box.lon.a + box.lon.length, box.lat_a, box.lat_b));
    }
    return d;
}

inline double max_distance(Vector3d const& p, LonLatBox const& box) { return kPi - min_distance(-p, box); }

// ---------------------------------------------------------------------------------------
// Bounding boxes and circles (outer bounds, grown by kTol)
// ---------------------------------------------------------------------------------------
inline LonLatBox make_box(LonInterval lon, double lat_a, double lat_b) {
    LonLatBox b;
    b.lon = lon;
    b.lat_a = std::max(lat_a, -kHalfPi);
    b.lat_b = std::min(lat_b, kHalfPi);
    return b;
}

inline LonInterval full_lon() {
    LonInterval l;
    l.length = kTwoPi;
    return l;
}

inline LonLatBox bounding_box(Circle const& c) {
    if (c.is_empty()) return LonLatBox();
    if (c.is_full()) return LonLatBox::full();
    double const clat = latitude_of(c.center);
    double const r = c.angle + kTol;
    double const lo = clat - r, hi = clat + r;
    if (hi >= kHalfPi || lo <= -kHalfPi) return make_box(full_lon(), lo, hi);
    double const s = std::sin(r) / std::cos(clat);
    if (s >= 1.0) return make_box(full_lon(), lo, hi);
    double const half = std::asin(s) + kTol;
    LonInterval l;
    l.a = wrap_2pi(longitude_of(c.center) - half);
    l.length = 2.0 * half;
    return make_box(l, lo, hi);
}

inline LonLatBox bounding_box(LonLatBox const& b) { return b; }

inline LonLatBox bounding_box(ConvexPolygon const& poly) {
    std::size_t const n = poly.vertices.size();
    if (n == 0) return LonLatBox();
    bool const north = poly.contains(Vector3d(0, 0, 1));
    bool const south = poly.contains(Vector3d(0, 0, -1));
    double lat_lo = kHalfPi, lat_hi = -kHalfPi;
    for (std::size_t i = 0; i < n; ++i) {
        Vector3d const& a = poly.vertices[i];
        Vector3d const& b = poly.vertices[(i + 1) % n];
        Vector3d const& nn = poly.normals[i];
        double const la = latitude_of(a);
        lat_lo = std::min(lat_lo, la);
        lat_hi = std::max(lat_hi, la);
        // Highest and lowest points of the edge's great circle, if they lie on the edge.
        Vector3d const m = Vector3d(0, 0, 1) - nn * nn.z;
        if (m.squared_norm() > 1e-30) {
            for (Vector3d const& e : {m, -m}) {
                if (a.cross(e).dot(nn) >= 0.0 && e.cross(b).dot(nn) >= 0.0) {
                    double const le = latitude_of(e);
                    lat_lo = std::min(lat_lo, le);
                    lat_hi = std::max(lat_hi, le);
                }
            }
        }
    }
    if (north) lat_hi = kHalfPi;
    if (south) lat_lo = -kHalfPi;
    if (north || south) return make_box(full_lon(), lat_lo - kTol, lat_hi + kTol);
    // No pole inside: longitude varies monotonically along each edge; unwrap it.
    double const lon0 = longitude_of(poly.vertices[0]);
    double cur = 0.0, lo = 0.0, hi = 0.0, prev = lon0;
    for (std::size_t i = 1; i < n; ++i) {
        double const l = longitude_of(poly.vertices[i]);
        double d = std::remainder(l - prev, kTwoPi);
        cur += d;
        lo = std::min(lo, cur);
        hi = std::max(hi, cur);
        prev = l;
    }
    LonInterval li;
    li.a = wrap_2pi(lon0 + lo);
    li.length = hi - lo;
    return make_box(li.expanded(kTol), lat_lo - kTol, lat_hi + kTol);
}

inline Circle bounding_circle(Circle const& c) { return c; }

inline Circle bounding_circle(ConvexPolygon const& poly) {
    Vector3d s;
    for (auto const& v : poly.vertices) s = s + v;
    if (s.squared_norm() < 1e-24) return Circle(UnitVector3d(), kPi);
    UnitVector3d const c(s);
    return Circle(c, max_distance(c, poly) + kTol);
}

inline Circle bounding_circle(LonLatBox const& b) {
    if (b.is_empty()) return Circle();
    double const lon_c = b.lon.a + 0.5 * b.lon.length;
    double const lat_c = 0.5 * (b.lat_a + b.lat_b);
    UnitVector3d const c = UnitVector3d::from_lonlat(lon_c, lat_c);
    return Circle(c, max_distance(c, b) + kTol);
}

// ---------------------------------------------------------------------------------------
// Relationships
// ---------------------------------------------------------------------------------------

// Flags for "a is empty" / "b is empty"; nullptr-free helper used by every relate().
inline bool empty_relation(bool a_empty, bool b_empty, unsigned& out) {
    if (!a_empty && !b_empty) return false;
    out = DISJOINT;
    if (b_empty) out |= CONTAINS;
    if (a_empty) out |= WITHIN;
    return true;
}

// Relationship of two boxes from their lon/lat intervals.
inline unsigned relate(LonLatBox const& a, LonLatBox const& b) {
    unsigned r;
    if (empty_relation(a.is_empty(), b.is_empty(), r)) return r;
    if (a.lat_a > b.lat_b + kTol || b.lat_a > a.lat_b + kTol) return DISJOINT;
    bool const share_pole = (a.lat_b >= kHalfPi && b.lat_b >= kHalfPi) || (a.lat_a <= -kHalfPi && b.lat_a <= -kHalfPi);
    if (!share_pole && !a.lon.expanded(kTol).intersects(b.lon)) return DISJOINT;
    r = INTERSECTS;
    // Containment compares the stored intervals directly (no rounding is involved).
    if (a.lat_a <= b.lat_a && a.lat_b >= b.lat_b && a.lon.contains(b.lon)) r |= CONTAINS;
    if (b.lat_a <= a.lat_a && b.lat_b >= a.lat_b && b.lon.contains(a.lon)) r |= WITHIN;
    if (a.is_full()) r |= CONTAINS;
    if (b.is_full()) r |= WITHIN;
    return r;
}

inline unsigned relate(Circle const& a, Circle const& b) {
    unsigned r;
    if (empty_relation(a.is_empty(), b.is_empty(), r)) return r;
    double const d = angular_separation(a.center, b.center);
    if (d > a.angle + b.angle + kTol) return DISJOINT;
    r = INTERSECTS;
    if (a.is_full() || d + b.angle + kTol <= a.angle) r |= CONTAINS;
    if (b.is_full() || d + a.angle + kTol <= b.angle) r |= WITHIN;
    return r;
}

inline unsigned relate(Circle const& c, ConvexPolygon const& p) {
    unsigned r;
    if (empty_relation(c.is_empty(), p.vertices.empty(), r)) return r;
    if (c.is_full()) return INTERSECTS | CONTAINS;
    double const dmin = min_distance(c.center, p);
    if (dmin > c.angle + kTol) return DISJOINT;
    r = INTERSECTS;
    if (max_distance(c.center, p) + kTol <= c.angle) r |= CONTAINS;
    if (c.angle + kTol <= kHalfPi && p.contains_strictly(c.center, std::sin(c.angle + kTol))) r |= WITHIN;
    return r;
}

inline unsigned relate(Circle const& c, LonLatBox const& b) {
    unsigned r;
    if (empty_relation(c.is_empty(), b.is_empty(), r)) return r;
    if (c.is_full()) return INTERSECTS | CONTAINS | (b.is_full() ? WITHIN : 0u);
    if (min_distance(c.center, b) > c.angle + kTol) return DISJOINT;
    r = INTERSECTS;
    if (max_distance(c.center, b) + kTol <= c.angle) r |= CONTAINS;
    // bounding_box() is grown by kTol, so half of that absorbs the rounding of b's bounds.
    if (relate(b.expanded(0.5 * kTol), bounding_box(c)) & CONTAINS) r |= WITHIN;
    return r;
}

// True when some edge of `sep` has every vertex of `other` strictly outside it.
inline bool has_separating_edge(ConvexPolygon const& sep, ConvexPolygon const& other) {
    for (auto const& n : sep.normals) {
        bool all_out = true;
        for (auto const& v : other.vertices) {
            if (n.dot(v) >= -kTol) {
                all_out = false;
                break;
            }
        }
        if (all_out) return true;
    }
    return false;
}

// Whether the minor arcs a->b (unit normal n1) and c->d (unit normal n2) may cross.
inline bool arcs_may_cross(Vector3d const& a, Vector3d const& b, Vector3d const& n1, Vector3d const& c,
                           Vector3d const& d, Vector3d const& n2) {
    double const sc = n1.dot(c), sd = n1.dot(d);
    if ((sc > kTol && sd > kTol) || (sc < -kTol && sd < -kTol)) return false;
    double const sa = n2.dot(a), sb = n2.dot(b);
    if ((sa > kTol && sb > kTol) || (sa < -kTol && sb < -kTol)) return false;
    Vector3d const x = n1.cross(n2);
    if (x.squared_norm() < 1e-24) return true;  // (nearly) the same great circle
    Vector3d const xu = x * (1.0 / x.norm());
    for (Vector3d const& e : {xu, -xu}) {
        bool const on1 = a.cross(e).dot(n1) >= -kTol && e.cross(b).dot(n1) >= -kTol;
        bool const on2 = c.cross(e).dot(n2) >= -kTol && e.cross(d).dot(n2) >= -kTol;
        if (on1 && on2) return true;
    }
    return false;
}

inline unsigned relate(ConvexPolygon const& a, ConvexPolygon const& b) {
    unsigned r;
    if (empty_relation(a.vertices.empty(), b.vertices.empty(), r)) return r;
    if (has_separating_edge(a, b) || has_separating_edge(b, a)) return DISJOINT;
    // A convex polygon contains another exactly when it contains all its vertices;
    // the exact orientation predicate decides vertices lying on an edge.
    bool const contains_all = a.contains_exactly(b.vertices);
    bool const within_all = b.contains_exactly(a.vertices);
    bool any = contains_all || within_all;
    for (auto const& v : b.vertices) any = any || a.contains_strictly(v, -kTol);
    for (auto const& v : a.vertices) any = any || b.contains_strictly(v, -kTol);
    if (!any) {
        std::size_t const na = a.vertices.size(), nb = b.vertices.size();
        for (std::size_t i = 0; i < na && !any; ++i) {
            for (std::size_t j = 0; j < nb && !any; ++j) {
                any = arcs_may_cross(a.vertices[i], a.vertices[(i + 1) % na], a.normals[i], b.vertices[j],
                                     b.vertices[(j + 1) % nb], b.normals[j]);
            }
        }
        if (!any) return DISJOINT;
    }
    r = INTERSECTS;
    if (contains_all) r |= CONTAINS;
    if (within_all) r |= WITHIN;
    return r;
}

inline unsigned relate(ConvexPolygon const& p, LonLatBox const& b) {
    unsigned r;
    if (empty_relation(p.vertices.empty(), b.is_empty(), r)) return r;
    if (relate(bounding_box(p), b) & DISJOINT) return DISJOINT;
    // An edge whose whole outer side holds the box separates them: the box's nearest
    // point to the edge normal is more than 90 degrees away from it.
    bool contains_box = true;
    for (auto const& n : p.normals) {
        if (min_distance(n, b) > kHalfPi + kTol) return DISJOINT;
        if (contains_box && min_distance(-n, b) < kHalfPi + kTol) contains_box = false;
    }
    r = INTERSECTS;
    if (contains_box) r |= CONTAINS;
    if (relate(b.expanded(0.5 * kTol), bounding_box(p)) & CONTAINS) r |= WITHIN;
    return r;
}

inline unsigned relate(ConvexPolygon const& p, Circle const& c) { return invert_relationship(relate(c, p)); }
inline unsigned relate(LonLatBox const& b, Circle const& c) { return invert_relationship(relate(c, b)); }
inline unsigned relate(LonLatBox const& b, ConvexPolygon const& p) { return invert_relationship(relate(p, b)); }

// ---------------------------------------------------------------------------------------
// Regions as flat parameter arrays (for language bindings)
// ---------------------------------------------------------------------------------------
// kind 0: Circle      params = {cx, cy, cz, opening_angle}
// kind 1: Polygon     params = {x0, y0, z0, x1, y1, z1, ...} (unit vectors, CCW)
// kind 2: LonLatBox   params = {lon_a, lon_b, lat_min, lat_max}
enum RegionKind : int { kCircle = 0, kPolygon = 1, kBox = 2 };

// Build the region described by (kind, params) and call f(region); returns f's result.
// Throws std::invalid_argument for an unknown kind or a wrong parameter count.
template <class F>
auto visit_region(int kind, double const* p, std::size_t n, F&& f) {
    switch (kind) {
        case kCircle:
            if (n != 4) throw std::invalid_argument("circle parameters must be [cx, cy, cz, angle]");
            return f(Circle(UnitVector3d::from_normalized(p[0], p[1], p[2]), p[3]));
        case kPolygon: {
            if (n < 9 || n % 3 != 0) throw std::invalid_argument("polygon parameters must be 3*k (k >= 3) floats");
            std::vector<UnitVector3d> v;
            v.reserve(n / 3);
            for (std::size_t i = 0; i < n; i += 3) v.push_back(UnitVector3d::from_normalized(p[i], p[i + 1], p[i + 2]));
            return f(ConvexPolygon(std::move(v)));
        }
        case kBox:
            if (n != 4) throw std::invalid_argument("box parameters must be [lon_a, lon_b, lat_min, lat_max]");
            return f(LonLatBox(p[0], p[1], p[2], p[3]));
        default:
            throw std::invalid_argument("unknown region kind");
    }
}

}  // namespace geom
}  // namespace osprey

#endif  // OSPREY_GEOM_REGIONS_H
