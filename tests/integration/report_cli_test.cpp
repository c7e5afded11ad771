// pumprig report and pumprig compare driven as a user drives them, on run folders made by
// pumprig run on the simulated bench; the HTML is rendered by headless Chromium and the JUnit
// files are validated against tests/data/junit/junit.xsd with lxml. The run record as others
// read it: a real run's folder against docs/record.schema.json, runs killed with SIGKILL at
// seeded bench times rebuilt without a FAIL the whole run does not have, and a record of
// pumprig 0.1.0 (tests/data/record-v0) read and rebuilt to the same checks.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "peer_support.hpp"
#include "report/junit.hpp"
#include "support/chromium.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using pumprig::peertest::BackgroundRun;
using namespace pumprig::test;  // TempDir, read_file, run_command, kSource, kPumprig, kSim, kPython, write_file

namespace {

std::vector<fs::path> run_dirs(const fs::path& root) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && !e.path().filename().string().starts_with("suite-")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

// Runs one scenario of the library on the simulated bench; returns its run folder.
fs::path run_scenario(const fs::path& out, const std::string& scenario, int seed = 1) {
    auto r = run_command({kPumprig, "run", "--out", out.string(), "--seed", std::to_string(seed), kSource + "/scenarios/" + scenario},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto dirs = run_dirs(out);
    REQUIRE(dirs.size() == 1);
    return dirs[0];
}

// lxml's verdict on a JUnit file against the project's schema: "valid" or the errors.
std::string validate_junit(const fs::path& xml) {
    const std::string script =
        "import sys\nfrom lxml import etree\n"
        "schema = etree.XMLSchema(etree.parse(sys.argv[1]))\n"
        "doc = etree.parse(sys.argv[2])\n"
        "print('valid' if schema.validate(doc) else '\\n'.join(str(e) for e in schema.error_log))\n";
    auto r = run_command({kPython, "-c", script, kSource + "/tests/data/junit/junit.xsd", xml.string()}, std::chrono::seconds(60));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
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

TEST_CASE("pumprig report rebuilds the views of a run and Chromium draws its plots") {
    TempDir tmp;
    const auto dir = run_scenario(tmp.path / "runs", "eol/eol-basic.json");
    CHECK(fs::exists(dir / "report.html"));  // pumprig run wrote the views already
    CHECK(fs::exists(dir / "junit.xml"));
    const auto record_before = read_file(dir / "record.json");
    fs::remove(dir / "report.html");

    auto r = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("PASS") != std::string::npos);
    CHECK(read_file(dir / "record.json") == record_before);  // the original record is never touched
    const auto original = nlohmann::json::parse(record_before);
    const auto rebuilt = nlohmann::json::parse(read_file(dir / "record.rebuilt.json"));
    REQUIRE(rebuilt["checks"].size() == original["checks"].size());
    for (std::size_t i = 0; i < original["checks"].size(); ++i) {
        CHECK(rebuilt["checks"][i]["id"] == original["checks"][i]["id"]);
        CHECK(rebuilt["checks"][i]["verdict"] == original["checks"][i]["verdict"]);
    }

    const auto dom = chromium_dom(dir / "report.html");
    CHECK(count(dom, "<svg") >= 2);
    CHECK(dom.find("<path class=\"series-measured\" d=\"M") != std::string::npos);
    CHECK(dom.find("<path class=\"series-programmed\" d=\"M") != std::string::npos);
    CHECK(dom.find("<path class=\"band\" d=\"M") != std::string::npos);
    CHECK(dom.find("BOLUS_START") != std::string::npos);  // an event marker
    CHECK(dom.find("id=\"verdict\">PASS</span>") != std::string::npos);
    CHECK(dom.find("<td class=\"id\">volume.1</td>") != std::string::npos);
    CHECK(dom.find("volume delivered (basal and bolus)") != std::string::npos);
    CHECK(dom.find("EOL-001") != std::string::npos);
    CHECK(dom.find("SIM0001") != std::string::npos);
    CHECK(dom.find(original["scenario"]["sha256"].get<std::string>()) != std::string::npos);
    CHECK(validate_junit(dir / "junit.xml") == "valid\n");
}

TEST_CASE("the IEC 60601-2-24 start-up and trumpet curves are drawn for an accuracy scenario") {
    TempDir tmp;
    const auto scenario = tmp.path / "iec.json";
    // A short accuracy scenario: 2 mL/day, 30 min start-up, 1 h analysis at 5 min intervals.
    write_file(scenario, R"({"name": "iec-short", "pump_profile": "itb-40", "settings": {"sample_period": "1 s", "status_period": "60 s"},
      "steps": [ {"do": "set_clock"}, {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "1000 ug/day"}]},
                 {"do": "start", "label": "started"}, {"do": "wait", "for": "1 h 30 min"}, {"do": "stop"} ],
      "checks": [ {"check": "accuracy", "from": "started", "sample_interval": "5 min", "startup_period": "30 min",
                   "analysis_period": "1 h", "windows": ["10 min", "20 min", "30 min"]} ]})");
    auto r = run_command({kPumprig, "run", "--out", (tmp.path / "runs").string(), scenario.string()}, std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    const auto dir = run_dirs(tmp.path / "runs").at(0);
    const auto dom = chromium_dom(dir / "report.html");
    CHECK(dom.find("<figure id=\"plot-startup-1\"><svg") != std::string::npos);
    CHECK(dom.find("<figure id=\"plot-trumpet-1\"><svg") != std::string::npos);
    CHECK(dom.find("<path class=\"series-max\" d=\"M") != std::string::npos);
    CHECK(dom.find("<path class=\"series-min\" d=\"M") != std::string::npos);
    CHECK(dom.find("IEC 60601-2-24 trumpet curve") != std::string::npos);
}

TEST_CASE("a run folder of pumprig 0.1.0 cut short rebuilds as INCOMPLETE") {
    TempDir tmp;
    const auto dir = tmp.path / "eol-basic";
    fs::copy(kSource + "/tests/data/record-v0/eol-basic", dir, fs::copy_options::recursive);
    // What kill -9 left with pumprig 0.1.0 (record schema 0, no horizon): record.json still
    // RUNNING without checks or step times, and files cut at an arbitrary byte. (Runs killed
    // today: tests/integration/record_cli_test.cpp.)
    auto record = nlohmann::json::parse(read_file(dir / "record.json"));
    for (const char* key : {"checks", "steps", "summary", "outcome", "end", "end_ms", "start_ms", "pump_offset_ms", "line_tau_ms", "safe_stop", "links"})
        record.erase(key);
    record["state"] = "RUNNING";
    write_file(dir / "record.json", record.dump(2));
    const auto samples = read_file(dir / "samples.csv");
    const auto cut = samples.size() * 6 / 10;
    REQUIRE(samples[cut - 1] != '\n');
    write_file(dir / "samples.csv", samples.substr(0, cut));
    fs::remove(dir / "report.html");

    auto r = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("INCOMPLETE") != std::string::npos);
    const auto rebuilt = nlohmann::json::parse(read_file(dir / "record.rebuilt.json"));
    CHECK(rebuilt["state"] == "RUNNING");
    CHECK(rebuilt["outcome"] == "ABORTED");
    CHECK(rebuilt["checks"].size() >= 5);
    CHECK(rebuilt["steps"][5]["at_ms"].is_number());  // "started", found again in commands.jsonl
    bool inconclusive = false;
    for (const auto& c : rebuilt["checks"]) inconclusive = inconclusive || c["verdict"] == "INCONCLUSIVE";
    CHECK(inconclusive);  // windows past the cut cannot be judged
    const auto html = read_file(dir / "report.html");
    CHECK(html.find("id=\"incomplete\">INCOMPLETE</span>") != std::string::npos);
    CHECK(html.find("samples.csv ended inside a line") != std::string::npos);
    const auto junit = read_file(dir / "junit.xml");
    CHECK(junit.find("run INCOMPLETE") != std::string::npos);
    CHECK(validate_junit(dir / "junit.xml") == "valid\n");
    const auto dom = chromium_dom(dir / "report.html");
    CHECK(dom.find("<path class=\"series-measured\" d=\"M") != std::string::npos);
}

TEST_CASE("pumprig report re-judges with another tolerance") {
    TempDir tmp;
    const auto dir = run_scenario(tmp.path / "runs", "eol/eol-basic.json");
    const auto original = nlohmann::json::parse(read_file(dir / "record.json"));
    auto r = run_command({kPumprig, "report", "--tolerance-pct", "0.01", dir.string()}, std::chrono::seconds(120));
    INFO(r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    const auto rebuilt = nlohmann::json::parse(read_file(dir / "record.rebuilt.json"));
    CHECK(rebuilt["rebuilt"]["tolerance_pct"] == 0.01);
    auto find = [](const nlohmann::json& checks, const std::string& id) {
        for (const auto& c : checks)
            if (c["id"] == id) return c;
        FAIL("no check " << id);
        return nlohmann::json();
    };
    const auto before = find(original["checks"], "volume.1");
    const auto after = find(rebuilt["checks"], "volume.1");
    CHECK(after["measured"] == before["measured"]);
    CHECK(after["upper"].get<double>() - after["lower"].get<double>() < before["upper"].get<double>() - before["lower"].get<double>());
    CHECK(read_file(dir / "report.html").find("delivery accuracy of 0.01 %") != std::string::npos);
    auto bad = run_command({kPumprig, "report", "--tolerance-pct", "-3", dir.string()}, std::chrono::seconds(60));
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--tolerance-pct") != std::string::npos);
    auto missing = run_command({kPumprig, "report", (tmp.path / "nowhere").string()}, std::chrono::seconds(60));
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("no run folder") != std::string::npos);
}

TEST_CASE("pumprig run writes a JUnit file and a suite page for several scenarios") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    const auto junit = tmp.path / "junit.xml";
    auto r = run_command({kPumprig, "run", "--out", out.string(), "--junit", junit.string(), kSource + "/scenarios/eol/eol-basic.json",
                          kSource + "/scenarios/functions/stop-start.json"},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto xml = read_file(junit);
    CHECK(count(xml, "<testsuite ") == 2);
    CHECK(xml.find("name=\"eol-basic\"") != std::string::npos);
    CHECK(xml.find("name=\"stop-start\"") != std::string::npos);
    CHECK(validate_junit(junit) == "valid\n");
    fs::path suite;
    for (const auto& e : fs::directory_iterator(out))
        if (e.path().filename().string().starts_with("suite-")) suite = e.path() / "index.html";
    REQUIRE(fs::exists(suite));
    const auto dom = chromium_dom(suite);
    CHECK(dom.find("2 of 2 scenarios passed") != std::string::npos);
    for (const auto& d : run_dirs(out)) {
        CHECK(dom.find("href=\"../" + d.filename().string() + "/report.html\"") != std::string::npos);
        CHECK(fs::exists(d / "report.html"));
    }
}

TEST_CASE("JUnit with hostile text validates, and the schema rejects what CI readers reject") {
    TempDir tmp;
    pumprig::report::JUnitSuite s;
    s.name = "<script>&\"'\x01";
    s.timestamp = "2026-01-01T00:00:00.000Z";
    s.outcome = "FAIL";
    pumprig::verify::CheckResult c;
    c.id = "volume.1";
    c.name = "]]> <![CDATA[ \xFF";
    c.verdict = pumprig::verify::Verdict::Fail;
    c.detail = "ERR,code=<x>";
    s.checks = {c};
    write_file(tmp.path / "hostile.xml", pumprig::report::render_junit(std::span(&s, 1)));
    CHECK(validate_junit(tmp.path / "hostile.xml") == "valid\n");
    // Jenkins reads error before failure; a suite needs a timestamp without a zone.
    write_file(tmp.path / "order.xml", R"(<testsuites><testsuite name="s" tests="1" failures="1" errors="1" time="0" timestamp="2026-01-01T00:00:00" hostname="h"><properties/>
      <testcase name="c" classname="k" time="0"><failure type="FAIL"/><error type="E"/></testcase><system-out/><system-err/></testsuite></testsuites>)");
    CHECK(validate_junit(tmp.path / "order.xml") != "valid\n");
    write_file(tmp.path / "zone.xml", R"(<testsuites><testsuite name="s" tests="0" failures="0" errors="0" time="0" timestamp="2026-01-01T00:00:00Z" hostname="h"><properties/>
      <system-out/><system-err/></testsuite></testsuites>)");
    CHECK(validate_junit(tmp.path / "zone.xml") != "valid\n");
}

TEST_CASE("pumprig compare puts two runs side by side and refuses different scenarios") {
    TempDir tmp;
    const auto a = run_scenario(tmp.path / "a", "eol/eol-basic.json", 1);
    const auto b = run_scenario(tmp.path / "b", "eol/eol-basic.json", 2);
    const auto html = tmp.path / "compare.html";
    auto r = run_command({kPumprig, "compare", a.string(), b.string(), "--html", html.string()}, std::chrono::seconds(60));
    INFO(r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    CHECK(r.out.find("A: " + a.string()) != std::string::npos);
    CHECK(r.out.find("volume.1") != std::string::npos);
    CHECK(r.out.find("checks differ") != std::string::npos);
    const auto dom = chromium_dom(html);
    CHECK(dom.find("<table id=\"compare\">") != std::string::npos);
    CHECK(dom.find("bolus.1.volume") != std::string::npos);

    // Same run against itself: nothing moves, nothing is flagged.
    auto same = run_command({kPumprig, "compare", a.string(), a.string()}, std::chrono::seconds(60));
    CHECK(same.exit_code == 0);
    CHECK(same.out.find("!!") == std::string::npos);

    const auto other = run_scenario(tmp.path / "c", "functions/stop-start.json");
    auto refused = run_command({kPumprig, "compare", a.string(), other.string()}, std::chrono::seconds(60));
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("different scenario files") != std::string::npos);
    auto forced = run_command({kPumprig, "compare", "--force", a.string(), other.string()}, std::chrono::seconds(60));
    CHECK(forced.exit_code == 1);  // checks in one run only are flagged
    CHECK(forced.out.find("only in") != std::string::npos);
}

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

TEST_CASE("a run stopped by --max-hours before its last steps has no FAIL for them, live and rebuilt alike") {
    TempDir tmp;
    // schedule-midnight: a volume check from "started" to "stopped" (12 h later) and a STEP
    // event expected at midnight, in a window to the scenario's end. Two hours in, neither came.
    auto r = run_command({kPumprig, "run", "--max-hours", "2", "--out", (tmp.path / "runs").string(),
                          kSource + "/scenarios/functions/schedule-midnight.json", "--junit", (tmp.path / "junit.xml").string()},
                         std::chrono::seconds(300));
    INFO(r.err);
    CHECK(r.exit_code == 3);
    const auto dir = run_dirs(tmp.path / "runs").at(0);
    const auto live = json::parse(read_file(dir / "record.json"));
    CHECK(live.at("outcome") == "ABORTED");
    CHECK(live.at("state") == "INCOMPLETE");
    const auto v = verdicts(live);
    CHECK(v.at("volume.1") == "INCONCLUSIVE");
    CHECK(v.at("event.2") == "INCONCLUSIVE");
    for (const auto& [id, verdict] : v) {
        CAPTURE(id);
        CHECK(verdict != "FAIL");
    }
    CHECK(read_file(tmp.path / "junit.xml").find("<failure") == std::string::npos);
    auto rep = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    CHECK(rep.exit_code == 3);
    const auto rebuilt = json::parse(read_file(dir / "record.rebuilt.json"));
    CHECK(verdicts(rebuilt) == v);
    CHECK(rebuilt.at("outcome") == "ABORTED");
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
    // Check by check: the same ids, verdicts and measured values as pumprig 0.1.0 judged. The
    // reservoir checks report their worst STATUS relative to the band, and the band is now taken
    // on the programmed volume (docs/checks.md, issue 14), so another STATUS can be the worst:
    // their verdicts must agree, their measured values need not. One check is new since
    // 0.1.0: stop.end, judged from the record's safe_stop (confirmed stopped: PASS).
    REQUIRE(rebuilt.at("checks").size() == original.at("checks").size() + 1);
    std::map<std::string, json> by_id;
    for (const auto& b : rebuilt.at("checks")) by_id[b.at("id").get<std::string>()] = b;
    REQUIRE(by_id.count("stop.end") == 1);
    CHECK(by_id["stop.end"].at("verdict") == "PASS");
    for (const auto& a : original.at("checks")) {
        const std::string id = a.at("id");
        CAPTURE(id);
        REQUIRE(by_id.count(id) == 1);
        const auto& b = by_id[id];
        CHECK(b.at("verdict") == a.at("verdict"));
        if (!id.starts_with("reservoir.")) CHECK(b.at("measured") == a.at("measured"));
    }
    CHECK(read_file(dir / "report.html").find("id=\"verdict\">PASS</span>") != std::string::npos);
}

TEST_CASE("a failed run's report reads summary first, plots next, the check table last, in Chromium") {
    TempDir tmp;
    auto r = run_command({kPumprig, "run", "--out", (tmp.path / "runs").string(), "--seed", "1", "--defect", "rate_high_8pct",
                          kSource + "/scenarios/functions/continuous.json"},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 1);  // a check failed
    const auto dirs = run_dirs(tmp.path / "runs");
    REQUIRE(dirs.size() == 1);
    const auto dom = chromium_dom(dirs[0] / "report.html");
    const auto summary = dom.find("<section id=\"summary\">");
    const auto not_passed = dom.find("id=\"not-passed\"");
    const auto plots = dom.find("<section id=\"plots\">");
    const auto flow = dom.find("<figure id=\"plot-flow\">");
    const auto table = dom.find("id=\"checks\"");
    REQUIRE(summary != std::string::npos);
    REQUIRE(not_passed != std::string::npos);
    REQUIRE(plots != std::string::npos);
    REQUIRE(flow != std::string::npos);
    REQUIRE(table != std::string::npos);
    CHECK(summary < not_passed);
    CHECK(not_passed < plots);
    CHECK(plots < flow);
    CHECK(flow < table);
    CHECK(dom.find("id=\"verdict\">FAIL</span>") < plots);
    // The failing checks of the record, and only those, are listed in the summary.
    const auto record = nlohmann::json::parse(read_file(dirs[0] / "record.json"));
    const std::string listed = dom.substr(not_passed, dom.find("</table>", not_passed) - not_passed);
    std::size_t failed = 0;
    for (const auto& c : record.at("checks")) {
        const auto id = ">" + c.at("id").get<std::string>() + "<";
        if (c.at("verdict") == "PASS") {
            CHECK(listed.find(id) == std::string::npos);
        } else {
            CHECK(listed.find(id) != std::string::npos);
            failed += c.at("verdict") == "FAIL";
        }
    }
    CHECK(failed >= 1);
    CHECK(dom.find("<path class=\"band-raw\" d=\"M") != std::string::npos);
    CHECK(dom.find("<details><summary>") > table);
}
