#include "stats/stats_page.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/markup.hpp"
#include "report/svg_plot.hpp"

namespace pumprig::stats {

using report::escape_markup;
using report::format_number;

LineReport analyse(std::span<const history::RunRecord> runs, Selection selection) {
    LineReport r;
    r.selection = std::move(selection);
    r.runs = runs.size();
    r.yield = compute_yield(runs);
    r.pareto = pareto(runs);
    for (auto& s : numeric_series(runs)) {
        MeasurementStats m;
        m.capability = capability(s.values, s.lsl, s.usl);
        m.chart = individuals_chart(s.values);
        m.series = std::move(s);
        r.measurements.push_back(std::move(m));
    }
    return r;
}

namespace {

std::string percent(std::optional<double> fraction) {
    if (!fraction) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.1f %%", 100.0 * *fraction);
    return b;
}

std::string opt_number(std::optional<double> v, int digits = 4) { return v ? format_number(*v, digits) : "-"; }

std::string heading(const MeasurementStats& m) {
    return m.series.scenario + ": " + m.series.check_id + (m.series.name.empty() ? "" : " (" + m.series.name + ")");
}

std::string selection_text(const Selection& s) {
    std::string t = s.store;
    if (!s.station.empty()) t += ", station " + s.station;
    if (!s.model.empty()) t += ", model " + s.model;
    if (!s.from.empty()) t += ", from " + s.from;
    if (!s.to.empty()) t += ", to " + s.to;
    return t;
}

std::string rules_text(const MeasurementStats& m) {
    std::string t;
    for (const auto& h : m.chart.hits) t += (t.empty() ? "" : " ") + std::to_string(h.point + 1) + ":" + short_name(h.rule);
    return t;
}

// Horizontal bars, one per check, with the cumulative percentage beside each.
std::string pareto_svg(const std::vector<ParetoBar>& bars) {
    constexpr int kRow = 24, kLabel = 330, kBarMax = 420, kTop = 10;
    const int height = kTop * 2 + kRow * static_cast<int>(bars.size());
    std::size_t most = 1;
    for (const auto& b : bars) most = std::max(most, b.total());
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 960 " + std::to_string(height) +
                      "\" width=\"960\" height=\"" + std::to_string(height) + "\">\n";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const int y = kTop + kRow * static_cast<int>(i);
        const double wf = kBarMax * static_cast<double>(b.fail) / static_cast<double>(most);
        const double wi = kBarMax * static_cast<double>(b.inconclusive) / static_cast<double>(most);
        svg += "<text class=\"tick\" text-anchor=\"end\" x=\"" + std::to_string(kLabel - 8) + "\" y=\"" + std::to_string(y + 16) + "\">" +
               escape_markup(b.scenario + ": " + b.check_id) + "</text>";
        svg += "<rect class=\"bar-fail\" x=\"" + std::to_string(kLabel) + "\" y=\"" + std::to_string(y + 4) + "\" width=\"" +
               format_number(wf, 5) + "\" height=\"16\"><title>" + std::to_string(b.fail) + " FAIL</title></rect>";
        if (b.inconclusive)
            svg += "<rect class=\"bar-inconclusive\" x=\"" + format_number(kLabel + wf, 6) + "\" y=\"" + std::to_string(y + 4) +
                   "\" width=\"" + format_number(wi, 5) + "\" height=\"16\"><title>" + std::to_string(b.inconclusive) +
                   " INCONCLUSIVE</title></rect>";
        char cum[32];
        std::snprintf(cum, sizeof cum, "%.0f %%", b.cumulative_percent);
        svg += "<text class=\"tick\" x=\"" + format_number(kLabel + wf + wi + 6, 6) + "\" y=\"" + std::to_string(y + 16) + "\">" +
               std::to_string(b.total()) + " (cumulative " + cum + ")</text>\n";
    }
    return svg + "</svg>\n";
}

std::string histogram_svg(const MeasurementStats& m) {
    const auto& s = m.series;
    const auto& c = m.capability;
    double lo = *std::min_element(s.values.begin(), s.values.end());
    double hi = *std::max_element(s.values.begin(), s.values.end());
    if (s.lsl) lo = std::min(lo, *s.lsl);
    if (s.usl) hi = std::max(hi, *s.usl);
    const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(1.0, std::fabs(lo) * 0.05);
    lo -= pad;
    hi += pad;
    const auto h = histogram(s.values, lo, hi);
    const double w = (h.hi - h.lo) / static_cast<double>(h.counts.size());
    std::vector<report::PlotPoint> zero, top;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
        const double a = h.lo + w * static_cast<double>(i), b = a + w, n = static_cast<double>(h.counts[i]);
        zero.push_back({a, 0});
        zero.push_back({b, 0});
        top.push_back({a, n});
        top.push_back({b, n});
    }
    report::SvgPlot plot("distribution: " + heading(m), s.unit, "units", 960, 260);
    plot.set_x_range(h.lo, h.hi);
    plot.include_zero(true);
    plot.band(std::move(zero), std::move(top), "band", "measured values");
    if (s.lsl) plot.marker(*s.lsl, "LSL " + format_number(*s.lsl, 5), "marker-alarm");
    if (s.usl) plot.marker(*s.usl, "USL " + format_number(*s.usl, 5), "marker-alarm");
    plot.marker(c.mean, "mean " + format_number(c.mean, 5), "marker-event");
    return plot.render();
}

std::string chart_svg(const MeasurementStats& m) {
    const auto& v = m.series.values;
    const auto& ch = m.chart;
    const double n = static_cast<double>(v.size());
    std::vector<report::PlotPoint> pts;
    for (std::size_t i = 0; i < v.size(); ++i) pts.push_back({static_cast<double>(i + 1), v[i]});
    auto level = [&](double y) { return std::vector<report::PlotPoint>{{1, y}, {std::max(n, 2.0), y}}; };
    report::SvgPlot plot("individuals chart: " + heading(m), "unit tested, in time order", m.series.unit, 960, 300);
    plot.set_x_range(1, std::max(n, 2.0));
    plot.line(pts, "series-measured", "measured");
    plot.dots(pts, "series-point", "");
    plot.line(level(ch.center), "series-mean", "centre line (mean)");
    if (ch.sigma > 0) {
        plot.line(level(ch.ucl), "series-limit", "control limits (3 sigma)");
        plot.line(level(ch.lcl), "series-limit", "");
    }
    std::vector<report::PlotPoint> flagged;
    for (const auto& h : ch.hits) flagged.push_back({static_cast<double>(h.point + 1), v[h.point]});
    if (!flagged.empty()) plot.dots(std::move(flagged), "series-max", "run rule broken");
    return plot.render();
}

constexpr const char* kCss = R"(
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; } td.text { white-space: nowrap; } td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th { background: #eee; } td.text, th.text { text-align: left; }
.note { color: #555; font-size: 0.9em; }
svg.plot { max-width: 100%; height: auto; background: #fff; display: block; margin: 0.5em 0; }
svg .frame { fill: none; stroke: #333; stroke-width: 1; } svg .grid { stroke: #ddd; stroke-width: 1; }
svg .tick, svg .legend text, svg .marker-label { font-size: 11px; fill: #222; } svg .plot-title { font-size: 13px; font-weight: bold; }
svg .axis-label { font-size: 12px; fill: #222; }
svg path.series-measured { fill: none; stroke: #1f5fa8; stroke-width: 1.2; } .swatch.series-measured { fill: #1f5fa8; }
svg circle.series-point { fill: #1f5fa8; }
svg path.series-mean { fill: none; stroke: #555; stroke-width: 1.2; stroke-dasharray: 4 3; } .swatch.series-mean { fill: #555; }
svg path.series-limit { fill: none; stroke: #b03030; stroke-width: 1.2; stroke-dasharray: 6 3; } .swatch.series-limit { fill: #b03030; }
svg circle.series-max, .swatch.series-max { fill: #e00; stroke: #600; }
svg path.band, .swatch.band { fill: #9cb8dc; stroke: #1f5fa8; stroke-width: 0.5; }
svg .marker-event line { stroke: #555; stroke-width: 1; stroke-dasharray: 2 2; }
svg .marker-alarm line { stroke: #c00; stroke-width: 1.5; } svg .marker-alarm .marker-label { fill: #c00; }
svg rect.bar-fail { fill: #c0392b; } svg rect.bar-inconclusive { fill: #e6a23c; }
)";

}  // namespace

std::string render_html(const LineReport& r) {
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pumprig stats</title><style>" +
                    std::string(kCss) + "</style></head><body>\n";
    h += "<h1>Line statistics</h1>\n<p>" + escape_markup(selection_text(r.selection)) + ": " + std::to_string(r.runs) +
         " runs selected.</p>\n";
    const auto& y = r.yield;
    h += "<h2>Yield</h2>\n<table><tr><th class=\"text\">units tested</th><th>first-pass yield</th><th>final yield</th>"
         "<th>attempts</th><th>retests</th><th>station errors</th></tr>\n<tr><td>" +
         std::to_string(y.units) + "</td><td>" + percent(y.first_pass_yield()) + " (" + std::to_string(y.first_pass) + ")</td><td>" +
         percent(y.final_yield()) + " (" + std::to_string(y.final_pass) + ")</td><td>" + std::to_string(y.attempts) + "</td><td>" +
         std::to_string(y.retests) + "</td><td>" + std::to_string(y.station_errors) + "</td></tr></table>\n";
    h += "<p class=\"note\">An attempt is a run that tested the unit and judged it PASS or FAIL. First-pass yield: units whose "
         "first attempt in the selection passed; final yield: units whose last attempt passed. Station errors (ERROR, "
         "ABORTED) are no attempt.</p>\n";
    h += "<h2>Failures by check</h2>\n";
    if (r.pareto.empty()) h += "<p>No check failed.</p>\n";
    else h += pareto_svg(r.pareto);
    h += "<h2>Measurements</h2>\n<table><tr><th class=\"text\">measurement</th><th>n</th><th>mean</th><th>sigma within</th>"
         "<th>sigma overall</th><th>LSL</th><th>USL</th><th>Cp</th><th>Cpk</th><th>Pp</th><th>Ppk</th><th>not passed</th>"
         "<th class=\"text\">run rules (point:rule)</th></tr>\n";
    for (const auto& m : r.measurements) {
        const auto& c = m.capability;
        h += "<tr><td class=\"text\" title=\"" + escape_markup(m.series.name) + "\">" + escape_markup(m.series.scenario + ": " + m.series.check_id) +
             (m.series.unit.empty() ? "" : " [" + escape_markup(m.series.unit) + "]") +
             "</td><td>" + std::to_string(c.n) + "</td><td>" + format_number(c.mean, 5) + "</td><td>" + format_number(c.sigma_within, 4) +
             "</td><td>" + format_number(c.sigma_overall, 4) + "</td><td>" + opt_number(c.lsl, 5) + "</td><td>" + opt_number(c.usl, 5) +
             "</td><td>" + opt_number(c.cp) + "</td><td>" + opt_number(c.cpk) + "</td><td>" + opt_number(c.pp) + "</td><td>" +
             opt_number(c.ppk) + "</td><td>" + std::to_string(m.series.fails) + "</td><td class=\"text\">" + escape_markup(rules_text(m)) +
             "</td></tr>\n";
    }
    h += "</table>\n<p class=\"note\">Cp, Cpk use sigma within (mean moving range / 1.128, as the control chart); Pp, Ppk the "
         "sample standard deviation. A one-sided check has Cpk and Ppk only. Run rules: WE1 one point beyond 3 sigma, WE2 2 of "
         "3 beyond 2 sigma, WE3 4 of 5 beyond 1 sigma, WE4 8 in a row on one side, trend 6 in a row rising or falling.</p>\n";
    h += "<p class=\"note\">Plots follow for the measurements whose values vary; the others are the same in every "
         "attempt (their one value is the mean above).</p>\n";
    for (const auto& m : r.measurements) {
        if (!(m.capability.sigma_overall > 0)) continue;
        h += "<h3>" + escape_markup(heading(m)) + "</h3>\n";
        if (m.series.limits_vary)
            h += "<p class=\"note\">The limits differ between runs; the most recent run's are used.</p>\n";
        h += histogram_svg(m);
        h += chart_svg(m);
        if (!m.chart.hits.empty()) {
            h += "<ul>";
            for (const auto& hit : m.chart.hits)
                h += "<li>point " + std::to_string(hit.point + 1) + " (" + escape_markup(m.series.serials[hit.point]) + ", " +
                     escape_markup(m.series.times[hit.point]) + "): " + short_name(hit.rule) + ", " + describe(hit.rule) + "</li>";
            h += "</ul>\n";
        }
    }
    return h + "</body></html>\n";
}

std::string render_csv(const LineReport& r) {
    std::string out = "scenario,check_id,name,unit,n,mean,sigma_within,sigma_overall,lsl,usl,cp,cpk,pp,ppk,not_passed,"
                      "center,lcl,ucl,rule_hits\r\n";
    for (const auto& m : r.measurements) {
        const auto& c = m.capability;
        const bool limits = m.chart.sigma > 0;
        out += history::csv_field(m.series.scenario) + "," + history::csv_field(m.series.check_id) + "," +
               history::csv_field(m.series.name) + "," + history::csv_field(m.series.unit) + "," + std::to_string(c.n) + "," +
               history::csv_number(c.mean) + "," + history::csv_number(c.sigma_within) + "," + history::csv_number(c.sigma_overall) +
               "," + history::csv_number(c.lsl) + "," + history::csv_number(c.usl) + "," + history::csv_number(c.cp) + "," +
               history::csv_number(c.cpk) + "," + history::csv_number(c.pp) + "," + history::csv_number(c.ppk) + "," +
               std::to_string(m.series.fails) + "," + history::csv_number(m.chart.center) + "," +
               (limits ? history::csv_number(m.chart.lcl) : "") + "," + (limits ? history::csv_number(m.chart.ucl) : "") + "," +
               history::csv_field(rules_text(m)) + "\r\n";
    }
    return out;
}

std::string render_text(const LineReport& r) {
    const auto& y = r.yield;
    std::string t = selection_text(r.selection) + ": " + std::to_string(r.runs) + " runs\n";
    t += "units tested " + std::to_string(y.units) + ", first-pass yield " + percent(y.first_pass_yield()) + " (" +
         std::to_string(y.first_pass) + "), final yield " + percent(y.final_yield()) + " (" + std::to_string(y.final_pass) + "), " +
         std::to_string(y.attempts) + " attempts, " + std::to_string(y.retests) + " retests, " + std::to_string(y.station_errors) +
         " station errors\n";
    if (!r.pareto.empty()) {
        t += "failures by check:\n";
        for (const auto& b : r.pareto) {
            char line[256];
            std::snprintf(line, sizeof line, "  %5zu  %5.1f %%  %s: %s\n", b.total(), b.cumulative_percent, b.scenario.c_str(), b.check_id.c_str());
            t += line;
        }
    }
    if (!r.measurements.empty()) {
        char line[512];
        std::snprintf(line, sizeof line, "%-44s %5s %12s %10s %8s %8s  %s\n", "measurement", "n", "mean", "sigma", "Cp", "Cpk", "rules");
        t += line;
        for (const auto& m : r.measurements) {
            std::snprintf(line, sizeof line, "%-44s %5zu %12s %10s %8s %8s  %s\n", (m.series.scenario + ": " + m.series.check_id).substr(0, 44).c_str(),
                          m.capability.n, format_number(m.capability.mean, 6).c_str(), format_number(m.capability.sigma_within, 4).c_str(),
                          opt_number(m.capability.cp).c_str(), opt_number(m.capability.cpk).c_str(), rules_text(m).c_str());
            t += line;
        }
    }
    return t;
}

}  // namespace pumprig::stats
