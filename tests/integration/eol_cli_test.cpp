// pumprig eol and pumprig history as a production station drives them, on the simulated bench
// (its pump reports serial SIM0001), with the history in SQLite and in a real PostgreSQL server.
#include <doctest/doctest.h>
#include <signal.h>

#include <sstream>
#include <thread>

#include "history/results_store.hpp"
#include "history_postgres.hpp"
#include "peer_support.hpp"
#include "support/history_checks.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

std::vector<std::string> eol_args(const std::string& serial, const std::string& history, const fs::path& out) {
    return {pumprig_binary(), "eol", "--serial", serial, "--station", "EOL-1", "--operator", "Ana Lima", "--history", history,
            "--out", out.string()};
}

}  // namespace

TEST_CASE("pumprig eol passes the simulated unit with one PASS line and records every check") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    auto args = eol_args("SIM0001", history, tmp.path / "runs");
    args.insert(args.end(), {"--junit", (tmp.path / "eol.xml").string()});
    auto r = test::run_command(args, 600s);
    INFO(r.err);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    // stdout is exactly one line: the verdict, for the operator and for a line controller.
    const auto out = lines(r.out);
    REQUIRE(out.size() == 1);
    const auto record = nlohmann::json::parse(read_text(only_run_dir(tmp.path / "runs") / "record.json"));
    const auto n = record["checks"].size();
    CHECK(n >= 5);
    CHECK(out[0] == "PASS SIM0001 eol-basic " + std::to_string(n) + "/" + std::to_string(n) + " checks");
    CHECK(read_text(tmp.path / "eol.xml").find("<testsuite") != std::string::npos);

    auto store = history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_for("SIM0001", true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    const auto& run = (*runs)[0];
    CHECK(run.verdict == "PASS");
    CHECK(run.tested);
    CHECK(run.model == "ITB-40");
    CHECK(run.firmware == record["identity"]["pump"]["firmware"].get<std::string>());
    CHECK(run.station == "EOL-1");
    CHECK(run.operator_name == "Ana Lima");
    CHECK(run.scenarios == "eol-basic");
    CHECK(run.started_at <= run.ended_at);
    REQUIRE(run.measurements.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(run.measurements[i].check_id == record["checks"][i]["id"].get<std::string>());
        CHECK(run.measurements[i].verdict == record["checks"][i]["verdict"].get<std::string>());
    }

    // pumprig history lists the run and exports every measurement to CSV.
    const auto csv = tmp.path / "sim0001.csv";
    auto h = test::run_command({pumprig_binary(), "history", "SIM0001", "--history", history, "--csv", csv.string()}, 60s);
    INFO(h.err);
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("EOL-1") != std::string::npos);
    CHECK(h.out.find("PASS") != std::string::npos);
    CHECK(h.out.find(std::to_string(n) + "/" + std::to_string(n)) != std::string::npos);
    CHECK(h.out.find("1 runs of SIM0001") != std::string::npos);
    const auto rows = lines(read_text(csv));
    CHECK(rows.size() == n + 1);  // header and one row per measurement
}

TEST_CASE("pumprig eol refuses a serial the pump does not report and records the attempt without using a retest") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    auto r = test::run_command(eol_args("SN0002", history, tmp.path / "runs"), 120s);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out == "FAIL SN0002 serial-mismatch: the pump reports serial SIM0001, not SN0002\n");
    CHECK_FALSE(fs::exists(tmp.path / "runs"));  // nothing was run
    auto store = history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_for("SN0002", true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].verdict == "FAIL");
    CHECK((*runs)[0].reported_serial == "SIM0001");
    CHECK((*runs)[0].reason.find("serial-mismatch") != std::string::npos);
    CHECK_FALSE((*runs)[0].tested);
    CHECK(*(*store)->tested_runs("SN0002") == 0);
}

TEST_CASE("pumprig eol refuses a unit that used up its retests, before touching the bench") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    {
        auto store = history::open_store(history);
        REQUIRE(store);
        history::RunRecord earlier;
        earlier.serial = "SIM0001";
        earlier.station = "EOL-2";
        earlier.operator_name = "Bo";
        earlier.started_at = earlier.ended_at = "2026-01-01T08:00:00.000Z";
        earlier.verdict = "FAIL";
        earlier.tested = true;
        for (int i = 0; i < 2; ++i) REQUIRE((*store)->record_run(earlier));
    }
    auto args = eol_args("SIM0001", history, tmp.path / "runs");
    args.insert(args.end(), {"--max-retests", "1"});
    auto r = test::run_command(args, 60s);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    REQUIRE(lines(r.out).size() == 1);
    CHECK(r.out.starts_with("FAIL SIM0001 retest-limit: 2 tests recorded"));
    CHECK(r.out.find("at most 1 test and 1 retests allowed") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "runs"));
    auto store = history::open_store(history);
    REQUIRE(store);
    CHECK((*store)->runs_for("SIM0001", false)->size() == 2);  // the refusal is not a run
}

TEST_CASE("pumprig eol names the first failed check in its FAIL line and records the failure") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    // The simulated pump raises no LOW_RES alarm with a full reservoir: this check fails.
    const auto scenarios = short_eol(tmp.path / "eol",
                                     R"({"check": "event", "name": "low reservoir alarm", "event": {"type": "ALARM", "code": "LOW_RES", "state": "SET"}, "from": "started", "to": "stopped"})");
    auto args = eol_args("SIM0001", history, tmp.path / "runs");
    args.insert(args.end(), {"--scenarios", scenarios.string()});
    auto r = test::run_command(args, 300s);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 1);
    const auto record = nlohmann::json::parse(read_text(only_run_dir(tmp.path / "runs") / "record.json"));
    std::string failed_id;
    for (const auto& c : record["checks"])
        if (c["verdict"] == "FAIL" && failed_id.empty()) failed_id = c["id"].get<std::string>();
    REQUIRE_FALSE(failed_id.empty());
    CHECK(out[0].starts_with("FAIL SIM0001 " + failed_id + ": FAIL low reservoir alarm: measured "));
    auto store = history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_for("SIM0001", true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].verdict == "FAIL");
    CHECK((*runs)[0].reason.starts_with(failed_id + ": "));
    CHECK((*runs)[0].measurements.size() == record["checks"].size());
}

TEST_CASE("pumprig eol and pumprig history with the history on a PostgreSQL server") {
    test::PostgresServer pg;
    REQUIRE_MESSAGE(pg.ok(), pg.problem());
    TempDir tmp;
    const auto scenarios = short_eol(tmp.path / "eol");
    auto args = eol_args("SIM0001", pg.conninfo(), tmp.path / "runs");
    args.insert(args.end(), {"--scenarios", scenarios.string()});
    auto r = test::run_command(args, 300s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.starts_with("PASS SIM0001 eol-short "));
    CHECK(r.err.find("postgresql 127.0.0.1:" + std::to_string(pg.port()) + "/postgres") != std::string::npos);
    // A second station reads it through the URI form.
    auto h = test::run_command({pumprig_binary(), "history", "SIM0001", "--history", pg.uri()}, 60s);
    INFO(h.err);
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("1 runs of SIM0001") != std::string::npos);
    CHECK(h.out.find("Ana Lima") != std::string::npos);
    auto store = history::open_store(pg.conninfo());
    REQUIRE(store);
    auto runs = (*store)->runs_for("SIM0001", true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].verdict == "PASS");
    CHECK_FALSE((*runs)[0].measurements.empty());
}

TEST_CASE("pumprig eol refuses bad input before the bench: no station, no serial without a terminal, a bad history string") {
    TempDir tmp;
    auto no_station = test::run_command({pumprig_binary(), "eol", "--serial", "SIM0001", "--operator", "Ana"}, 30s);
    CHECK(no_station.exit_code == 2);
    CHECK(no_station.err.find("--station") != std::string::npos);
    // stdin is /dev/null here: no terminal to scan a serial into.
    auto no_serial = test::run_command({pumprig_binary(), "eol", "--station", "S", "--operator", "Ana"}, 30s);
    CHECK(no_serial.exit_code == 2);
    CHECK(no_serial.err.find("--serial") != std::string::npos);
    auto spaced = test::run_command({pumprig_binary(), "eol", "--serial", "SN 1", "--station", "S", "--operator", "Ana"}, 30s);
    CHECK(spaced.exit_code == 2);
    CHECK(spaced.err.find("printable characters without spaces") != std::string::npos);
    auto bad_history = test::run_command(eol_args("SIM0001", "mysql://x/y", tmp.path / "runs"), 30s);
    CHECK(bad_history.exit_code == 2);
    CHECK(bad_history.err.find("sqlite:FILE") != std::string::npos);
    CHECK(bad_history.out.empty());
}

TEST_CASE("SIGTERM during pumprig eol stops the pump, records the run as ABORTED and prints one FAIL line") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    const auto dir = tmp.path / "eol";
    fs::create_directories(dir);
    write_text(dir / "eol-long.json", R"({"name": "eol-long", "tags": ["eol"], "pump_profile": "itb-40",
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "500 ug/day"}]},
                 {"do": "start", "label": "started"}, {"do": "wait", "for": "30 d"} ],
      "checks": [ {"check": "volume", "from": "started", "to": "end"} ]})");
    const auto runs_dir = tmp.path / "runs";
    // Output to files: the final line is read after the process ends.
    auto args = eol_args("SIM0001", history, runs_dir);
    args.insert(args.end(), {"--scenarios", dir.string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const auto out_file = tmp.path / "stdout";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    REQUIRE(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    // Wait (bounded) for the condition: samples of the running pump on disk.
    bool running = false;
    for (int i = 0; i < 600 && !running; ++i) {
        if (fs::exists(runs_dir))
            for (const auto& e : fs::directory_iterator(runs_dir)) {
                const auto samples = read_text(e.path() / "samples.csv");
                running = std::count(samples.begin(), samples.end(), '\n') > 200;
            }
        if (!running) std::this_thread::sleep_for(100ms);  // poll interval, not a race
    }
    if (!running) kill(pid, SIGKILL);
    REQUIRE(running);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
    const auto out = lines(read_text(out_file));
    REQUIRE(out.size() == 1);
    CHECK(out[0].starts_with("FAIL SIM0001 run: aborted"));
    const auto record = nlohmann::json::parse(read_text(only_run_dir(runs_dir) / "record.json"));
    CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    // A stopped run says nothing about the unit: it spends no retest (issue 15).
    const auto runs = test::untested_runs(history, "SIM0001", false);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].verdict == "ABORTED");
}

TEST_CASE("pumprig eol: a bench error is ERROR in the history, never a tested FAIL, and spends no retest") {
    // Issue 15: the meter freezes 60 s into the run (a bench problem, the run ends as ERROR).
    // With no retest allowed, a second attempt must still be tested, not refused.
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    const auto scenarios = short_eol(tmp.path / "eol");
    const auto rig = tmp.path / "rig.json";
    write_text(rig, R"({"name": "sim-frozen-meter", "simulator": {"time": "virtual", "meter_faults": ["frozen=60"]},
                       "pump": {"key": {"test_key": true}}, "meter": {"parity": "none"}})");
    for (int attempt = 1; attempt <= 2; ++attempt) {
        CAPTURE(attempt);
        auto args = eol_args("SIM0001", history, tmp.path / "runs");
        args.insert(args.end(), {"--scenarios", scenarios.string(), "--rig", rig.string(), "--max-retests", "0"});
        auto r = test::run_command(args, 300s);
        INFO(r.err);
        CHECK(r.exit_code == 3);
        const auto out = lines(r.out);
        REQUIRE(out.size() == 1);
        CHECK(out[0].starts_with("FAIL SIM0001 bench: "));
    }
    const auto runs = test::untested_runs(history, "SIM0001", true);
    REQUIRE(runs.size() == 2);
    for (const auto& run : runs) {
        CHECK(run.verdict == "ERROR");
        CHECK_FALSE(run.measurements.empty());  // what was measured is kept
    }
}
