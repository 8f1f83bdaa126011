// Detection kernels behind osprey.afw.detection.FootprintSet.
//
// detect: one pass over the image extracts, row by row, the runs of pixels above threshold
// (s * v >= t, or s * v >= t * sqrt(variance) per pixel, s = +1 / -1 for the polarity; NaN is
// never above); union-find on runs joins runs of consecutive rows that overlap or touch
// diagonally (8-connectivity); components are numbered by their first pixel in raster order,
// filtered by area and by whether one pixel reaches the "keep" threshold, and written out as
// flat span arrays plus offsets. Peaks are the local maxima of s * v inside each footprint
// (>= every later 8-neighbour in raster order, > every earlier one, so a flat top yields one
// peak), sorted by s * v descending and culled greedily: a peak closer than the minimum
// separation to a brighter kept peak is dropped. Growing dilates every footprint, clips it to
// the image and merges the footprints that then overlap or touch (relabel, also used to merge
// two sets). All pixel and span work happens with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detection_util.h"
#include "osprey/afw/spans.h"

namespace nb = nanobind;
using namespace nb::literals;

void bind_footprint(nb::module_& m);  // src/footprint.cpp

namespace {

using osprey::afw::detail::Grid;
using osprey::afw::detail::grid_of;
using osprey::afw::detail::OffsetCol;
using osprey::afw::detail::offsets_from;
using osprey::afw::detail::owned;
using osprey::afw::detail::spans_from;
using osprey::afw::detail::SpanCol;
namespace sp = osprey::afw::spans;
using sp::Span;

template <typename T>
using In2 = nb::ndarray<const T, nb::ndim<2>, nb::device::cpu>;
template <typename T>
using In1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

struct Peaks {
    std::vector<int64_t> id;
    std::vector<int32_t> ix, iy;
    std::vector<double> fx, fy, value, sig;

    size_t size() const { return id.size(); }
    void push_from(Peaks const& o, size_t k) {
        id.push_back(o.id[k]);
        ix.push_back(o.ix[k]);
        iy.push_back(o.iy[k]);
        fx.push_back(o.fx[k]);
        fy.push_back(o.fy[k]);
        value.push_back(o.value[k]);
        sig.push_back(o.sig[k]);
    }
};

struct FootprintList {
    std::vector<Span> spans;
    std::vector<int64_t> span_off{0};
    Peaks peaks;
    std::vector<int64_t> peak_off{0};
};

nb::tuple to_python(FootprintList&& f) {
    auto c = osprey::afw::detail::columns_of(f.spans);
    f.spans.clear();
    f.spans.shrink_to_fit();
    return nb::make_tuple(owned(std::move(c.y)), owned(std::move(c.x0)), owned(std::move(c.x1)), owned(std::move(f.span_off)),
                          owned(std::move(f.peaks.id)), owned(std::move(f.peaks.ix)), owned(std::move(f.peaks.iy)),
                          owned(std::move(f.peaks.fx)), owned(std::move(f.peaks.fy)), owned(std::move(f.peaks.value)),
                          owned(std::move(f.peaks.sig)), owned(std::move(f.peak_off)));
}

// Greedy culling in the given order. Items of one group never cull each other; an item is
// dropped when a kept item of an earlier group lies closer than d (squared distance < d^2).
// Groups must be non-decreasing. Returns keep flags.
std::vector<uint8_t> cull(int32_t const* ix, int32_t const* iy, int32_t const* group, size_t n, double d) {
    std::vector<uint8_t> keep(n, 1);
    if (!(d > 0.0) || n < 2) return keep;
    const double d2 = d * d;
    const int64_t cell = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(d)));
    auto key = [&](int64_t cx, int64_t cy) { return (cx + (int64_t{1} << 31)) * (int64_t{1} << 32) + (cy + (int64_t{1} << 31)); };
    auto cell_of = [&](int32_t v) { return static_cast<int64_t>(std::floor(static_cast<double>(v) / static_cast<double>(cell))); };
    std::unordered_map<int64_t, std::vector<size_t>> grid;
    size_t pending_begin = 0;
    for (size_t i = 0; i < n; ++i) {
        if (i > 0 && group[i] != group[i - 1]) {  // publish the previous group's kept items
            for (size_t k = pending_begin; k < i; ++k) {
                if (keep[k]) grid[key(cell_of(ix[k]), cell_of(iy[k]))].push_back(k);
            }
            pending_begin = i;
        }
        const int64_t cx = cell_of(ix[i]), cy = cell_of(iy[i]);
        for (int64_t a = cx - 1; a <= cx + 1 && keep[i]; ++a) {
            for (int64_t b = cy - 1; b <= cy + 1 && keep[i]; ++b) {
                auto it = grid.find(key(a, b));
                if (it == grid.end()) continue;
                for (size_t k : it->second) {
                    const double dx = static_cast<double>(ix[i]) - ix[k], dy = static_cast<double>(iy[i]) - iy[k];
                    if (dx * dx + dy * dy < d2) {
                        keep[i] = 0;
                        break;
                    }
                }
            }
        }
    }
    return keep;
}

// Footprints of `in` dilated by r (when r > 0), clipped to the box (when clip), and merged
// where they overlap or touch. `group` (one per input footprint, non-decreasing) drives peak
// culling: a peak closer than min_dist to a peak of an earlier group in the same output
// footprint is dropped. sort_sign != 0 sorts each output's peaks by sort_sign * value.
FootprintList relabel(FootprintList const& in, std::vector<int32_t> const& group, int32_t r, sp::Shape shape, bool clip,
                      int32_t bx0, int32_t by0, int32_t bx1, int32_t by1, double min_dist, int sort_sign) {
    const size_t nf = in.span_off.size() - 1;
    std::vector<Span> all;
    all.reserve(in.spans.size());
    std::vector<Span> rep(nf, Span{0, 1, 0});  // x1 < x0: footprint vanished
    for (size_t i = 0; i < nf; ++i) {
        std::vector<Span> s(in.spans.begin() + in.span_off[i], in.spans.begin() + in.span_off[i + 1]);
        if (r > 0) s = sp::dilated(s, r, shape);
        if (clip) s = sp::clipped(s, bx0, by0, bx1, by1);
        if (s.empty()) continue;
        rep[i] = s.front();
        all.insert(all.end(), s.begin(), s.end());
    }
    sp::normalize(all);
    int64_t count = 0;
    const std::vector<int64_t> label = sp::label_runs(all, count);
    const auto nc = static_cast<size_t>(count);
    FootprintList out;
    // Spans grouped by component (stable counting sort keeps (y, x0) order inside each).
    std::vector<int64_t> start(nc + 1, 0);
    for (int64_t l : label) ++start[static_cast<size_t>(l) + 1];
    for (size_t c = 0; c < nc; ++c) start[c + 1] += start[c];
    out.spans.resize(all.size());
    {
        std::vector<int64_t> fill(start.begin(), start.end() - 1);
        for (size_t k = 0; k < all.size(); ++k) out.spans[static_cast<size_t>(fill[static_cast<size_t>(label[k])]++)] = all[k];
    }
    out.span_off = start;
    // Source footprints of every component, in input order.
    std::vector<std::vector<size_t>> members(nc);
    for (size_t i = 0; i < nf; ++i) {
        if (rep[i].x1 < rep[i].x0) continue;
        const int64_t k = sp::find(all, rep[i].x0, rep[i].y);
        members[static_cast<size_t>(label[static_cast<size_t>(k)])].push_back(i);
    }
    for (size_t c = 0; c < nc; ++c) {
        std::vector<size_t> idx;
        std::vector<int32_t> grp;
        for (size_t i : members[c]) {
            for (int64_t k = in.peak_off[i]; k < in.peak_off[i + 1]; ++k) {
                idx.push_back(static_cast<size_t>(k));
                grp.push_back(group[i]);
            }
        }
        std::vector<int32_t> px(idx.size()), py(idx.size());
        for (size_t j = 0; j < idx.size(); ++j) {
            px[j] = in.peaks.ix[idx[j]];
            py[j] = in.peaks.iy[idx[j]];
        }
        const std::vector<uint8_t> keep = cull(px.data(), py.data(), grp.data(), idx.size(), min_dist);
        std::vector<size_t> kept;
        for (size_t j = 0; j < idx.size(); ++j) {
            if (keep[j]) kept.push_back(idx[j]);
        }
        if (sort_sign != 0) {
            const double s = sort_sign > 0 ? 1.0 : -1.0;
            std::stable_sort(kept.begin(), kept.end(),
                             [&](size_t a, size_t b) { return s * in.peaks.value[a] > s * in.peaks.value[b]; });
        }
        for (size_t k : kept) out.peaks.push_from(in.peaks, k);
        out.peak_off.push_back(static_cast<int64_t>(out.peaks.size()));
    }
    return out;
}

struct DetectParams {
    double t_pix;     // pixels with s * v >= t_pix (* sigma) join footprints
    double t_keep;    // a footprint is kept when one pixel has s * v >= t_keep (* sigma)
    int sign;         // +1 positive polarity, -1 negative
    bool per_pixel;   // thresholds scale with sqrt(variance) of each pixel
    int64_t npix_min;
    bool find_peaks;
    double peak_min_sep;
    double sigma;     // for the significance when there is no variance plane (NaN: unknown)
    int32_t grow;
    sp::Shape shape;
};

template <typename T>
FootprintList detect_kernel(Grid<const T> const& img, Grid<const float> const& var, bool has_var, DetectParams const& p) {
    const double s = p.sign > 0 ? 1.0 : -1.0;
    const bool hysteresis = p.t_keep > p.t_pix;
    // 1. runs above threshold, row by row (local coordinates for now).
    std::vector<Span> runs;
    std::vector<uint8_t> run_keep;
    for (int64_t r = 0; r < img.ny; ++r) {
        const T* row = &img.data[r * img.sy];
        const int64_t sx = img.sx;
        int64_t c = 0;
        if (!p.per_pixel) {
            // The hot loop: a plain comparison per pixel, in T.
            const auto tt = static_cast<T>(p.t_pix);
            while (c < img.nx) {
                if (p.sign > 0) {
                    while (c < img.nx && !(row[c * sx] >= tt)) ++c;
                } else {
                    while (c < img.nx && !(-row[c * sx] >= tt)) ++c;
                }
                if (c == img.nx) break;
                const int64_t b = c;
                if (p.sign > 0) {
                    while (c < img.nx && row[c * sx] >= tt) ++c;
                } else {
                    while (c < img.nx && -row[c * sx] >= tt) ++c;
                }
                runs.push_back({static_cast<int32_t>(r), static_cast<int32_t>(b), static_cast<int32_t>(c - 1)});
                uint8_t k = 1;
                if (hysteresis) {
                    k = 0;
                    for (int64_t q = b; q < c && !k; ++q) k = s * static_cast<double>(row[q * sx]) >= p.t_keep;
                }
                run_keep.push_back(k);
            }
        } else {
            auto sigma = [&](int64_t col) { return std::sqrt(static_cast<double>(var.at(r, col))); };
            auto above = [&](int64_t col, double t) { return s * static_cast<double>(row[col * sx]) >= t * sigma(col); };
            while (c < img.nx) {
                while (c < img.nx && !above(c, p.t_pix)) ++c;
                if (c == img.nx) break;
                const int64_t b = c;
                while (c < img.nx && above(c, p.t_pix)) ++c;
                runs.push_back({static_cast<int32_t>(r), static_cast<int32_t>(b), static_cast<int32_t>(c - 1)});
                uint8_t k = 1;
                if (hysteresis) {
                    k = 0;
                    for (int64_t q = b; q < c && !k; ++q) k = above(q, p.t_keep);
                }
                run_keep.push_back(k);
            }
        }
    }
    // 2. components.
    int64_t count = 0;
    const std::vector<int64_t> label = sp::label_runs(runs, count);
    const auto nc = static_cast<size_t>(count);
    std::vector<int64_t> npix(nc, 0);
    std::vector<uint8_t> keep(nc, 0);
    for (size_t k = 0; k < runs.size(); ++k) {
        const auto l = static_cast<size_t>(label[k]);
        npix[l] += runs[k].width();
        keep[l] = static_cast<uint8_t>(keep[l] | run_keep[k]);
    }
    std::vector<int64_t> out_index(nc, -1);
    size_t n_out = 0;
    for (size_t l = 0; l < nc; ++l) {
        if (keep[l] && npix[l] >= p.npix_min) out_index[l] = static_cast<int64_t>(n_out++);
    }
    // 3. spans grouped by footprint, in parent coordinates.
    FootprintList f;
    std::vector<int64_t> start(n_out + 1, 0);
    for (size_t k = 0; k < runs.size(); ++k) {
        const int64_t o = out_index[static_cast<size_t>(label[k])];
        if (o >= 0) ++start[static_cast<size_t>(o) + 1];
    }
    for (size_t o = 0; o < n_out; ++o) start[o + 1] += start[o];
    f.spans.resize(static_cast<size_t>(start[n_out]));
    {
        std::vector<int64_t> fill(start.begin(), start.end() - 1);
        for (size_t k = 0; k < runs.size(); ++k) {
            const int64_t o = out_index[static_cast<size_t>(label[k])];
            if (o < 0) continue;
            const Span& a = runs[k];
            f.spans[static_cast<size_t>(fill[static_cast<size_t>(o)]++)] = {a.y + img.y0, a.x0 + img.x0, a.x1 + img.x0};
        }
    }
    f.span_off = start;
    // 4. peaks.
    auto val = [&](int64_t r, int64_t c) { return s * static_cast<double>(img.at(r, c)); };
    int64_t next_id = 1;
    std::vector<size_t> order;
    for (size_t o = 0; o < n_out && p.find_peaks; ++o) {
        struct Cand {
            double v;
            int32_t r, c;
        };
        std::vector<Cand> cand;
        for (int64_t k = start[o]; k < start[o + 1]; ++k) {
            const Span& a = f.spans[static_cast<size_t>(k)];
            const int64_t r = a.y - img.y0;
            for (int64_t c = a.x0 - img.x0; c <= a.x1 - img.x0; ++c) {
                const double v = val(r, c);
                bool is_max = true;
                for (int64_t dr = -1; dr <= 1 && is_max; ++dr) {
                    const int64_t rr = r + dr;
                    if (rr < 0 || rr >= img.ny) continue;
                    for (int64_t dc = -1; dc <= 1; ++dc) {
                        const int64_t cc = c + dc;
                        if ((dr == 0 && dc == 0) || cc < 0 || cc >= img.nx) continue;
                        const double u = val(rr, cc);
                        if (std::isnan(u)) continue;
                        const bool earlier = dr < 0 || (dr == 0 && dc < 0);
                        if (earlier ? u >= v : u > v) {
                            is_max = false;
                            break;
                        }
                    }
                }
                if (is_max) cand.push_back({v, static_cast<int32_t>(r), static_cast<int32_t>(c)});
            }
        }
        std::stable_sort(cand.begin(), cand.end(), [](Cand const& a, Cand const& b) { return a.v > b.v; });
        std::vector<int32_t> cx(cand.size()), cy(cand.size()), grp(cand.size());
        for (size_t j = 0; j < cand.size(); ++j) {
            cx[j] = cand[j].c;
            cy[j] = cand[j].r;
            grp[j] = static_cast<int32_t>(j);
        }
        const std::vector<uint8_t> ok = cull(cx.data(), cy.data(), grp.data(), cand.size(), p.peak_min_sep);
        for (size_t j = 0; j < cand.size(); ++j) {
            if (!ok[j]) continue;
            const int64_t r = cand[j].r, c = cand[j].c;
            const double v = cand[j].v;
            // Sub-pixel position: vertex of the parabola through the peak and its two
            // neighbours on each axis, kept within half a pixel; the pixel centre otherwise.
            auto refine = [&](double a, double b) {
                const double den = a - 2.0 * v + b;
                if (!(den < 0.0)) return 0.0;
                return std::clamp(0.5 * (a - b) / den, -0.5, 0.5);
            };
            double dx = 0.0, dy = 0.0;
            if (c > 0 && c + 1 < img.nx) dx = refine(val(r, c - 1), val(r, c + 1));
            if (r > 0 && r + 1 < img.ny) dy = refine(val(r - 1, c), val(r + 1, c));
            double sig = v / p.sigma;
            if (has_var) {
                const double vv = static_cast<double>(var.at(r, c));
                sig = vv > 0.0 ? v / std::sqrt(vv) : std::nan("");
            }
            f.peaks.id.push_back(next_id++);
            f.peaks.ix.push_back(static_cast<int32_t>(c + img.x0));
            f.peaks.iy.push_back(static_cast<int32_t>(r + img.y0));
            f.peaks.fx.push_back(static_cast<double>(c + img.x0) + dx);
            f.peaks.fy.push_back(static_cast<double>(r + img.y0) + dy);
            f.peaks.value.push_back(static_cast<double>(img.at(r, c)));
            f.peaks.sig.push_back(sig);
        }
        f.peak_off.push_back(static_cast<int64_t>(f.peaks.size()));
    }
    if (!p.find_peaks) f.peak_off.assign(n_out + 1, 0);
    // 5. growth, clipped to the image, merging footprints that then overlap or touch.
    if (p.grow > 0 && n_out > 0) {
        const std::vector<int32_t> group(n_out, 0);
        f = relabel(f, group, p.grow, p.shape, true, img.x0, img.y0, static_cast<int32_t>(img.x0 + img.nx - 1),
                    static_cast<int32_t>(img.y0 + img.ny - 1), 0.0, p.sign);
    }
    return f;
}

template <typename T>
nb::tuple detect_py(In2<T> image, In2<float> variance, int32_t x0, int32_t y0, double t_pix, double t_keep, int sign,
                    bool per_pixel, int64_t npix_min, bool find_peaks, double peak_min_sep, double sigma, int32_t grow,
                    int shape) {
    const bool has_var = variance.shape(0) != 0 || variance.shape(1) != 0;
    if (has_var && (variance.shape(0) != image.shape(0) || variance.shape(1) != image.shape(1))) {
        throw std::invalid_argument("variance must have the shape of the image, or be (0, 0) when absent");
    }
    if (per_pixel && !has_var) throw std::invalid_argument("a per-pixel threshold needs a variance array");
    if (sign != 1 && sign != -1) throw std::invalid_argument("sign must be +1 or -1");
    if (grow < 0 || grow > 100000) throw std::invalid_argument("grow must be in [0, 100000] pixels");
    if (shape != 0 && shape != 1) throw std::invalid_argument("shape must be 0 (circle) or 1 (manhattan)");
    const DetectParams p{t_pix,  t_keep, sign, per_pixel, npix_min, find_peaks, peak_min_sep, sigma, grow,
                         shape == 0 ? sp::Shape::circle : sp::Shape::manhattan};
    const Grid<const T> g = grid_of<const T>(image, x0, y0);
    const Grid<const float> v = grid_of<const float>(variance, x0, y0);
    FootprintList f;
    {
        nb::gil_scoped_release nogil;
        f = detect_kernel<T>(g, v, has_var, p);
    }
    return to_python(std::move(f));
}

nb::tuple relabel_py(SpanCol y, SpanCol x0, SpanCol x1, OffsetCol span_off, In1<int64_t> id, In1<int32_t> ix, In1<int32_t> iy,
                     In1<double> fx, In1<double> fy, In1<double> value, In1<double> sig, OffsetCol peak_off,
                     In1<int32_t> group, int32_t r, int shape, bool clip, int32_t bx0, int32_t by0, int32_t bx1, int32_t by1,
                     double min_dist, int sort_sign) {
    FootprintList in;
    in.spans = spans_from(y, x0, x1);
    in.span_off = offsets_from(span_off, in.spans.size(), "span");
    const size_t np = id.shape(0);
    for (auto const* col : {&ix, &iy}) {
        if (col->shape(0) != np) throw std::invalid_argument("peak columns must have one length");
    }
    for (auto const* col : {&fx, &fy, &value, &sig}) {
        if (col->shape(0) != np) throw std::invalid_argument("peak columns must have one length");
    }
    in.peak_off = offsets_from(peak_off, np, "peak");
    const size_t nf = in.span_off.size() - 1;
    if (in.peak_off.size() != nf + 1 || group.shape(0) != nf) {
        throw std::invalid_argument("span offsets, peak offsets and groups must describe the same footprints");
    }
    if (r < 0 || r > 100000) throw std::invalid_argument("grow radius must be in [0, 100000] pixels");
    if (shape != 0 && shape != 1) throw std::invalid_argument("shape must be 0 (circle) or 1 (manhattan)");
    std::vector<int32_t> grp(group.data(), group.data() + nf);
    for (size_t i = 1; i < nf; ++i) {
        if (grp[i] < grp[i - 1]) throw std::invalid_argument("groups must be non-decreasing");
    }
    in.peaks.id.assign(id.data(), id.data() + np);
    in.peaks.ix.assign(ix.data(), ix.data() + np);
    in.peaks.iy.assign(iy.data(), iy.data() + np);
    in.peaks.fx.assign(fx.data(), fx.data() + np);
    in.peaks.fy.assign(fy.data(), fy.data() + np);
    in.peaks.value.assign(value.data(), value.data() + np);
    in.peaks.sig.assign(sig.data(), sig.data() + np);
    FootprintList out;
    {
        nb::gil_scoped_release nogil;
        out = relabel(in, grp, r, shape == 0 ? sp::Shape::circle : sp::Shape::manhattan, clip, bx0, by0, bx1, by1, min_dist,
                      sort_sign);
    }
    return to_python(std::move(out));
}

osprey::afw::detail::Owned<bool> cull_py(In1<int32_t> ix, In1<int32_t> iy, In1<int32_t> group, double min_dist) {
    const size_t n = ix.shape(0);
    if (iy.shape(0) != n || group.shape(0) != n) throw std::invalid_argument("ix, iy and group must have one length");
    for (size_t i = 1; i < n; ++i) {
        if (group.data()[i] < group.data()[i - 1]) throw std::invalid_argument("groups must be non-decreasing");
    }
    std::vector<uint8_t> keep;
    {
        nb::gil_scoped_release nogil;
        keep = cull(ix.data(), iy.data(), group.data(), n, min_dist);
    }
    return osprey::afw::detail::owned_bool(std::move(keep));
}

template <typename T>
void def_detect(nb::module_& m) {
    m.def("det_detect", &detect_py<T>, "image"_a.noconvert(), "variance"_a.noconvert(), "x0"_a, "y0"_a, "t_pix"_a, "t_keep"_a,
          "sign"_a, "per_pixel"_a, "npix_min"_a, "find_peaks"_a, "peak_min_sep"_a, "sigma"_a, "grow"_a, "shape"_a);
}

}  // namespace

void bind_detection(nb::module_& m) {
    def_detect<float>(m);  // float32 and float64 images; the variance plane is always float32
    def_detect<double>(m);
    m.def("det_relabel", &relabel_py, "y"_a.noconvert(), "x0"_a.noconvert(), "x1"_a.noconvert(), "span_off"_a.noconvert(),
          "id"_a.noconvert(), "ix"_a.noconvert(), "iy"_a.noconvert(), "fx"_a.noconvert(), "fy"_a.noconvert(),
          "value"_a.noconvert(), "sig"_a.noconvert(), "peak_off"_a.noconvert(), "group"_a.noconvert(), "r"_a, "shape"_a,
          "clip"_a, "bx0"_a, "by0"_a, "bx1"_a, "by1"_a, "min_dist"_a, "sort_sign"_a);
    m.def("det_cull", &cull_py, "ix"_a.noconvert(), "iy"_a.noconvert(), "group"_a.noconvert(), "min_dist"_a);
    bind_footprint(m);
}
