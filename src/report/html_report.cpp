#include "report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "record/json.hpp"
#include "report/markup.hpp"
#include "report/svg_plot.hpp"

namespace pumprig::report {

namespace {

using nlohmann::json;

double hours_from(BenchTime start, BenchTime t) {
    return std::chrono::duration<double, std::ratio<3600>>(t - start).count();
}

std::string esc(std::string_view s) { return escape_markup(s); }

std::string verdict_class(std::string_view v) {
    if (v == "PASS") return "v-pass";
    if (v == "FAIL") return "v-fail";
    if (v == "INCONCLUSIVE") return "v-inconclusive";
    return "v-error";
}

std::string row(const std::string& name, const std::string& value_escaped) {
    return "<tr><th scope=\"row\">" + name + "</th><td>" + value_escaped + "</td></tr>\n";
}

std::string limits_text(const verify::CheckResult& c) {
    const bool lo = std::isfinite(c.lower), hi = std::isfinite(c.upper);
    if (lo && hi) return format_number(c.lower) + " to " + format_number(c.upper);
    if (lo) return "&ge; " + format_number(c.lower);
    if (hi) return "&le; " + format_number(c.upper);
    return "none";
}

std::string event_label(const verify::PumpEventRecord& e) {
    std::string s = e.type;
    for (const auto& [k, v] : e.values) s += " " + k + "=" + v;
    return s;
}

std::string page_head(const std::string& title) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           esc(title) + "</title>\n<style>\n" + report_css() + "</style>\n</head>\n<body>\n";
}

}  // namespace

const char* report_css() {
    return R"(body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; color: #111; margin: 24px; max-width: 1300px; }
h1 { font-size: 22px; margin: 0 0 8px 0; } h2 { font-size: 17px; margin: 24px 0 8px 0; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.meta th { width: 12em; } td.id { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; white-space: nowrap; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
.verdict { display: inline-block; padding: 4px 12px; font-weight: bold; border-radius: 3px; border: 2px solid #333; }
.v-pass { background: #d9f2d9; } .v-fail { background: #f7c8c8; } .v-inconclusive { background: #fbeec0; } .v-error { background: #e3c8f0; }
td.v-pass, td.v-fail, td.v-inconclusive, td.v-error { font-weight: bold; }
.banner { border: 3px solid #b00; background: #fde; padding: 8px 12px; margin: 10px 0; font-weight: bold; }
.notes { color: #333; font-style: italic; }
figure { margin: 12px 0; page-break-inside: avoid; break-inside: avoid; } figcaption { font-size: 12px; color: #333; }
svg.plot { max-width: 100%; height: auto; background: #fff; }
svg .frame { fill: none; stroke: #333; stroke-width: 1; } svg .grid { stroke: #ddd; stroke-width: 1; }
svg .tick, svg .legend text, svg .marker-label { font-size: 11px; fill: #222; } svg .plot-title { font-size: 13px; font-weight: bold; }
svg .axis-label { font-size: 12px; fill: #222; }
svg path.series-measured { fill: none; stroke: #1f5fa8; stroke-width: 1.2; } .swatch.series-measured { fill: #1f5fa8; }
svg path.series-expected { fill: none; stroke: #d2691e; stroke-width: 1.6; stroke-dasharray: 6 3; } .swatch.series-expected { fill: #d2691e; }
svg path.series-programmed { fill: none; stroke: #2a8a2a; stroke-width: 2; stroke-dasharray: 9 5; } .swatch.series-programmed { fill: #2a8a2a; }
svg path.series-max { fill: none; stroke: #b03030; stroke-width: 1.4; } .swatch.series-max, svg circle.series-max { fill: #b03030; }
svg path.series-min { fill: none; stroke: #3050b0; stroke-width: 1.4; } .swatch.series-min, svg circle.series-min { fill: #3050b0; }
svg path.series-mean { fill: none; stroke: #555; stroke-width: 1.2; stroke-dasharray: 4 3; } .swatch.series-mean { fill: #555; }
svg path.band-raw, .swatch.band-raw { fill: #1f5fa8; stroke: none; opacity: 0.16; }
svg path.series-measured { stroke-width: 1.6; } table.checks { width: 100%; } td.tol { min-width: 22em; }
svg .label-tick { stroke-dasharray: none; }
details > summary { cursor: pointer; } details p { margin: 4px 0; font-size: 12px; }
.source { font-size: 12px; color: #444; } .ident { color: #333; margin-left: 8px; }
table.checks td .id { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
svg path.band, .swatch.band { fill: #f3d9b8; stroke: none; opacity: 0.8; }
svg .marker-event line { stroke: #777; stroke-width: 1; stroke-dasharray: 2 2; }
svg .marker-alarm line { stroke: #c00; stroke-width: 1.5; } svg .marker-alarm .marker-label { fill: #c00; }
.empty { color: #555; font-style: italic; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; } h2 { page-break-after: avoid; break-after: avoid; }
  tr { page-break-inside: avoid; break-inside: avoid; } a { color: #000; text-decoration: none; }
  .v-pass, .v-fail, .v-inconclusive, .v-error, .banner, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)";
}

Millis flow_smoothing_interval(Millis run_length) {
    constexpr long long kChoices[] = {10'000, 30'000, 60'000, 120'000, 300'000, 600'000, 900'000, 1'800'000, 3'600'000};
    Millis chosen{kChoices[0]};
    for (const long long ms : kChoices)
        if (ms * 100 <= run_length.count()) chosen = Millis{ms};
    return chosen;
}

std::string interval_text(Millis interval) {
    const long long s = interval.count() / 1000;
    if (s % 3600 == 0) return std::to_string(s / 3600) + " h";
    if (s % 60 == 0) return std::to_string(s / 60) + " min";
    return std::to_string(s) + " s";
}

std::vector<const verify::CheckResult*> checks_not_passed(const std::vector<verify::CheckResult>& checks) {
    std::vector<const verify::CheckResult*> out;
    for (const auto& c : checks)
        if (c.verdict != verify::Verdict::Pass) out.push_back(&c);
    return out;
}

std::string render_flow_plot(const RunView& v) {
    const Millis interval = flow_smoothing_interval(std::chrono::duration_cast<Millis>(v.end - v.start));
    SvgPlot plot("Flow against time", "hours from the run start", "flow (uL/h)");
    plot.include_zero(true);
    const double x_end = std::max(hours_from(v.start, v.end), 1e-3);
    plot.set_x_range(0, x_end);
    std::vector<PlotPoint> programmed;
    for (const auto& s : v.expected) {
        programmed.push_back({hours_from(v.start, s.start), s.rate.ul_per_h});
        programmed.push_back({hours_from(v.start, s.end), s.rate.ul_per_h});
    }
    std::vector<PlotPoint> measured;
    measured.reserve(v.samples.size());
    for (const auto& s : v.samples)
        measured.push_back({hours_from(v.start, s.t), s.valid ? s.flow.ul_per_h : std::nan("")});
    // Back to front: the raw range faint, its moving mean, the programmed rate on top.
    auto raw = min_max_envelope(measured, 0, x_end, plot.plot_width());
    plot.band(std::move(raw.lower), std::move(raw.upper), "band-raw", "meter flow, raw range");
    plot.line(moving_mean(measured, to_seconds(interval) / 3600.0), "series-measured", "meter flow, " + interval_text(interval) + " mean");
    plot.line(std::move(programmed), "series-programmed", "programmed rate");
    const bool label_all = v.events.size() <= 30;
    for (const auto& e : v.events) {
        const bool alarm = e.type == "ALARM";
        plot.marker(hours_from(v.start, e.bench_t), event_label(e), alarm ? "marker-alarm" : "marker-event", label_all || alarm);
    }
    return plot.render();
}

std::string render_volume_plot(const RunView& v) {
    SvgPlot plot("Cumulative volume against the expected", "hours from the run start", "volume (uL)");
    plot.include_zero(true);
    const double x_end = std::max(hours_from(v.start, v.end), 1e-3);
    plot.set_x_range(0, x_end);
    std::vector<PlotPoint> measured;
    measured.reserve(v.samples.size());
    for (const auto& s : v.samples) measured.push_back({hours_from(v.start, s.t), s.valid ? s.total.ul : std::nan("")});
    // The expected meter total at evenly spaced instants plus every segment boundary (where
    // the curve bends): enough for the drawing, far fewer than the samples of a long run.
    std::vector<BenchTime> at;
    const auto span = v.end - v.start;
    constexpr int kSteps = 1200;
    for (int i = 0; i <= kSteps; ++i) at.push_back(v.start + std::chrono::duration_cast<Millis>(span * i / kSteps));
    for (const auto& s : v.expected) {
        if (s.start >= v.start && s.start <= v.end) at.push_back(s.start);
        if (s.end >= v.start && s.end <= v.end) at.push_back(s.end);
    }
    std::sort(at.begin(), at.end());
    at.erase(std::unique(at.begin(), at.end()), at.end());
    std::vector<PlotPoint> expected, lower, upper;
    for (const auto t : at) {
        const double e = verify::expected_meter_total(v.expected, t, v.line_tau).ul;
        // Indicative band from the run's accuracy figures; each check's own limits are in the
        // table (they also allow for timing and line effects over their windows).
        const double tol = e * (v.accuracy.delivery_pct + v.accuracy.meter_reading_pct) / 100.0 + v.accuracy.stroke.ul;
        const double x = hours_from(v.start, t);
        expected.push_back({x, e});
        lower.push_back({x, e - tol});
        upper.push_back({x, e + tol});
    }
    char legend[96];
    std::snprintf(legend, sizeof legend, "tolerance (%.3g %% + %.3g uL)", v.accuracy.delivery_pct + v.accuracy.meter_reading_pct,
                  v.accuracy.stroke.ul);
    plot.band(std::move(lower), std::move(upper), "band", legend);
    plot.line(std::move(expected), "series-expected", "expected at the meter");
    plot.line(std::move(measured), "series-measured", "meter total");
    return plot.render();
}

std::string render_startup_plot(const verify::IecAnalysis& a) {
    SvgPlot plot("IEC 60601-2-24 start-up curve", "minutes from the infusion start", "flow (uL/h)");
    plot.include_zero(true);
    std::vector<PlotPoint> flow, set;
    for (const auto& p : a.startup) flow.push_back({p.t_min, p.valid ? p.flow_ul_h : std::nan("")});
    if (!a.startup.empty()) {
        plot.set_x_range(0, std::max(a.startup.back().t_min, 1e-3));
        set.push_back({0, a.set_rate.ul_per_h});
        set.push_back({a.startup.back().t_min, a.set_rate.ul_per_h});
    }
    plot.line(std::move(set), "series-programmed", "set rate");
    plot.line(flow, "series-measured", "flow per interval");
    plot.dots(std::move(flow), "series-min", "");
    return plot.render();
}

std::string render_trumpet_plot(const verify::IecAnalysis& a) {
    SvgPlot plot("IEC 60601-2-24 trumpet curve", "observation window P (minutes)", "flow error (%)");
    plot.include_zero(true);
    std::vector<PlotPoint> mx, mn, mean;
    for (const auto& p : a.trumpet) {
        if (p.window_count == 0) continue;
        mx.push_back({p.window_min, p.ep_max_pct});
        mn.push_back({p.window_min, p.ep_min_pct});
    }
    if (!mx.empty()) {
        mean.push_back({mx.front().x, a.mean_error_pct});
        mean.push_back({mx.back().x, a.mean_error_pct});
        plot.set_x_range(0, mx.back().x > 0 ? mx.back().x : 1.0);  // from 0, so short windows are seen in proportion
    }
    plot.line(std::move(mean), "series-mean", "mean error");
    plot.line(mx, "series-max", "Ep max");
    plot.line(mn, "series-min", "Ep min");
    plot.dots(std::move(mx), "series-max", "");
    plot.dots(std::move(mn), "series-min", "");
    return plot.render();
}

std::string render_run_html(const RunView& v) {
    const record::RunRecord& r = v.record;
    const std::string& scenario = r.scenario.name;
    const std::string& channel = r.rig.channel;
    const std::string shown = channel.empty() ? scenario : scenario + " [channel " + channel + "]";
    std::string h = page_head("pumprig report: " + shown);
    h += "<h1>pumprig run report: " + esc(shown) + "</h1>\n";

    // 1. Summary: the verdict and, for a run that did not pass, what did not pass and why.
    h += "<section id=\"summary\">\n<p><span class=\"verdict " + verdict_class(v.outcome) + "\" id=\"verdict\">" + esc(v.outcome) + "</span>";
    if (v.incomplete) h += " <span class=\"verdict v-error\" id=\"incomplete\">INCOMPLETE</span>";
    const record::PumpIdentity pump = r.pump.value_or(record::PumpIdentity{});
    h += " <span class=\"ident\">pump " + esc(pump.model) + " " + esc(pump.serial) + ", firmware " + esc(pump.firmware) + "; " +
         esc(record::iso_time(r.start)) + ", " + format_number(hours_from(v.start, v.end), 4) + " h</span></p>\n";
    if (v.incomplete)
        h += "<div class=\"banner\">INCOMPLETE: the run did not finish (record state " + esc(record::to_string(r.state)) +
             "). Checks whose windows reach past the last recorded data are INCONCLUSIVE.</div>\n";
    if (!r.error.empty()) h += "<div class=\"banner\" id=\"run-error\">Run error: " + esc(r.error) + "</div>\n";
    if (r.safe_stop && !r.safe_stop->confirmed_stopped)
        h += "<div class=\"banner\">Pump NOT confirmed stopped: " + esc(r.safe_stop->detail) + "</div>\n";
    for (const auto& n : v.notes) h += "<p class=\"notes\">" + esc(n) + "</p>\n";
    const auto summary = verify::summarise(v.checks);
    h += "<p>Checks: " + std::to_string(summary.pass) + " passed, " + std::to_string(summary.fail) + " failed, " +
         std::to_string(summary.inconclusive) + " inconclusive.</p>\n";
    const auto not_passed = checks_not_passed(v.checks);
    if (v.outcome != "PASS" && !not_passed.empty()) {
        h += "<table class=\"checks\" id=\"not-passed\">\n<tr><th>Check</th><th>Verdict</th><th>Measured</th><th>Expected</th><th>Limits</th>"
             "<th>Reason</th></tr>\n";
        for (const auto* c : not_passed) {
            const std::string unit = c->unit.empty() ? "" : " " + esc(c->unit);
            const std::string verdict = verify::to_string(c->verdict);
            h += "<tr><td><span class=\"id\">" + esc(c->id) + "</span><br>" + esc(c->name) + "</td><td class=\"" + verdict_class(verdict) + "\">" +
                 verdict + "</td><td class=\"num\">" + format_number(c->measured) + unit + "</td><td class=\"num\">" +
                 format_number(c->expected) + unit + "</td><td class=\"num\">" + limits_text(*c) + (std::isfinite(c->lower) || std::isfinite(c->upper) ? unit : "") + "</td><td>" + esc(c->detail) +
                 (c->tolerance_source.empty() ? "" : "<br><span class=\"source\">limits from " + esc(c->tolerance_source) + "</span>") +
                 "</td></tr>\n";
        }
        h += "</table>\n";
    }
    h += "</section>\n";

    // 2. The plots.
    const Millis interval = flow_smoothing_interval(std::chrono::duration_cast<Millis>(v.end - v.start));
    h += "<section id=\"plots\">\n<h2>Plots</h2>\n";
    h += "<figure id=\"plot-flow\">" + render_flow_plot(v) + "<figcaption>Meter flow as a centred moving mean over " +
         interval_text(interval) + " (blue), over its raw per-pixel minimum to maximum (faint), and the programmed rate (green dashes, on top); "
         "pump events above the frame (alarms in red). The meter sits behind the fluid line, so its flow lags the programmed "
         "rate.</figcaption></figure>\n";
    h += "<figure id=\"plot-volume\">" + render_volume_plot(v) +
         "<figcaption>Meter total against the expected volume at the meter (the programmed delivery through the fluid line, time constant " +
         format_number(to_seconds(v.line_tau)) + " s), with an indicative tolerance band.</figcaption></figure>\n";
    if (v.iec.empty()) {
        h += "<p class=\"empty\" id=\"no-iec\">No IEC 60601-2-24 accuracy check in this scenario: no start-up or trumpet curve.</p>\n";
    }
    for (std::size_t i = 0; i < v.iec.size(); ++i) {
        const auto& a = v.iec[i];
        const std::string n = std::to_string(i + 1);
        h += "<figure id=\"plot-startup-" + n + "\">" + render_startup_plot(a) + "<figcaption>Flow per sample interval of " +
             format_number(to_seconds(a.sample_interval) / 60.0) + " min over the start-up period; set rate " +
             format_number(a.set_rate.ul_per_h) + " uL/h.</figcaption></figure>\n";
        h += "<figure id=\"plot-trumpet-" + n + "\">" + render_trumpet_plot(a) + "<figcaption>Largest and smallest mean flow error over each "
             "observation window in the analysis period; mean error " + format_number(a.mean_error_pct, 4) + " %" +
             (a.complete ? "" : " (data incomplete)") + ".</figcaption></figure>\n";
    }
    h += "</section>\n";

    // 3. Every check; the tolerance's source shown, its formula and the detail on demand.
    h += "<section id=\"checks-section\">\n<h2>Checks</h2>\n";
    if (v.checks.empty()) {
        h += "<p class=\"empty\">No checks were made.</p>\n";
    } else {
        h += "<table class=\"checks\" id=\"checks\">\n<tr><th>Check</th><th>Name</th><th>Measured</th><th>Expected</th><th>Limits</th>"
             "<th>Verdict</th><th>Tolerance from (click for formula and detail)</th><th>Requirements</th></tr>\n";
        for (const auto& c : v.checks) {
            std::string reqs;
            for (const auto& q : c.requirements) reqs += (reqs.empty() ? "" : ", ") + esc(q);
            const std::string unit = c.unit.empty() ? "" : " " + esc(c.unit);
            const std::string verdict = verify::to_string(c.verdict);
            h += "<tr><td class=\"id\">" + esc(c.id) + "</td><td>" + esc(c.name) + "</td><td class=\"num\">" + format_number(c.measured) + unit +
                 "</td><td class=\"num\">" + format_number(c.expected) + unit + "</td><td class=\"num\">" + limits_text(c) + "</td><td class=\"" +
                 verdict_class(verdict) + "\">" + verdict + "</td><td class=\"tol\"><details><summary>" +
                 (c.tolerance_source.empty() ? std::string("source not stated") : esc(c.tolerance_source)) +
                 "</summary><p><b>Tolerance:</b> " + esc(c.tolerance) + "</p>" +
                 (c.detail.empty() ? "" : "<p><b>Detail:</b> " + esc(c.detail) + "</p>") + "</details></td><td>" + reqs + "</td></tr>\n";
        }
        h += "</table>\n";
    }
    h += "</section>\n";

    // 4. Identity and the rest, for the record.
    h += "<h2>Run</h2>\n<table class=\"meta\">\n";
    h += row("Scenario", esc(scenario));
    h += row("Scenario file", "<span class=\"mono\">" + esc(r.scenario.file) + "</span>");
    h += row("Scenario SHA-256", "<span class=\"mono\">" + esc(r.scenario.sha256) + "</span>");
    if (!r.scenario.requirements.empty()) {
        std::string reqs;
        for (const auto& q : r.scenario.requirements) reqs += (reqs.empty() ? "" : ", ") + esc(q);
        h += row("Requirements", reqs);
    }
    h += row("Pump", esc(pump.model) + ", serial " + esc(pump.serial) + ", firmware " + esc(pump.firmware) + ", protocol " + std::to_string(pump.proto));
    h += row("Meter", r.meter && !r.meter->empty() ? esc(*r.meter) : "<span class=\"empty\">not identified</span>");
    h += row("Rig", esc(r.rig.name) + (r.rig.simulated ? " (simulated bench)" : "") + "<br><span class=\"mono\">" + esc(r.rig.file) + "</span>");
    if (!channel.empty()) h += row("Channel", esc(channel));
    h += row("Links", "pump " + esc(r.rig.pump_link) + "<br>meter " + esc(r.rig.meter_link));
    h += row("Tool", esc(r.tool.name) + " " + esc(r.tool.version));
    h += row("Seed", std::to_string(r.seed));
    h += row("Start", esc(record::iso_time(r.start)));
    h += row("End", r.end ? esc(record::iso_time(*r.end)) : "");
    h += row("Bench duration", format_number(hours_from(v.start, v.end), 5) + " h");
    if (r.max_sample_gap) h += row("Largest gap between samples", format_number(to_seconds(*r.max_sample_gap), 4) + " s");
    h += row("Record state", esc(record::to_string(r.state)));
    h += row("Outcome", esc(v.outcome));
    if (r.safe_stop)
        h += row("Pump left", r.safe_stop->confirmed_stopped ? "stopped (confirmed)" : "NOT confirmed stopped: " + esc(r.safe_stop->detail));
    h += "</table>\n";
    if (r.simulated_unit) {
        // Which unit of the population the simulator played: a FAIL is read against its errors.
        h += "<h3>Simulated unit</h3>\n<table class=\"meta\" id=\"simulated-unit\">\n";
        for (const auto& [name, value] : *r.simulated_unit) h += row(esc(name), format_number(value));
        h += "</table>\n";
    }

    h += "<h2>Pump events</h2>\n";
    if (v.events.empty()) {
        h += "<p class=\"empty\">No events.</p>\n";
    } else {
        constexpr std::size_t kMaxRows = 500;
        h += "<table class=\"events\">\n<tr><th>Hours</th><th>n</th><th>Type</th><th>Values</th></tr>\n";
        for (std::size_t i = 0; i < v.events.size() && i < kMaxRows; ++i) {
            const auto& e = v.events[i];
            std::string values;
            for (const auto& [k, val] : e.values) values += (values.empty() ? "" : " ") + esc(k) + "=" + esc(val);
            h += "<tr><td class=\"num\">" + format_number(hours_from(v.start, e.bench_t), 6) + "</td><td class=\"num\">" + std::to_string(e.n) +
                 "</td><td>" + esc(e.type) + "</td><td class=\"mono\">" + values + "</td></tr>\n";
        }
        h += "</table>\n";
        if (v.events.size() > kMaxRows)
            h += "<p class=\"empty\">" + std::to_string(v.events.size() - kMaxRows) + " more events in events.jsonl.</p>\n";
    }

    if (r.links) {
        const auto& l = *r.links;
        auto counters = [](std::initializer_list<std::pair<const char*, std::uint64_t>> list) {
            std::string text;
            for (const auto& [k, n] : list) text += (text.empty() ? "" : ", ") + std::string(k) + " " + std::to_string(n);
            return text;
        };
        h += "<h2>Links</h2>\n<table class=\"meta\">\n";
        h += row("meter", counters({{"errors", l.meter_errors}, {"reads", l.meter_reads}, {"retries", l.meter_retries}}));
        h += row("pump", counters({{"busy", l.busy}, {"crc_errors", l.crc_errors}, {"discarded_lines", l.discarded_lines},
                                   {"duplicate_events", l.duplicate_events}, {"events", l.events}, {"requests", l.requests},
                                   {"retries", l.retries}, {"timeouts", l.timeouts}}));
        h += "</table>\n";
    }
    h += "<p class=\"notes\">Samples: " + std::to_string(v.samples.size()) + ". Made by pumprig from the run folder; every view is rebuilt by "
         "<span class=\"mono\">pumprig report RUN_DIR</span>.</p>\n</body>\n</html>\n";
    return h;
}

std::string render_suite_html(const std::string& title, const std::vector<SuiteEntry>& entries) {
    std::string h = page_head(title);
    h += "<h1>" + esc(title) + "</h1>\n";
    std::size_t passed = 0;
    for (const auto& e : entries) passed += e.outcome == "PASS" && !e.incomplete;
    h += "<p>" + std::to_string(passed) + " of " + std::to_string(entries.size()) + " scenarios passed.</p>\n";
    h += "<table id=\"suite\">\n<tr><th>Scenario</th><th>Outcome</th><th>Passed</th><th>Failed</th><th>Inconclusive</th><th>Report</th></tr>\n";
    for (const auto& e : entries) {
        h += "<tr><td>" + esc(e.scenario) + "</td><td class=\"" + verdict_class(e.outcome) + "\">" + esc(e.outcome) +
             (e.incomplete ? " (INCOMPLETE)" : "") + "</td><td class=\"num\">" + std::to_string(e.pass) + "</td><td class=\"num\">" +
             std::to_string(e.fail) + "</td><td class=\"num\">" + std::to_string(e.inconclusive) + "</td><td>";
        if (e.report_href.empty()) h += "<span class=\"empty\">no report</span>";
        else h += "<a href=\"" + esc(e.report_href) + "\">" + esc(e.run_dir.empty() ? e.report_href : e.run_dir) + "</a>";
        h += "</td></tr>\n";
    }
    h += "</table>\n</body>\n</html>\n";
    return h;
}

}  // namespace pumprig::report
