// Sky-matching kernels behind osprey.afw.table.match_sky / match_sky_all.
//
// Zones algorithm: the reference catalogue is bucketed into declination zones of height
// h >= radius and sorted by right ascension inside each zone. A query at (ra, dec) scans
// the zones overlapping [dec - r, dec + r] and, in each, the RA window ra +- alpha, where
// alpha = asin(sin r / cos dec) is the exact half-width in longitude of the search cap
// (the whole zone near a pole). Candidates are compared by squared chord distance between
// unit vectors (monotonic in angle). Queries are visited in the same (zone, ra) order so
// consecutive searches touch neighbouring memory. Inputs are radians, RA already reduced
// to [0, 2 pi) and every coordinate finite (the Python wrapper guarantees both).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "osprey/geom/vector3d.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using osprey::geom::kHalfPi;
using osprey::geom::kPi;
using osprey::geom::kTwoPi;
using osprey::geom::UnitVector3d;

// Relative and absolute slack added to the search radius so that rounding in the zone and
// window bounds can never drop a true neighbour; the exact test is on the chord distance.
constexpr double kRelSlack = 1e-9;
constexpr double kAbsSlack = 1e-15;

struct ZoneGeometry {
    double height;
    int64_t count;

    int64_t zone_of(double dec) const {
        auto z = static_cast<int64_t>(std::floor((dec + kHalfPi) / height));
        return std::min<int64_t>(std::max<int64_t>(z, 0), count - 1);
    }
};

ZoneGeometry make_zones(double radius, size_t n_ref) {
    // Zones no thinner than the radius (so a query spans at most three), and thick enough to
    // hold a few tens of points each on average, so the zone table stays small and most
    // queries touch one or two zones when the radius is tiny.
    const double target = 64.0 / static_cast<double>(std::max<size_t>(n_ref, 1));
    const double height = std::max(radius, std::min(std::max(target, kPi / 4194304.0), kPi / 16.0));
    const auto count = static_cast<int64_t>(std::ceil(kPi / height)) + 1;
    return {height, count};
}

// Points sorted by (zone, ra), with their unit vectors stored contiguously in that order.
struct ZoneIndex {
    std::vector<int64_t> start;  // start[z] .. start[z + 1]: the points of zone z
    std::vector<int64_t> order;  // original index of each sorted point
    std::vector<double> ra;
    std::vector<UnitVector3d> vec;
};

struct Entry {
    double ra;
    double dec;
    int64_t index;
};

ZoneIndex build_index(double const* ra, double const* dec, size_t n, ZoneGeometry const& g) {
    ZoneIndex ix;
    std::vector<int32_t> zone(n);
    ix.start.assign(static_cast<size_t>(g.count) + 1, 0);
    for (size_t i = 0; i < n; ++i) {
        zone[i] = static_cast<int32_t>(g.zone_of(dec[i]));
        ++ix.start[static_cast<size_t>(zone[i]) + 1];
    }
    for (size_t z = 0; z < static_cast<size_t>(g.count); ++z) ix.start[z + 1] += ix.start[z];
    // One scattered pass into zone order; everything after it reads memory sequentially.
    std::vector<Entry> entries(n);
    {
        std::vector<int64_t> fill(ix.start.begin(), ix.start.end() - 1);
        for (size_t i = 0; i < n; ++i) {
            entries[static_cast<size_t>(fill[static_cast<size_t>(zone[i])]++)] = {ra[i], dec[i], static_cast<int64_t>(i)};
        }
    }
    for (size_t z = 0; z < static_cast<size_t>(g.count); ++z) {
        auto first = entries.begin() + ix.start[z];
        auto last = entries.begin() + ix.start[z + 1];
        if (last - first > 1) {
            std::sort(first, last, [](Entry const& a, Entry const& b) {
                return a.ra < b.ra || (a.ra == b.ra && a.index < b.index);
            });
        }
    }
    ix.order.resize(n);
    ix.ra.resize(n);
    ix.vec.resize(n);
    for (size_t k = 0; k < n; ++k) {
        ix.order[k] = entries[k].index;
        ix.ra[k] = entries[k].ra;
        ix.vec[k] = UnitVector3d::from_lonlat(entries[k].ra, entries[k].dec);
    }
    return ix;
}

// Half-width in RA of the cap of radius r about latitude dec; >= pi means "all longitudes".
double ra_half_width(double dec, double r) {
    const double c = std::cos(dec);
    const double s = std::sin(r);
    if (std::fabs(dec) + r >= kHalfPi || s >= c) return kPi;
    return std::asin(s / c) * (1.0 + kRelSlack) + kAbsSlack;
}

// Call visit(k) for every sorted reference point k that may lie within r of the query.
template <typename Visit>
void scan_candidates(ZoneIndex const& ix, ZoneGeometry const& g, double ra, double dec, double r, Visit&& visit) {
    const int64_t z_lo = g.zone_of(dec - r);
    const int64_t z_hi = g.zone_of(dec + r);
    const double alpha = ra_half_width(dec, r);
    auto const* ras = ix.ra.data();
    for (int64_t z = z_lo; z <= z_hi; ++z) {
        const int64_t b = ix.start[static_cast<size_t>(z)];
        const int64_t e = ix.start[static_cast<size_t>(z) + 1];
        if (b == e) continue;
        auto span = [&](double lo, double hi) {
            const int64_t k0 = std::lower_bound(ras + b, ras + e, lo) - ras;
            for (int64_t k = k0; k < e && ras[k] <= hi; ++k) visit(k);
        };
        if (alpha >= kPi) {
            for (int64_t k = b; k < e; ++k) visit(k);
        } else if (ra - alpha < 0.0) {
            span(0.0, ra + alpha);
            span(ra - alpha + kTwoPi, kTwoPi);
        } else if (ra + alpha >= kTwoPi) {
            span(0.0, ra + alpha - kTwoPi);
            span(ra - alpha, kTwoPi);
        } else {
            span(ra - alpha, ra + alpha);
        }
    }
}

double chord2(UnitVector3d const& a, UnitVector3d const& b) {
    const double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
    return dx * dx + dy * dy + dz * dz;
}

double chord2_limit(double r) {
    const double c = 2.0 * std::sin(0.5 * std::min(r, kPi));
    return c * c;
}

struct Inputs {
    double const* ra;
    double const* dec;
    size_t n;
};

// For each query: original index of the nearest reference point within r (-1 if none) and
// its squared chord distance (NaN if none). Ties go to the lower reference index.
void nearest_kernel(Inputs q, Inputs ref, double r, int64_t* out_idx, double* out_d2) {
    for (size_t i = 0; i < q.n; ++i) {
        out_idx[i] = -1;
        out_d2[i] = std::nan("");
    }
    if (q.n == 0 || ref.n == 0) return;
    const double rs = r * (1.0 + kRelSlack) + kAbsSlack;
    const double limit = chord2_limit(rs);
    const ZoneGeometry g = make_zones(rs, ref.n);
    const ZoneIndex ix = build_index(ref.ra, ref.dec, ref.n, g);
    const ZoneIndex qx = build_index(q.ra, q.dec, q.n, g);  // only for the visiting order
    for (size_t k = 0; k < q.n; ++k) {
        const auto i = static_cast<size_t>(qx.order[k]);
        const UnitVector3d& v = qx.vec[k];
        double best = limit;
        int64_t best_j = -1;
        scan_candidates(ix, g, q.ra[i], q.dec[i], rs, [&](int64_t kk) {
            const double d2 = chord2(v, ix.vec[static_cast<size_t>(kk)]);
            const int64_t j = ix.order[static_cast<size_t>(kk)];
            if (d2 < best || (d2 == best && (best_j < 0 || j < best_j))) {
                best = d2;
                best_j = j;
            }
        });
        if (best_j >= 0) {
            out_idx[i] = best_j;
            out_d2[i] = best;
        }
    }
}

struct Pair {
    int64_t i;
    int64_t j;
};

// Every (query, reference) pair within r, sorted by query index then reference index.
std::vector<Pair> all_pairs_kernel(Inputs q, Inputs ref, double r) {
    std::vector<Pair> pairs;
    if (q.n == 0 || ref.n == 0) return pairs;
    const double rs = r * (1.0 + kRelSlack) + kAbsSlack;
    const double limit = chord2_limit(rs);
    const ZoneGeometry g = make_zones(rs, ref.n);
    const ZoneIndex ix = build_index(ref.ra, ref.dec, ref.n, g);
    const ZoneIndex qx = build_index(q.ra, q.dec, q.n, g);
    for (size_t k = 0; k < q.n; ++k) {
        const auto i = qx.order[k];
        const UnitVector3d& v = qx.vec[k];
        scan_candidates(ix, g, q.ra[static_cast<size_t>(i)], q.dec[static_cast<size_t>(i)], rs, [&](int64_t kk) {
            if (chord2(v, ix.vec[static_cast<size_t>(kk)]) <= limit) {
                pairs.push_back({i, ix.order[static_cast<size_t>(kk)]});
            }
        });
    }
    std::sort(pairs.begin(), pairs.end(),
              [](Pair const& a, Pair const& b) { return a.i < b.i || (a.i == b.i && a.j < b.j); });
    return pairs;
}

// ---- bindings ------------------------------------------------------------------------------
using Coords = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutIdx = nb::ndarray<int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutF64 = nb::ndarray<double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using IdxArray = nb::ndarray<nb::numpy, int64_t, nb::ndim<1>>;

Inputs check_pair(Coords const& ra, Coords const& dec, char const* which) {
    if (ra.shape(0) != dec.shape(0)) {
        throw std::invalid_argument(std::string(which) + ": ra and dec must have the same length");
    }
    return {ra.data(), dec.data(), ra.shape(0)};
}

void check_radius(double r) {
    if (!(r >= 0.0) || !std::isfinite(r)) throw std::domain_error("radius must be finite and >= 0");
}

void match_nearest_py(Coords ra1, Coords dec1, Coords ra2, Coords dec2, double radius, OutIdx out_idx,
                      OutF64 out_d2) {
    const Inputs q = check_pair(ra1, dec1, "catalog 1");
    const Inputs ref = check_pair(ra2, dec2, "catalog 2");
    check_radius(radius);
    if (out_idx.shape(0) != q.n || out_d2.shape(0) != q.n) {
        throw std::invalid_argument("output arrays must have the length of catalog 1");
    }
    int64_t* idx = out_idx.data();
    double* d2 = out_d2.data();
    nb::gil_scoped_release nogil;
    nearest_kernel(q, ref, radius, idx, d2);
}

IdxArray owned_index_array(std::vector<int64_t>&& values) {
    auto holder = std::make_unique<std::vector<int64_t>>(std::move(values));
    const size_t n = holder->size();
    int64_t* data = holder->data();
    nb::capsule owner(holder.get(), [](void* p) noexcept {
        std::unique_ptr<std::vector<int64_t>> owned(static_cast<std::vector<int64_t>*>(p));
    });
    holder.release();
    return IdxArray(data, {n}, owner);
}

std::pair<IdxArray, IdxArray> match_all_py(Coords ra1, Coords dec1, Coords ra2, Coords dec2, double radius) {
    const Inputs q = check_pair(ra1, dec1, "catalog 1");
    const Inputs ref = check_pair(ra2, dec2, "catalog 2");
    check_radius(radius);
    std::vector<int64_t> first, second;
    {
        nb::gil_scoped_release nogil;
        const std::vector<Pair> pairs = all_pairs_kernel(q, ref, radius);
        first.resize(pairs.size());
        second.resize(pairs.size());
        for (size_t k = 0; k < pairs.size(); ++k) {
            first[k] = pairs[k].i;
            second[k] = pairs[k].j;
        }
    }
    return {owned_index_array(std::move(first)), owned_index_array(std::move(second))};
}

}  // namespace

void bind_table(nb::module_& m) {
    m.def("table_match_nearest", &match_nearest_py, "ra1"_a.noconvert(), "dec1"_a.noconvert(),
          "ra2"_a.noconvert(), "dec2"_a.noconvert(), "radius"_a, "out_idx"_a.noconvert(), "out_d2"_a.noconvert());
    m.def("table_match_all", &match_all_py, "ra1"_a.noconvert(), "dec1"_a.noconvert(), "ra2"_a.noconvert(),
          "dec2"_a.noconvert(), "radius"_a);
}
