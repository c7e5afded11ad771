// Every run starts safe and ends safe, however it ends (issue 15): a pump left running is
// stopped before anything else, every signal and a closed output pipe end a run the orderly
// way, the simulator's death is a bench error with the record written, and bad options, key
// files and paths are refused before anything starts.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "bench/sim_process.hpp"
#include "peer_support.hpp"
#include "support/history_checks.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

// A scenario that delivers for `wait` of bench time; no STOP first, as a scenario written for
// a stopped pump would be.
fs::path delivering_scenario(const fs::path& dir, const std::string& name, const std::string& wait, bool with_check = true) {
    const auto f = dir / (name + ".json");
    write_text(f, R"({"name": ")" + name + R"(", "pump_profile": "itb-40",
      "settings": {"sample_period": "1 s", "status_period": "10 s"},
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
                 {"do": "start", "label": "started"}, {"do": "wait", "for": ")" + wait + R"("},
                 {"do": "stop", "label": "stopped"} ])" +
                        (with_check ? R"(, "checks": [ {"check": "volume", "name": "volume delivered", "from": "started", "to": "stopped"} ]})"
                                    : std::string("}")));
    return f;
}

// Until a run folder below `out` holds more than `lines` samples (bounded): the run is under way.
bool samples_on_disk(const fs::path& out, std::size_t lines, std::chrono::seconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(out))
            for (const auto& e : fs::directory_iterator(out)) {
                const auto samples = read_text(e.path() / "samples.csv");
                if (static_cast<std::size_t>(std::count(samples.begin(), samples.end(), '\n')) > lines) return true;
            }
        std::this_thread::sleep_for(50ms);  // poll interval of a bounded wait for a condition
    }
    return false;
}

nlohmann::json only_record(const fs::path& out) { return nlohmann::json::parse(read_text(only_run_dir(out) / "record.json")); }

// The children of a process (pumprig's simulator), from /proc.
std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::istringstream in(read_text(task.path() / "children"));
        for (pid_t c; in >> c;) out.push_back(c);
    }
    return out;
}

// The rig of a bench started separately (as hardware is, at 10 times real time): it outlives
// the runs, so a pump left running stays running for the next one.
fs::path separate_bench_rig(const fs::path& dir, const bench::SimProcess& sim) {
    const auto rig = dir / "shared.json";
    write_text(rig, R"({"name": "shared-bench", "time_scale": 10, "lock_dir": ")" + dir.string() +
                        R"(", "pump": {"backend": "termios", "device": ")" + sim.ready().at("pump") +
                        R"(", "key": {"test_key": true}}, "meter": {"link": "rtu", "device": ")" + sim.ready().at("meter") +
                        R"(", "parity": "none", "profile": "fixtures/meters/lf-2000.json"}})");
    return rig;
}

}  // namespace

TEST_CASE("a pump left running by a killed run is reported by probe, and stopped and confirmed before the next run") {
    // A bench started separately (as hardware is): it outlives the runs, so a killed run leaves
    // its pump running.
    TempDir tmp;
    auto sim = bench::SimProcess::start(sim_binary(), {"--time", "realtime", "--speed", "10", "--seed", "5"});
    REQUIRE_MESSAGE(sim.has_value(), (sim ? "" : sim.error().describe()));
    const auto rig = separate_bench_rig(tmp.path, *sim);
    {
        BackgroundRun killed({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "killed").string(),
                              delivering_scenario(tmp.path, "killed", "2 h").string()},
                             tmp.path);
        REQUIRE(samples_on_disk(tmp.path / "killed", 20, 120s));
        killed.signal(SIGKILL);
        CHECK(killed.wait() == 128 + SIGKILL);
    }
    auto probe = test::run_command({pumprig_binary(), "probe", "--rig", rig.string(), "--readings", "1"}, 60s);
    INFO(probe.err);
    CHECK(probe.out.find("state RUNNING") != std::string::npos);
    CHECK(probe.out.find("NOT STOPPED") != std::string::npos);
    CHECK(probe.out.find("probe   OK\n") == std::string::npos);

    // The next run: STOP first, confirmed, the line left to empty; then its own steps all OK.
    auto next = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "next").string(),
                                   delivering_scenario(tmp.path, "next", "2 min").string()},
                                  300s);
    INFO(next.err);
    const auto record = only_record(tmp.path / "next");
    INFO(not_passed(record));
    CHECK(next.exit_code == 0);
    CHECK(record["initial_state"]["state"] == "RUNNING");
    CHECK(record["initial_state"]["stop_sent"] == true);
    CHECK(record["initial_state"]["confirmed_stopped"] == true);
    CHECK(record["initial_state"]["settled_ms"] == 120000);
    CHECK(record["outcome"] == "PASS");
    CHECK(next.err.find("ERR,code=STATE") == std::string::npos);
    // A pump found stopped is recorded so too, with nothing sent.
    auto again = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "again").string(),
                                    delivering_scenario(tmp.path, "again", "1 min").string()},
                                   300s);
    const auto r2 = only_record(tmp.path / "again");
    CHECK(r2["initial_state"]["state"] == "STOPPED");
    CHECK(r2["initial_state"]["stop_sent"] == false);
    sim->stop();
}

// A pump that will not stop (pump defect stop_ignored: STOP answered OK, delivery goes on;
// stop_refused: STOP refused with ERR,code=STATE; docs/defects.md), on a bench started
// separately so that it outlives the runs: the run that ends on it says so, the runs and the
// end-of-line test after it find it RUNNING and touch nothing.
TEST_CASE("a pump that will not stop: the run ends NOT confirmed stopped and the next run and eol refuse it before anything else") {
    for (const std::string defect : {"stop_ignored", "stop_refused"}) {
        CAPTURE(defect);
        TempDir tmp;
        auto sim = bench::SimProcess::start(sim_binary(), {"--time", "realtime", "--speed", "10", "--seed", "7", "--defect", defect});
        REQUIRE_MESSAGE(sim.has_value(), (sim ? "" : sim.error().describe()));
        const auto rig = separate_bench_rig(tmp.path, *sim);

        // 1. A run on a stopped pump, ending at its last step: the safe stop tries for its
        // bounded time (kSafeStopTime, 10 s) and says the pump is NOT confirmed stopped.
        auto first = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "first").string(),
                                        delivering_scenario(tmp.path, "first", "1 min").string()},
                                       300s);
        INFO(first.err);
        const auto r1 = only_record(tmp.path / "first");
        CHECK(r1["state"] == "COMPLETE");
        CHECK(r1["initial_state"]["confirmed_stopped"] == true);
        CHECK(r1["safe_stop"]["attempted"] == true);
        CHECK(r1["safe_stop"]["confirmed_stopped"] == false);
        const std::string detail1 = r1["safe_stop"]["detail"];
        CHECK(detail1.find(defect == "stop_ignored" ? "STOP answered OK but STATUS says state=RUNNING" : "code=STATE") != std::string::npos);
        CHECK(detail1.find(" s)") != std::string::npos);  // "(N attempts over 10.x s)": it gave up at its bound
        CHECK(first.err.find("pump left NOT confirmed stopped") != std::string::npos);
        // The pump's own STATUS said it was still RUNNING after the STOP: the record keeps that
        // answer, check stop.end FAILs (ICD 7), and so does the run (exit 1), whatever else passed.
        const std::string refusal = r1["safe_stop"].value("refusal", "");
        CHECK(refusal.find("STATUS says state=RUNNING") != std::string::npos);
        const nlohmann::json* stop_end = nullptr;
        for (const auto& c : r1["checks"])
            if (c["id"] == "stop.end") stop_end = &c;
        REQUIRE(stop_end != nullptr);
        CHECK((*stop_end)["verdict"] == "FAIL");
        CHECK((*stop_end)["detail"].get<std::string>().find("did not stop") != std::string::npos);
        CHECK(r1["outcome"] == "FAIL");
        CHECK(first.exit_code == 1);

        // 2. The next run finds the pump RUNNING, cannot stop it, and sends nothing that
        // changes the pump (no CLOCK, REFILL, PROG, START): exit 3, the record says why.
        auto next = test::run_command({pumprig_binary(), "run", "--rig", rig.string(), "--out", (tmp.path / "next").string(),
                                       delivering_scenario(tmp.path, "next", "1 min").string()},
                                      300s);
        INFO(next.err);
        CHECK(next.exit_code == 3);
        const auto dir = only_run_dir(tmp.path / "next");
        const auto r2 = nlohmann::json::parse(read_text(dir / "record.json"));
        CHECK(r2["outcome"] == "ERROR");
        CHECK(r2["initial_state"]["state"] == "RUNNING");
        CHECK(r2["initial_state"]["stop_sent"] == true);
        CHECK(r2["initial_state"]["confirmed_stopped"] == false);
        CHECK(r2["error"].get<std::string>().find("could not be stopped at the start") != std::string::npos);
        CHECK(r2["safe_stop"]["confirmed_stopped"] == false);
        const auto sent = read_text(dir / "trace.log") + read_text(dir / "commands.jsonl");
        CHECK(sent.find("STOP") != std::string::npos);
        for (const char* verb : {"CLOCK", "REFILL", "PROG.", "START", "BOLUS"}) CHECK_MESSAGE(sent.find(verb) == std::string::npos, verb << " was sent");
        CHECK(next.err.find("pump left NOT confirmed stopped") != std::string::npos);

        // 3. The end-of-line test on it: a bench ERROR, never a tested FAIL, no retest spent.
        const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
        auto eol = test::run_command({pumprig_binary(), "eol", "--serial", "SIM0001", "--station", "EOL-1", "--operator", "Ana Lima",
                                      "--history", history, "--out", (tmp.path / "eol").string(), "--rig", rig.string(),
                                      "--scenarios", short_eol(tmp.path / "eol-scenarios").string(), "--max-retests", "0"},
                                     300s);
        INFO(eol.err);
        CHECK(eol.exit_code == 3);
        CHECK(eol.out.starts_with("FAIL SIM0001 bench: "));
        const auto runs = test::untested_runs(history, "SIM0001", true);
        REQUIRE(runs.size() == 1);
        CHECK(runs[0].verdict == "ERROR");
        sim->stop();
    }
}

TEST_CASE("SIGTERM on a pump that will not stop: the safe stop gives up at its bound and the record says NOT confirmed stopped") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    BackgroundRun run({pumprig_binary(), "run", "--out", out.string(), "--defect", "stop_ignored",
                       delivering_scenario(tmp.path, "long", "30 d").string()},
                      tmp.path);
    REQUIRE(samples_on_disk(out, 200, 120s));
    run.signal(SIGTERM);
    CHECK(run.wait() == 3);
    const auto err = run.err();
    INFO(err);
    const auto record = only_record(out);
    CHECK(record["outcome"] == "ABORTED");
    CHECK(record["state"] == "INCOMPLETE");
    CHECK(record["safe_stop"]["stop_answered"] == true);
    CHECK(record["safe_stop"]["confirmed_stopped"] == false);
    const std::string detail = record["safe_stop"]["detail"];
    CHECK(detail.find("STATUS says state=RUNNING") != std::string::npos);
    // It tried for its whole bound (kSafeStopTime, 10 s of wall time), then gave up.
    const auto over = detail.rfind(" over ");
    REQUIRE(over != std::string::npos);
    const double seconds = std::stod(detail.substr(over + 6));
    CHECK(seconds >= 10.0);
    CHECK(seconds < 15.0);
    CHECK(err.find("pump left NOT confirmed stopped") != std::string::npos);
}

TEST_CASE("a pump at end of service, which takes no STOP, is confirmed stopped by its STATUS") {
    // ICD section 8: at EOS the pump is STOPPED for good and refuses all but HELLO, STATUS and
    // EVACK (AUTH and STOP included); the safe stop used to spend its 10 s and report it NOT
    // confirmed stopped.
    TempDir tmp;
    auto r = test::run_command({pumprig_binary(), "run", "--out", (tmp.path / "runs").string(), source() + "/scenarios/functions/end-of-service.json"},
                               300s);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const auto record = only_record(tmp.path / "runs");
    CHECK(record["safe_stop"]["confirmed_stopped"] == true);
    CHECK(record["safe_stop"]["detail"].get<std::string>().find("STATUS state=STOPPED") != std::string::npos);
    CHECK(r.err.find("NOT confirmed stopped") == std::string::npos);
}

TEST_CASE("SIGHUP and SIGQUIT end a run like SIGTERM: pump stopped and confirmed, record written, exit 3") {
    for (int sig : {SIGHUP, SIGQUIT}) {
        CAPTURE(sig);
        TempDir tmp;
        const auto out = tmp.path / "runs";
        BackgroundRun run({pumprig_binary(), "run", "--out", out.string(), delivering_scenario(tmp.path, "long", "30 d").string()}, tmp.path);
        REQUIRE(samples_on_disk(out, 200, 120s));
        run.signal(sig);
        CHECK(run.wait() == 3);
        const auto record = only_record(out);
        CHECK(record["outcome"] == "ABORTED");
        CHECK(record["state"] == "INCOMPLETE");
        CHECK(record["safe_stop"]["confirmed_stopped"] == true);
        CHECK(run.err().find(sig == SIGHUP ? "stopped by SIGHUP" : "stopped by SIGQUIT") != std::string::npos);
    }
}

TEST_CASE("a closed output pipe never kills a run: it runs to its end and leaves the pump stopped") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    const auto scenario = delivering_scenario(tmp.path, "piped", "10 min");
    // `pumprig run ... | head` after head has gone: both output pipes closed at their far end.
    int out_pipe[2], err_pipe[2];
    REQUIRE(pipe(out_pipe) == 0);
    REQUIRE(pipe(err_pipe) == 0);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<std::string> argv{pumprig_binary(), "run", "--out", out.string(), scenario.string()};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
    pid_t pid = -1;
    REQUIRE(posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]);
    close(err_pipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(WIFEXITED(status), "pumprig was killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
    CHECK(WEXITSTATUS(status) == 0);
    const auto record = only_record(out);
    CHECK(record["state"] == "COMPLETE");
    CHECK(record["outcome"] == "PASS");
    CHECK(record["safe_stop"]["confirmed_stopped"] == true);
}

TEST_CASE("the simulator's death ends the run as a bench error with the record, the report and the summary written") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    BackgroundRun run({pumprig_binary(), "run", "--out", out.string(), delivering_scenario(tmp.path, "orphaned", "30 d").string()}, tmp.path);
    REQUIRE(samples_on_disk(out, 200, 120s));
    const auto sims = children_of(run.pid());
    REQUIRE(sims.size() == 1);
    kill(sims[0], SIGKILL);
    CHECK(run.wait() == 3);
    const auto err = run.err();
    INFO(err);
    const auto dir = only_run_dir(out);
    const auto record = nlohmann::json::parse(read_text(dir / "record.json"));
    CHECK(record["outcome"] == "ERROR");
    CHECK(record["error"].get<std::string>().find("the simulator") != std::string::npos);
    CHECK(record["safe_stop"]["confirmed_stopped"] == false);
    CHECK(record["safe_stop"]["detail"].get<std::string>().find("could not be confirmed stopped") != std::string::npos);
    CHECK(fs::exists(dir / "report.html"));
    CHECK(err.find("NOT confirmed stopped") != std::string::npos);
    CHECK(read_text(tmp.path / "stdout").find("0 of 1 scenarios passed") != std::string::npos);
}

TEST_CASE("options out of range are bad input naming the option, before anything starts") {
    TempDir tmp;
    const auto scenario = delivering_scenario(tmp.path, "never", "1 min");
    const auto out = tmp.path / "runs";
    struct Case {
        std::vector<std::string> args;
        std::string option;
    };
    for (const auto& c : {Case{{"--max-hours", "-1"}, "--max-hours"}, Case{{"--max-hours", "0"}, "--max-hours"},
                          Case{{"--seed", "-1"}, "--seed"}, Case{{"--seed", "12x"}, "--seed"},
                          Case{{"--rt-priority", "200"}, "--rt-priority"}, Case{{"--rt-priority", "-5"}, "--rt-priority"}}) {
        std::vector<std::string> argv{pumprig_binary(), "run", "--out", out.string()};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        argv.push_back(scenario.string());
        auto r = test::run_command(argv, 60s);
        CAPTURE(c.args[0] + " " + c.args[1]);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.option) != std::string::npos);
        CHECK_FALSE(fs::exists(out));
    }
    // A channel's serial given twice on a bench of several channels.
    auto eol = test::run_command({pumprig_binary(), "eol", "--rig", source() + "/rig/sim-3ch.json", "--station", "s1", "--operator", "o1",
                                  "--history", "sqlite:" + (tmp.path / "h.sqlite").string(), "--out", out.string(), "--serial", "A=SIM0001",
                                  "--serial", "A=SIM0009", "--serial", "B=-", "--serial", "C=-"},
                                 60s);
    INFO(eol.err);
    CHECK(eol.exit_code == 2);
    CHECK(eol.err.find("more than once") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "h.sqlite"));
}

TEST_CASE("a key file that is missing, open to others or owned by another user is bad input before the simulator starts") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    const auto scenario = delivering_scenario(tmp.path, "never", "1 min");
    const auto key = tmp.path / "pump.key";
    write_text(key, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n");
    auto rig_with_key = [&](const fs::path& file) {
        const auto rig = tmp.path / "rig.json";
        write_text(rig, R"({"name": "sim-key", "simulator": {}, "pump": {"key": {"file": ")" + file.string() +
                            R"("}}, "meter": {"parity": "none", "profile": "fixtures/meters/lf-2000.json"}})");
        return rig;
    };
    auto attempt = [&](const fs::path& file, const std::string& what) {
        CAPTURE(what);
        for (const std::string command : {"run", "probe"}) {
            std::vector<std::string> argv{pumprig_binary(), command, "--rig", rig_with_key(file).string()};
            if (command == "run") argv.insert(argv.end(), {"--out", out.string(), scenario.string()});
            auto r = test::run_command(argv, 60s);
            INFO(r.err);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find(file.string()) != std::string::npos);
            CHECK(r.err.find(what) != std::string::npos);
            CHECK(r.err.find("simulat") == std::string::npos);  // found before it started
            CHECK_FALSE(fs::exists(out));
        }
    };
    attempt(tmp.path / "absent.key", "No such file");
    REQUIRE(chmod(key.c_str(), 0644) == 0);
    attempt(key, "mode 0644");
    REQUIRE(chmod(key.c_str(), 0600) == 0);
    if (geteuid() == 0) {
        REQUIRE(chown(key.c_str(), 65534, 65534) == 0);
        attempt(key, "owned by uid 65534");
    } else {
        attempt("/etc/passwd", "owned by uid 0");
    }
}

TEST_CASE("a JUnit file that cannot be written fails the run with exit 3 after the other outputs are kept") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    auto r = test::run_command({pumprig_binary(), "run", "--out", out.string(), "--junit", (tmp.path / "no" / "such" / "junit.xml").string(),
                                delivering_scenario(tmp.path, "short", "2 min").string()},
                               300s);
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("--junit") != std::string::npos);
    CHECK(r.out.find("1 of 1 scenarios passed") != std::string::npos);
    CHECK(only_record(out)["outcome"] == "PASS");
    CHECK(fs::exists(only_run_dir(out) / "report.html"));
}

TEST_CASE("history of a SQLite file in a folder that does not exist is bad input, and nothing is created") {
    TempDir tmp;
    const auto file = tmp.path / "no" / "such" / "h.sqlite";
    auto r = test::run_command({pumprig_binary(), "history", "--history", "sqlite:" + file.string(), "SN0001"}, 60s);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(file.string()) != std::string::npos);
    CHECK(r.out.find("0 runs") == std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "no"));
}

TEST_CASE("a scenario name with terminal control characters is printed escaped") {
    TempDir tmp;
    const auto f = tmp.path / "evil.json";
    write_text(f, R"({"name": "evil\u001b[2J\rPASS", "pump_profile": "itb-40",
      "steps": [ {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"}, {"do": "wait", "for": "1 min"} ]})");
    auto r = test::run_command({pumprig_binary(), "run", "--out", (tmp.path / "runs").string(), f.string()}, 300s);
    INFO(r.err);
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.err.find("evil\\x1B[2J\\rPASS") != std::string::npos);
    CHECK(r.out.find('\r') == std::string::npos);
}

// Link noise of 1 % on both links over the scenario library: tools/noise_library.py, run by
// CTest as noise_library (tests/CMakeLists.txt; docs/reliability.md).
