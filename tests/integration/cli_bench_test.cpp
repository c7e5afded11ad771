// pumprig driven as a user drives it, against the simulated bench over real pseudo-terminals.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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
    write_file(scenario, R"({"name": "long", "pump_profile": "itb-40",
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "500 ug/day"}]},
                 {"do": "start"}, {"do": "wait", "for": "30 d"} ]})");
    const auto out = tmp.path / "runs";
    // Run pumprig in the background; stop it once its record shows samples on disk.
    pid_t pid = -1;
    std::vector<std::string> argv{kPumprig, "run", "--out", out.string(), scenario.string()};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    REQUIRE(posix_spawn(&pid, kPumprig.c_str(), &fa, nullptr, args.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    // Wait (bounded) for the condition, not for a time: samples of the running pump on disk.
    bool running = false;
    for (int i = 0; i < 600 && !running; ++i) {
        if (fs::exists(out)) {
            for (const auto& e : fs::directory_iterator(out)) {
                const auto samples = read_file(e.path() / "samples.csv");
                running = std::count(samples.begin(), samples.end(), '\n') > 200;
            }
        }
        if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval, not a race
    }
    REQUIRE(running);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
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
