#include "eol/eol_policy.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "run/suite.hpp"

namespace pumprig::eol {

namespace {

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
    return s;
}

// Why a check did not pass, in one line.
std::string check_reason(const verify::CheckResult& c) {
    std::string s = std::string(verify::to_string(c.verdict)) + " " + c.name + ": measured " + fmt(c.measured) + " " + c.unit +
                    ", expected " + fmt(c.expected) + " " + c.unit;
    if (std::isfinite(c.lower) || std::isfinite(c.upper))
        s += " within [" + (std::isfinite(c.lower) ? fmt(c.lower) : std::string("-inf")) + ", " +
             (std::isfinite(c.upper) ? fmt(c.upper) : std::string("inf")) + "]";
    if (!c.detail.empty()) s += " (" + c.detail + ")";
    return one_line(s);
}

}  // namespace

bool plausible_serial(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
}

std::vector<Unit> units_for(const std::vector<std::string>& channels) {
    std::vector<Unit> units(channels.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        units[i].index = i;
        units[i].channel = channels[i];
    }
    return units;
}

Result<void> assign_serials(std::vector<Unit>& units, const std::vector<std::string>& given, const std::string& rig) {
    const bool multi = units.size() > 1 || (units.size() == 1 && !units[0].channel.empty());
    if (!multi) {
        if (given.size() > 1) return fail(ErrorKind::BadInput, "one --serial for a bench of one channel (" + rig + ")");
        if (!given.empty()) units[0].serial = given[0];
        return {};
    }
    for (const auto& a : given) {
        const auto eq = a.find('=');
        const std::string name = eq == std::string::npos ? "" : trim(a.substr(0, eq));
        auto it = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.channel == name; });
        if (it == units.end()) {
            std::string names;
            for (const auto& u : units) names += (names.empty() ? "" : ", ") + u.channel;
            return fail(ErrorKind::BadInput, "--serial " + one_line(a) + ": expected CHANNEL=SERIAL with CHANNEL one of " + names);
        }
        if (!it->serial.empty() || !it->present)
            return fail(ErrorKind::BadInput, "--serial " + one_line(a) + ": channel " + it->channel + " is given more than once");
        it->serial = a.substr(eq + 1);
        if (trim(it->serial) == "-") it->present = false;
    }
    return {};
}

Result<void> check_serials(std::vector<Unit>& units) {
    for (auto& u : units) {
        if (!u.present) continue;
        u.serial = trim(u.serial);
        if (!plausible_serial(u.serial))
            return fail(ErrorKind::BadInput, "serial \"" + one_line(u.serial) +
                                                 "\": expected 1 to 64 printable characters without spaces, as the pump reports it (HELLO sn=)");
        for (const auto& other : units)
            if (&other != &u && other.present && other.serial == u.serial)
                return fail(ErrorKind::BadInput, "serial " + u.serial + " is given for two channels");
    }
    if (std::none_of(units.begin(), units.end(), [](const Unit& u) { return u.present; }))
        return fail(ErrorKind::BadInput, "no unit to test (every channel given as -)");
    return {};
}

void apply_retest_limit(Unit& unit, int tested_runs, int max_retests, const std::string& where) {
    if (tested_runs <= max_retests) return;
    unit.failed_early = {"retest-limit", std::to_string(tested_runs) + " tests recorded in " + where + ", at most 1 test and " +
                                             std::to_string(max_retests) + " retests allowed"};
}

bool check_serial(Unit& unit, const std::string& reported_serial, const std::string& model, const std::string& firmware) {
    unit.record.reported_serial = reported_serial;
    unit.record.model = model;
    unit.record.firmware = firmware;
    if (reported_serial != unit.serial) {
        unit.failed_early = {"serial-mismatch", "the pump reports serial " + reported_serial + ", not " + unit.serial};
        return false;
    }
    unit.record.tested = true;
    return true;
}

void identification_failed(Unit& unit, const std::string& why) { unit.station_error = "pump did not identify itself: " + why; }

void add_run(Unit& unit, const std::string& scenario, const run::RunResult& result, const std::string& manifest) {
    if (result.dir.empty() && result.outcome == run::Outcome::Error) {
        unit.station_error = result.error;  // the channel's links did not open
        return;
    }
    if (!result.dir.empty()) {
        unit.dirs.push_back(result.dir.string());
        unit.manifests.push_back(manifest);
    }
    for (const auto& c : result.checks) unit.checks.emplace_back(scenario, c);
    if (result.outcome == run::Outcome::Error || result.outcome == run::Outcome::Aborted) {
        unit.aborted = result.outcome == run::Outcome::Aborted;
        unit.station_error = (unit.aborted ? "aborted: " : "bench error: ") + result.error;
    }
}

void stopped_before(Unit& unit, const std::string& next_scenario) {
    if (unit.finished()) return;
    unit.aborted = true;
    unit.station_error = "stopped by signal before " + next_scenario;
}

Conclusion conclude(const Unit& unit) {
    Conclusion c;
    if (unit.failed_early) {
        c = {"FAIL", unit.failed_early->first, unit.failed_early->second, run::kExitCheckFailed};
        c.recorded = unit.failed_early->first != "retest-limit";  // a refusal is not a run
    } else if (unit.station_error) {
        // A bench problem says nothing about the unit: ERROR (or ABORTED), not a FAIL.
        c = {unit.aborted ? "ABORTED" : "ERROR", unit.aborted ? "run" : "bench", *unit.station_error, run::kExitBenchError};
    } else {
        // The first check that did not pass: a FAIL before an INCONCLUSIVE (a failure is the
        // stronger statement about the unit); INCONCLUSIVE fails the unit too (it was not verified).
        const verify::CheckResult* first_bad = nullptr;
        for (const auto& [sc, check] : unit.checks)
            if (check.verdict == verify::Verdict::Fail) {
                first_bad = &check;
                break;
            }
        if (!first_bad)
            for (const auto& [sc, check] : unit.checks)
                if (check.verdict != verify::Verdict::Pass) {
                    first_bad = &check;
                    break;
                }
        if (unit.checks.empty())
            c = {"FAIL", "no-checks", "the end-of-line scenarios made no check: nothing was verified", run::kExitCheckFailed};
        else if (first_bad)
            c = {"FAIL", first_bad->id, check_reason(*first_bad), run::kExitCheckFailed};
        else
            c = {"PASS", "",
                 unit.record.scenarios + " " + std::to_string(unit.checks.size()) + "/" + std::to_string(unit.checks.size()) + " checks",
                 run::kExitPass};
    }
    // Only a verdict about the unit spends a test: never a bench problem, never a refusal.
    c.tested = unit.record.tested && (c.verdict == "PASS" || c.verdict == "FAIL");
    return c;
}

std::string final_line(const Unit& unit, const Conclusion& c) {
    return c.verdict == "PASS" ? "PASS " + unit.serial + " " + c.reason : "FAIL " + unit.serial + " " + c.what + ": " + one_line(c.reason);
}

std::vector<history::Measurement> measurements(const std::vector<std::pair<std::string, verify::CheckResult>>& checks) {
    std::vector<history::Measurement> out;
    for (const auto& [sc, c] : checks) {
        history::Measurement m;
        m.scenario = sc;
        m.check_id = c.id;
        m.name = c.name;
        m.kind = c.kind;
        m.measured = finite(c.measured);
        m.expected = finite(c.expected);
        m.unit = c.unit;
        m.lower = finite(c.lower);
        m.upper = finite(c.upper);
        m.tolerance = c.tolerance;
        m.verdict = verify::to_string(c.verdict);
        m.detail = c.detail;
        m.requirements = joined(c.requirements);
        out.push_back(std::move(m));
    }
    return out;
}

history::RunRecord history_record(const Unit& unit, const Conclusion& c, const std::string& ended_at) {
    history::RunRecord r = unit.record;
    r.ended_at = ended_at;
    r.verdict = c.verdict;
    r.reason = c.verdict == "PASS" ? std::string() : one_line(c.what.empty() ? c.reason : c.what + ": " + c.reason);
    r.tested = c.tested;
    r.run_dirs = joined(unit.dirs);
    r.manifest_sha256 = joined(unit.manifests);
    r.measurements = measurements(unit.checks);
    return r;
}

}  // namespace pumprig::eol
