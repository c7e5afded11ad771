// CSV export of a unit's history: one row per measurement, RFC 4180 quoting.
#include <charconv>

#include "history/results_store.hpp"

namespace pumprig::history {

std::string csv_field(std::string_view text) {
    // Text from a pump or an operator that starts like a formula (=, +, -, @, tab, CR) would be
    // run by a spreadsheet opening the export: prefix it with an apostrophe (OWASP's advice).
    // Numbers are written by csv_number() and never pass here.
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

std::string csv_number(const std::optional<double>& v) {
    if (!v) return {};
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    return std::string(buf, end);
}

std::string to_csv(std::span<const RunRecord> runs) {
    std::string out =
        "run_id,serial,reported_serial,model,firmware,station,operator,started_at,ended_at,run_verdict,reason,tested,"
        "scenario,check_id,check_name,kind,measured,expected,unit,lower_limit,upper_limit,tolerance,check_verdict,detail,"
        "requirements\r\n";
    for (const auto& run : runs) {
        const std::string run_cols = std::to_string(run.id) + "," + csv_field(run.serial) + "," + csv_field(run.reported_serial) + "," +
                                     csv_field(run.model) + "," + csv_field(run.firmware) + "," + csv_field(run.station) + "," +
                                     csv_field(run.operator_name) + "," + csv_field(run.started_at) + "," + csv_field(run.ended_at) + "," +
                                     csv_field(run.verdict) + "," + csv_field(run.reason) + "," + (run.tested ? "1" : "0");
        if (run.measurements.empty()) {
            out += run_cols + ",,,,,,,,,,,,,\r\n";
            continue;
        }
        for (const auto& m : run.measurements) {
            out += run_cols + "," + csv_field(m.scenario) + "," + csv_field(m.check_id) + "," + csv_field(m.name) + "," + csv_field(m.kind) + "," +
                   csv_number(m.measured) + "," + csv_number(m.expected) + "," + csv_field(m.unit) + "," + csv_number(m.lower) + "," +
                   csv_number(m.upper) + "," + csv_field(m.tolerance) + "," + csv_field(m.verdict) + "," + csv_field(m.detail) + "," +
                   csv_field(m.requirements) + "\r\n";
        }
    }
    return out;
}

}  // namespace pumprig::history
