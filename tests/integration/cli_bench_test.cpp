// pumprig driven as a user drives it, against the simulated bench over real pseudo-terminals.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/sim_process.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace pumprig::test;  // TempDir, read_file, run_command, kSource, kPumprig, kSim, kPython, write_file

namespace {

// The single run folder below `root`.
fs::path only_run_dir(const fs::path& root) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory()) dirs.push_back(e.path());
    REQUIRE(dirs.size() == 1);
    return dirs[0];
}

// A scenario that pumps for 30 days: a run long enough to be ended by a signal.
std::string month_long(const std::string& name) {
    return R"({"name": ")" + name + R"(", "pump_profile": "itb-40",
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "500 ug/day"}]},
                 {"do": "start"}, {"do": "wait", "for": "30 d"} ]})";
}

// Waits (bounded, for the condition, not for a time) until `runs` run folders below `out` hold
// samples of a running pump, then sends SIGTERM to pumprig: its exit code, -1 if those runs
// never came or it did not exit.
int terminate_once_running(pid_t pid, const fs::path& out, std::size_t runs) {
    std::size_t running = 0;
    for (int i = 0; i < 600 && running < runs; ++i) {
        running = 0;
        if (fs::exists(out)) {
            for (const auto& e : fs::directory_iterator(out)) {
                const auto samples = read_file(e.path() / "samples.csv");
                running += std::count(samples.begin(), samples.end(), '\n') > 200;
            }
        }
        if (running < runs) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval, not a race
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    return running >= runs && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("pumprig probe identifies pump and meter on the default simulated bench") {
    auto r = run_command({kPumprig, "probe", "--rig", kSource + "/rig/sim.json"}, std::chrono::seconds(60));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("model ITB-40, serial SIM0001") != std::string::npos);
    CHECK(r.out.find("authenticated") != std::string::npos);
    CHECK(r.out.find("state STOPPED") != std::string::npos);
    CHECK(r.out.find("LF-2000,SN=LF0001") != std::string::npos);
    CHECK(r.out.find("probe   OK") != std::string::npos);
}

TEST_CASE("pumprig probe reads the simulated meter over Modbus TCP when the rig says so") {
    TempDir tmp;
    const auto rig = tmp.path / "sim-tcp.json";
    write_file(rig, R"({"name": "sim-tcp", "simulator": {"meter_over_tcp": true},
        "pump": {"key": {"test_key": true}}, "meter": {"link": "tcp", "profile": ")" + kSource + R"(/fixtures/meters/lf-2000.json"}})");
    auto r = run_command({kPumprig, "probe", "--rig", rig.string()}, std::chrono::seconds(60));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("TCP 127.0.0.1:") != std::string::npos);
    CHECK(r.out.find("LF-2000,SN=LF0001") != std::string::npos);
}

TEST_CASE("pumprig probe names the pump link and exits 3 when the device is missing") {
    TempDir tmp;
    const auto rig = tmp.path / "broken.json";
    write_file(rig, R"({"name": "broken", "pump": {"backend": "termios", "device": "/dev/pumprig-no-such-port", "key": {"test_key": true}},
        "meter": {"link": "rtu", "device": "/dev/pumprig-no-such-meter"}})");
    auto r = run_command({kPumprig, "probe", "--rig", rig.string()}, std::chrono::seconds(30));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("pump link") != std::string::npos);
    CHECK(r.err.find("/dev/pumprig-no-such-port") != std::string::npos);
}

TEST_CASE("a rig description with an unknown key is refused with its JSON pointer") {
    TempDir tmp;
    const auto rig = tmp.path / "typo.json";
    write_file(rig, R"({"name": "typo", "pump": {"backend": "termios", "device": "/dev/x", "baudrate": 9600, "key": {"test_key": true}}, "meter": {"device": "/dev/y"}})");
    auto r = run_command({kPumprig, "probe", "--rig", rig.string()}, std::chrono::seconds(30));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/pump/baudrate") != std::string::npos);
    CHECK(r.err.find(rig.string()) != std::string::npos);
}

TEST_CASE("rig mistakes only the simulator used to notice are pumprig's bad input, before anything starts") {
    // Issue 15: a missing meter profile, a negative line constant, a bad fault option and a key
    // written twice ended as the simulator's message (exit 141 or 3) or were taken silently.
    TempDir tmp;
    const std::string scenario = kSource + "/scenarios/functions/continuous.json";
    struct Case {
        const char* simulator;
        const char* meter;
        const char* pointer;
    };
    const Case cases[] = {
        {R"({"time": "virtual"})", R"({"parity": "none", "profile": "fixtures/meters/no-such-meter.json"})", ":at /meter/profile:"},
        {R"({"time": "virtual", "line_tau_s": -20})", R"({"parity": "none"})", ":at /simulator/line_tau_s:"},
        {R"({"time": "virtual", "faults": ["--fault-at", "600:pump_unplugged"]})", R"({"parity": "none"})", ":at /simulator/faults/1:"},
        {R"({"time": "virtual", "speed": 1, "speed": 2})", R"({"parity": "none"})", ":at /simulator/speed: key written twice"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.pointer);
        const auto rig = tmp.path / "rig.json";
        write_file(rig, std::string(R"({"name": "bad", "simulator": )") + c.simulator +
                            R"(, "pump": {"key": {"test_key": true}}, "meter": )" + c.meter + "}");
        auto r = run_command({kPumprig, "run", "--rig", rig.string(), "--out", (tmp.path / "runs").string(), scenario},
                             std::chrono::seconds(60));
        INFO(r.err);
        CHECK(r.exit_code == 2);
        // "<file>:<line>:<column>: at <pointer>: ..."
        const auto at = r.err.find(rig.string() + ":");
        REQUIRE(at != std::string::npos);
        const std::string pointer = std::string(c.pointer).substr(1);
        CHECK(r.err.find(": " + pointer, at) != std::string::npos);
        CHECK_FALSE(fs::exists(tmp.path / "runs"));  // nothing was started
    }
}

TEST_CASE("pumprig validate names file, line, column and pointer, and exits 2") {
    TempDir tmp;
    const auto bad = tmp.path / "bad.json";
    write_file(bad, "{\n  \"name\": \"bad\",\n  \"pump_profile\": \"itb-40\",\n  \"steps\": [\n    { \"do\": \"refill\", \"volume\": \"20 mL/day\", \"concentration\": \"500 ug/mL\" }\n  ]\n}\n");
    auto r = run_command({kPumprig, "validate", bad.string()}, std::chrono::seconds(30));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(bad.string() + ":5:") != std::string::npos);
    CHECK(r.err.find("/steps/0/volume") != std::string::npos);
    auto ok = run_command({kPumprig, "validate", kSource + "/scenarios"}, std::chrono::seconds(30));
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
}

TEST_CASE("pumprig run passes a conforming continuous program and writes the run record") {
    TempDir tmp;
    auto r = run_command({kPumprig, "run", "--out", tmp.path.string(), kSource + "/scenarios/functions/continuous.json"},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("1 of 1 scenarios passed") != std::string::npos);
    const auto dir = only_run_dir(tmp.path);
    const auto record = nlohmann::json::parse(read_file(dir / "record.json"));
    CHECK(record["state"] == "COMPLETE");
    CHECK(record["outcome"] == "PASS");
    CHECK(record["identity"]["pump"]["serial"] == "SIM0001");
    CHECK(record["scenario"]["sha256"].get<std::string>().size() == 64);
    CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    CHECK(record["checks"].size() >= 5);
    // 6 h at 1 s plus set-up: one CSV row per sample.
    const auto samples = read_file(dir / "samples.csv");
    CHECK(std::count(samples.begin(), samples.end(), '\n') > 6 * 3600);
    // The trace has the exchange but never the key or the AUTH mac.
    const auto trace = read_file(dir / "trace.log");
    CHECK(trace.find(",HELLO*") != std::string::npos);
    CHECK(trace.find("mac=<redacted>") != std::string::npos);
    CHECK(trace.find("000102030405060708090A0B0C0D0E0F") == std::string::npos);
    CHECK(trace.find("000102030405060708090a0b0c0d0e0f") == std::string::npos);
}

TEST_CASE("the scenario library passes on the simulated bench") {
    TempDir tmp;
    auto r = run_command({kPumprig, "run", "--out", tmp.path.string(), kSource + "/scenarios"}, std::chrono::seconds(900));
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(" FAIL ") == std::string::npos);
}

TEST_CASE("SIGTERM during a run stops the pump, confirms it and keeps what was measured") {
    TempDir tmp;
    const auto scenario = tmp.path / "long.json";
    write_file(scenario, month_long("long"));
    const auto out = tmp.path / "runs";
    // Run pumprig in the background; stop it once its record shows samples on disk.
    const pid_t pid = spawn_quietly({kPumprig, "run", "--out", out.string(), scenario.string()});
    REQUIRE(pid > 0);
    CHECK(terminate_once_running(pid, out, 1) == 3);
    const auto dir = only_run_dir(out);
    const auto record = nlohmann::json::parse(read_file(dir / "record.json"));
    CHECK(record["state"] == "INCOMPLETE");
    CHECK(record["outcome"] == "ABORTED");
    CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    const auto samples = read_file(dir / "samples.csv");
    CHECK(std::count(samples.begin(), samples.end(), '\n') > 200);
}

TEST_CASE("the simulator process answers its control channel and refuses unknown commands") {
    auto sim = pumprig::bench::SimProcess::start(kSim, {"--seed", "7"});
    REQUIRE(sim);
    CHECK(sim->ready().at("mode") == "virtual");
    CHECK(sim->ready().at("pump").starts_with("/dev/pts/"));
    const auto t0 = sim->clock();
    auto t1 = sim->advance(pumprig::Millis{2500});
    REQUIRE(t1);
    CHECK((*t1 - t0) == pumprig::Millis{2500});
    auto bad = sim->command("FLY");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().received.find("unknown command") != std::string::npos);
    CHECK(sim->command("FAULT air 5"));
    CHECK_FALSE(sim->command("FAULT battery 150"));
    sim->stop();
}

namespace {

// scenario name -> (check id -> verdict), from every run folder below root.
std::map<std::string, std::map<std::string, std::string>> verdicts_by_scenario(const fs::path& root) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& e : fs::directory_iterator(root)) {
        if (!fs::exists(e.path() / "record.json")) continue;
        const auto record = nlohmann::json::parse(read_file(e.path() / "record.json"));
        auto& checks = out[record["scenario"]["name"].get<std::string>()];
        for (const auto& c : record["checks"]) checks[c["id"].get<std::string>()] = c["verdict"].get<std::string>();
    }
    return out;
}

}  // namespace

TEST_CASE("the scenario library gives the same verdicts in variant mode as on the default simulator") {
    TempDir tmp;
    const auto plain = tmp.path / "plain", variant = tmp.path / "variant";
    auto a = run_command({kPumprig, "run", "--out", plain.string(), kSource + "/scenarios"}, std::chrono::seconds(900));
    auto b = run_command({kPumprig, "run", "--rig", kSource + "/rig/sim-variant.json", "--out", variant.string(), kSource + "/scenarios"},
                         std::chrono::seconds(900));
    INFO(b.err);
    CHECK(a.exit_code == 0);
    CHECK(b.exit_code == 0);
    const auto va = verdicts_by_scenario(plain), vb = verdicts_by_scenario(variant);
    CHECK(va.size() >= 14);
    CHECK(va == vb);
    // Variant mode really varied the link: BUSY answers and unknown keys are in the traces.
    std::size_t busy = 0, extra_keys = 0;
    for (const auto& e : fs::directory_iterator(variant)) {
        const auto trace = read_file(e.path() / "trace.log");
        busy += trace.find("code=BUSY") != std::string::npos;
        extra_keys += trace.find("x_diag=") != std::string::npos;
    }
    CHECK(busy > 0);
    CHECK(extra_keys > 0);
}

namespace {

// Run folders below root by scenario name (one run of each scenario).
std::map<std::string, fs::path> runs_by_scenario(const fs::path& root) {
    std::map<std::string, fs::path> out;
    for (const auto& e : fs::directory_iterator(root)) {
        if (!fs::exists(e.path() / "record.json")) continue;
        const auto record = nlohmann::json::parse(read_file(e.path() / "record.json"));
        out[record["scenario"]["name"].get<std::string>()] = e.path();
    }
    return out;
}

// The summary table's rows without the record column (whose folder names carry the wall time).
std::vector<std::string> summary_rows(const std::string& out) {
    std::vector<std::string> rows;
    std::istringstream in(out);
    bool table = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("scenario ")) table = true;
        else if (table && line.find("scenarios passed") != std::string::npos) rows.push_back(line);
        else if (table && line.size() > 64 && !line.starts_with("suite page")) rows.push_back(line.substr(0, 64));
    }
    return rows;
}

// trace.log with the reads that came in one piece at one instant joined: how the bytes of one
// instant were split between reads depends on the scheduler, not on what crossed the link.
std::string joined_trace(const std::string& text) {
    std::string out, last_head;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::size_t head_end = 0;
        for (int field = 0; field < 3 && head_end != std::string::npos; ++field) head_end = line.find(' ', head_end + (field ? 1 : 0));
        const std::string head = line.substr(0, head_end), bytes = head_end == std::string::npos ? "" : line.substr(head_end + 1);
        if (head == last_head) {
            out += bytes;
        } else {
            out += (out.empty() ? "" : "\n") + line;
            last_head = head;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("pumprig run --jobs 3 writes the same records, summary and exit code as one scenario at a time") {
    TempDir tmp;
    // Four short scenarios, the longest (continuous) given first and the shortest second; a pump
    // delivering 8 % too much fails them, with other checks failing in each.
    std::vector<std::string> scenarios;
    for (const char* s : {"continuous", "range-refusals", "stop-start", "patient-bolus"})
        scenarios.push_back(kSource + "/scenarios/functions/" + s + ".json");
    auto run = [&](const std::string& jobs) {
        std::vector<std::string> argv{kPumprig, "run", "--jobs", jobs, "--defect", "rate_high_8pct", "--out", (tmp.path / jobs).string(),
                                      "--junit", (tmp.path / (jobs + ".xml")).string()};
        argv.insert(argv.end(), scenarios.begin(), scenarios.end());
        return run_command(argv, std::chrono::seconds(900));
    };
    const auto one = run("1"), three = run("3");
    INFO(one.err);
    INFO(three.err);
    CHECK(one.exit_code == 1);
    CHECK(three.exit_code == one.exit_code);
    const auto rows = summary_rows(one.out);
    CHECK(rows.size() == 5);
    CHECK(summary_rows(three.out) == rows);
    CHECK(one.out.find(" FAIL ") != std::string::npos);
    // The JUnit file lists the scenarios in the order given, whichever finished first.
    auto suite_names = [](const std::string& xml) {
        std::vector<std::string> names;
        for (auto at = xml.find("<testsuite name=\""); at != std::string::npos; at = xml.find("<testsuite name=\"", at + 1))
            names.push_back(xml.substr(at + 17, xml.find('"', at + 17) - at - 17));
        return names;
    };
    const auto junit_one = suite_names(read_file(tmp.path / "1.xml"));
    CHECK(junit_one.size() == 4);
    CHECK(suite_names(read_file(tmp.path / "3.xml")) == junit_one);
    // Each scenario's lines come out whole and together, under its heading.
    for (const char* name : {"continuous", "stop-start"}) {
        const auto heading = three.err.find(std::string("== ") + name + " (");
        REQUIRE(heading != std::string::npos);
        const auto next = three.err.find("\n== ", heading);
        const auto block = three.err.substr(heading, next == std::string::npos ? std::string::npos : next - heading);
        CHECK(block.find("pump left stopped (confirmed)") != std::string::npos);
        CHECK(block.find(std::string("-") + name + "-s1") != std::string::npos);  // its own run folder, not another's
    }

    const auto a = runs_by_scenario(tmp.path / "1"), b = runs_by_scenario(tmp.path / "3");
    REQUIRE(a.size() == 4);
    REQUIRE(b.size() == 4);
    for (const auto& [name, dir] : a) {
        CAPTURE(name);
        REQUIRE(b.count(name));
        for (const char* f : {"samples.csv", "events.jsonl", "statuses.jsonl", "commands.jsonl"}) {
            CAPTURE(f);
            CHECK(read_file(dir / f) == read_file(b.at(name) / f));
        }
        CHECK(joined_trace(read_file(dir / "trace.log")) == joined_trace(read_file(b.at(name) / "trace.log")));
        // record.json: all of it (its times are bench times, virtual), but the simulator's
        // pseudo-terminals, which the system names anew for each simulator.
        auto ra = nlohmann::json::parse(read_file(dir / "record.json")), rb = nlohmann::json::parse(read_file(b.at(name) / "record.json"));
        CHECK(ra["rig"]["pump_link"].get<std::string>().starts_with("termios:/dev/pts/"));
        for (auto* r : {&ra, &rb}) {
            (*r)["rig"].erase("pump_link");
            (*r)["rig"].erase("meter_link");
        }
        CHECK(ra.dump(1) == rb.dump(1));
    }
}

TEST_CASE("pumprig run --jobs above 1 is refused on a bench pumprig does not start, and --jobs below 1 everywhere") {
    // A separately started simulator (or hardware) is one bench: runs at once would share it.
    const auto separate = kSource + "/rig/separate-sim.example.json";
    const auto scenario = kSource + "/scenarios/functions/continuous.json";
    auto refused = run_command({kPumprig, "run", "--rig", separate, "--jobs", "2", scenario}, std::chrono::seconds(60));
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("--jobs 2: scenarios run at once only on a simulated bench") != std::string::npos);
    // Without --jobs that bench runs one scenario at a time (here: its example device is absent,
    // a bench error, not bad input).
    auto plain = run_command({kPumprig, "run", "--rig", separate, scenario}, std::chrono::seconds(60));
    CHECK(plain.exit_code == 3);
    CHECK(plain.err.find("--jobs") == std::string::npos);
    for (const char* bad : {"0", "-1", "two"}) {
        CAPTURE(bad);
        auto r = run_command({kPumprig, "run", std::string("--jobs=") + bad, scenario}, std::chrono::seconds(60));
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("--jobs") != std::string::npos);
    }
}

TEST_CASE("SIGTERM during pumprig run --jobs 2 stops both runs, confirms both pumps stopped and starts no other") {
    TempDir tmp;
    std::vector<std::string> argv{kPumprig, "run", "--jobs", "2", "--out", (tmp.path / "runs").string()};
    for (const char* name : {"long-a", "long-b", "long-c"}) {
        const auto scenario = tmp.path / (std::string(name) + ".json");
        write_file(scenario, month_long(name));
        argv.push_back(scenario.string());
    }
    const auto out = tmp.path / "runs";
    const pid_t pid = spawn_quietly(argv);
    REQUIRE(pid > 0);
    // Both runs at once with samples of a running pump on disk (one at a time, the first would
    // pump for 30 days before the second began).
    CHECK(terminate_once_running(pid, out, 2) == 3);
    const auto runs = runs_by_scenario(out);
    CHECK(runs.size() == 2);  // the third never started
    CHECK_FALSE(runs.count("long-c"));
    for (const auto& [name, dir] : runs) {
        CAPTURE(name);
        const auto record = nlohmann::json::parse(read_file(dir / "record.json"));
        CHECK(record["outcome"] == "ABORTED");
        CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    }
}
