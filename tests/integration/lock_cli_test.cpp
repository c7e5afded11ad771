// One run per bench: the bench lock in-process, then pumprig run against a separately started
// pumprig-sim (a shared bench, as a real one is): a second run is refused at once naming the
// holder, --wait proceeds once the first ends, and a holder killed with SIGKILL leaves a file
// that blocks nobody.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "bench/bench_lock.hpp"
#include "bench/sim_process.hpp"
#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

// Until the lock file names `pid` as its holder (bounded): the first run holds the bench.
bool lock_held_by(const fs::path& lock_file, pid_t pid, std::chrono::seconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        auto h = bench::BenchLock::holder(lock_file);
        if (h && h->pid == pid) return true;
        std::this_thread::sleep_for(20ms);  // poll interval of a bounded wait for a condition
    }
    return false;
}

// A bench made of a separately started simulator: the rig names its pseudo-terminals, so
// pumprig does not start a simulator of its own and the bench is shared (and locked).
struct SharedBench {
    TempDir tmp;
    std::optional<bench::SimProcess> sim;
    fs::path rig;
    fs::path lock_file;
    explicit SharedBench(double speed) {
        auto s = bench::SimProcess::start(sim_binary(), {"--time", "realtime", "--speed", std::to_string(speed), "--seed", "11"});
        REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().describe()));
        sim.emplace(std::move(*s));
        rig = tmp.path / "shared.json";
        write_text(rig, R"({"name": "shared-bench", "time_scale": )" + std::to_string(speed) + R"(, "lock_dir": ")" + tmp.path.string() +
                            R"(", "pump": {"backend": "termios", "device": ")" + sim->ready().at("pump") +
                            R"(", "key": {"test_key": true}}, "meter": {"link": "rtu", "device": ")" + sim->ready().at("meter") +
                            R"(", "parity": "none", "profile": "fixtures/meters/lf-2000.json"}})");
        lock_file = tmp.path / "pumprig-shared-bench.lock";
    }
    ~SharedBench() {
        if (sim) sim->stop();
    }
    // A scenario that runs the pump for `wait` of bench time. It first stops the pump and lets
    // the line settle (6 tau): a run before it (or one killed) may have left flow in the line,
    // which the expected delivery, starting from an empty line, does not know about.
    fs::path scenario(const std::string& name, const std::string& wait) const {
        const auto f = tmp.path / (name + ".json");
        write_text(f, R"({"name": ")" + name + R"(", "pump_profile": "itb-40",
          "settings": {"sample_period": "1 s", "status_period": "10 s"},
          "steps": [ {"do": "stop"}, {"do": "wait", "for": "2 min"},
                     {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                     {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
                     {"do": "start", "label": "started"}, {"do": "wait", "for": ")" + wait + R"("},
                     {"do": "stop", "label": "stopped"} ],
          "checks": [ {"check": "volume", "name": "volume delivered", "from": "started", "to": "stopped"} ]})");
        return f;
    }
};

}  // namespace

TEST_CASE("bench lock: a second holder is refused naming the first, and the lock is free after release") {
    TempDir tmp;
    const auto file = tmp.path / "pumprig-x.lock";
    bench::LockOptions lo;
    lo.command = "pumprig run --rig x.json scenarios/";
    auto first = bench::BenchLock::acquire_file(file, lo);
    REQUIRE_MESSAGE(first, (first ? "" : first.error().message));
    const auto text = read_text(file);
    CHECK(text.find("pid=" + std::to_string(getpid()) + "\n") != std::string::npos);
    CHECK(text.find("command=pumprig run --rig x.json scenarios/\n") != std::string::npos);
    auto held = bench::BenchLock::holder(file);
    REQUIRE(held);
    CHECK(held->pid == getpid());
    // flock locks belong to open files: a second open in this process conflicts like another process.
    auto second = bench::BenchLock::acquire_file(file, {});
    REQUIRE_FALSE(second);
    CHECK(second.error().code == "BENCH_LOCKED");
    CHECK(second.error().message.find("pid " + std::to_string(getpid())) != std::string::npos);
    CHECK(second.error().message.find("--wait") != std::string::npos);
    // Waiting gives up when told to (SIGINT in pumprig), saying for whom it waited.
    bench::LockOptions give_up;
    give_up.wait = true;
    int polls = 0;
    give_up.give_up = [&polls] { return ++polls >= 2; };
    bool told = false;
    give_up.on_wait = [&told](const bench::LockHolder& h) { told = h.pid == getpid(); };
    auto waited = bench::BenchLock::acquire_file(file, give_up);
    REQUIRE_FALSE(waited);
    CHECK(waited.error().code == "BENCH_LOCK_WAIT_ABORTED");
    CHECK(told);
    first = bench::BenchLock::acquire_file(tmp.path / "other.lock", {});  // releases the first lock
    CHECK_FALSE(bench::BenchLock::holder(file).has_value());
    CHECK(bench::BenchLock::acquire_file(file, {}).has_value());
}

TEST_CASE("bench lock: the file is named after the rig in its lock_dir, and a simulator rig is not locked") {
    bench::RigDescription rig;
    rig.name = "bench a/../b";
    rig.lock_dir = "/var/lock/pumprig";
    CHECK(bench::BenchLock::file_for(rig) == fs::path("/var/lock/pumprig/pumprig-bench_a_.._b.lock"));
    CHECK(bench::rig_needs_lock(rig));
    rig.simulator.enabled = true;
    CHECK_FALSE(bench::rig_needs_lock(rig));
    const auto h = bench::parse_lock_file("pid=42\nuser=ci\nhost=rig-3\ncommand=pumprig run x\nsince=2026-01-01T08:00:00Z\n");
    CHECK(h.pid == 42);
    CHECK(h.describe() == "pid 42, user ci on rig-3, since 2026-01-01T08:00:00Z, running: pumprig run x");
    CHECK(bench::parse_lock_file(bench::format_lock_file(h)).command == "pumprig run x");
    CHECK(bench::parse_lock_file("").pid == 0);
}

TEST_CASE("a second pumprig run on a bench in use is refused at once, naming the holder's pid") {
    SharedBench bench(1.0);
    const auto long_run = bench.scenario("long", "2 h");
    BackgroundRun first({pumprig_binary(), "run", "--rig", bench.rig.string(), "--out", (bench.tmp.path / "runs1").string(),
                         long_run.string()},
                        bench.tmp.path);
    REQUIRE(lock_held_by(bench.lock_file, first.pid(), 60s));
    const auto short_run = bench.scenario("short", "30 s");
    auto second = test::run_command({pumprig_binary(), "run", "--rig", bench.rig.string(), "--out", (bench.tmp.path / "runs2").string(),
                                     short_run.string()},
                                    60s);
    INFO(second.err);
    CHECK(second.exit_code == 3);
    CHECK(second.err.find("bench in use") != std::string::npos);
    CHECK(second.err.find("pid " + std::to_string(first.pid())) != std::string::npos);
    CHECK(second.err.find("running: pumprig run --rig") != std::string::npos);
    CHECK_FALSE(fs::exists(bench.tmp.path / "runs2"));  // refused before touching the bench
    // The holder still runs; SIGTERM stops it as usual (pump stopped, exit 3).
    first.signal(SIGTERM);
    CHECK(first.wait() == 3);
    CHECK_FALSE(bench::BenchLock::holder(bench.lock_file).has_value());
}

TEST_CASE("pumprig run --wait proceeds once the run holding the bench has ended") {
    SharedBench bench(10.0);
    BackgroundRun first({pumprig_binary(), "run", "--rig", bench.rig.string(), "--out", (bench.tmp.path / "runs1").string(),
                         bench.scenario("first", "1 min").string()},
                        bench.tmp.path);
    const pid_t first_pid = first.pid();
    REQUIRE(lock_held_by(bench.lock_file, first_pid, 60s));
    auto second = test::run_command({pumprig_binary(), "run", "--wait", "--rig", bench.rig.string(), "--out",
                                     (bench.tmp.path / "runs2").string(), bench.scenario("second", "30 s").string()},
                                    300s);
    INFO(second.err);
    INFO(first.err());
    CHECK(first.wait() == 0);
    CHECK(second.exit_code == 0);
    CHECK(second.err.find("waiting for the bench, held by pid " + std::to_string(first_pid)) != std::string::npos);
    const auto r1 = nlohmann::json::parse(read_text(only_run_dir(bench.tmp.path / "runs1") / "record.json"));
    const auto r2 = nlohmann::json::parse(read_text(only_run_dir(bench.tmp.path / "runs2") / "record.json"));
    INFO(not_passed(r2));
    CHECK(r1["outcome"] == "PASS");
    CHECK(r2["outcome"] == "PASS");
    // Every file of the second run was written after every file of the first (bench times of
    // two processes on a scaled wall clock cannot be compared; file times are wall time).
    auto times = [](const fs::path& dir) {
        std::vector<fs::file_time_type> t;
        for (const auto& e : fs::directory_iterator(dir)) t.push_back(fs::last_write_time(e.path()));
        return t;
    };
    const auto t1 = times(only_run_dir(bench.tmp.path / "runs1"));
    const auto t2 = times(only_run_dir(bench.tmp.path / "runs2"));
    REQUIRE_FALSE(t1.empty());
    REQUIRE_FALSE(t2.empty());
    CHECK(*std::max_element(t1.begin(), t1.end()) <= *std::min_element(t2.begin(), t2.end()));
}

TEST_CASE("a lock file left by a run killed with SIGKILL does not block the next run") {
    SharedBench bench(10.0);
    BackgroundRun first({pumprig_binary(), "run", "--rig", bench.rig.string(), "--out", (bench.tmp.path / "runs1").string(),
                         bench.scenario("killed", "2 h").string()},
                        bench.tmp.path);
    const pid_t killed = first.pid();
    REQUIRE(lock_held_by(bench.lock_file, killed, 60s));
    first.signal(SIGKILL);
    CHECK(first.wait() == 128 + SIGKILL);
    // The file stays and still names the dead process; only the kernel's lock is gone.
    REQUIRE(fs::exists(bench.lock_file));
    CHECK(read_text(bench.lock_file).find("pid=" + std::to_string(killed)) != std::string::npos);
    auto next = test::run_command({pumprig_binary(), "run", "--rig", bench.rig.string(), "--out", (bench.tmp.path / "runs2").string(),
                                   bench.scenario("next", "30 s").string()},
                                  300s);
    INFO(next.err);
    CHECK(next.err.find("bench in use") == std::string::npos);
    CHECK(next.exit_code == 0);
}
