// HEALPix pixel indexing (Górski et al. 2005, ApJ 622, 759) for the NEST and RING schemes at
// orders 0..29 (nside = 2^order, npix = 12 nside^2).  Header-only, standard library only.
//
// Geometry used below (paper, sections 4 and 5):
//   * The sphere is cut into 12 base faces: 4 around the north pole (faces 0-3), 4 on the
//     equator (4-7) and 4 around the south pole (8-11).  Face f has its northernmost ring of
//     vertices at ring FACE_RING[f] (in units of nside, counted from the north pole) and its
//     centre at longitude FACE_PHI[f] * pi/4.
//   * Inside a face a point has continuous coordinates (x, y) in [0, 1]^2 (x towards the
//     north-east, y towards the north-west); pixel (ix, iy) covers [ix, ix+1) x [iy, iy+1)
//     of nside * (x, y).  NEST interleaves the bits of ix (even bits) and iy (odd bits) after
//     the face number; RING counts pixels along iso-latitude rings from the north pole.
//   * With z = cos(colatitude) and t = longitude / (pi/2) in [0, 4): in the equatorial zone
//     |z| <= 2/3 the pixel edges are the lines nside (1/2 + t -/+ 3z/4) = integer; in the polar
//     caps they are nside sqrt(3 (1 - |z|)) * {t mod 1, 1 - t mod 1} = integer.
//
// Floating-point choices are made so that results equal healpy's ang2pix(theta=pi/2 - lat,
// phi=lon) bit for bit, including points exactly on pixel edges: z is cos(pi/2 - lat); near
// the poles (colatitude < 0.01 from either pole) sqrt(1 - z^2) is taken from sin(colatitude)
// to keep precision; longitudes are reduced to [0, 2 pi) and then t to [0, 4).
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace osprey::geom::healpix {

constexpr int MAX_ORDER = 29;

inline void check_order(int order) {
    if (order < 0 || order > MAX_ORDER)
        throw std::invalid_argument("HEALPix order must be in [0, 29]");
}
constexpr std::int64_t nside_of(int order) { return std::int64_t(1) << order; }
constexpr std::int64_t npix_of(int order) { return 12 * (std::int64_t(1) << (2 * order)); }

// A pixel as (face, ix, iy) with 0 <= ix, iy < nside.
struct FacePixel {
    int face;
    std::int64_t ix, iy;
};

namespace detail {

constexpr int FACE_RING[12] = {2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
constexpr int FACE_PHI[12] = {1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7};
constexpr double PI = 3.141592653589793238462643383279502884;
constexpr double HALF_PI = 0.5 * PI;
constexpr double TWO_PI = 2.0 * PI;
constexpr double TWO_OVER_PI = 0.6366197723675813430755350534900574;
constexpr double TWO_THIRDS = 2.0 / 3.0;

// x mod m into [0, m) for m > 0 (exact except when the result would round up to m).
inline double wrap(double x, double m) {
    if (x >= 0.0) return x < m ? x : std::fmod(x, m);
    const double r = std::fmod(x, m) + m;
    return r == m ? 0.0 : r;
}

// Insert a zero bit above every bit of a 32-bit value: b31..b0 -> 0 b31 0 b30 ... 0 b0.
inline std::uint64_t spread_bits(std::uint64_t v) {
    v &= 0xffffffffULL;
    v = (v | (v << 16)) & 0x0000ffff0000ffffULL;
    v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v << 2)) & 0x3333333333333333ULL;
    v = (v | (v << 1)) & 0x5555555555555555ULL;
    return v;
}

// Inverse of spread_bits: keep the even bits and pack them.
inline std::uint64_t compact_bits(std::uint64_t v) {
    v &= 0x5555555555555555ULL;
    v = (v | (v >> 1)) & 0x3333333333333333ULL;
    v = (v | (v >> 2)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v >> 4)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v >> 8)) & 0x0000ffff0000ffffULL;
    v = (v | (v >> 16)) & 0x00000000ffffffffULL;
    return v;
}

// floor(sqrt(v)) for 0 <= v < 2^62.
inline std::int64_t isqrt(std::int64_t v) {
    std::int64_t r = static_cast<std::int64_t>(std::sqrt(static_cast<double>(v)));
    while (r * r > v) --r;
    while ((r + 1) * (r + 1) <= v) ++r;
    return r;
}

// The location of a point in the form the indexers need.
struct Loc {
    double z;       // cos(colatitude)
    double t;       // longitude / (pi/2), in [0, 4)
    double sth;     // sin(colatitude), only meaningful when have_sth
    bool have_sth;  // colatitude within 0.01 rad of a pole
};

inline Loc loc_from_lonlat(double lon, double lat) {
    const double theta = HALF_PI - lat;
    Loc l;
    l.z = std::cos(theta);
    l.have_sth = theta < 0.01 || theta > 3.14159 - 0.01;
    l.sth = l.have_sth ? std::sin(theta) : 0.0;
    l.t = wrap(wrap(lon, TWO_PI) * TWO_OVER_PI, 4.0);
    return l;
}

// Distance, in units of 1/nside, from the pole along a polar-cap pixel edge direction.
inline double polar_scale(const Loc& l, double za, double nside) {
    return (za < 0.99 || !l.have_sth) ? nside * std::sqrt(3.0 * (1.0 - za))
                                      : nside * l.sth / std::sqrt((1.0 + za) / 3.0);
}

}  // namespace detail

// ---- (face, ix, iy) <-> NEST / RING -------------------------------------------------------

inline std::int64_t face_to_nest(int order, const FacePixel& f) {
    std::uint64_t inner;
    if (order <= 16) {
        // Both coordinates fit in 16 bits: spread them side by side in one word (4 steps).
        std::uint64_t v = static_cast<std::uint64_t>(f.ix) | (static_cast<std::uint64_t>(f.iy) << 32);
        v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
        v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0fULL;
        v = (v | (v << 2)) & 0x3333333333333333ULL;
        v = (v | (v << 1)) & 0x5555555555555555ULL;
        inner = (v & 0xffffffffULL) | ((v >> 32) << 1);
    } else {
        inner = detail::spread_bits(static_cast<std::uint64_t>(f.ix)) |
                (detail::spread_bits(static_cast<std::uint64_t>(f.iy)) << 1);
    }
    return (static_cast<std::int64_t>(f.face) << (2 * order)) + static_cast<std::int64_t>(inner);
}

inline FacePixel nest_to_face(int order, std::int64_t pix) {
    const std::uint64_t inner = static_cast<std::uint64_t>(pix) & ((std::uint64_t(1) << (2 * order)) - 1);
    return {static_cast<int>(pix >> (2 * order)), static_cast<std::int64_t>(detail::compact_bits(inner)),
            static_cast<std::int64_t>(detail::compact_bits(inner >> 1))};
}

inline std::int64_t face_to_ring(int order, const FacePixel& f) {
    const std::int64_t ns = nside_of(order), nl4 = 4 * ns;
    // Ring index (1-based, from the north pole) of the pixel centre.
    const std::int64_t ring = detail::FACE_RING[f.face] * ns - f.ix - f.iy - 1;
    std::int64_t nr, first, shift = 0;
    if (ring < ns) {  // north polar cap: ring has 4 * ring pixels
        nr = ring;
        first = 2 * nr * (nr - 1);
    } else if (ring > 3 * ns) {  // south polar cap
        nr = nl4 - ring;
        first = npix_of(order) - 2 * nr * (nr + 1);
    } else {  // equatorial belt: 4 nside pixels a ring, odd rings shifted by half a pixel
        nr = ns;
        first = 2 * ns * (ns - 1) + (ring - ns) * nl4;
        shift = (ring - ns) & 1;
    }
    // Position along the ring in half-pixel units, then to a 1-based pixel number.
    std::int64_t j = (detail::FACE_PHI[f.face] * nr + f.ix - f.iy + 1 + shift) / 2;
    if (j > 4 * nr) j -= 4 * nr;
    if (j < 1) j += 4 * nr;
    return first + j - 1;
}

inline FacePixel ring_to_face(int order, std::int64_t pix) {
    const std::int64_t ns = nside_of(order), nl4 = 4 * ns, ncap = 2 * ns * (ns - 1);
    const std::int64_t npix = npix_of(order);
    std::int64_t ring, j, nr, shift = 0;
    int face;
    if (pix < ncap) {  // north cap: ring r starts at 2 r (r - 1)
        ring = (1 + detail::isqrt(1 + 2 * pix)) >> 1;
        j = pix - 2 * ring * (ring - 1) + 1;
        nr = ring;
        face = static_cast<int>((j - 1) / nr);
    } else if (pix < npix - ncap) {
        const std::int64_t ip = pix - ncap;
        const std::int64_t k = ip / nl4;  // rings below the z = 2/3 ring
        ring = k + ns;
        j = ip - k * nl4 + 1;
        nr = ns;
        shift = (ring + ns) & 1;
        // Which two diagonal edge lines bracket the pixel decide between the 12 faces.
        const std::int64_t ire = k + 1, irm = 2 * ns + 2 - ire;
        const std::int64_t ifm = (j - ire / 2 + ns - 1) / ns;
        const std::int64_t ifp = (j - irm / 2 + ns - 1) / ns;
        face = static_cast<int>(ifp == ifm ? (ifp | 4) : (ifp < ifm ? ifp : ifm + 8));
    } else {  // south cap, mirrored
        const std::int64_t ip = npix - pix;
        const std::int64_t r = (1 + detail::isqrt(2 * ip - 1)) >> 1;  // ring from the south pole
        j = 4 * r + 1 - (ip - 2 * r * (r - 1));
        nr = r;
        ring = nl4 - r;
        face = static_cast<int>(8 + (j - 1) / nr);
    }
    const std::int64_t irt = ring - detail::FACE_RING[face] * ns + 1;
    std::int64_t ipt = 2 * j - detail::FACE_PHI[face] * nr - shift - 1;
    if (ipt >= 2 * ns) ipt -= 8 * ns;
    return {face, (ipt - irt) >> 1, (-ipt - irt) >> 1};
}

inline std::int64_t nest_to_ring(int order, std::int64_t pix) {
    return face_to_ring(order, nest_to_face(order, pix));
}
inline std::int64_t ring_to_nest(int order, std::int64_t pix) {
    return face_to_nest(order, ring_to_face(order, pix));
}

// ---- point -> pixel ----------------------------------------------------------------------

inline std::int64_t loc_to_nest(int order, const detail::Loc& l) {
    const std::int64_t ns = nside_of(order);
    const double nsd = static_cast<double>(ns);
    const double za = std::fabs(l.z);
    if (za <= detail::TWO_THIRDS) {
        // Indices of the ascending (jp) and descending (jm) edge lines below the point.
        const double a = nsd * (0.5 + l.t), b = nsd * (l.z * 0.75);
        const std::int64_t jp = static_cast<std::int64_t>(a - b);
        const std::int64_t jm = static_cast<std::int64_t>(a + b);
        const std::int64_t fp = jp >> order, fm = jm >> order;
        const int face = static_cast<int>(fp == fm ? (fp | 4) : (fp < fm ? fp : fm + 8));
        return face_to_nest(order, {face, jm & (ns - 1), ns - (jp & (ns - 1)) - 1});
    }
    const int quadrant = l.t < 3.0 ? static_cast<int>(l.t) : 3;
    const double frac = l.t - quadrant;
    const double s = detail::polar_scale(l, za, nsd);
    std::int64_t jp = static_cast<std::int64_t>(frac * s);
    std::int64_t jm = static_cast<std::int64_t>((1.0 - frac) * s);
    if (jp > ns - 1) jp = ns - 1;
    if (jm > ns - 1) jm = ns - 1;
    if (l.z > 0) return face_to_nest(order, {quadrant, ns - jm - 1, ns - jp - 1});
    return face_to_nest(order, {quadrant + 8, jp, jm});
}

inline std::int64_t loc_to_ring(int order, const detail::Loc& l) {
    const std::int64_t ns = nside_of(order);
    const double nsd = static_cast<double>(ns);
    const double za = std::fabs(l.z);
    if (za <= detail::TWO_THIRDS) {
        const std::int64_t nl4 = 4 * ns;
        const double a = nsd * (0.5 + l.t), b = nsd * (l.z * 0.75);
        const std::int64_t jp = static_cast<std::int64_t>(a - b);
        const std::int64_t jm = static_cast<std::int64_t>(a + b);
        const std::int64_t ring = ns + 1 + jp - jm;  // 1 .. 2 nside + 1, from the z = 2/3 ring
        const std::int64_t shift = 1 - (ring & 1);
        const std::int64_t j = ((jp + jm - ns + shift + 1 + 2 * nl4) >> 1) % nl4;
        return 2 * ns * (ns - 1) + (ring - 1) * nl4 + j;
    }
    const double frac = l.t - static_cast<double>(static_cast<std::int64_t>(l.t));
    const double s = detail::polar_scale(l, za, nsd);
    const std::int64_t jp = static_cast<std::int64_t>(frac * s);
    const std::int64_t jm = static_cast<std::int64_t>((1.0 - frac) * s);
    const std::int64_t ring = jp + jm + 1;  // from the nearest pole
    std::int64_t j = static_cast<std::int64_t>(l.t * static_cast<double>(ring));
    if (j >= 4 * ring) j = 4 * ring - 1;
    return l.z > 0 ? 2 * ring * (ring - 1) + j : npix_of(order) - 2 * ring * (ring + 1) + j;
}

// lon, lat in radians (lat in [-pi/2, pi/2]; any finite lon).
inline std::int64_t ang_to_nest(int order, double lon, double lat) {
    return loc_to_nest(order, detail::loc_from_lonlat(lon, lat));
}
inline std::int64_t ang_to_ring(int order, double lon, double lat) {
    return loc_to_ring(order, detail::loc_from_lonlat(lon, lat));
}

// A direction (x, y, z), not necessarily normalised and not zero.
inline detail::Loc loc_from_vector(double x, double y, double z) {
    const double rxy = std::hypot(x, y);
    const double r = std::hypot(rxy, z);
    detail::Loc l;
    l.z = z / r;
    l.sth = rxy / r;
    l.have_sth = std::fabs(l.z) > 0.99;
    l.t = detail::wrap(detail::wrap(std::atan2(y, x), detail::TWO_PI) * detail::TWO_OVER_PI, 4.0);
    return l;
}
inline std::int64_t vec_to_nest(int order, double x, double y, double z) {
    return loc_to_nest(order, loc_from_vector(x, y, z));
}
inline std::int64_t vec_to_ring(int order, double x, double y, double z) {
    return loc_to_ring(order, loc_from_vector(x, y, z));
}

// ---- pixel -> point ----------------------------------------------------------------------

// Longitude/latitude (radians, lon in [0, 2 pi)) of the point at fractional position
// (fx, fy) in [0, 1]^2 inside a pixel: (0.5, 0.5) is the centre, (1, 1) the north corner,
// (0, 0) the south corner, (1, 0) the east and (0, 1) the west corner.
inline void face_point_to_ang(int order, const FacePixel& f, double fx, double fy, double& lon,
                              double& lat) {
    const double ns = static_cast<double>(nside_of(order));
    const double x = (static_cast<double>(f.ix) + fx) / ns;  // face coordinates in [0, 1]
    const double y = (static_cast<double>(f.iy) + fy) / ns;
    const double jr = detail::FACE_RING[f.face] - x - y;  // ring coordinate / nside, 0..4
    double nr, z, sth;
    if (jr < 1.0) {  // north polar cap: 1 - z = jr^2 / 3
        nr = jr;
        const double omz = jr * jr / 3.0;
        z = 1.0 - omz;
        sth = std::sqrt(omz * (2.0 - omz));
    } else if (jr > 3.0) {  // south polar cap
        nr = 4.0 - jr;
        const double opz = nr * nr / 3.0;
        z = opz - 1.0;
        sth = std::sqrt(opz * (2.0 - opz));
    } else {
        nr = 1.0;
        z = (2.0 - jr) * detail::TWO_THIRDS;
        sth = std::sqrt((1.0 - z) * (1.0 + z));
    }
    double phi = nr > 0.0 ? (detail::PI / 4.0) * (detail::FACE_PHI[f.face] + (x - y) / nr) : 0.0;
    lon = detail::wrap(phi, detail::TWO_PI);
    lat = std::atan2(z, sth);
}

inline void nest_to_ang(int order, std::int64_t pix, double& lon, double& lat) {
    face_point_to_ang(order, nest_to_face(order, pix), 0.5, 0.5, lon, lat);
}
inline void ring_to_ang(int order, std::int64_t pix, double& lon, double& lat) {
    face_point_to_ang(order, ring_to_face(order, pix), 0.5, 0.5, lon, lat);
}

}  // namespace osprey::geom::healpix
