// Several channels on one bench, driven as a user drives pumprig: every channel runs the
// scenario at once with a record and a verdict of its own, a channel's trouble stays on that
// channel, and each channel meets its pump exactly as the same pump alone on a bench would.
#include <doctest/doctest.h>
#include <signal.h>

#include <array>
#include <sstream>
#include <thread>

#include "history/results_store.hpp"
#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;
using namespace std::chrono_literals;

namespace {

// The run folders below root, by channel name (folders are <stamp>-<scenario>-<channel>-s<seed>).
std::map<std::string, fs::path> runs_by_channel(const fs::path& root, const std::string& scenario) {
    std::map<std::string, fs::path> out;
    for (const auto& e : fs::directory_iterator(root)) {
        if (!e.is_directory()) continue;
        const auto record = root / e.path().filename() / "record.json";
        if (!fs::exists(record)) continue;
        const auto j = nlohmann::json::parse(read_text(record));
        if (j["scenario"]["name"] != scenario) continue;
        out[j["rig"]["channel"].get<std::string>()] = e.path();
    }
    return out;
}

// A three-channel simulated bench; `channel_extra` is added to each channel's object.
fs::path three_channel_rig(const fs::path& dir, const std::array<std::string, 3>& channel_extra) {
    const std::array<std::string, 3> names{"A", "B", "C"};
    std::string channels;
    for (std::size_t i = 0; i < 3; ++i)
        channels += std::string(i ? ", " : "") + R"({"name": ")" + names[i] + R"(", "simulator": {"pump_serial": "SIM010)" +
                    std::to_string(i + 1) + "\"" + channel_extra[i] + "}}";
    const auto f = dir / "sim-3ch.json";
    write_text(f, R"({"name": "sim-3ch", "simulator": {"time": "virtual"}, "pump": {"key": {"test_key": true}},
      "meter": {"link": "rtu", "parity": "none", "profile": ")" + source() + R"(/fixtures/meters/lf-2000.json"},
      "channels": [)" + channels + "]}");
    return f;
}

const char* kRecordFiles[] = {"samples.csv", "events.jsonl", "statuses.jsonl", "commands.jsonl"};

}  // namespace

TEST_CASE("channels: pumprig run runs a scenario on three channels at once, each as the same pump alone would") {
    TempDir tmp;
    const auto rig = three_channel_rig(tmp.path, {"", "", ""});
    const std::string scenario = source() + "/scenarios/functions/patient-bolus.json";
    auto r = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "runs").string(), "--junit",
                                (tmp.path / "junit.xml").string(), scenario},
                               600s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("patient-bolus [A]") != std::string::npos);
    CHECK(r.out.find("patient-bolus [C]") != std::string::npos);
    CHECK(r.out.find("3 of 3 scenarios passed") != std::string::npos);
    const auto runs = runs_by_channel(tmp.path / "runs", "patient-bolus");
    REQUIRE(runs.size() == 3);
    for (const auto& [name, dir] : runs) {
        CAPTURE(name);
        const auto record = nlohmann::json::parse(read_text(dir / "record.json"));
        CHECK(record["outcome"] == "PASS");
        CHECK(record["identity"]["pump"]["serial"] == "SIM010" + std::to_string(name[0] - 'A' + 1));
        CHECK(read_text(dir / "report.html").find("[channel " + name + "]") != std::string::npos);
    }
    // Each channel's suite in the JUnit file carries its channel.
    const auto junit = read_text(tmp.path / "junit.xml");
    for (const char* name : {"patient-bolus [A]", "patient-bolus [B]", "patient-bolus [C]"}) CHECK(junit.find(name) != std::string::npos);
    // The suite page lists the three runs.
    bool suite_found = false;
    for (const auto& e : fs::directory_iterator(tmp.path / "runs"))
        if (e.path().filename().string().starts_with("suite-")) {
            suite_found = true;
            const auto html = read_text(e.path() / "index.html");
            CHECK(html.find("patient-bolus [B]") != std::string::npos);
        }
    CHECK(suite_found);

    // Channel A's pump (seed and serial of channel 1) alone on a single-channel bench: the very
    // same bytes recorded, although on the three-channel bench time moved for all three at once.
    const auto single = tmp.path / "single.json";
    write_text(single, R"({"name": "sim", "simulator": {"time": "virtual", "pump_serial": "SIM0101"}, "pump": {"key": {"test_key": true}},
      "meter": {"link": "rtu", "parity": "none", "profile": ")" + source() + R"(/fixtures/meters/lf-2000.json"}})");
    auto alone = test::run_command({pumprig_binary(), "run", "--rig", single.string(), "--out", (tmp.path / "alone").string(), scenario}, 600s);
    INFO(alone.err);
    REQUIRE(alone.exit_code == 0);
    const auto alone_dir = only_run_dir(tmp.path / "alone");
    for (const char* f : kRecordFiles) {
        CAPTURE(f);
        CHECK(read_text(runs.at("A") / f) == read_text(alone_dir / f));
    }
    // Channel B is another pump and meter (other seeds): its samples are its own.
    CHECK(read_text(runs.at("B") / "samples.csv") != read_text(runs.at("A") / "samples.csv"));
}

TEST_CASE("channels: a defective pump on one channel and a failing meter on another leave the third channel's run untouched") {
    TempDir tmp;
    // B: a pump that delivers 8 % more than programmed (caught by the rate it reports);
    // C: a meter that freezes 60 s in (the run ends as a meter fault, ERROR).
    const auto rig = three_channel_rig(tmp.path, {"", R"(, "defects": ["rate_high_8pct"])", R"(, "meter_faults": ["frozen=60"])"});
    const std::string scenario = source() + "/scenarios/functions/continuous.json";
    auto r = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "runs").string(), scenario}, 600s);
    INFO(r.err);
    CHECK(r.exit_code == 3);  // a bench error (C's meter) outranks a failed check (B)
    const auto runs = runs_by_channel(tmp.path / "runs", "continuous");
    REQUIRE(runs.size() == 3);
    auto record = [&](const std::string& ch) { return nlohmann::json::parse(read_text(runs.at(ch) / "record.json")); };
    CHECK(record("A")["outcome"] == "PASS");
    CHECK(record("B")["outcome"] == "FAIL");
    CHECK(not_passed(record("B")).find("status.rate") != std::string::npos);
    CHECK(record("C")["outcome"] == "ERROR");
    CHECK(record("C")["error"].get<std::string>().find("meter") != std::string::npos);
    // Every pump was left stopped, the failed channels' too.
    for (const char* ch : {"[A] pump left stopped (confirmed)", "[B] pump left stopped (confirmed)", "[C] pump left stopped (confirmed)"})
        CHECK(r.err.find(ch) != std::string::npos);

    // A ran to the end exactly as on a bench of its own (same serial, same seed).
    fs::create_directories(tmp.path / "clean");
    auto clean = test::run_command(
        {pumprig_binary(), "run", "--rig", three_channel_rig(tmp.path / "clean", {"", "", ""}).string(), "--out", (tmp.path / "clean-runs").string(), scenario},
        600s);
    REQUIRE(clean.exit_code == 0);
    const auto clean_runs = runs_by_channel(tmp.path / "clean-runs", "continuous");
    for (const char* f : kRecordFiles) {
        CAPTURE(f);
        CHECK(read_text(runs.at("A") / f) == read_text(clean_runs.at("A") / f));
    }
}

TEST_CASE("channels: pumprig eol tests one unit per channel, one line and one history row each, an empty channel skipped") {
    TempDir tmp;
    const auto rig = three_channel_rig(tmp.path, {"", "", ""});
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    auto r = test::run_command({pumprig_binary(), "eol", "--rig", rig.string(), "--serial", "A=SIM0101", "--serial", "B=SN-WRONG", "--serial",
                                "C=-", "--station", "EOL-4", "--operator", "Ana Lima", "--history", history, "--out",
                                (tmp.path / "runs").string()},
                               600s);
    INFO(r.err);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    std::istringstream in(r.out);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    REQUIRE(out.size() == 2);
    CHECK(out[0].starts_with("[A] PASS SIM0101 eol-basic "));
    CHECK(out[1] == "[B] FAIL SN-WRONG serial-mismatch: the pump reports serial SIM0102, not SN-WRONG");
    auto store = history::open_store(history);
    REQUIRE(store);
    auto a = (*store)->runs_for("SIM0101", true);
    REQUIRE(a);
    REQUIRE(a->size() == 1);
    CHECK((*a)[0].verdict == "PASS");
    CHECK((*a)[0].rig == "sim-3ch/A");
    CHECK((*a)[0].station == "EOL-4");
    CHECK_FALSE((*a)[0].measurements.empty());
    auto b = (*store)->runs_for("SN-WRONG", true);
    REQUIRE(b);
    REQUIRE(b->size() == 1);
    CHECK((*b)[0].verdict == "FAIL");
    CHECK((*b)[0].rig == "sim-3ch/B");
    CHECK_FALSE((*b)[0].tested);
    // Only channel A ran the scenario.
    CHECK(runs_by_channel(tmp.path / "runs", "eol-basic").size() == 1);
}

TEST_CASE("channels: pumprig eol refuses serials for channels the rig does not have, and a serial given twice") {
    TempDir tmp;
    const auto rig = three_channel_rig(tmp.path, {"", "", ""});
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    auto base = [&](std::vector<std::string> serials) {
        std::vector<std::string> a{pumprig_binary(), "eol", "--rig", rig.string(), "--station", "S", "--operator", "O", "--history", history};
        for (const auto& s : serials) a.insert(a.end(), {"--serial", s});
        return test::run_command(a, 60s);
    };
    auto unknown = base({"A=SIM0101", "D=SIM0104"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("CHANNEL one of A, B, C") != std::string::npos);
    auto twice = base({"A=SIM0101", "B=SIM0101", "C=-"});
    CHECK(twice.exit_code == 2);
    CHECK(twice.err.find("given for two channels") != std::string::npos);
    auto missing = base({"A=SIM0101"});  // B and C not given, stdin not a terminal
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("for every channel") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "history.sqlite"));  // refused before the history was touched
}

TEST_CASE("channels: SIGTERM during a run on three channels stops every pump, confirms each and keeps what each measured") {
    TempDir tmp;
    const auto rig = three_channel_rig(tmp.path, {"", "", ""});
    const auto scenario = tmp.path / "long.json";
    write_text(scenario, R"({"name": "long", "pump_profile": "itb-40",
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "500 ug/day"}]},
                 {"do": "start"}, {"do": "wait", "for": "30 d"} ]})");
    const auto out = tmp.path / "runs";
    BackgroundRun run({pumprig_binary(), "run", "--rig", rig.string(), "--out", out.string(), scenario.string()}, tmp.path);
    // Wait (bounded) for the condition, not for a time: every channel's samples on disk.
    bool running = false;
    for (int i = 0; i < 600 && !running; ++i) {
        std::size_t with_samples = 0;
        if (fs::exists(out))
            for (const auto& e : fs::directory_iterator(out)) {
                const auto samples = read_text(e.path() / "samples.csv");
                with_samples += std::count(samples.begin(), samples.end(), '\n') > 200;
            }
        running = with_samples == 3;
        if (!running) std::this_thread::sleep_for(100ms);  // poll interval, not a race
    }
    REQUIRE(running);
    run.signal(SIGTERM);
    CHECK(run.wait() == 3);
    const auto runs = runs_by_channel(out, "long");
    REQUIRE(runs.size() == 3);
    for (const auto& [name, dir] : runs) {
        CAPTURE(name);
        const auto record = nlohmann::json::parse(read_text(dir / "record.json"));
        CHECK(record["outcome"] == "ABORTED");
        CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    }
    const auto err = run.err();
    for (const char* ch : {"[A] pump left stopped (confirmed)", "[B] pump left stopped (confirmed)", "[C] pump left stopped (confirmed)"})
        CHECK(err.find(ch) != std::string::npos);
}

TEST_CASE("channels: pumprig probe identifies every channel's pump and meter") {
    auto r = test::run_command({pumprig_binary(), "probe", "--rig", source() + "/rig/sim-3ch.json"}, 120s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    for (const char* s : {"channel A\n", "channel B\n", "channel C\n", "serial SIM0101", "serial SIM0102", "serial SIM0103", "SN=LF0001",
                          "SN=LF0002", "SN=LF0003"})
        CHECK(r.out.find(s) != std::string::npos);
    std::size_t ok = 0;
    for (auto at = r.out.find("probe   OK"); at != std::string::npos; at = r.out.find("probe   OK", at + 1)) ++ok;
    CHECK(ok == 3);
}
