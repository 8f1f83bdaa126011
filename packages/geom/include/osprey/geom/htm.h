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
#include <cstring>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Midpoint of the edge a, b, normalized exactly as lsst-sphgeom's UnitVector3d(a + b)
// (its Vector3d::normalize in current releases): the component of largest magnitude is the
// pivot (x only when strictly the largest, else y when strictly larger than z, else z); the
// other two are divided by the pivot's magnitude, then all three by sqrt(1 + q1^2 + q2^2).
// Reproducing the rounding bit for bit keeps index() identical to sphgeom on trixel edges.
// (Must not be compiled with fused multiply-add contraction: the package builds for the
// baseline x86-64 / generic target, which has no FMA.)
inline UnitVector3d midpoint(Vector3d const& a, Vector3d const& b) {
    double const s[3] = {a.x + b.x, a.y + b.y, a.z + b.z};
    double const ax = std::fabs(s[0]), ay = std::fabs(s[1]), az = std::fabs(s[2]);
    int const k = (ax > ay && ax > az) ? 0 : (ay > az ? 1 : 2);
    int const i = k == 0 ? 1 : 0;
    int const j = k == 2 ? 1 : 2;
    double const m = std::fabs(s[k]);
    double const qi = s[i] / m, qj = s[j] / m;
    double const n = std::sqrt(1.0 + (qi * qi + qj * qj));
    double r[3];
    r[i] = qi / n;
    r[j] = qj / n;
    r[k] = std::copysign(1.0, s[k]) / n;
    return UnitVector3d::from_normalized(r[0], r[1], r[2]);
}

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

// ----------------------------------------------------------------------------------------
// Fast array indexing
// ----------------------------------------------------------------------------------------
// index_array() gives the same ids as index() (hence as lsst-sphgeom), several times faster:
//
// * Points go through the tree in blocks, two per SIMD register (GCC/Clang vector
//   extensions; SSE2 on x86-64; src/htm.cpp adds a four-lane AVX2 variant chosen at run
//   time), several registers at once, with no branches: each level evaluates all three
//   child tests and selects the child with masks. That removes the mispredicted 4-way
//   branch and the sqrt/divide latency chain of the one-point loop.
// * Fast vertices: a midpoint is normalized as (a + b) * r, r = 1 / |a + b| from a square
//   root and a division at levels 0-2 and from a short series without the divider below
//   (rsqrt_series), instead of sphgeom's pivoted normalization (5 divisions). The two
//   differ in the last bits, so a child test is trusted only when its determinant clears
//   a bound that covers both our rounding and the distance between our vertices and
//   sphgeom's; a point with any test inside the bound is recomputed by index() (exact
//   arithmetic on sphgeom's vertices).
// * Lon/lat input: sines and cosines come from a vectorized sincos_pack within 7.2e-16 of
//   libm's (covered by the bound, see FillLonLat); the exact path recomputes p with libm.
//
// Error bound (u = 2^-53). Let v* be the exact-arithmetic HTM vertex. One midpoint step
// from vertices within E of theirs (|a - a*|, |b - b*| <= E) gives, by the Dunkl-Williams
// inequality |x/|x| - y/|y|| <= 2|x - y| / (|x| + |y|), a direction within
// 2E / (c - E) of the exact one, where c = |a* + b*| = 2 cos(theta / 2) and theta is the
// largest vertex separation of the parent; the sum adds u and either normalization
// (ours: 4.5u per component; sphgeom's: also <= 4.5u) adds at most 4.5u, so
// E' <= E / cos(theta / 2) + 6u (with margin for O(u^2)). Root vertices are exact, and the
// product of 1 / cos(theta_l / 2) over levels l >= 1 is 1.2248 (theta_1 = 60 deg,
// theta_2 = 33.6 deg, then halving), so every vertex at level <= 24 of ours and of sphgeom's
// is within E_24 <= 24 * 6u * 1.23 < 2.0e-14 of exact, and the two within 4.0e-14 of each
// other. The largest vertex separation in a level-l trixel is theta_l <= 2.5 * 2^-l rad
// (theta_l * 2^l increases to 2.4497). At level l the tests use midpoints a, b of the
// trixel holding p, so |a x p|, |b x p| <= theta_l and
//   |det[p, a, b] - det[p, a_s, b_s]| = |(a - a_s) . (b x p) + (b - b_s) . (p x a_s)|
//                                     <= 2 * 4.0e-14 * theta_l |p|.
// d = p . (a x (b - a)) (= p . (a x b), but without the cancellation of a x b for close a,
// b) errs by < 10u |b - a|_inf |p|_1 <= 1.2e-15 theta_l |p|_1 in floating point. Trusting
// |d| > 2e-13 * 2.5 * 2^-l * |p|_1 is therefore safe (|p|_2 <= |p|_1) with a factor 2 to
// spare; about 3 points in 10^6 fall back at level 20, 50 at level 24.
namespace detail {

constexpr double kFastTolerance = 5e-13;  // 2e-13 * 2.5, halved at each level
// Points with |p|_1 outside [kMinScale, kMaxScale] (or NaN) take the exact path, so that
// the relative error bound above is not spoiled by underflow or overflow.
constexpr double kMinScale = 1e-150;
constexpr double kMaxScale = 1e150;

#if defined(__GNUC__) || defined(__clang__)
#define OSPREY_GEOM_HTM_SIMD 1
#define OSPREY_GEOM_HTM_INLINE inline __attribute__((always_inline))

// Lane operations for a pair of GCC/Clang vector types (double lanes and same-width
// integer masks that are all-ones or zero). Casts between same-size vector types
// reinterpret the bits. A wider instruction set can supply its own Ops (see src/htm.cpp);
// they take and give vectors by reference, so that no vector crosses a call by value in
// a function compiled for the baseline target (a psABI change for 32-byte vectors).
struct Sse2Ops {
    typedef double Pack __attribute__((vector_size(16)));
    typedef long long Mask __attribute__((vector_size(16)));
    // out = 1 / sqrt(x)
    static OSPREY_GEOM_HTM_INLINE void rsqrt(Pack& out, Pack const& x) {
#if defined(__SSE2__)
        out = Pack{} + 1.0;
        out /= (Pack)_mm_sqrt_pd((__m128d)x);
#else
        out = Pack{1.0 / std::sqrt(x[0]), 1.0 / std::sqrt(x[1])};
#endif
    }
    // out = m ? a : b, lane by lane
    static OSPREY_GEOM_HTM_INLINE void select(Pack& out, Mask const& m, Pack const& a, Pack const& b) {
        out = (Pack)((m & (Mask)a) | (~m & (Mask)b));
    }
    // lane-wise minimum of non-NaN values
    static OSPREY_GEOM_HTM_INLINE void min(Pack& out, Pack const& a, Pack const& b) {
        Mask const m = a < b;
        select(out, m, a, b);
    }
};

// Root vertices (as in root_vertices) and root_of without unpredictable branches.
constexpr double kRootXyz[8][9] = {
    {1, 0, 0, 0, 0, -1, 0, 1, 0},  {0, 1, 0, 0, 0, -1, -1, 0, 0}, {-1, 0, 0, 0, 0, -1, 0, -1, 0},
    {0, -1, 0, 0, 0, -1, 1, 0, 0}, {1, 0, 0, 0, 0, 1, 0, -1, 0},  {0, -1, 0, 0, 0, 1, -1, 0, 0},
    {-1, 0, 0, 0, 0, 1, 0, 1, 0},  {0, 1, 0, 0, 0, 1, 1, 0, 0}};
inline int root_of_branchless(Vector3d const& p) {
    // [south][y > 0, y == 0, y < 0][x test]: the x test is x > 0, x >= 0 and x < 0 in turn
    static constexpr unsigned char roots[2][3][2] = {{{6, 7}, {5, 7}, {4, 5}}, {{1, 0}, {2, 0}, {3, 2}}};
    int const south = p.z < 0.0;
    int const yb = (p.y <= 0.0) + (p.y < 0.0);
    int const gt = p.x > 0.0, ge = p.x >= 0.0;
    int const xb = yb == 0 ? gt : (yb == 1 ? ge : 1 - ge);
    return roots[south][yb][xb];
}

template <class Ops>
struct PackState {
    typedef typename Ops::Pack Pack;
    typedef typename Ops::Mask Mask;
    Pack px, py, pz, tol;
    Pack v0x, v0y, v0z, v1x, v1y, v1z, v2x, v2y, v2z;
    Mask id, bad;
};

// 1 / |w| for a sum w = a + b of two (nearly) unit vectors at most theta apart, from
// s = |w|^2, without the divider (the slowest unit): with y = 1 - s / 4 = |a - b|^2 / 4
// <= theta^2 / 4, 1 / sqrt(s) = (1 - y)^(-1/2) / 2 = sum_k c_k y^k with
// c_k = C(2k, k) / (2 * 4^k); kTerms terms leave a truncation error below
// c_kTerms y^kTerms / (1 - y). s - 4 is exact (Sterbenz), and the relative error (1.5u
// from s, about 1.1u from Horner) stays below the 3.5u of a square root and a division,
// which the error bound above assumes. series_terms(l) is the number of terms that makes
// the truncation error below 1e-17 at level l >= kSeriesLevel (theta_l <= 2.5 * 2^-l):
// 10 terms at level 3, 2 from level 14 on.
constexpr int kSeriesLevel = 3;
constexpr int kMaxSeriesTerms = 10;
constexpr double kSeriesCoefficient[kMaxSeriesTerms + 1] = {
    0.5,          0.25,           3.0 / 16.0,     5.0 / 32.0,         35.0 / 256.0,       63.0 / 512.0,
    231.0 / 2048.0, 429.0 / 4096.0, 6435.0 / 65536.0, 12155.0 / 131072.0, 46189.0 / 524288.0};
constexpr int series_terms(int level) {
    double const theta = 2.5 / static_cast<double>(std::uint64_t{1} << level);
    double const y = theta * theta / 4.0 * 1.001;
    double power = 1.0;
    for (int k = 1; k <= kMaxSeriesTerms; ++k) {
        power *= y;
        if (kSeriesCoefficient[k] * power / (1.0 - y) < 1e-17) return k;
    }
    return kMaxSeriesTerms + 1;  // not enough terms
}
static_assert(series_terms(kSeriesLevel) <= kMaxSeriesTerms, "the series must converge from kSeriesLevel on");
template <int kTerms, class Pack>
OSPREY_GEOM_HTM_INLINE void rsqrt_series(Pack& r, Pack const& s) {
    Pack const y = (Pack{} + 1.0) - s * 0.25;
    r = Pack{} + kSeriesCoefficient[kTerms - 1];
    for (int k = kTerms - 2; k >= 0; --k) r = r * y + kSeriesCoefficient[k];
}

// One subdivision step for the points of one pack; kTerms > 0 selects rsqrt_series with
// that many terms for the midpoint norms (allowed from level kSeriesLevel on).
template <class Ops, int kTerms>
OSPREY_GEOM_HTM_INLINE void pack_step(PackState<Ops>& s) {
    typedef typename Ops::Pack Pack;
    typedef typename Ops::Mask Mask;
    Pack const zero = Pack{};
    Mask const abs_mask = Mask{} + 0x7fffffffffffffffLL;
    // Midpoints w0 = v1 + v2, w1 = v2 + v0, w2 = v0 + v1, normalized.
    Pack w0x = s.v1x + s.v2x, w0y = s.v1y + s.v2y, w0z = s.v1z + s.v2z;
    Pack w1x = s.v2x + s.v0x, w1y = s.v2y + s.v0y, w1z = s.v2z + s.v0z;
    Pack w2x = s.v0x + s.v1x, w2y = s.v0y + s.v1y, w2z = s.v0z + s.v1z;
    Pack r0, r1, r2;
    Pack const s0 = w0x * w0x + w0y * w0y + w0z * w0z;
    Pack const s1 = w1x * w1x + w1y * w1y + w1z * w1z;
    Pack const s2 = w2x * w2x + w2y * w2y + w2z * w2z;
    if (kTerms > 0) {
        rsqrt_series<kTerms>(r0, s0), rsqrt_series<kTerms>(r1, s1), rsqrt_series<kTerms>(r2, s2);
    } else {
        Ops::rsqrt(r0, s0), Ops::rsqrt(r1, s1), Ops::rsqrt(r2, s2);
    }
    w0x *= r0, w0y *= r0, w0z *= r0;
    w1x *= r1, w1y *= r1, w1z *= r1;
    w2x *= r2, w2y *= r2, w2z *= r2;
    // Child tests: det[p, w2, w1] (child 0), det[p, w0, w2] (1), det[p, w1, w0] (2), as
    // det[p, a, b - a].
    Pack const e0x = w1x - w2x, e0y = w1y - w2y, e0z = w1z - w2z;
    Pack const e1x = w2x - w0x, e1y = w2y - w0y, e1z = w2z - w0z;
    Pack const e2x = w0x - w1x, e2y = w0y - w1y, e2z = w0z - w1z;
    Pack const d0 = s.px * (w2y * e0z - w2z * e0y) + s.py * (w2z * e0x - w2x * e0z) + s.pz * (w2x * e0y - w2y * e0x);
    Pack const d1 = s.px * (w0y * e1z - w0z * e1y) + s.py * (w0z * e1x - w0x * e1z) + s.pz * (w0x * e1y - w0y * e1x);
    Pack const d2 = s.px * (w1y * e2z - w1z * e2y) + s.py * (w1z * e2x - w1x * e2z) + s.pz * (w1x * e2y - w1y * e2x);
    Mask const in0 = d0 > zero, in1 = d1 > zero, in2 = d2 > zero;
    // A test within the tolerance marks the point for the exact path. Testing all three
    // (the one-point loop may stop after one or two) costs only points near the vertex
    // where an unused midline's extension meets the parent's edge.
    Pack dmin;
    Ops::min(dmin, (Pack)((Mask)d0 & abs_mask), (Pack)((Mask)d1 & abs_mask));
    Ops::min(dmin, dmin, (Pack)((Mask)d2 & abs_mask));
    s.bad |= dmin <= s.tol;  // NaN compares false, but NaN points were marked at setup
    // child = in0 ? 0 : in1 ? 1 : in2 ? 2 : 3 = -(a + b + c) with these all-ones masks
    Mask const a = ~in0, b = a & ~in1, c = b & ~in2;
    s.id = (s.id << 2) - (a + b + c);
    // New vertices: child 0 (v0, w2, w1), 1 (v1, w0, w2), 2 (v2, w1, w0), 3 (w0, w1, w2).
    Mask const to_w2 = a & (in1 | ~in2);  // children 1 and 3 put w2 in v2
    Pack t;
    Ops::select(t, in2, s.v2x, w0x), Ops::select(t, in1, s.v1x, t), Ops::select(s.v0x, in0, s.v0x, t);
    Ops::select(t, in2, s.v2y, w0y), Ops::select(t, in1, s.v1y, t), Ops::select(s.v0y, in0, s.v0y, t);
    Ops::select(t, in2, s.v2z, w0z), Ops::select(t, in1, s.v1z, t), Ops::select(s.v0z, in0, s.v0z, t);
    Ops::select(t, in1, w0x, w1x), Ops::select(s.v1x, in0, w2x, t);
    Ops::select(t, in1, w0y, w1y), Ops::select(s.v1y, in0, w2y, t);
    Ops::select(t, in1, w0z, w1z), Ops::select(s.v1z, in0, w2z, t);
    Ops::select(t, to_w2, w2x, w0x), Ops::select(s.v2x, in0, w1x, t);
    Ops::select(t, to_w2, w2y, w0y), Ops::select(s.v2y, in0, w1y, t);
    Ops::select(t, to_w2, w2z, w0z), Ops::select(s.v2z, in0, w1z, t);
    s.tol *= 0.5;
}

// sin and cos of the lanes of x, within 7.2e-16 of the correctly rounded values (so of
// glibc's, which are within 1 ulp), for |x| <= kMaxFastAngle; `ok` is false on other lanes
// (NaN included), whose results are meaningless. x = k pi/2 + r with a three-part pi/2
// (k p1 and k p2 are exact for |k| < 2^20), |r| <= pi/4 (1 + u); Taylor series to r^17
// and r^16 (truncation < 1e-17), with Horner rounding < 3u.
constexpr double kMaxFastAngle = 1e4;
template <class Ops>
OSPREY_GEOM_HTM_INLINE void sincos_pack(typename Ops::Pack const& x, typename Ops::Pack& sin_x,
                                        typename Ops::Pack& cos_x, typename Ops::Mask& ok) {
    typedef typename Ops::Pack Pack;
    typedef typename Ops::Mask Mask;
    Pack const magic = Pack{} + 0x1.8p52;  // adding it rounds to an integer, kept in the low bits
    Pack const t = x * 0.6366197723675814 + magic;
    Pack const k = t - magic;
    Mask const q = (Mask)t;
    Pack r = x - k * 0x1.921fb544p+0;
    r = r - k * 0x1.0b4611a6p-34;
    r = r - k * 0x1.3198a2e037073p-69;
    Pack const z = r * r;
    Pack sp = Pack{} - 2.8114572543455206e-15;
    sp = sp * z + 7.647163731819816e-13;
    sp = sp * z - 1.6059043836821613e-10;
    sp = sp * z + 2.505210838544172e-08;
    sp = sp * z - 2.7557319223985893e-06;
    sp = sp * z + 0.0001984126984126984;
    sp = sp * z - 0.008333333333333333;
    sp = sp * z + 0.16666666666666666;
    Pack const sin_r = r - (r * z) * sp;
    Pack cp = Pack{} + 4.779477332387385e-14;
    cp = cp * z - 1.1470745597729725e-11;
    cp = cp * z + 2.08767569878681e-09;
    cp = cp * z - 2.755731922398589e-07;
    cp = cp * z + 2.48015873015873e-05;
    cp = cp * z - 0.001388888888888889;
    cp = cp * z + 0.041666666666666664;
    cp = cp * z - 0.5;
    Pack const cos_r = (Pack{} + 1.0) + z * cp;
    // Quadrant q: sin x = sin r, cos r, -sin r, -cos r and cos x = cos r, -sin r, -cos r, sin r.
    Mask const odd = (q & 1) != 0;
    Pack s, c;
    Ops::select(s, odd, cos_r, sin_r);
    Ops::select(c, odd, sin_r, cos_r);
    Mask const sign = Mask{} + (-0x7fffffffffffffffLL - 1);
    sin_x = (Pack)((Mask)s ^ (((q & 2) != 0) & sign));
    cos_x = (Pack)((Mask)c ^ ((((q + 1) & 2) != 0) & sign));
    Pack const ax = (Pack)((Mask)x & (Mask{} + 0x7fffffffffffffffLL));
    ok = ax <= kMaxFastAngle;
}

// The blocked kernel behind index_array() and index_lonlat(). fill(start, m, px, py, pz,
// bad) writes the first m (<= block size) points from `start` as components and a flag
// (-1: take the exact path, 0: the fast path may be used, its |p|_1 permitting);
// exact(i) must return index() of point i.
template <class Ops, int kPacks, class FillFn, class ExactFn>
OSPREY_GEOM_HTM_INLINE void index_blocks(std::size_t n, int level, FillFn const& fill, ExactFn const& exact,
                                         std::uint64_t* out) {
    constexpr int kLanes = static_cast<int>(sizeof(typename Ops::Pack) / sizeof(double));
    constexpr std::size_t kBlock = static_cast<std::size_t>(kLanes) * kPacks;
    PackState<Ops> st[kPacks];
    int terms[kMaxLevel];
    for (int l = 0; l < kMaxLevel; ++l) terms[l] = l < kSeriesLevel ? 0 : series_terms(l);
    // Setup goes through plain arrays: writing single lanes of vectors in memory and then
    // reading whole vectors defeats store forwarding.
    double lanes[13][kBlock];
    long long ids[kBlock], bad[kBlock];
    for (std::size_t start = 0; start < n; start += kBlock) {
        std::size_t const m = n - start < kBlock ? n - start : kBlock;
        fill(start, m, lanes[0], lanes[1], lanes[2], bad);
        for (std::size_t j = 0; j < kBlock; ++j) {
            if (j >= m) lanes[0][j] = 0.0, lanes[1][j] = 0.0, lanes[2][j] = 1.0, bad[j] = 0;
            Vector3d const p(lanes[0][j], lanes[1][j], lanes[2][j]);
            int const r = root_of_branchless(p);
            double const* v = kRootXyz[r];
            double const scale = std::fabs(p.x) + std::fabs(p.y) + std::fabs(p.z);
            lanes[3][j] = kFastTolerance * scale;
            for (int c = 0; c < 9; ++c) lanes[4 + c][j] = v[c];
            ids[j] = r + 8;
            if (!(scale >= kMinScale && scale <= kMaxScale)) bad[j] = -1;
        }
        for (int g = 0; g < kPacks; ++g) {
            PackState<Ops>& s = st[g];
            typename Ops::Pack* const dst[13] = {&s.px,  &s.py,  &s.pz,  &s.tol, &s.v0x, &s.v0y, &s.v0z,
                                                 &s.v1x, &s.v1y, &s.v1z, &s.v2x, &s.v2y, &s.v2z};
            for (int c = 0; c < 13; ++c) std::memcpy(dst[c], &lanes[c][g * kLanes], sizeof(typename Ops::Pack));
            std::memcpy(&s.id, &ids[g * kLanes], sizeof(s.id));
            std::memcpy(&s.bad, &bad[g * kLanes], sizeof(s.bad));
        }
        for (int l = 0; l < level; ++l) {
            switch (terms[l]) {
                case 0: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 0>(st[g]); break;
                case 1: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 1>(st[g]); break;
                case 2: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 2>(st[g]); break;
                case 3: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 3>(st[g]); break;
                case 4: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 4>(st[g]); break;
                case 5: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 5>(st[g]); break;
                case 6: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 6>(st[g]); break;
                case 7: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 7>(st[g]); break;
                case 8: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 8>(st[g]); break;
                case 9: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 9>(st[g]); break;
                default: for (int g = 0; g < kPacks; ++g) pack_step<Ops, 10>(st[g]); break;
            }
        }
        for (std::size_t j = 0; j < m; ++j) {
            PackState<Ops> const& s = st[j / kLanes];
            int const k = static_cast<int>(j % kLanes);
            out[start + j] = s.bad[k] ? exact(start + j) : static_cast<std::uint64_t>(s.id[k]);
        }
    }
}

// Points from a functor: the fill for index_blocks.
template <class PointFn>
struct FillPoints {
    PointFn const& point;
    void operator()(std::size_t start, std::size_t m, double* px, double* py, double* pz, long long* bad) const {
        for (std::size_t j = 0; j < m; ++j) {
            Vector3d const p = point(start + j);
            px[j] = p.x, py[j] = p.y, pz[j] = p.z, bad[j] = 0;
        }
    }
};

// Points from lon/lat arrays with sincos_pack. The fast path sees p' within 2.5e-15 of
// UnitVector3d::from_lonlat's p (7.2e-16 per sine or cosine, plus rounding of the
// products), which moves each determinant by at most |p' - p| |a x b| < 5e-15 theta_l:
// covered by the spare factor of the tolerance. Points with a component of p' within
// 1e-14 of zero take the exact path, so that root_of sees the signs (and zeros) of p.
template <class Ops>
struct FillLonLat {
    double const* lon;
    double const* lat;
    OSPREY_GEOM_HTM_INLINE void operator()(std::size_t start, std::size_t m, double* px, double* py, double* pz,
                                           long long* bad) const {
        typedef typename Ops::Pack Pack;
        typedef typename Ops::Mask Mask;
        constexpr std::size_t kLanes = sizeof(Pack) / sizeof(double);
        Pack const tiny = Pack{} + 1e-14;
        Mask const abs_mask = Mask{} + 0x7fffffffffffffffLL;
        for (std::size_t j = 0; j < m; j += kLanes) {
            Pack lo = Pack{}, la = Pack{};
            if (m - j >= kLanes) {
                std::memcpy(&lo, lon + start + j, sizeof(Pack));
                std::memcpy(&la, lat + start + j, sizeof(Pack));
            } else {
                for (std::size_t k = 0; j + k < m; ++k) lo[k] = lon[start + j + k], la[k] = lat[start + j + k];
            }
            Pack slon, clon, slat, clat;
            Mask ok_lon, ok_lat;
            sincos_pack<Ops>(lo, slon, clon, ok_lon);
            sincos_pack<Ops>(la, slat, clat, ok_lat);
            Pack const x = clon * clat, y = slon * clat, z = slat;
            Mask const near_zero = ((Pack)((Mask)x & abs_mask) <= tiny) | ((Pack)((Mask)y & abs_mask) <= tiny) |
                                   ((Pack)((Mask)z & abs_mask) <= tiny);
            Mask const b = ~(ok_lon & ok_lat) | near_zero;
            std::memcpy(px + j, &x, sizeof(Pack));
            std::memcpy(py + j, &y, sizeof(Pack));
            std::memcpy(pz + j, &z, sizeof(Pack));
            std::memcpy(bad + j, &b, sizeof(Mask));
        }
    }
};
#endif

}  // namespace detail

// Write index(point(i), level) to out[i] for i in [0, n); point(i) returns a Vector3d.
template <class PointFn>
void index_array(std::size_t n, int level, PointFn const& point, std::uint64_t* out) {
#if defined(OSPREY_GEOM_HTM_SIMD)
    detail::index_blocks<detail::Sse2Ops, 8>(
        n, level, detail::FillPoints<PointFn>{point}, [&](std::size_t i) { return index(point(i), level); }, out);
#else
    for (std::size_t i = 0; i < n; ++i) out[i] = index(point(i), level);
#endif
}

// Write index(UnitVector3d::from_lonlat(lon[i], lat[i]), level) to out[i], i in [0, n).
inline void index_lonlat(std::size_t n, int level, double const* lon, double const* lat, std::uint64_t* out) {
#if defined(OSPREY_GEOM_HTM_SIMD)
    detail::index_blocks<detail::Sse2Ops, 8>(
        n, level, detail::FillLonLat<detail::Sse2Ops>{lon, lat},
        [=](std::size_t i) { return index(UnitVector3d::from_lonlat(lon[i], lat[i]), level); }, out);
#else
    for (std::size_t i = 0; i < n; ++i) out[i] = index(UnitVector3d::from_lonlat(lon[i], lat[i]), level);
#endif
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
