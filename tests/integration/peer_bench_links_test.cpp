// Benches started separately from pumprig: pumprig-sim in real time, reached through ser2net (a
// serial port served over TCP, as shared labs do), and running 10 times faster than real time
// with a rig that states time_scale 10.
#include <doctest/doctest.h>

#include <fstream>

#include "bench/sim_process.hpp"
#include "peer_support.hpp"
#include "transport_test_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

// True once something listens on 127.0.0.1:port (seen in /proc/net/tcp, state 0A), within a
// wall-time bound. Readiness without connecting: a probing connection would hold ser2net's
// single client slot for a moment and could make pumprig's own connection be refused.
bool listening(int port, std::chrono::milliseconds bound) {
    char want[32];
    std::snprintf(want, sizeof want, "0100007F:%04X", port);
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in("/proc/net/tcp");
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string sl, local, remote, state;
            f >> sl >> local >> remote >> state;
            if (local == want && state == "0A") return true;
        }
        std::this_thread::sleep_for(10ms);  // poll interval of a bounded wait for a condition
    }
    return false;
}

std::string sim_rig_links(const bench::SimProcess& sim) {
    return R"("meter": {"link": "rtu", "device": ")" + sim.ready().at("meter") +
           R"(", "parity": "none", "profile": "fixtures/meters/lf-2000.json"})";
}

}  // namespace

TEST_CASE("pumprig probe reaches a separately started pumprig-sim through ser2net over TCP") {
    if (!testing::Ser2NetProcess::available()) {
        MESSAGE("ser2net is not installed: skipped");
        return;
    }
    auto sim = bench::SimProcess::start(sim_binary(), {"--time", "realtime", "--seed", "5"});
    REQUIRE_MESSAGE(sim.has_value(), (sim ? "" : sim.error().describe()));
    testing::Ser2NetProcess ser2net(sim->ready().at("pump"));
    REQUIRE(listening(ser2net.port(), 10s));
    TempDir tmp;
    const auto rig = tmp.path / "ser2net.json";
    write_text(rig, R"({"name": "ser2net-bench",
        "pump": {"backend": "tcp", "host": "127.0.0.1", "port": )" + std::to_string(ser2net.port()) +
                        R"(, "key": {"test_key": true}}, )" + sim_rig_links(*sim) + "}");
    auto r = test::run_command({pumprig_binary(), "probe", "--rig", rig.string()}, 60s);
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("model ITB-40, serial SIM0001") != std::string::npos);
    CHECK(r.out.find("authenticated") != std::string::npos);
    CHECK(r.out.find("pump    link tcp:127.0.0.1:" + std::to_string(ser2net.port())) != std::string::npos);
    CHECK(r.out.find("probe   OK") != std::string::npos);
    sim->stop();
}

TEST_CASE("a separately started pumprig-sim at speed 10 with time_scale 10 in the rig: probe and a short scenario") {
    auto sim = bench::SimProcess::start(sim_binary(), {"--time", "realtime", "--speed", "10", "--seed", "6"});
    REQUIRE_MESSAGE(sim.has_value(), (sim ? "" : sim.error().describe()));
    TempDir tmp;
    const auto rig = tmp.path / "fast-sim.json";
    write_text(rig, R"({"name": "fast-sim", "time_scale": 10,
        "pump": {"backend": "termios", "device": ")" + sim->ready().at("pump") +
                        R"(", "key": {"test_key": true}}, )" + sim_rig_links(*sim) + "}");
    auto probe = test::run_command({pumprig_binary(), "probe", "--rig", rig.string()}, 60s);
    INFO(probe.out);
    INFO(probe.err);
    REQUIRE(probe.exit_code == 0);
    CHECK(probe.out.find("probe   OK") != std::string::npos);

    const auto scenario = tmp.path / "short.json";
    write_text(scenario, R"({"name": "short-scaled", "pump_profile": "itb-40",
      "settings": {"sample_period": "1 s", "status_period": "10 s"},
      "steps": [ {"do": "set_clock"},
                 {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
                 {"do": "start", "label": "started"}, {"do": "wait", "for": "2 min"},
                 {"do": "stop", "label": "stopped"}, {"do": "wait", "for": "30 s"} ],
      "checks": [ {"check": "volume", "name": "volume delivered", "from": "started", "to": "stopped"} ]})");
    const auto out = tmp.path / "runs";
    const auto wall0 = std::chrono::steady_clock::now();
    auto run = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", out.string(), scenario.string()}, 300s);
    const auto wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    INFO(run.out);
    INFO(run.err);
    CHECK(run.exit_code == 0);
    const auto record = nlohmann::json::parse(read_text(only_run_dir(out) / "record.json"));
    INFO(not_passed(record));
    CHECK(record["outcome"] == "PASS");
    // The record's bench time spans the scenario's 2.5 min of waits, although far less wall
    // time passed (bound kept loose: a busy machine must not fail this).
    const double bench_s = (record["end_ms"].get<double>() - record["start_ms"].get<double>()) / 1000.0;
    CHECK(bench_s >= 150.0);
    CHECK(wall_s < bench_s / 2.0);
    // One sample per bench second, not per wall second.
    const auto samples = read_text(only_run_dir(out) / "samples.csv");
    CHECK(static_cast<double>(std::count(samples.begin(), samples.end(), '\n')) > bench_s / 2.0);
    sim->stop();
}
