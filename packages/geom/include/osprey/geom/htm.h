// Header-only Hierarchical Triangular Mesh (Szalay, Gray et al. 2007, arXiv cs/0701164).
//
// The sphere is split into 8 root spherical triangles S0..S3, N0..N3 with ids 8..15; each
// trixel (v0, v1, v2) has children 0: (v0, w2, w1), 1: (v1, w0, w2), 2: (v2, w1, w0) and
// 3: (w0, w1, w2), where w0, w1, w2 are the normalized midpoints of the edges opposite v0,
// v1, v2. A child's id is its parent's id * 4 + child number, so a level-L id has
// 4 + 2L significant bits. Points on shared edges go to the first candidate child in the
// order 0, 1, 2, 3, decided with an exact orientation predicate.
#ifndef OSPREY_GEOM_HTM_H
#define OSPREY_GEOM_HTM_H

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "osprey/geom/regions.h"
#include "osprey/geom/vector3d.h"

namespace osprey {
namespace geom {
namespace htm {

constexpr int kMaxLevel = 24;

// ----------------------------------------------------------------------------------------
// Roots and trixels
// ----------------------------------------------------------------------------------------
// Octahedron vertices v0..v5 of the paper: +z, +x, +y, -x, -y, -z.
inline UnitVector3d octahedron_vertex(int k) {
    static constexpr double xyz[6][3] = {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {-1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
    return UnitVector3d::from_normalized(xyz[k][0], xyz[k][1], xyz[k][2]);
}

// Vertices of root r (0..7 for S0..S3, N0..N3), counter-clockwise seen from outside.
inline std::array<UnitVector3d, 3> root_vertices(int r) {
    static constexpr int idx[8][3] = {{1, 5, 2}, {2, 5, 3}, {3, 5, 4}, {4, 5, 1},
                                      {1, 0, 4}, {4, 0, 3}, {3, 0, 2}, {2, 0, 1}};
    return {octahedron_vertex(idx[r][0]), octahedron_vertex(idx[r][1]), octahedron_vertex(idx[r][2])};
}

inline UnitVector3d midpoint(Vector3d const& a, Vector3d const& b) { return UnitVector3d(a + b); }

// Root (0..7) containing p. Ties on the coordinate planes: the equator belongs to the
// north, the half-planes y = 0 and x = 0 to the root listed first among those sharing it.
inline int root_of(Vector3d const& p) {
    if (p.z < 0.0) {
        // S0: x>=0,y>=0  S1: x<=0,y>=0  S2: x<=0,y<=0  S3: x>=0,y<=0
        if (p.y > 0.0) return p.x > 0.0 ? 0 : 1;
        if (p.y == 0.0) return p.x >= 0.0 ? 0 : 2;
        return p.x < 0.0 ? 2 : 3;
    }
    // N0: x>=0,y<=0  N1: x<=0,y<=0  N2: x<=0,y>=0  N3: x>=0,y>=0
    if (p.y > 0.0) return p.x > 0.0 ? 7 : 6;
    if (p.y == 0.0) return p.x >= 0.0 ? 7 : 5;
    return p.x < 0.0 ? 5 : 4;
}

// Sign of det[a, b, p] for unit a, b: a fast evaluation p . (a x b) whose rounding error
// is below 1e-15 * |p|_1 (|a_j b_k| + |a_k b_j| <= |a| |b| = 1), else the exact predicate.
inline int side(Vector3d const& a, Vector3d const& b, Vector3d const& p, double bound) {
    double const d = p.dot(a.cross(b));
    if (d > bound) return 1;
    if (d < -bound) return -1;
    return geom::orientation(a, b, p);
}

// HTM id of unit vector p at `level` (0..kMaxLevel).
inline std::uint64_t index(Vector3d const& p, int level) {
    double const bound = 1e-15 * (std::fabs(p.x) + std::fabs(p.y) + std::fabs(p.z));
    int const r = root_of(p);
    auto const rv = root_vertices(r);
    UnitVector3d v0 = rv[0], v1 = rv[1], v2 = rv[2];
    std::uint64_t id = static_cast<std::uint64_t>(r) + 8u;
    for (int l = 0; l < level; ++l) {
        UnitVector3d const w2 = midpoint(v0, v1);
        UnitVector3d const w1 = midpoint(v2, v0);
        id <<= 2;
        if (side(w2, w1, p, bound) >= 0) {  // child 0 (v0, w2, w1)
            v1 = w2;
            v2 = w1;
            continue;
        }
        UnitVector3d const w0 = midpoint(v1, v2);
        if (side(w0, w2, p, bound) >= 0) {  // child 1 (v1, w0, w2)
            v0 = v1;
            v1 = w0;
            v2 = w2;
            id |= 1u;
            continue;
        }
        if (side(w1, w0, p, bound) >= 0) {  // child 2 (v2, w1, w0)
            v0 = v2;
            v1 = w1;
            v2 = w0;
            id |= 2u;
            continue;
        }
        v0 = w0;  // child 3 (w0, w1, w2)
        v1 = w1;
        v2 = w2;
        id |= 3u;
    }
    return id;
}

// Level of a valid id, or -1 when `id` is not an HTM id.
inline int level_of(std::uint64_t id) {
    if (id < 8u) return -1;
    int bits = 0;
    for (std::uint64_t t = id; t != 0; t >>= 1) ++bits;
    if ((bits & 1) != 0) return -1;  // ids have 4 + 2L bits
    int const level = (bits - 4) / 2;
    return level <= kMaxLevel ? level : -1;
}

// Vertices of trixel `id` (which must be valid: level_of(id) >= 0).
inline std::array<UnitVector3d, 3> trixel_vertices(std::uint64_t id) {
    int const level = level_of(id);
    auto v = root_vertices(static_cast<int>((id >> (2 * level)) - 8u));
    for (int l = level - 1; l >= 0; --l) {
        unsigned const child = static_cast<unsigned>((id >> (2 * l)) & 3u);
        UnitVector3d const w0 = midpoint(v[1], v[2]);
        UnitVector3d const w1 = midpoint(v[2], v[0]);
        UnitVector3d const w2 = midpoint(v[0], v[1]);
        switch (child) {
            case 0: v = {v[0], w2, w1}; break;
            case 1: v = {v[1], w0, w2}; break;
            case 2: v = {v[2], w1, w0}; break;
            default: v = {w0, w1, w2}; break;
        }
    }
    return v;
}

// ----------------------------------------------------------------------------------------
// Envelope and interior of a region, as sorted half-open id ranges at one level
// ----------------------------------------------------------------------------------------
using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Append [b, e) to sorted ranges, merging with the last one when they touch.
inline void append_range(Ranges& out, std::uint64_t b, std::uint64_t e) {
    if (!out.empty() && out.back().second >= b) {
        if (e > out.back().second) out.back().second = e;
        return;
    }
    out.emplace_back(b, e);
}

namespace detail {

template <class Region>
struct Descent {
    Region const& region;
    int level;
    Ranges envelope;
    Ranges interior;

    void visit(std::uint64_t id, int l, UnitVector3d const& v0, UnitVector3d const& v1, UnitVector3d const& v2) {
        ConvexPolygon const trixel(std::vector<UnitVector3d>{v0, v1, v2});
        unsigned const rel = relate(region, trixel);
        if (rel & DISJOINT) return;
        int const shift = 2 * (level - l);
        if (rel & CONTAINS) {
            append_range(envelope, id << shift, (id + 1u) << shift);
            append_range(interior, id << shift, (id + 1u) << shift);
            return;
        }
        if (l == level) {
            append_range(envelope, id, id + 1u);
            return;
        }
        UnitVector3d const w0 = midpoint(v1, v2);
        UnitVector3d const w1 = midpoint(v2, v0);
        UnitVector3d const w2 = midpoint(v0, v1);
        visit(id * 4u + 0u, l + 1, v0, w2, w1);
        visit(id * 4u + 1u, l + 1, v1, w0, w2);
        visit(id * 4u + 2u, l + 1, v2, w1, w0);
        visit(id * 4u + 3u, l + 1, w0, w1, w2);
    }
};

}  // namespace detail

// Coarsen sorted ranges to at most max_ranges by snapping boundaries to multiples of 4^k
// for growing k: outward (growing the set) when `grow`, inward (shrinking it) otherwise.
inline Ranges coarsen(Ranges const& in, std::size_t max_ranges, bool grow) {
    if (max_ranges == 0 || in.size() <= max_ranges) return in;
    Ranges cur = in;
    for (int shift = 2; shift < 64 && cur.size() > max_ranges; shift += 2) {
        std::uint64_t const mask = (std::uint64_t{1} << shift) - 1u;
        Ranges next;
        next.reserve(cur.size());
        for (auto const& r : in) {
            std::uint64_t b, e;
            if (grow) {
                b = r.first & ~mask;
                e = (r.second + mask) & ~mask;
            } else {
                b = (r.first + mask) & ~mask;
                e = r.second & ~mask;
                if (b >= e) continue;
            }
            append_range(next, b, e);
        }
        cur.swap(next);
    }
    return cur;
}

// Fill `envelope` (trixels possibly intersecting region) and `interior` (trixels inside
// region) at `level`.
template <class Region>
void cover(Region const& region, int level, std::size_t max_ranges, Ranges& envelope, Ranges& interior) {
    detail::Descent<Region> d{region, level, {}, {}};
    for (int r = 0; r < 8; ++r) {
        auto const v = root_vertices(r);
        d.visit(static_cast<std::uint64_t>(r) + 8u, 0, v[0], v[1], v[2]);
    }
    envelope = coarsen(d.envelope, max_ranges, true);
    interior = coarsen(d.interior, max_ranges, false);
}

}  // namespace htm
}  // namespace geom
}  // namespace osprey

#endif  // OSPREY_GEOM_HTM_H
