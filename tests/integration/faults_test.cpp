// Faults survived: the simulator injects link and device faults, pumprig rides them out and
// never judges a window with a gap as PASS.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace pumprig::test;  // TempDir, read_file, run_command, kSource, kPumprig, kSim, kPython, write_file

namespace {

fs::path rig_with_faults(const fs::path& dir, const std::string& faults_json) {
    const auto p = dir / "rig.json";
    std::ofstream(p) << R"({"name": "sim-faults", "simulator": {"faults": )" << faults_json
                     << R"(}, "pump": {"key": {"test_key": true}}, "meter": {"parity": "none", "profile": ")" << kSource
                     << R"(/fixtures/meters/lf-2000.json"}})";
    return p;
}

struct Run {
    int exit_code;
    nlohmann::json record;
    fs::path dir;
};

Run run_one(const fs::path& out, const std::string& scenario, const std::string& rig = {}) {
    std::vector<std::string> argv{kPumprig, "run", "--out", out.string()};
    if (!rig.empty()) argv.insert(argv.end(), {"--rig", rig});
    argv.push_back(kSource + "/scenarios/" + scenario);
    auto r = run_command(argv, std::chrono::seconds(900));
    INFO(r.err);
    fs::path dir;
    for (const auto& e : fs::directory_iterator(out))
        if (e.is_directory() && fs::exists(e.path() / "record.json")) dir = e.path();
    REQUIRE_FALSE(dir.empty());
    return {r.exit_code, nlohmann::json::parse(read_file(dir / "record.json")), dir};
}

std::map<std::string, std::string> verdicts(const nlohmann::json& record) {
    std::map<std::string, std::string> out;
    for (const auto& c : record["checks"]) out[c["id"].get<std::string>()] = c["verdict"].get<std::string>();
    return out;
}

std::size_t distinct_events(const fs::path& dir, const std::string& type) {
    std::set<std::pair<long long, std::string>> seen;
    std::ifstream in(dir / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
        const auto e = nlohmann::json::parse(line);
        if (e["type"] == type) seen.emplace(e["n"].get<long long>(), std::to_string(e["pump_t"].get<double>()));
    }
    return seen.size();
}

}  // namespace

TEST_CASE("0.1 percent of bytes corrupted on both links: same verdicts as a clean run over 24 hours") {
    TempDir tmp;
    const auto rig = rig_with_faults(tmp.path, R"(["--corrupt-rate", "0.001"])");
    auto clean = run_one(tmp.path / "clean", "long/accuracy-24h.json");
    auto noisy = run_one(tmp.path / "noisy", "long/accuracy-24h.json", rig.string());
    CHECK(clean.exit_code == 0);
    CHECK(noisy.exit_code == 0);
    const auto vc = verdicts(clean.record), vn = verdicts(noisy.record);
    std::string differences;
    for (const auto& [id, v] : vc)
        if (!vn.count(id) || vn.at(id) != v) differences += id + ": clean " + v + ", noisy " + (vn.count(id) ? vn.at(id) : "missing") + "; ";
    for (const auto& c : noisy.record["checks"])
        if (c["verdict"] != "PASS") differences += c["id"].get<std::string>() + ": " + c["detail"].get<std::string>() + "; ";
    INFO(differences);
    CHECK(vc == vn);
    // The faults really happened and were handled below the checks.
    CHECK(noisy.record["links"]["pump"]["crc_errors"].get<int>() + noisy.record["links"]["pump"]["retries"].get<int>() > 10);
    CHECK(noisy.record["links"]["meter"]["retries"].get<int>() > 10);
}

TEST_CASE("corrupted bytes and lost responses never give a second bolus") {
    TempDir tmp;
    const auto rig = rig_with_faults(tmp.path, R"(["--corrupt-rate", "0.001", "--drop-rate", "0.05", "--late-rate", "0.05"])");
    auto noisy = run_one(tmp.path / "noisy", "functions/clinician-bolus.json", rig.string());
    CHECK(noisy.exit_code == 0);
    // Two clinician boluses were asked for (one delivered whole, one cancelled): exactly two started.
    CHECK(distinct_events(noisy.dir, "BOLUS_START") == 2);
    CHECK(noisy.record["links"]["pump"]["retries"].get<int>() > 0);
}

TEST_CASE("a pump link that goes away for 2 s is reconnected and the gap recorded") {
    TempDir tmp;
    const auto rig = rig_with_faults(tmp.path, R"(["--fault-at", "1800:pump_link_down:2000"])");
    auto run = run_one(tmp.path / "runs", "functions/continuous.json", rig.string());
    CHECK(run.exit_code == 0);
    REQUIRE(run.record["gaps"].size() == 1);
    CHECK(run.record["gaps"][0]["recovered"] == true);
    CHECK(run.record["gaps"][0]["program_unchanged"] == true);
    CHECK(run.record["safe_stop"]["confirmed_stopped"] == true);
}

TEST_CASE("a pump that restarts by itself is authenticated again and its stopped delivery fails the run") {
    TempDir tmp;
    const auto rig = rig_with_faults(tmp.path, R"(["--fault-at", "1800:pump_reset"])");
    auto run = run_one(tmp.path / "runs", "functions/continuous.json", rig.string());
    CHECK(run.exit_code == 1);
    CHECK(run.record["outcome"] == "FAIL");
    bool reset_noted = false;
    for (const auto& g : run.record["gaps"])
        if (g["reason"].get<std::string>().find("BOOT reason=WATCHDOG") != std::string::npos) {
            reset_noted = true;
            CHECK(g["program_unchanged"] == true);
        }
    CHECK(reset_noted);
    CHECK(verdicts(run.record).at("volume.1") == "FAIL");
}

TEST_CASE("a meter that stops answering for 30 s makes the checks over it INCONCLUSIVE, never PASS") {
    TempDir tmp;
    const auto rig = rig_with_faults(tmp.path, R"(["--fault-at", "5400:meter_silent:30000"])");
    auto run = run_one(tmp.path / "runs", "functions/continuous.json", rig.string());
    CHECK(run.exit_code == 1);
    CHECK(run.record["outcome"] == "INCONCLUSIVE");
    const auto v = verdicts(run.record);
    CHECK(v.at("volume.1") == "INCONCLUSIVE");
    CHECK(v.at("rate.1") == "INCONCLUSIVE");
}
