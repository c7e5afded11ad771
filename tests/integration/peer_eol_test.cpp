// The end-of-line scenario on benches other than the default simulated one: against the Python
// pump peer (a pump written from the ICD alone, with an LF-2000 served by pymodbus and fed by
// that pump's delivery), started separately and running 10 times faster than real time, and on
// pumprig-sim with the second meter profile (another register map, word order and types).
#include <doctest/doctest.h>

#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

const std::string kEol = "/scenarios/eol/eol-basic.json";

struct RunOutcome {
    int exit_code = -1;
    nlohmann::json record;
    std::string log;
};

RunOutcome run_scenario(const fs::path& rig, const fs::path& out, const std::string& scenario) {
    auto r = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", out.string(), scenario}, 300s);
    RunOutcome o{r.exit_code, {}, r.out + r.err};
    const auto dir = only_run_dir(out);
    o.record = nlohmann::json::parse(read_text(dir / "record.json"));
    return o;
}

}  // namespace

// With a real (or independent) pump the STEP event sent during START is stamped by the pump's
// clock, which maps a few bench ms before the START command's recorded time: the event checks
// allow the clock mapping's tolerance at the window's edges.
TEST_CASE("eol-basic passes against the Python pump peer at 10x with time_scale 10 in the rig") {
    PeerProcess peer("pump_peer.py", {"--speed", "10", "--seed", "21", "--meter-tcp", "0"});
    const auto [host, port] = peer.host_port("meter_tcp");
    TempDir tmp;
    const auto rig = tmp.path / "python-peer.json";
    write_text(rig, R"({"name": "python-peer", "time_scale": 10,
        "pump": {"backend": "termios", "device": ")" + peer.at("pump") + R"(", "key": {"test_key": true}},
        "meter": {"link": "tcp", "host": ")" + host + R"(", "port": )" + std::to_string(port) +
                        R"(, "profile": "fixtures/meters/lf-2000.json"}})");
    auto run = run_scenario(rig, tmp.path / "runs", source() + kEol);
    INFO(run.log);
    INFO(not_passed(run.record));
    CHECK(run.exit_code == 0);
    CHECK(run.record["outcome"] == "PASS");
    CHECK(run.record["identity"]["pump"]["serial"] == "PYP0001");
    CHECK(run.record["identity"]["meter"].get<std::string>().starts_with("LF-2000,SN=PYM0001"));
    CHECK(run.record["safe_stop"]["confirmed_stopped"] == true);
    // Every check of the scenario ran and passed: none was left INCONCLUSIVE for want of data.
    CHECK(run.record["checks"].size() >= 15);
    CHECK(not_passed(run.record).empty());
}

TEST_CASE("eol-basic gives the same verdicts on pumprig-sim with the LF-2000 and the example float mL profile") {
    TempDir tmp;
    std::vector<std::pair<std::string, std::string>> results[2];
    const char* profiles[2] = {"fixtures/meters/lf-2000.json", "fixtures/meters/example-float-ml.json"};
    for (int i = 0; i < 2; ++i) {
        const auto rig = tmp.path / ("sim-" + std::to_string(i) + ".json");
        write_text(rig, std::string(R"({"name": "sim-profile", "simulator": {"time": "virtual"},
            "pump": {"key": {"test_key": true}},
            "meter": {"link": "rtu", "parity": "none", "profile": ")") + profiles[i] + R"("}})");
        auto run = run_scenario(rig, tmp.path / ("runs-" + std::to_string(i)), source() + kEol);
        INFO(profiles[i]);
        INFO(run.log);
        REQUIRE(run.record["state"] == "COMPLETE");
        results[i] = verdicts(run.record);
        // The run really identified the meter through this profile.
        CHECK(run.record["identity"]["meter"].get<std::string>().starts_with(i == 0 ? "LF-2000" : "EXAMPLE-FM"));
    }
    REQUIRE(!results[0].empty());
    CHECK(results[0] == results[1]);
}
