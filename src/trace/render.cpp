#include "trace/render.hpp"

#include <map>
#include <set>
#include <sstream>

#include "core/calendar.hpp"
#include "record/json.hpp"
#include "report/html_report.hpp"
#include "report/markup.hpp"

namespace pumprig::trace {

namespace fs = std::filesystem;
using report::escape_markup;

namespace {

std::string esc(std::string_view s) { return escape_markup(s); }

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep = ", ") {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : std::string(sep)) + p;
    return s;
}

// The run's report, relative to the page's folder ("" when the run has none).
std::string report_href(const RunEvidence& run, const fs::path& out_dir) {
    std::error_code ec;
    const fs::path report = run.dir / "report.html";
    if (!fs::exists(report, ec)) return {};
    return fs::absolute(report, ec).lexically_normal().lexically_relative(fs::absolute(out_dir, ec).lexically_normal()).generic_string();
}

std::string run_label(const RunEvidence& r) {
    return r.record.scenario.name + (r.record.rig.channel.empty() ? "" : " [" + r.record.rig.channel + "]");
}

std::string outcome_of(const RunEvidence& r) {
    return r.record.outcome ? record::to_string(*r.record.outcome) : std::string("RUNNING");
}

std::string linked_run(const RunEvidence& r, const fs::path& out_dir) {
    const auto href = report_href(r, out_dir);
    return href.empty() ? esc(run_label(r)) : "<a href=\"" + esc(href) + "\">" + esc(run_label(r)) + "</a>";
}

std::string status_class(std::string_view s) {
    if (s == "PASS") return "v-pass";
    if (s == "FAIL") return "v-fail";
    if (s == "INCONCLUSIVE") return "v-inconclusive";
    return "v-error";
}

std::string check_rows(const Matrix& m, const std::vector<CheckEvidence>& checks, const fs::path& out_dir) {
    std::string h = "<table class=\"evidence\">\n<tr><th>scenario (run report)</th><th>run</th><th>check</th><th>name</th><th>verdict</th>"
                    "<th>tolerance source</th><th>detail</th></tr>\n";
    for (const auto& c : checks) {
        const auto& run = m.runs[c.run];
        const std::string v = record::to_string(c.check.verdict);
        h += "<tr><td>" + linked_run(run, out_dir) + "</td><td class=\"" + status_class(outcome_of(run)) + "\">" + esc(outcome_of(run)) +
             "</td><td class=\"id\">" + esc(c.check.id) + "</td><td>" + esc(c.check.name) + "</td><td class=\"" + status_class(v) + "\">" +
             v + "</td><td>" + (c.check.tolerance_source.empty() ? "<span class=\"empty\">not stated</span>" : esc(c.check.tolerance_source)) +
             "</td><td>" + esc(c.check.detail) + "</td></tr>\n";
    }
    return h + "</table>\n";
}

const char* kExtraCss = R"(table.matrix td.text { max-width: 34em; } details { margin: 4px 0; } summary { cursor: pointer; }
table.evidence { font-size: 12px; } .warn { border: 2px solid #b60; background: #fff3dd; padding: 6px 10px; margin: 8px 0; }
)";

// The matrix as an HTML section (no page head): summary, matrix, what is not verified, evidence.
std::string matrix_section(const Matrix& m, const fs::path& out_dir) {
    const auto passed = m.with_status(Status::Pass), failed = m.with_status(Status::Fail),
               inconclusive = m.with_status(Status::Inconclusive), uncovered = m.with_status(Status::NotCovered);
    const auto unknown = m.unknown();
    std::string h;
    h += "<table class=\"meta\">\n";
    h += "<tr><th scope=\"row\">requirements</th><td class=\"num\">" + std::to_string(m.rows.size() - unknown.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\" class=\"v-pass\">PASS</th><td class=\"num\">" + std::to_string(passed.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\" class=\"v-fail\">FAIL</th><td class=\"num\">" + std::to_string(failed.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\" class=\"v-inconclusive\">INCONCLUSIVE</th><td class=\"num\">" + std::to_string(inconclusive.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\" class=\"v-error\">NOT COVERED</th><td class=\"num\">" + std::to_string(uncovered.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">ids not in the catalogue</th><td class=\"num\">" + std::to_string(unknown.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">checks naming no requirement</th><td class=\"num\">" + std::to_string(m.unlinked.size()) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">runs (latest of each scenario)</th><td class=\"num\">" + std::to_string(m.runs.size()) + "</td></tr>\n";
    h += "</table>\n";

    h += "<h2 id=\"matrix\">Requirement &rarr; scenarios &rarr; checks &rarr; verdict</h2>\n";
    h += "<table class=\"matrix\">\n<tr><th>requirement</th><th>text</th><th>source</th><th>scenarios (run reports)</th>"
         "<th>checks pass / fail / inconclusive</th><th>status</th></tr>\n";
    for (const auto& row : m.rows) {
        std::string scen;
        std::set<std::size_t> runs_of_row;
        for (const auto& c : row.checks) runs_of_row.insert(c.run);
        for (auto ri : runs_of_row) scen += (scen.empty() ? "" : "<br>") + linked_run(m.runs[ri], out_dir);
        const std::string st = to_string(row.status);
        h += "<tr id=\"req-" + esc(row.requirement.id) + "\"><td class=\"id\"><a href=\"#ev-" + esc(row.requirement.id) + "\">" +
             esc(row.requirement.id) + "</a></td><td class=\"text\">" +
             (row.in_catalogue ? esc(row.requirement.text) : "<b>not in the catalogue</b>") + "</td><td>" + esc(row.requirement.source) +
             "</td><td>" + (scen.empty() ? "<span class=\"empty\">none</span>" : scen) + "</td><td class=\"num\">" +
             std::to_string(row.pass) + " / " + std::to_string(row.fail) + " / " + std::to_string(row.inconclusive) + "</td><td class=\"" +
             status_class(st) + "\">" + st + "</td></tr>\n";
    }
    h += "</table>\n";

    h += "<h2 id=\"not-covered\">Requirements no check covers</h2>\n";
    if (uncovered.empty()) h += "<p class=\"empty\">None: every requirement of the catalogue is named by a check of these runs.</p>\n";
    else {
        h += "<ul>\n";
        for (const auto* r : uncovered) h += "<li><span class=\"id\">" + esc(r->requirement.id) + "</span>: " + esc(r->requirement.text) + " (" + esc(r->requirement.source) + ")</li>\n";
        h += "</ul>\n";
    }
    h += "<h2 id=\"not-verified\">Covered requirements not verified (FAIL or INCONCLUSIVE)</h2>\n";
    if (failed.empty() && inconclusive.empty()) h += "<p class=\"empty\">None: every covered requirement passed all its checks.</p>\n";
    else {
        h += "<ul>\n";
        for (const auto& list : {failed, inconclusive})
            for (const auto* r : list) {
                std::string which;
                for (const auto& c : r->checks)
                    if (c.check.verdict != record::Verdict::Pass)
                        which += (which.empty() ? "" : "; ") + esc(run_label(m.runs[c.run])) + ": <span class=\"id\">" + esc(c.check.id) +
                                 "</span> " + record::to_string(c.check.verdict);
                h += "<li class=\"" + status_class(to_string(r->status)) + "\"><span class=\"id\">" + esc(r->requirement.id) + "</span> " +
                     to_string(r->status) + ": " + which + "</li>\n";
            }
        h += "</ul>\n";
    }
    if (!unknown.empty()) {
        h += "<h2 id=\"unknown\">Requirement ids named by checks but not in the catalogue</h2>\n<ul>\n";
        for (const auto* r : unknown) h += "<li><span class=\"id\">" + esc(r->requirement.id) + "</span> (" + joined(r->scenarios) + ")</li>\n";
        h += "</ul>\n";
    }

    h += "<h2 id=\"evidence\">Evidence by requirement</h2>\n";
    for (const auto& row : m.rows) {
        if (row.checks.empty()) continue;
        const bool open = row.status != Status::Pass;
        h += "<details id=\"ev-" + esc(row.requirement.id) + "\"" + (open ? " open" : "") + "><summary><span class=\"id\">" +
             esc(row.requirement.id) + "</span> " + to_string(row.status) + ": " + std::to_string(row.checks.size()) + " checks in " +
             esc(joined(row.scenarios)) + "</summary>\n" + check_rows(m, row.checks, out_dir) + "</details>\n";
    }
    h += "<h2 id=\"unlinked\">Checks naming no requirement</h2>\n";
    if (m.unlinked.empty()) h += "<p class=\"empty\">None.</p>\n";
    else h += check_rows(m, m.unlinked, out_dir);
    if (!m.superseded.empty()) {
        h += "<h2 id=\"superseded\">Older runs left out (a later run of the same scenario is the evidence)</h2>\n<ul>\n";
        for (const auto& d : m.superseded) h += "<li class=\"mono\">" + esc(d.string()) + "</li>\n";
        h += "</ul>\n";
    }
    return h;
}

std::string page_head(const std::string& title) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           esc(title) + "</title>\n<style>\n" + report::report_css() + kExtraCss + "</style>\n</head>\n<body>\n";
}

std::string inline_md(std::string_view text) {
    std::string s = esc(text);
    auto replace_all = [&s](std::string_view from, std::string_view to) {
        for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    };
    replace_all("&lt;br&gt;", "<br>");
    // `code` and **bold**, in pairs; an odd one out stays as written.
    for (auto [mark, open, close] : {std::tuple{std::string_view("`"), "<code>", "</code>"}, std::tuple{std::string_view("**"), "<b>", "</b>"}}) {
        for (std::size_t a = s.find(mark); a != std::string::npos; a = s.find(mark, a)) {
            const auto b = s.find(mark, a + mark.size());
            if (b == std::string::npos) break;
            const std::string inner = s.substr(a + mark.size(), b - a - mark.size());
            const std::string repl = std::string(open) + inner + close;
            s.replace(a, b + mark.size() - a, repl);
            a += repl.size();
        }
    }
    return s;
}

std::vector<std::string> table_cells(std::string_view line) {
    std::vector<std::string> cells;
    auto s = line;
    if (!s.empty() && s.front() == '|') s.remove_prefix(1);
    if (!s.empty() && s.back() == '|') s.remove_suffix(1);
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == '|') {
            auto cell = s.substr(start, i - start);
            while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
            while (!cell.empty() && cell.back() == ' ') cell.remove_suffix(1);
            cells.emplace_back(cell);
            start = i + 1;
        }
    return cells;
}

}  // namespace

std::string markdown_to_html(std::string_view md) {
    std::string h;
    std::istringstream in{std::string(md)};
    std::string line;
    std::string para;
    bool in_table = false, header_done = false, in_list = false, in_code = false;
    auto flush = [&] {
        if (!para.empty()) h += "<p>" + inline_md(para) + "</p>\n";
        para.clear();
        if (in_table) h += "</table>\n";
        if (in_list) h += "</ul>\n";
        in_table = in_list = false;
    };
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            flush();
            h += in_code ? "</pre>\n" : "<pre class=\"mono\">";
            in_code = !in_code;
            continue;
        }
        if (in_code) {
            h += esc(line) + "\n";
            continue;
        }
        if (line.empty()) {
            flush();
            continue;
        }
        if (line[0] == '#') {
            flush();
            std::size_t level = line.find_first_not_of('#');
            if (level == std::string::npos) level = line.size();
            // Headings of the embedded document sit below the report's own h2.
            const std::string tag = "h" + std::to_string(std::min<std::size_t>(6, level + 2));
            h += "<" + tag + ">" + inline_md(line.substr(std::min(line.size(), level + 1))) + "</" + tag + ">\n";
            continue;
        }
        if (line[0] == '|') {
            if (!in_table) {
                flush();
                h += "<table>\n";
                in_table = true;
                header_done = false;
            }
            const auto cells = table_cells(line);
            if (cells.size() && cells[0].find_first_not_of("-: ") == std::string::npos && !cells[0].empty()) {
                header_done = true;  // the |---|---| line
                continue;
            }
            const char* td = header_done ? "td" : "th";
            h += "<tr>";
            for (const auto& c : cells) h += std::string("<") + td + ">" + inline_md(c) + "</" + td + ">";
            h += "</tr>\n";
            continue;
        }
        if (line.rfind("- ", 0) == 0) {
            if (!in_list) {
                flush();
                h += "<ul>\n";
                in_list = true;
            }
            h += "<li>" + inline_md(line.substr(2)) + "</li>\n";
            continue;
        }
        if (in_list && line.rfind("  ", 0) == 0) {  // a list item's continuation
            h.insert(h.size() - 6, " " + inline_md(line.substr(2)));
            continue;
        }
        if (in_table || in_list) flush();
        para += (para.empty() ? "" : " ") + line;
    }
    flush();
    if (in_code) h += "</pre>\n";
    return h;
}

std::string matrix_csv(const Matrix& m, const fs::path& out_dir) {
    std::string out =
        "requirement_id,requirement_status,in_catalogue,source,scenario,channel,run_dir,run_outcome,run_start,check_id,check_name,kind,"
        "verdict,tolerance_source,detail,report\r\n";
    auto check_cols = [&](const CheckEvidence& c) {
        const auto& run = m.runs[c.run];
        return csv_field(run.record.scenario.name) + "," + csv_field(run.record.rig.channel) + "," + csv_field(run.dir.string()) + "," +
               outcome_of(run) + "," + record::iso_time(run.record.start) + "," + csv_field(c.check.id) + "," + csv_field(c.check.name) + "," +
               csv_field(c.check.kind) + "," + record::to_string(c.check.verdict) + "," + csv_field(c.check.tolerance_source) + "," +
               csv_field(c.check.detail) + "," + csv_field(report_href(run, out_dir));
    };
    for (const auto& row : m.rows) {
        const std::string req = csv_field(row.requirement.id) + "," + to_string(row.status) + "," + (row.in_catalogue ? "1" : "0") + "," +
                                csv_field(row.requirement.source);
        if (row.checks.empty()) out += req + ",,,,,,,,,,,,\r\n";
        for (const auto& c : row.checks) out += req + "," + check_cols(c) + "\r\n";
    }
    for (const auto& c : m.unlinked) out += ",,,," + check_cols(c) + "\r\n";
    return out;
}

std::string matrix_html(const Matrix& m, const fs::path& out_dir, const std::string& title) {
    std::string h = page_head(title);
    h += "<h1>" + esc(title) + "</h1>\n";
    const std::string overall = m.any_fail() ? "FAIL" : "NO FAILURE";
    h += "<p><span class=\"verdict " + std::string(m.any_fail() ? "v-fail" : "v-pass") + "\">" + overall + "</span> " +
         (m.any_fail() ? "a covered requirement has a failed check." : "no covered requirement has a failed check.") + "</p>\n";
    h += matrix_section(m, out_dir);
    return h + "</body>\n</html>\n";
}

std::string release_html(const Matrix& m, const ReleaseContext& ctx, const fs::path& out_dir) {
    const std::string title = "Release verification report";
    std::string h = page_head(title);
    h += "<h1>" + esc(title) + "</h1>\n";
    const auto failed = m.with_status(Status::Fail), inconclusive = m.with_status(Status::Inconclusive),
               uncovered = m.with_status(Status::NotCovered), passed = m.with_status(Status::Pass);
    const std::string verdict = !failed.empty() ? "FAIL" : (!inconclusive.empty() || !uncovered.empty()) ? "INCOMPLETE" : "PASS";
    h += "<p><span class=\"verdict " + status_class(verdict == "INCOMPLETE" ? "INCONCLUSIVE" : verdict) + "\">" + verdict + "</span> " +
         std::to_string(passed.size()) + " requirements verified, " + std::to_string(failed.size()) + " failed, " +
         std::to_string(inconclusive.size()) + " inconclusive, " + std::to_string(uncovered.size()) + " not covered.</p>\n";

    std::vector<std::string> warnings;
    // Tool
    h += "<h2>Tool</h2>\n<table class=\"meta\">\n";
    h += "<tr><th scope=\"row\">this report by</th><td>pumprig " + esc(ctx.tool_version) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">build</th><td class=\"mono\">" + esc(ctx.tool_build) + "</td></tr>\n";
    std::set<std::string> versions;
    for (const auto& r : m.runs) versions.insert(r.record.tool.name + " " + r.record.tool.version);
    h += "<tr><th scope=\"row\">runs made by</th><td>" + esc(joined({versions.begin(), versions.end()})) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">requirements catalogue</th><td class=\"mono\">" + esc(ctx.catalogue) + "</td></tr>\n";
    h += "<tr><th scope=\"row\">generated</th><td>" + esc(record::iso_time(std::chrono::time_point_cast<Millis>(ctx.now))) + "</td></tr>\n";
    h += "</table>\n";
    if (versions.size() > 1) warnings.push_back("the runs were made by more than one pumprig version");

    // Rig and meter calibration
    h += "<h2>Rig</h2>\n<table>\n<tr><th>rig</th><th>channel</th><th>file</th><th>simulated</th><th>meter</th><th>meter calibration due</th></tr>\n";
    std::set<std::string> rig_rows;
    for (const auto& r : m.runs) {
        std::string due = r.calibration_due.empty() ? std::string("<span class=\"empty\">not stated in the rig file</span>") : esc(r.calibration_due);
        std::string cls;
        if (!r.calibration_due.empty()) {
            const auto d = parse_calendar_date(r.calibration_due);
            if (d && date_is_past(*d, ctx.now)) {
                cls = " class=\"v-fail\"";
                due += " (past)";
                warnings.push_back("the flow meter of rig " + r.record.rig.name + (r.record.rig.channel.empty() ? "" : " [" + r.record.rig.channel + "]") +
                                   " was due for calibration on " + r.calibration_due + ": its accuracy (meter ICD section 2) is not assured");
            }
        } else if (!r.record.rig.simulated) {
            warnings.push_back("rig " + r.record.rig.name + " does not state its meter's calibration due date (rig file: meter.calibration_due)");
        }
        rig_rows.insert("<tr><td>" + esc(r.record.rig.name) + "</td><td>" + esc(r.record.rig.channel) + "</td><td class=\"mono\">" +
                        esc(r.record.rig.file) + "</td><td>" + (r.record.rig.simulated ? "yes" : "no") + "</td><td>" +
                        esc(r.record.meter.value_or("(not identified)")) + "</td><td" + cls + ">" + due + "</td></tr>\n");
    }
    for (const auto& row : rig_rows) h += row;
    h += "</table>\n";

    // Pump identity
    h += "<h2>Pump under test</h2>\n<table>\n<tr><th>model</th><th>serial</th><th>firmware</th><th>protocol</th><th>runs</th></tr>\n";
    std::map<std::string, std::vector<std::string>> pumps;
    for (const auto& r : m.runs) {
        const std::string key = r.record.pump ? "<td>" + esc(r.record.pump->model) + "</td><td>" + esc(r.record.pump->serial) + "</td><td>" +
                                                    esc(r.record.pump->firmware) + "</td><td>" + std::to_string(r.record.pump->proto) + "</td>"
                                              : std::string("<td colspan=\"4\"><b>not identified (authentication failed)</b></td>");
        pumps[key].push_back(run_label(r));
    }
    for (const auto& [key, runs] : pumps) h += "<tr>" + key + "<td>" + esc(joined(runs)) + "</td></tr>\n";
    h += "</table>\n";
    if (pumps.size() > 1) warnings.push_back("the runs were made on more than one pump (or one was not identified)");

    // Scenarios
    h += "<h2>Scenarios</h2>\n<table>\n<tr><th>scenario (run report)</th><th>started</th><th>outcome</th><th>pass</th><th>fail</th>"
         "<th>inconclusive</th><th>record integrity (MANIFEST.sha256)</th><th>run folder</th></tr>\n";
    for (const auto& r : m.runs) {
        const auto s = record::summarise(r.record.checks);
        std::string integrity, icls = "v-pass";
        if (!r.manifest || !r.manifest->has_manifest) {
            integrity = "no manifest";
            icls = "v-inconclusive";
            warnings.push_back(run_label(r) + ": the run folder has no manifest, its integrity cannot be shown");
        } else if (r.manifest->intact()) {
            integrity = "intact (" + r.manifest->manifest_sha256.substr(0, 16) + "&hellip;)";
        } else {
            icls = "v-fail";
            std::vector<std::string> what;
            for (const auto& f : r.manifest->changed) what.push_back("changed " + f);
            for (const auto& f : r.manifest->added) what.push_back("added " + f);
            for (const auto& f : r.manifest->missing) what.push_back("missing " + f);
            integrity = "NOT INTACT: " + esc(joined(what));
            warnings.push_back(run_label(r) + ": the run folder does not match its manifest (" + joined(what) + ")");
        }
        const auto outcome = outcome_of(r);
        h += "<tr><td>" + linked_run(r, out_dir) + "</td><td>" + esc(record::iso_time(r.record.start)) + "</td><td class=\"" +
             status_class(outcome) + "\">" + outcome + "</td><td class=\"num\">" + std::to_string(s.pass) + "</td><td class=\"num\">" +
             std::to_string(s.fail) + "</td><td class=\"num\">" + std::to_string(s.inconclusive) + "</td><td class=\"" + icls + "\">" +
             integrity + "</td><td class=\"mono\">" + esc(r.dir.string()) + "</td></tr>\n";
    }
    h += "</table>\n";

    // Warnings go near the top, where a reviewer reads first.
    if (!warnings.empty()) {
        std::string w = "<div class=\"warn\"><b>Warnings</b><ul>\n";
        for (const auto& x : warnings) w += "<li>" + esc(x) + "</li>\n";
        w += "</ul></div>\n";
        const auto at = h.find("<h2>Tool</h2>");
        h.insert(at, w);
    }

    h += "<h2 id=\"trace\">Traceability matrix</h2>\n" + matrix_section(m, out_dir);

    h += "<h2 id=\"detection-power\">How far the tool can be trusted: detection power</h2>\n";
    if (ctx.detection_file.empty()) {
        h += "<p class=\"warn\">No detection-power evidence found (docs/detection-power.md or docs/detection-matrix.md): the report cannot "
             "show which pump defects the checks are known to catch.</p>\n";
    } else {
        h += "<p>From <span class=\"mono\">" + esc(ctx.detection_file) + "</span>, " + esc(ctx.detection_revision) +
             ": the scenario library run on the simulated bench against known pump defects and meter faults. A defect the table "
             "shows caught is one these checks detect; a defect not caught is a limit of the verification.</p>\n";
        h += "<div class=\"embedded\">\n" + markdown_to_html(ctx.detection_markdown) + "</div>\n";
    }
    return h + "</body>\n</html>\n";
}

}  // namespace pumprig::trace
