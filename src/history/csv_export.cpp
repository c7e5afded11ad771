// CSV export of a unit's history: one row per measurement, RFC 4180 quoting.
#include <charconv>

#include "history/results_store.hpp"

namespace pumprig::history {

namespace {

std::string field(std::string_view text) {
    // Text from a pump or an operator that starts like a formula (=, +, -, @, tab, CR) would be
    // run by a spreadsheet opening the export: prefix it with an apostrophe (OWASP's advice).
    // Numbers are written by number() and never pass here.
    std::string guarded;
    if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
        guarded = "'" + std::string(text);
        text = guarded;
    }
    const std::string_view s = text;
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string number(const std::optional<double>& v) {
    if (!v) return {};
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    return std::string(buf, end);
}

}  // namespace

std::string to_csv(std::span<const RunRecord> runs) {
    std::string out =
        "run_id,serial,reported_serial,model,firmware,station,operator,started_at,ended_at,run_verdict,reason,tested,"
        "scenario,check_id,check_name,kind,measured,expected,unit,lower_limit,upper_limit,tolerance,check_verdict,detail,"
        "requirements\r\n";
    for (const auto& run : runs) {
        const std::string run_cols = std::to_string(run.id) + "," + field(run.serial) + "," + field(run.reported_serial) + "," +
                                     field(run.model) + "," + field(run.firmware) + "," + field(run.station) + "," +
                                     field(run.operator_name) + "," + field(run.started_at) + "," + field(run.ended_at) + "," +
                                     field(run.verdict) + "," + field(run.reason) + "," + (run.tested ? "1" : "0");
        if (run.measurements.empty()) {
            out += run_cols + ",,,,,,,,,,,,,\r\n";
            continue;
        }
        for (const auto& m : run.measurements) {
            out += run_cols + "," + field(m.scenario) + "," + field(m.check_id) + "," + field(m.name) + "," + field(m.kind) + "," +
                   number(m.measured) + "," + number(m.expected) + "," + field(m.unit) + "," + number(m.lower) + "," +
                   number(m.upper) + "," + field(m.tolerance) + "," + field(m.verdict) + "," + field(m.detail) + "," +
                   field(m.requirements) + "\r\n";
        }
    }
    return out;
}

}  // namespace pumprig::history
