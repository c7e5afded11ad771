#include "report/junit.hpp"

#include <cmath>
#include <cstdio>
#include <regex>

#include "report/markup.hpp"

namespace pumprig::report {

namespace {

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", std::isfinite(s) && s >= 0 ? s : 0.0);
    return buf;
}

std::string limits(const verify::CheckResult& c) {
    const bool lo = std::isfinite(c.lower), hi = std::isfinite(c.upper);
    if (lo && hi) return "limits " + format_number(c.lower) + " to " + format_number(c.upper);
    if (lo) return "limit >= " + format_number(c.lower);
    if (hi) return "limit <= " + format_number(c.upper);
    return "no limits";
}

std::string values_line(const verify::CheckResult& c) {
    const std::string unit = c.unit.empty() ? "" : " " + c.unit;
    return "measured " + format_number(c.measured) + unit + ", expected " + format_number(c.expected) + unit + " (" + limits(c) +
           (c.tolerance.empty() ? "" : "; tolerance " + c.tolerance) + ")";
}

}  // namespace

std::string junit_timestamp(std::string_view iso) {
    static const std::regex re(R"(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}).*)");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_match(iso.begin(), iso.end(), m, re)) return m[1].str();
    return "1970-01-01T00:00:00";
}

std::string render_junit(std::span<const JUnitSuite> suites) {
    std::size_t all_tests = 0, all_failures = 0, all_errors = 0;
    double all_time = 0;
    std::string body;
    int id = 0;
    for (const auto& s : suites) {
        const bool run_error = s.incomplete || !s.error.empty() || s.outcome == "ERROR" || s.outcome == "ABORTED";
        std::size_t failures = 0, errors = run_error ? 1 : 0;
        for (const auto& c : s.checks) {
            failures += c.verdict == verify::Verdict::Fail;
            errors += c.verdict == verify::Verdict::Inconclusive;
        }
        const std::size_t tests = s.checks.size() + (run_error ? 1 : 0);
        all_tests += tests;
        all_failures += failures;
        all_errors += errors;
        all_time += s.time_s;
        const std::string classname = escape_markup(s.package.empty() ? "pumprig." + s.name : s.package);
        body += "  <testsuite name=\"" + escape_markup(s.name) + "\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
                std::to_string(failures) + "\" errors=\"" + std::to_string(errors) + "\" skipped=\"0\" time=\"" + seconds(s.time_s) +
                "\" timestamp=\"" + escape_markup(junit_timestamp(s.timestamp)) + "\" hostname=\"" + escape_markup(s.hostname) +
                "\" id=\"" + std::to_string(id++) + "\" package=\"" + classname + "\">\n";
        body += "    <properties>\n      <property name=\"outcome\" value=\"" + escape_markup(s.outcome) + "\"/>\n";
        body += "      <property name=\"complete\" value=\"" + std::string(s.incomplete ? "false" : "true") + "\"/>\n    </properties>\n";
        if (run_error) {
            const std::string what = s.incomplete ? "run INCOMPLETE" : "run " + s.outcome;
            const std::string message = what + (s.error.empty() ? "" : ": " + s.error);
            body += "    <testcase name=\"run\" classname=\"" + classname + "\" time=\"" + seconds(s.time_s) + "\">\n      <error type=\"" +
                    escape_markup(s.incomplete ? std::string("INCOMPLETE") : s.outcome) + "\" message=\"" + escape_markup(message) + "\">" +
                    escape_markup(message) + "</error>\n    </testcase>\n";
        }
        for (const auto& c : s.checks) {
            body += "    <testcase name=\"" + escape_markup(c.id + (c.name.empty() ? "" : ": " + c.name)) + "\" classname=\"" + classname +
                    "\" time=\"0.000\"";
            const std::string text = values_line(c) + (c.detail.empty() ? "" : "\n" + c.detail) +
                                     (c.requirements.empty() ? "" : "\nrequirements: ") ;
            std::string reqs;
            for (const auto& q : c.requirements) reqs += (reqs.empty() ? "" : ", ") + q;
            if (c.verdict == verify::Verdict::Pass) {
                body += ">\n      <system-out>" + escape_markup(text + reqs) + "</system-out>\n    </testcase>\n";
            } else if (c.verdict == verify::Verdict::Fail) {
                body += ">\n      <failure type=\"FAIL\" message=\"" + escape_markup(values_line(c)) + "\">" + escape_markup(text + reqs) +
                        "</failure>\n    </testcase>\n";
            } else {
                body += ">\n      <error type=\"INCONCLUSIVE\" message=\"" + escape_markup("inconclusive: " + (c.detail.empty() ? values_line(c) : c.detail)) +
                        "\">" + escape_markup(text + reqs) + "</error>\n    </testcase>\n";
            }
        }
        body += "    <system-out>" + escape_markup("run folder: " + s.run_dir) + "</system-out>\n    <system-err></system-err>\n  </testsuite>\n";
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pumprig\" tests=\"" + std::to_string(all_tests) +
                      "\" failures=\"" + std::to_string(all_failures) + "\" errors=\"" + std::to_string(all_errors) + "\" time=\"" +
                      seconds(all_time) + "\">\n";
    return xml + body + "</testsuites>\n";
}

}  // namespace pumprig::report
