#include "report/svg_plot.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>

#include "report/markup.hpp"

namespace pumprig::report {

std::vector<double> nice_ticks(double lo, double hi, int target) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
    if (hi < lo) std::swap(lo, hi);
    if (hi == lo) {
        const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    target = std::max(target, 2);
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        step = m * mag;
        if (step >= raw) break;
    }
    std::vector<double> ticks;
    const double first = std::ceil(lo / step - 1e-9) * step;
    for (double t = first; t <= hi + step * 1e-9; t += step) ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

std::vector<PlotPoint> decimate_min_max(std::span<const PlotPoint> points, double x_lo, double x_hi, int columns) {
    std::vector<PlotPoint> out;
    if (columns <= 0 || !(x_hi > x_lo)) return out;
    const double width = (x_hi - x_lo) / columns;
    std::size_t i = 0;
    while (i < points.size() && points[i].x < x_lo) ++i;
    while (i < points.size() && points[i].x <= x_hi) {
        const int col = std::min(columns - 1, static_cast<int>((points[i].x - x_lo) / width));
        // One column: remember its first, lowest, highest and last valid points, and a gap.
        std::size_t first = SIZE_MAX, lowest = SIZE_MAX, highest = SIZE_MAX, last = SIZE_MAX;
        bool gap = false;
        PlotPoint gap_point{};
        for (; i < points.size() && points[i].x <= x_hi &&
               std::min(columns - 1, static_cast<int>((points[i].x - x_lo) / width)) == col;
             ++i) {
            const auto& p = points[i];
            if (std::isnan(p.y)) {
                if (!gap) gap_point = p;
                gap = true;
                continue;
            }
            if (first == SIZE_MAX) first = i;
            if (lowest == SIZE_MAX || p.y < points[lowest].y) lowest = i;
            if (highest == SIZE_MAX || p.y > points[highest].y) highest = i;
            last = i;
        }
        if (first != SIZE_MAX) {
            std::size_t idx[4] = {first, lowest, highest, last};
            std::sort(idx, idx + 4);
            for (int k = 0; k < 4; ++k)
                if (k == 0 || idx[k] != idx[k - 1]) out.push_back(points[idx[k]]);
        }
        if (gap) out.push_back(gap_point);
    }
    return out;
}

std::vector<PlotPoint> moving_mean(std::span<const PlotPoint> points, double window) {
    std::vector<PlotPoint> out;
    out.reserve(points.size());
    const double half = window / 2;
    std::size_t lo = 0, hi = 0;  // the window [lo, hi) around point i
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const double x = points[i].x;
        for (; hi < points.size() && points[hi].x <= x + half; ++hi)
            if (std::isfinite(points[hi].y)) sum += points[hi].y, ++n;
        for (; lo < hi && points[lo].x < x - half; ++lo)
            if (std::isfinite(points[lo].y)) sum -= points[lo].y, --n;
        const bool valid = std::isfinite(points[i].y) && n > 0;
        out.push_back({x, valid ? sum / static_cast<double>(n) : std::nan("")});
    }
    return out;
}

Envelope min_max_envelope(std::span<const PlotPoint> points, double x_lo, double x_hi, int columns) {
    Envelope e;
    if (columns <= 0 || !(x_hi > x_lo)) return e;
    const double width = (x_hi - x_lo) / columns;
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> lo(columns, inf), hi(columns, -inf);
    for (const auto& p : points) {
        if (p.x < x_lo || p.x > x_hi || !std::isfinite(p.y)) continue;
        const int col = std::min(columns - 1, static_cast<int>((p.x - x_lo) / width));
        lo[col] = std::min(lo[col], p.y);
        hi[col] = std::max(hi[col], p.y);
    }
    for (int c = 0; c < columns; ++c) {
        const double x = x_lo + (c + 0.5) * width;
        const bool any = lo[c] <= hi[c];
        e.lower.push_back({x, any ? lo[c] : std::nan("")});
        e.upper.push_back({x, any ? hi[c] : std::nan("")});
    }
    return e;
}

std::vector<int> assign_label_rows(std::span<const LabelExtent> labels, int max_rows, double gap) {
    std::vector<std::size_t> order(labels.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Priority labels first (each pass in x order), so an alarm is never crowded out by events.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (labels[a].priority != labels[b].priority) return labels[a].priority;
        return labels[a].x0 < labels[b].x0;
    });
    std::vector<int> row(labels.size(), -1);
    std::vector<std::vector<std::pair<double, double>>> taken(std::max(max_rows, 0));  // per row
    for (const auto i : order) {
        for (int r = 0; r < max_rows; ++r) {
            const bool free = std::none_of(taken[r].begin(), taken[r].end(), [&](const auto& t) {
                return labels[i].x0 < t.second + gap && t.first < labels[i].x1 + gap;
            });
            if (free) {
                taken[r].emplace_back(labels[i].x0, labels[i].x1);
                row[i] = r;
                break;
            }
        }
    }
    return row;
}

SvgPlot::SvgPlot(std::string title, std::string x_label, std::string y_label, int width, int height)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)), width_(width), height_(height) {}

void SvgPlot::set_x_range(double lo, double hi) {
    x_fixed_ = true;
    x_lo_ = lo;
    x_hi_ = hi;
}

void SvgPlot::set_y_range(double lo, double hi) {
    y_fixed_ = true;
    y_lo_ = lo;
    y_hi_ = hi;
}

void SvgPlot::line(std::vector<PlotPoint> points, std::string css_class, std::string legend) {
    series_.push_back({Series::Kind::Line, std::move(points), {}, std::move(css_class), std::move(legend)});
}

void SvgPlot::band(std::vector<PlotPoint> lower, std::vector<PlotPoint> upper, std::string css_class, std::string legend) {
    series_.push_back({Series::Kind::Band, std::move(lower), std::move(upper), std::move(css_class), std::move(legend)});
}

void SvgPlot::dots(std::vector<PlotPoint> points, std::string css_class, std::string legend) {
    series_.push_back({Series::Kind::Dots, std::move(points), {}, std::move(css_class), std::move(legend)});
}

void SvgPlot::marker(double x, std::string label, std::string css_class, bool show_label) {
    markers_.push_back({x, std::move(label), std::move(css_class), show_label});
}

namespace {

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string tick_label(double v, const std::vector<double>& ticks) {
    const double step = ticks.size() > 1 ? std::abs(ticks[1] - ticks[0]) : 1.0;
    int decimals = 0;
    while (decimals < 6 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
        ++decimals;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

}  // namespace

std::string SvgPlot::render() const {
    // Data ranges.
    double xl = x_lo_, xh = x_hi_, yl = y_lo_, yh = y_hi_;
    if (!x_fixed_ || !y_fixed_) {
        double ax = std::numeric_limits<double>::infinity(), bx = -ax, ay = ax, by = -ax;
        auto take = [&](const std::vector<PlotPoint>& pts) {
            for (const auto& p : pts) {
                if (!std::isfinite(p.x)) continue;
                ax = std::min(ax, p.x);
                bx = std::max(bx, p.x);
                if (!std::isfinite(p.y)) continue;
                if (x_fixed_ && (p.x < x_lo_ || p.x > x_hi_)) continue;
                ay = std::min(ay, p.y);
                by = std::max(by, p.y);
            }
        };
        for (const auto& s : series_) {
            take(s.points);
            take(s.upper);
        }
        if (!x_fixed_) {
            xl = std::isfinite(ax) ? ax : 0.0;
            xh = std::isfinite(bx) ? bx : 1.0;
            if (xh <= xl) xh = xl + 1.0;
        }
        if (!y_fixed_) {
            if (!std::isfinite(ay)) { ay = 0; by = 1; }
            if (include_zero_) { ay = std::min(ay, 0.0); by = std::max(by, 0.0); }
            const double pad = by > ay ? (by - ay) * 0.05 : (ay == 0 ? 1.0 : std::abs(ay) * 0.1);
            yl = ay - pad;
            yh = by + pad;
            if (include_zero_ && ay >= 0) yl = std::max(yl, 0.0);
        }
    }
    const auto yticks = nice_ticks(yl, yh, 6);
    if (!y_fixed_ && !yticks.empty()) {
        // Snap the axis to the outer ticks so the frame ends on round numbers.
        yl = std::min(yl, yticks.front());
        yh = std::max(yh, yticks.back());
    }
    const auto xticks = nice_ticks(xl, xh, 8);
    const double pw = plot_width(), ph = plot_height();
    auto px = [&](double x) { return kLeft + (x - xl) / (xh - xl) * pw; };
    // Event labels: one extent per labelled marker (kept inside the frame's width), then rows.
    std::vector<std::size_t> labelled;
    std::vector<LabelExtent> extents;
    for (std::size_t i = 0; i < markers_.size(); ++i) {
        const auto& m = markers_[i];
        if (!m.show_label || m.x < xl || m.x > xh) continue;
        const double w = kLabelCharWidth * static_cast<double>(m.label.size()) + 4;
        const double x0 = std::clamp(px(m.x) - w / 2, double(kLeft), std::max(double(kLeft), kLeft + pw - w));
        labelled.push_back(i);
        extents.push_back({x0, x0 + w, m.css_class == "marker-alarm"});
    }
    const auto rows = assign_label_rows(extents, kMaxLabelRows);
    int rows_used = 0;
    for (const int r : rows) rows_used = std::max(rows_used, r + 1);
    std::vector<int> row_of(markers_.size(), -1);
    std::vector<double> label_x0(markers_.size(), 0);
    for (std::size_t k = 0; k < labelled.size(); ++k) {
        row_of[labelled[k]] = rows[k];
        label_x0[labelled[k]] = extents[k].x0;
    }
    const int strip = rows_used * kLabelRowHeight + (rows_used ? 4 : 0);
    const int top = kTop + strip;  // the frame moves down below the label strip
    const int height = height_ + strip;
    auto py = [&](double y) { return top + (yh - y) / (yh - yl) * ph; };
    // Values beyond the frame are clamped a little outside it (clipPath hides the overshoot).
    auto cy = [&](double y) { return std::clamp(py(y), top - 10.0, top + ph + 10.0); };

    std::string svg;
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 " + std::to_string(width_) + " " +
           std::to_string(height) + "\" width=\"" + std::to_string(width_) + "\" height=\"" + std::to_string(height) +
           "\" role=\"img\" aria-label=\"" + escape_markup(title_) + "\">\n";
    static std::atomic<int> clip_counter = 0;  // unique clip ids when several plots share a page (reports built in threads)
    const std::string clip = "clip" + std::to_string(++clip_counter);
    svg += "<defs><clipPath id=\"" + clip + "\"><rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(top) +
           "\" width=\"" + fmt(pw) + "\" height=\"" + fmt(ph) + "\"/></clipPath></defs>\n";
    svg += "<text class=\"plot-title\" x=\"" + std::to_string(kLeft) + "\" y=\"18\">" + escape_markup(title_) + "</text>\n";
    svg += "<rect class=\"frame\" x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(top) + "\" width=\"" + fmt(pw) +
           "\" height=\"" + fmt(ph) + "\"/>\n";
    // Grid and ticks.
    for (double t : yticks) {
        if (t < yl - 1e-12 || t > yh + 1e-12) continue;
        const std::string y = fmt(py(t));
        svg += "<line class=\"grid\" x1=\"" + std::to_string(kLeft) + "\" x2=\"" + fmt(kLeft + pw) + "\" y1=\"" + y + "\" y2=\"" + y + "\"/>";
        svg += "<text class=\"tick\" text-anchor=\"end\" x=\"" + std::to_string(kLeft - 6) + "\" y=\"" + fmt(py(t) + 4) + "\">" +
               tick_label(t, yticks) + "</text>\n";
    }
    for (double t : xticks) {
        if (t < xl - 1e-12 || t > xh + 1e-12) continue;
        const std::string x = fmt(px(t));
        svg += "<line class=\"grid\" y1=\"" + std::to_string(top) + "\" y2=\"" + fmt(top + ph) + "\" x1=\"" + x + "\" x2=\"" + x + "\"/>";
        svg += "<text class=\"tick\" text-anchor=\"middle\" y=\"" + fmt(top + ph + 16) + "\" x=\"" + x + "\">" + tick_label(t, xticks) +
               "</text>\n";
    }
    svg += "<text class=\"axis-label\" text-anchor=\"middle\" x=\"" + fmt(kLeft + pw / 2) + "\" y=\"" + std::to_string(height - 8) + "\">" +
           escape_markup(x_label_) + "</text>\n";
    svg += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(16 " + fmt(top + ph / 2) + ") rotate(-90)\">" +
           escape_markup(y_label_) + "</text>\n";

    const int columns = std::max(1, static_cast<int>(pw));
    auto path_of = [&](const std::vector<PlotPoint>& pts) {
        std::string d;
        bool pen_down = false;
        for (const auto& p : pts) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
                pen_down = false;
                continue;
            }
            d += pen_down ? "L" : "M";
            d += fmt(px(p.x)) + " " + fmt(cy(p.y));
            pen_down = true;
        }
        return d;
    };
    svg += "<g clip-path=\"url(#" + clip + ")\">\n";
    for (const auto& s : series_) {
        if (s.kind == Series::Kind::Band && s.points.size() == s.upper.size()) {
            // Lower and upper at the same x: one polygon per stretch without a gap.
            std::string d;
            for (std::size_t a = 0; a < s.points.size();) {
                auto ok = [&](std::size_t k) { return std::isfinite(s.points[k].y) && std::isfinite(s.upper[k].y); };
                if (!ok(a)) { ++a; continue; }
                std::size_t b = a;
                while (b < s.points.size() && ok(b)) ++b;
                for (std::size_t k = a; k < b; ++k) d += (k == a ? "M" : "L") + fmt(px(s.upper[k].x)) + " " + fmt(cy(s.upper[k].y));
                for (std::size_t k = b; k-- > a;) d += "L" + fmt(px(s.points[k].x)) + " " + fmt(cy(s.points[k].y));
                d += "Z";
                a = b;
            }
            if (!d.empty()) svg += "<path class=\"" + escape_markup(s.css_class) + "\" d=\"" + d + "\"/>\n";
        } else if (s.kind == Series::Kind::Band) {
            std::string d;
            for (const auto& p : s.upper)
                if (std::isfinite(p.y)) d += (d.empty() ? "M" : "L") + fmt(px(p.x)) + " " + fmt(cy(p.y));
            for (auto it = s.points.rbegin(); it != s.points.rend(); ++it)
                if (std::isfinite(it->y)) d += (d.empty() ? "M" : "L") + fmt(px(it->x)) + " " + fmt(cy(it->y));
            if (!d.empty()) svg += "<path class=\"" + escape_markup(s.css_class) + "\" d=\"" + d + "Z\"/>\n";
        } else if (s.kind == Series::Kind::Line) {
            const auto pts = s.points.size() > static_cast<std::size_t>(2 * columns)
                                 ? decimate_min_max(s.points, xl, xh, columns)
                                 : s.points;
            const auto d = path_of(pts);
            if (!d.empty()) svg += "<path class=\"" + escape_markup(s.css_class) + "\" d=\"" + d + "\"/>\n";
        } else {
            for (const auto& p : s.points)
                if (std::isfinite(p.y))
                    svg += "<circle class=\"" + escape_markup(s.css_class) + "\" r=\"3.5\" cx=\"" + fmt(px(p.x)) + "\" cy=\"" +
                           fmt(cy(p.y)) + "\"/>";
            svg += "\n";
        }
    }
    for (std::size_t i = 0; i < markers_.size(); ++i) {
        const auto& m = markers_[i];
        if (m.x < xl || m.x > xh) continue;
        const std::string x = fmt(px(m.x));
        svg += "<g class=\"" + escape_markup(m.css_class) + "\"><title>" + escape_markup(m.label) + "</title><line x1=\"" + x +
               "\" x2=\"" + x + "\" y1=\"" + std::to_string(top) + "\" y2=\"" + fmt(top + ph) + "\"/></g>\n";
    }
    svg += "</g>\n";
    // Labels in their rows above the frame (outside the clip), each with a tick down to the frame.
    for (std::size_t i = 0; i < markers_.size(); ++i) {
        if (row_of[i] < 0) continue;
        const auto& m = markers_[i];
        const double baseline = kTop + (row_of[i] + 1) * kLabelRowHeight - 3;
        const std::string x = fmt(px(m.x));
        svg += "<g class=\"" + escape_markup(m.css_class) + "\"><line class=\"label-tick\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
               fmt(baseline + 2) + "\" y2=\"" + std::to_string(top) + "\"/><text class=\"marker-label\" x=\"" + fmt(label_x0[i] + 2) +
               "\" y=\"" + fmt(baseline) + "\">" + escape_markup(m.label) + "</text></g>\n";
    }
    // Legend, top right.
    double lx = kLeft + pw;
    std::string legend;
    for (auto it = series_.rbegin(); it != series_.rend(); ++it) {
        if (it->legend.empty()) continue;
        const double w = 26 + 6.5 * static_cast<double>(it->legend.size());
        lx -= w;
        legend += "<g class=\"legend\"><rect class=\"" + escape_markup(it->css_class) + " swatch\" x=\"" + fmt(lx) + "\" y=\"8\" width=\"14\" height=\"10\"/>";
        legend += "<text x=\"" + fmt(lx + 18) + "\" y=\"17\">" + escape_markup(it->legend) + "</text></g>";
    }
    svg += legend + "\n</svg>\n";
    return svg;
}

}  // namespace pumprig::report
