// The run record as others read it: a real run's folder against docs/record.schema.json, runs
// killed with SIGKILL at seeded bench times rebuilt without a FAIL the whole run does not have,
// and a record of pumprig 0.1.0 (tests/data/record-v0) read and rebuilt to the same checks.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "peer_support.hpp"
#include "support/files.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using pumprig::peertest::BackgroundRun;
using pumprig::test::env_or;
using pumprig::test::read_file;
using pumprig::test::run_command;
using pumprig::test::TempDir;

namespace {

const std::string kSource = env_or("PUMPRIG_SOURCE_DIR", PUMPRIG_SOURCE_DIR);
const std::string kPumprig = env_or("PUMPRIG_BINARY", PUMPRIG_BUILD_DIR "/pumprig");
const std::string kPython = env_or("PUMPRIG_PYTHON", "/usr/bin/python3");

std::vector<fs::path> run_dirs(const fs::path& root) {
    std::vector<fs::path> dirs;
    if (!fs::exists(root)) return dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && !e.path().filename().string().starts_with("suite-")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

std::string check_record(const fs::path& dir) {
    auto r = run_command({kPython, kSource + "/tools/check_record.py", dir.string(), kSource + "/docs/record.schema.json"}, std::chrono::seconds(120));
    return r.out + r.err;
}

// id -> verdict of a record's checks.
std::map<std::string, std::string> verdicts(const json& record) {
    std::map<std::string, std::string> out;
    for (const auto& c : record.at("checks")) out[c.at("id").get<std::string>()] = c.at("verdict").get<std::string>();
    return out;
}

long long horizon_of(const fs::path& dir) {
    const auto text = read_file(dir / "horizon.txt");
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos || text.find('\n') == std::string::npos) return 0;
    return std::stoll(text.substr(first));
}

}  // namespace

TEST_CASE("a run folder validates against docs/record.schema.json, rebuilt record included") {
    TempDir tmp;
    auto r = run_command({kPumprig, "run", "--out", (tmp.path / "runs").string(), kSource + "/scenarios/eol/eol-basic.json"}, std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto dir = run_dirs(tmp.path / "runs").at(0);
    const auto record = json::parse(read_file(dir / "record.json"));
    CHECK(record.at("schema_version") == 1);
    CHECK(record.at("state") == "COMPLETE");
    CHECK(record.at("horizon_ms").get<long long>() > record.at("end_ms").get<long long>());
    CHECK(check_record(dir) == "valid\n");
    auto rep = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    REQUIRE(rep.exit_code == 0);
    const auto rebuilt = json::parse(read_file(dir / "record.rebuilt.json"));
    CHECK(verdicts(rebuilt) == verdicts(record));
    CHECK(check_record(dir) == "valid\n");
    // The schema is not a formality: a record missing its version or with a bad verdict fails.
    auto broken = record;
    broken.erase("schema_version");
    broken["checks"][0]["verdict"] = "MAYBE";
    std::ofstream(dir / "record.json") << broken.dump();
    const auto why = check_record(dir);
    CHECK(why.find("schema_version") != std::string::npos);
    CHECK(why.find("MAYBE") != std::string::npos);
}

TEST_CASE("runs killed with SIGKILL at seeded bench times rebuild without a FAIL the whole run lacks") {
    TempDir tmp;
    const std::string scenario = kSource + "/scenarios/functions/schedule-midnight.json";
    auto whole = run_command({kPumprig, "run", "--out", (tmp.path / "whole").string(), scenario}, std::chrono::seconds(300));
    INFO(whole.err);
    REQUIRE(whole.exit_code == 0);
    const auto whole_record = json::parse(read_file(run_dirs(tmp.path / "whole").at(0) / "record.json"));
    std::set<std::string> whole_fails;
    for (const auto& [id, v] : verdicts(whole_record))
        if (v == "FAIL") whole_fails.insert(id);
    const long long bench_ms = whole_record.at("end_ms").get<long long>() - whole_record.at("start_ms").get<long long>();

    // Kill points: the first commit (hours of samples must not outrun the commands), and
    // seeded instants over the run (the last hour left out, so that each kill lands mid-run).
    std::mt19937_64 rng(15);
    std::uniform_int_distribution<long long> at(0, bench_ms - 3'600'000);
    std::vector<long long> offsets = {0};
    for (int k = 0; k < 5; ++k) offsets.push_back(at(rng));
    for (std::size_t k = 0; k < offsets.size(); ++k) {
        CAPTURE(offsets[k]);
        const auto out = tmp.path / ("killed-" + std::to_string(k));
        fs::create_directories(out);
        BackgroundRun run({kPumprig, "run", "--out", out.string(), scenario}, tmp.path);
        fs::path dir;
        long long start_ms = 0;
        // Poll the folder as the run writes it (bounded); kill once the horizon passed the point.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
        bool reached = false;
        while (!reached && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (dir.empty()) {
                const auto dirs = run_dirs(out);
                if (dirs.empty() || !fs::exists(dirs[0] / "record.json")) continue;
                dir = dirs[0];
                start_ms = json::parse(read_file(dir / "record.json")).at("start_ms").get<long long>();
            }
            const long long h = horizon_of(dir);
            reached = h > 0 && h >= start_ms + offsets[k];
        }
        REQUIRE(reached);
        run.signal(SIGKILL);
        REQUIRE(run.wait() == 128 + SIGKILL);

        auto rep = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
        INFO(rep.out);
        INFO(rep.err);
        CHECK(rep.exit_code == 3);  // an incomplete run: a bench-side end, not a check failure
        const auto rebuilt = json::parse(read_file(dir / "record.rebuilt.json"));
        CHECK(rebuilt.at("outcome") == "ABORTED");
        for (const auto& [id, v] : verdicts(rebuilt)) {
            CAPTURE(id);
            if (v == "FAIL") CHECK(whole_fails.count(id) == 1);
        }
        CHECK(read_file(dir / "junit.xml").find("<failure") == std::string::npos);
        CHECK(check_record(dir) == "valid\n");
    }
}

TEST_CASE("a record of pumprig 0.1.0 is read and rebuilt to the checks it recorded") {
    TempDir tmp;
    const auto dir = tmp.path / "eol-basic";
    fs::copy(kSource + "/tests/data/record-v0/eol-basic", dir, fs::copy_options::recursive);
    const auto original = json::parse(read_file(dir / "record.json"));
    REQUIRE_FALSE(original.contains("schema_version"));
    auto r = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const auto rebuilt = json::parse(read_file(dir / "record.rebuilt.json"));
    CHECK(rebuilt.at("schema_version") == 1);
    CHECK(rebuilt.at("outcome") == "PASS");
    // Check by check: the same ids, verdicts and measured values as pumprig 0.1.0 judged.
    REQUIRE(rebuilt.at("checks").size() == original.at("checks").size());
    for (std::size_t i = 0; i < original.at("checks").size(); ++i) {
        const auto& a = original["checks"][i];
        const auto& b = rebuilt["checks"][i];
        CAPTURE(a.at("id"));
        CHECK(b.at("id") == a.at("id"));
        CHECK(b.at("verdict") == a.at("verdict"));
        CHECK(b.at("measured") == a.at("measured"));
    }
    CHECK(read_file(dir / "report.html").find("id=\"verdict\">PASS</span>") != std::string::npos);
}
