#include "report/compare.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "report/html_report.hpp"
#include "report/markup.hpp"

namespace pumprig::report {

std::optional<double> band_width(const verify::CheckResult& c) {
    const bool lo = std::isfinite(c.lower), hi = std::isfinite(c.upper);
    if (lo && hi) return c.upper > c.lower ? std::optional<double>(c.upper - c.lower) : std::nullopt;
    if (!std::isfinite(c.expected)) return std::nullopt;
    if (hi && c.upper > c.expected) return c.upper - c.expected;
    if (lo && c.expected > c.lower) return c.expected - c.lower;
    return std::nullopt;
}

std::vector<CompareRow> compare_checks(std::span<const verify::CheckResult> a, std::span<const verify::CheckResult> b,
                                       const CompareOptions& options) {
    std::vector<CompareRow> rows;
    std::map<std::string, std::size_t> index;
    for (const auto& c : a) {
        if (index.count(c.id)) continue;  // ids are unique within a run; keep the first if not
        index[c.id] = rows.size();
        rows.push_back({c.id, c.name, c.unit, c, std::nullopt, std::nullopt, false, {}});
    }
    for (const auto& c : b) {
        auto it = index.find(c.id);
        if (it == index.end()) {
            index[c.id] = rows.size();
            rows.push_back({c.id, c.name, c.unit, std::nullopt, c, std::nullopt, false, {}});
        } else if (!rows[it->second].b) {
            rows[it->second].b = c;
        }
    }
    for (auto& r : rows) {
        if (!r.a || !r.b) {
            r.flagged = true;
            r.reason = r.a ? "only in A" : "only in B";
            continue;
        }
        std::vector<std::string> why;
        if (r.a->verdict != r.b->verdict)
            why.push_back(std::string("verdict ") + verify::to_string(r.a->verdict) + " -> " + verify::to_string(r.b->verdict));
        // The band of A (the reference run); B's if A has none.
        auto band = band_width(*r.a);
        if (!band) band = band_width(*r.b);
        if (band && std::isfinite(r.a->measured) && std::isfinite(r.b->measured)) {
            r.moved_fraction = std::abs(r.b->measured - r.a->measured) / *band;
            if (*r.moved_fraction > options.move_fraction) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "moved %.2f of its band (limit %.2f)", *r.moved_fraction, options.move_fraction);
                why.push_back(buf);
            }
        } else if (std::isfinite(r.a->measured) != std::isfinite(r.b->measured)) {
            why.push_back("measured in one run only");
        }
        r.flagged = !why.empty();
        for (const auto& w : why) r.reason += (r.reason.empty() ? "" : "; ") + w;
    }
    return rows;
}

namespace {

std::string measured(const std::optional<verify::CheckResult>& c) {
    if (!c) return "(absent)";
    return format_number(c->measured, 5) + (c->unit.empty() ? "" : " " + c->unit);
}
std::string verdict(const std::optional<verify::CheckResult>& c) { return c ? verify::to_string(c->verdict) : "-"; }

}  // namespace

std::string format_compare_table(const CompareHeader& h, const std::vector<CompareRow>& rows) {
    std::string out;
    out += "A: " + h.label_a + "  (" + h.scenario_a + ", " + h.outcome_a + ", firmware " + h.firmware_a + ")\n";
    out += "B: " + h.label_b + "  (" + h.scenario_b + ", " + h.outcome_b + ", firmware " + h.firmware_b + ")\n";
    if (h.sha_a != h.sha_b) out += "WARNING: the scenario hashes differ (compared with --force)\n";
    char line[512];
    std::snprintf(line, sizeof line, "\n%-2s %-34s %-18s %-13s %-18s %-13s %s\n", "", "check", "measured A", "verdict A", "measured B",
                  "verdict B", "difference");
    out += line;
    std::size_t flagged = 0;
    for (const auto& r : rows) {
        flagged += r.flagged;
        std::snprintf(line, sizeof line, "%-2s %-34s %-18s %-13s %-18s %-13s %s\n", r.flagged ? "!!" : "", r.id.substr(0, 34).c_str(),
                      measured(r.a).c_str(), verdict(r.a).c_str(), measured(r.b).c_str(), verdict(r.b).c_str(), r.reason.c_str());
        out += line;
    }
    std::snprintf(line, sizeof line, "\n%zu of %zu checks differ (flag: verdict changed, check in one run only, or measured value moved by more than %.2f of its tolerance band)\n",
                  flagged, rows.size(), h.move_fraction);
    out += line;
    return out;
}

std::string render_compare_html(const CompareHeader& h, const std::vector<CompareRow>& rows) {
    auto esc = [](std::string_view s) { return escape_markup(s); };
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>pumprig compare: " + esc(h.scenario_a) +
                      "</title>\n<style>\n" + report_css() + "tr.flagged td { background: #fde2e2; }\n</style>\n</head>\n<body>\n";
    out += "<h1>pumprig compare: " + esc(h.scenario_a) + "</h1>\n<table class=\"meta\">\n";
    out += "<tr><th>A</th><td><span class=\"mono\">" + esc(h.label_a) + "</span><br>" + esc(h.scenario_a) + ", " + esc(h.outcome_a) + ", firmware " +
           esc(h.firmware_a) + "<br>scenario SHA-256 <span class=\"mono\">" + esc(h.sha_a) + "</span></td></tr>\n";
    out += "<tr><th>B</th><td><span class=\"mono\">" + esc(h.label_b) + "</span><br>" + esc(h.scenario_b) + ", " + esc(h.outcome_b) + ", firmware " +
           esc(h.firmware_b) + "<br>scenario SHA-256 <span class=\"mono\">" + esc(h.sha_b) + "</span></td></tr>\n</table>\n";
    if (h.sha_a != h.sha_b) out += "<div class=\"banner\">The scenario hashes differ: the runs did not run the same scenario file.</div>\n";
    out += "<table id=\"compare\">\n<tr><th>Check</th><th>Name</th><th>Measured A</th><th>Verdict A</th><th>Measured B</th><th>Verdict B</th>"
           "<th>Moved (of band)</th><th>Difference</th></tr>\n";
    for (const auto& r : rows) {
        out += std::string("<tr") + (r.flagged ? " class=\"flagged\"" : "") + "><td class=\"mono\">" + esc(r.id) + "</td><td>" + esc(r.name) +
               "</td><td class=\"num\">" + esc(measured(r.a)) + "</td><td>" + verdict(r.a) + "</td><td class=\"num\">" + esc(measured(r.b)) +
               "</td><td>" + verdict(r.b) + "</td><td class=\"num\">" + (r.moved_fraction ? format_number(*r.moved_fraction, 3) : "-") +
               "</td><td>" + esc(r.reason) + "</td></tr>\n";
    }
    out += "</table>\n<p class=\"notes\">Flagged: the verdict changed, the check is in one run only, or the measured value moved by more than " +
           format_number(h.move_fraction) + " of its tolerance band.</p>\n</body>\n</html>\n";
    return out;
}

}  // namespace pumprig::report
