// Header-only 3-vector math on the unit sphere for osprey.geom.
//
// Vector3d is a plain Cartesian triple; UnitVector3d is a Vector3d known to have unit
// length (constructing one from an arbitrary vector normalizes it). Longitude/latitude
// are in radians; x points at (lon, lat) = (0, 0), y at (pi/2, 0), z at the north pole.
#ifndef OSPREY_GEOM_VECTOR3D_H
#define OSPREY_GEOM_VECTOR3D_H

#include <cmath>

namespace osprey {
namespace geom {

constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 6.28318530717958647692;
constexpr double kHalfPi = 1.57079632679489661923;

// sin and cos of one argument in a single call where the compiler offers it.
inline void sin_cos(double x, double& s, double& c) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_sincos(x, &s, &c);
#else
    s = std::sin(x);
    c = std::cos(x);
#endif
}

struct Vector3d {
    double x = 0.0, y = 0.0, z = 0.0;

    constexpr Vector3d() = default;
    constexpr Vector3d(double x_, double y_, double z_) : x(x_), y(y_), z(z_) {}

    constexpr Vector3d operator+(Vector3d const& o) const { return {x + o.x, y + o.y, z + o.z}; }
    constexpr Vector3d operator-(Vector3d const& o) const { return {x - o.x, y - o.y, z - o.z}; }
    constexpr Vector3d operator-() const { return {-x, -y, -z}; }
    constexpr Vector3d operator*(double s) const { return {x * s, y * s, z * s}; }
    constexpr double dot(Vector3d const& o) const { return x * o.x + y * o.y + z * o.z; }
    constexpr Vector3d cross(Vector3d const& o) const {
        return {y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x};
    }
    constexpr double squared_norm() const { return x * x + y * y + z * z; }
    double norm() const { return std::sqrt(squared_norm()); }
    constexpr bool is_zero() const { return x == 0.0 && y == 0.0 && z == 0.0; }
    constexpr bool operator==(Vector3d const& o) const { return x == o.x && y == o.y && z == o.z; }
    constexpr bool operator!=(Vector3d const& o) const { return !(*this == o); }
};

// A direction on the unit sphere.
struct UnitVector3d : Vector3d {
    constexpr UnitVector3d() : Vector3d(1.0, 0.0, 0.0) {}

    // Normalize v; the zero vector (or a non-finite one) gives NaN components.
    explicit UnitVector3d(Vector3d const& v) : Vector3d(v * (1.0 / v.norm())) {}

    // Trust the caller that (x, y, z) already has unit length.
    static constexpr UnitVector3d from_normalized(double x, double y, double z) {
        UnitVector3d u;
        u.x = x;
        u.y = y;
        u.z = z;
        return u;
    }

    static UnitVector3d from_lonlat(double lon, double lat) {
        double slon, clon, slat, clat;
        sin_cos(lon, slon, clon);
        sin_cos(lat, slat, clat);
        return from_normalized(clon * clat, slon * clat, slat);
    }

    constexpr UnitVector3d operator-() const { return from_normalized(-x, -y, -z); }

    // A unit vector perpendicular to this one (deterministic choice).
    UnitVector3d orthogonal() const {
        Vector3d const a = std::fabs(x) <= std::fabs(y) ? (std::fabs(x) <= std::fabs(z) ? Vector3d(1, 0, 0)
                                                                                         : Vector3d(0, 0, 1))
                                                        : (std::fabs(y) <= std::fabs(z) ? Vector3d(0, 1, 0)
                                                                                        : Vector3d(0, 0, 1));
        return UnitVector3d(cross(a));
    }
};

// Longitude in [0, 2*pi) of a vector; 0 at the poles (where it is undefined).
inline double longitude_of(Vector3d const& v) {
    if (v.x == 0.0 && v.y == 0.0) return 0.0;
    double lon = std::atan2(v.y, v.x);
    if (lon < 0.0) {
        lon += kTwoPi;
        if (lon >= kTwoPi) lon = 0.0;  // -tiny + 2*pi rounds to 2*pi
    }
    return lon;
}

// Latitude in [-pi/2, pi/2] of a (not necessarily unit) vector.
inline double latitude_of(Vector3d const& v) { return std::atan2(v.z, std::hypot(v.x, v.y)); }

// Angle between two directions in [0, pi]; accurate for tiny and near-antipodal angles.
inline double angular_separation(Vector3d const& a, Vector3d const& b) {
    return std::atan2(a.cross(b).norm(), a.dot(b));
}

// Squared chord length between unit vectors for an angle theta in [0, pi].
inline double squared_chord_of_angle(double theta) {
    double const s = std::sin(0.5 * theta);
    return 4.0 * s * s;
}

// Angle for a squared chord length in [0, 4].
inline double angle_of_squared_chord(double c2) {
    if (c2 <= 0.0) return 0.0;
    if (c2 >= 4.0) return kPi;
    return 2.0 * std::asin(0.5 * std::sqrt(c2));
}

// Position angle of b seen from a: east of north, in [0, 2*pi). Zero when a is a pole
// (where north is undefined) or a == b.
inline double bearing(double lon1, double lat1, double lon2, double lat2) {
    double const dlon = lon2 - lon1;
    double const y = std::sin(dlon) * std::cos(lat2);
    double const x = std::cos(lat1) * std::sin(lat2) - std::sin(lat1) * std::cos(lat2) * std::cos(dlon);
    if (x == 0.0 && y == 0.0) return 0.0;
    double b = std::atan2(y, x);
    if (b < 0.0) {
        b += kTwoPi;
        if (b >= kTwoPi) b = 0.0;
    }
    return b;
}

// Move from (lon, lat) along the great circle starting at position angle `bearing`
// (east of north) by angular distance `dist`; writes the result lon in [0, 2*pi).
inline void offset(double lon, double lat, double bearing_, double dist, double& lon_out, double& lat_out) {
    double const sl = std::sin(lat), cl = std::cos(lat);
    double const sd = std::sin(dist), cd = std::cos(dist);
    double const sb = std::sin(bearing_), cb = std::cos(bearing_);
    // Point = cos(d) * p + sin(d) * (cos(b) * north + sin(b) * east), done in vectors so
    // that it stays accurate near the poles and for large distances.
    double const clon = std::cos(lon), slon = std::sin(lon);
    Vector3d const p(cl * clon, cl * slon, sl);
    Vector3d const north(-sl * clon, -sl * slon, cl);
    Vector3d const east(-slon, clon, 0.0);
    Vector3d const q = p * cd + (north * cb + east * sb) * sd;
    lon_out = longitude_of(q);
    lat_out = latitude_of(q);
}

// Rotate v about the unit axis k by angle theta (right-handed), Rodrigues' formula.
inline Vector3d rotate(Vector3d const& v, Vector3d const& k, double theta) {
    double const c = std::cos(theta), s = std::sin(theta);
    return v * c + k.cross(v) * s + k * (k.dot(v) * (1.0 - c));
}

}  // namespace geom
}  // namespace osprey

#endif  // OSPREY_GEOM_VECTOR3D_H
