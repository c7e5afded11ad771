// Verification power (docs/defects.md): the scenario library against every defect of the
// simulated pump and every meter fault, and against the conforming pump with 50 seeds.
// - each defect makes its intended scenario FAIL on the intended check, leaves a scenario it
//   does not touch passing, and docs/detection-matrix.md says so;
// - each meter fault ends its run as ERROR "meter fault" with the meter check failed and no
//   check of the pump failed;
// - the conforming pump passes the whole library with seeds 1 to 50 (no false alarm).
// The table of intended checks is tests/integration/defects_intended.json, shared with
// tools/detection_matrix.py, which writes the matrix.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace pumprig::test;  // TempDir, read_file, run_command, kSource, kPumprig, kSim, kPython, write_file

namespace {

nlohmann::json intended_table() { return nlohmann::json::parse(read_file(kSource + "/tests/integration/defects_intended.json")); }

// A library scenario by name (functions/, eol/ or long/).
std::string scenario_file(const std::string& name) {
    for (const char* folder : {"functions", "eol", "long"}) {
        const std::string f = kSource + "/scenarios/" + folder + "/" + name + ".json";
        if (fs::exists(f)) return f;
    }
    return kSource + "/scenarios/functions/" + name + ".json";
}

// Every run folder's record.json below root, by scenario name.
std::map<std::string, nlohmann::json> records(const fs::path& root) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& e : fs::directory_iterator(root)) {
        const auto rec = e.path() / "record.json";
        if (!fs::exists(rec)) continue;
        auto j = nlohmann::json::parse(read_file(rec));
        out[j["scenario"]["name"].get<std::string>()] = j;
    }
    return out;
}

const nlohmann::json* find_check(const nlohmann::json& record, const std::string& id) {
    for (const auto& c : record["checks"])
        if (c["id"] == id) return &c;
    return nullptr;
}

std::vector<std::string> failed_ids(const nlohmann::json& record) {
    std::vector<std::string> out;
    for (const auto& c : record["checks"])
        if (c["verdict"] == "FAIL") out.push_back(c["id"].get<std::string>());
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
}

pumprig::test::CommandResult run_pumprig(std::vector<std::string> args) {
    std::vector<std::string> argv{kPumprig, "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, std::chrono::seconds(900), {"PUMPRIG_SIM_BINARY=" + kSim});
}

void check_defect(const std::string& defect) {
    const auto table = intended_table();
    REQUIRE(table["defects"].contains(defect));
    const auto& want = table["defects"][defect];
    REQUIRE_MESSAGE(want["scenario"].is_string(), "no scenario for " << defect << ": " << want.value("pending", std::string()));
    const std::string scenario = want["scenario"], check = want["check"];
    TempDir out;
    std::vector<std::string> args{"--out", out.path.string(), "--defect", defect, scenario_file(scenario)};
    if (!want["unaffected"].is_null()) args.push_back(scenario_file(want["unaffected"]));
    const auto r = run_pumprig(args);
    INFO("defect " << defect << "\n" << r.out << r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0));
    CHECK(r.exit_code == 1);  // a check failed (not a bench error)
    const auto recs = records(out.path);
    REQUIRE(recs.count(scenario) == 1);
    const auto& rec = recs.at(scenario);
    CHECK(rec["outcome"] == "FAIL");
    const auto* c = find_check(rec, check);
    INFO("failed checks: " << joined(failed_ids(rec)));
    REQUIRE(c != nullptr);
    CHECK((*c)["verdict"] == "FAIL");
    if (!want["unaffected"].is_null()) {
        const std::string other = want["unaffected"];
        REQUIRE(recs.count(other) == 1);
        INFO("unaffected scenario " << other << " failed: " << joined(failed_ids(recs.at(other))));
        CHECK(recs.at(other)["outcome"] == "PASS");
    }
}

void check_meter_fault(const std::string& fault) {
    const auto table = intended_table();
    REQUIRE(table["meter_faults"].contains(fault));
    const auto& want = table["meter_faults"][fault];
    const std::string scenario = want["scenario"], check = want["check"];
    TempDir out;
    const auto r = run_pumprig({"--out", out.path.string(), "--meter-fault", fault, scenario_file(scenario)});
    INFO("meter fault " << fault << "\n" << r.out << r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0));
    CHECK(r.exit_code == 3);  // a bench error, not a failed pump
    const auto recs = records(out.path);
    REQUIRE(recs.count(scenario) == 1);
    const auto& rec = recs.at(scenario);
    CHECK(rec["outcome"] == "ERROR");
    CHECK(rec.value("error", std::string()).starts_with("meter fault: " + check));
    const auto* c = find_check(rec, check);
    REQUIRE(c != nullptr);
    CHECK((*c)["verdict"] == "FAIL");
    CHECK((*c)["kind"] == "meter");
    for (const auto& ck : rec["checks"])
        if (ck["verdict"] == "FAIL") CHECK_MESSAGE(ck["kind"] == "meter", "a pump check failed on a meter fault: " << ck["id"]);
    // pumprig report rebuilds the same outcome by the same rule (record/outcome.hpp).
    for (const auto& e : fs::directory_iterator(out.path)) {
        if (!fs::exists(e.path() / "record.json")) continue;
        const auto rep = run_command({kPumprig, "report", e.path().string()}, std::chrono::seconds(120));
        CHECK(rep.exit_code == 3);
        const auto rebuilt = nlohmann::json::parse(read_file(e.path() / "record.rebuilt.json"));
        CHECK(rebuilt["outcome"] == "ERROR");
        CHECK(rebuilt.value("error", std::string()).starts_with("meter fault: " + check));
    }
}

// The conforming pump passes every scenario of the library with each seed.
void check_conforming(int first_seed, int last_seed) {
    for (int seed = first_seed; seed <= last_seed; ++seed) {
        TempDir out;
        const auto r = run_pumprig({"--out", out.path.string(), "--seed", std::to_string(seed), kSource + "/scenarios"});
        const auto recs = records(out.path);
        std::string failures;
        for (const auto& [name, rec] : recs)
            if (rec["outcome"] != "PASS")
                failures += name + " " + rec["outcome"].get<std::string>() + " (" + joined(failed_ids(rec)) + ") " + rec.value("error", "") + "; ";
        INFO("seed " << seed << ": " << failures << "\n" << r.out);
        CHECK(r.exit_code == 0);
        CHECK(failures.empty());
        CHECK(recs.size() >= 16);  // the whole library ran
    }
}

}  // namespace

TEST_CASE("every defect of the catalogue has an intended scenario and check") {
    const auto r = run_command({kSim, "--list-defects"}, std::chrono::seconds(30));
    REQUIRE(r.exit_code == 0);
    const auto table = intended_table();
    std::size_t n = 0, aliases = 0;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.starts_with("meter:")) continue;
        const bool alias = line.starts_with("alias:");
        const std::string name = line.substr(alias ? 6 : 0, line.find('\t') - (alias ? 6 : 0));
        // Every catalogue name and every former name has its intended scenario and check.
        CHECK_MESSAGE(table["defects"].contains(name), "no intended check for defect " << name);
        (alias ? aliases : n) += 1;
    }
    CHECK(n >= 31);
    CHECK(aliases >= 10);
    // And every key of the table is a defect pumprig-sim takes (a name, a former name or NAME=VALUE).
    for (const auto& [key, want] : table["defects"].items()) {
        const auto probe = run_command({kSim, "--defect", key, "--show-unit"}, std::chrono::seconds(30));
        CHECK_MESSAGE(probe.exit_code == 0, key << ": " << probe.err);
    }
}

TEST_CASE("a defect name that does not exist is refused as bad input") {
    TempDir out;
    const auto r = run_pumprig({"--out", out.path.string(), "--defect", "rate_high_9pct", scenario_file("continuous")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("rate_high_9pct") != std::string::npos);
    const auto m = run_pumprig({"--out", out.path.string(), "--meter-fault", "bubbles", scenario_file("continuous")});
    CHECK(m.exit_code == 2);
    CHECK(m.err.find("zero_drift, air_bursts or frozen") != std::string::npos);
}

// One case per defect, so that ctest -j2 runs them side by side and a failure names the defect.
TEST_CASE("defect rate_high_8pct is caught") { check_defect("rate_high_8pct"); }
TEST_CASE("defect rate_low_8pct is caught") { check_defect("rate_low_8pct"); }
TEST_CASE("defect schedule_hour_late is caught") { check_defect("schedule_hour_late"); }
TEST_CASE("defect step_after_midnight_skipped is caught") { check_defect("step_after_midnight_skipped"); }
TEST_CASE("defect periodic_bolus_skipped is caught") { check_defect("periodic_bolus_skipped"); }
TEST_CASE("defect periodic_bolus_twice is caught") { check_defect("periodic_bolus_twice"); }
TEST_CASE("defect clinician_bolus_short_20pct is caught") { check_defect("clinician_bolus_short_20pct"); }
TEST_CASE("defect bolus_double_duration is caught") { check_defect("bolus_double_duration"); }
TEST_CASE("defect ptm_lockout_ignored is caught") { check_defect("ptm_lockout_ignored"); }
TEST_CASE("defect ptm_limit_off_by_one is caught") { check_defect("ptm_limit_off_by_one"); }
TEST_CASE("defect refill_concentration_ignored is caught") { check_defect("refill_concentration_ignored"); }
TEST_CASE("defect bolus_not_deducted is caught") { check_defect("bolus_not_deducted"); }
TEST_CASE("defect low_res_late_1ml is caught") { check_defect("low_res_late_1ml"); }
TEST_CASE("defect low_res_never is caught") { check_defect("low_res_never"); }
TEST_CASE("defect empty_res_no_min_rate is caught") { check_defect("empty_res_no_min_rate"); }
TEST_CASE("defect stop_keeps_bolus is caught") { check_defect("stop_keeps_bolus"); }
TEST_CASE("defect stop_ignored is caught") { check_defect("stop_ignored"); }
TEST_CASE("defect stop_refused is caught") { check_defect("stop_refused"); }
TEST_CASE("defect retry_executed_again is caught") { check_defect("retry_executed_again"); }
TEST_CASE("defect events_not_resent is caught") { check_defect("events_not_resent"); }
TEST_CASE("defect event_overflow_drops_alarms is caught") { check_defect("event_overflow_drops_alarms"); }
TEST_CASE("defect motor_stall_unreported is caught") { check_defect("motor_stall_unreported"); }
TEST_CASE("defect priming_volume_wrong is caught") { check_defect("priming_volume_wrong"); }
TEST_CASE("defect clock_drift_1pct is caught") { check_defect("clock_drift_1pct"); }
TEST_CASE("defect delivery_error (20 %) is caught") { check_defect("delivery_error"); }
TEST_CASE("defect stall=30 (a partial stall) is caught") { check_defect("stall=30"); }
TEST_CASE("defect clock_drift=200 (ppm) is caught") { check_defect("clock_drift=200"); }
TEST_CASE("defect stall_not_cleared is caught") { check_defect("stall_not_cleared"); }
TEST_CASE("defect reset_forgets_program is caught") { check_defect("reset_forgets_program"); }
TEST_CASE("defect step_waits_for_bolus is caught") { check_defect("step_waits_for_bolus"); }
TEST_CASE("defect waiting_bolus_dropped is caught") { check_defect("waiting_bolus_dropped"); }
TEST_CASE("defect commit_running_deferred is caught") { check_defect("commit_running_deferred"); }
TEST_CASE("defect ptm_limit_calendar_day is caught") { check_defect("ptm_limit_calendar_day"); }
TEST_CASE("defect eos_keeps_running is caught") { check_defect("eos_keeps_running"); }
TEST_CASE("defect refill_adds is caught") { check_defect("refill_adds"); }
TEST_CASE("defect ptm_lockout_on_clock is caught") { check_defect("ptm_lockout_on_clock"); }

TEST_CASE("meter zero drift is reported as a meter fault") { check_meter_fault("zero_drift=2"); }
TEST_CASE("meter AIR bursts are reported as a meter fault") { check_meter_fault("air_bursts=20"); }
TEST_CASE("a frozen meter is reported as a meter fault") { check_meter_fault("frozen=600"); }

TEST_CASE("the conforming pump passes the whole library with seeds 1 to 5") { check_conforming(1, 5); }
TEST_CASE("the conforming pump passes the whole library with seeds 6 to 10") { check_conforming(6, 10); }
TEST_CASE("the conforming pump passes the whole library with seeds 11 to 15") { check_conforming(11, 15); }
TEST_CASE("the conforming pump passes the whole library with seeds 16 to 20") { check_conforming(16, 20); }
TEST_CASE("the conforming pump passes the whole library with seeds 21 to 25") { check_conforming(21, 25); }
TEST_CASE("the conforming pump passes the whole library with seeds 26 to 30") { check_conforming(26, 30); }
TEST_CASE("the conforming pump passes the whole library with seeds 31 to 35") { check_conforming(31, 35); }
TEST_CASE("the conforming pump passes the whole library with seeds 36 to 40") { check_conforming(36, 40); }
TEST_CASE("the conforming pump passes the whole library with seeds 41 to 45") { check_conforming(41, 45); }
TEST_CASE("the conforming pump passes the whole library with seeds 46 to 50") { check_conforming(46, 50); }
