// Fixtures for the conformance-peer tests: the Python pump peer (tests/peers/pump_peer.py), the
// pymodbus meter peer (tests/peers/meter_peer_server.py) and separately started pumprig-sim,
// each a child process owned by pid, ready when it prints its READY line, killed by pid.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "meter_fixtures.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace pumprig::peertest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string source() { return test::kSource; }
inline std::string pumprig_binary() { return test::kPumprig; }
inline std::string sim_binary() { return test::kSim; }
inline std::string python() { return test::kPython; }

using test::TempDir;

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}
inline void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// "READY a=1 b=2" -> {a: 1, b: 2}
inline std::map<std::string, std::string> parse_ready(const std::string& line) {
    std::map<std::string, std::string> out;
    std::istringstream in(line);
    std::string word;
    in >> word;
    while (in >> word) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return out;
}

// A peer program started with python, ready once it printed its READY line.
class PeerProcess {
public:
    PeerProcess(const std::string& script, std::vector<std::string> args) {
        std::vector<std::string> argv{python(), source() + "/tests/peers/" + script};
        for (auto& a : args) argv.push_back(std::move(a));
        child_ = std::make_unique<meter::itest::Child>(argv, /*merge_stderr=*/true);
        auto line = child_->wait_for("READY", false, 20s);
        REQUIRE_MESSAGE(line.has_value(), script << " did not get ready: " << child_->captured());
        ready_ = parse_ready(*line);
    }
    const std::string& at(const std::string& key) const { return ready_.at(key); }
    std::pair<std::string, int> host_port(const std::string& key) const {
        const auto& hp = ready_.at(key);
        const auto colon = hp.rfind(':');
        return {hp.substr(0, colon), std::stoi(hp.substr(colon + 1))};
    }
    meter::itest::Child& child() { return *child_; }

private:
    std::unique_ptr<meter::itest::Child> child_;
    std::map<std::string, std::string> ready_;
};

// A short end-of-line scenario (tagged eol: `running` at 500 uL/h, default 2 min, its volume
// checked at the meter); `extra_check` is appended to its checks. Returns the folder.
inline fs::path short_eol(const fs::path& dir, const std::string& extra_check = "", const std::string& running = "2 min") {
    fs::create_directories(dir);
    const auto f = dir / "eol-short.json";
    write_text(f, R"({"name": "eol-short", "tags": ["eol"], "pump_profile": "itb-40",
      "settings": {"sample_period": "1 s", "status_period": "10 s"},
      "steps": [ {"do": "set_clock"},
                 {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
                 {"do": "start", "label": "started"}, {"do": "wait", "for": ")" + running + R"("},
                 {"do": "stop", "label": "stopped"}, {"do": "wait", "for": "30 s"} ],
      "checks": [ {"check": "volume", "name": "volume delivered", "from": "started", "to": "stopped"})" +
                      (extra_check.empty() ? "" : ", " + extra_check) + "]}");
    return dir;
}

// The single run folder below `root`.
inline fs::path only_run_dir(const fs::path& root) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory()) dirs.push_back(e.path());
    REQUIRE(dirs.size() == 1);
    return dirs[0];
}

// (check id, verdict) of every check in a run record, in record order.
inline std::vector<std::pair<std::string, std::string>> verdicts(const nlohmann::json& record) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& c : record.at("checks")) out.emplace_back(c.at("id").get<std::string>(), c.at("verdict").get<std::string>());
    return out;
}

// Checks of a record that did not pass, one per line, for failure messages.
inline std::string not_passed(const nlohmann::json& record) {
    std::string out;
    for (const auto& c : record.at("checks"))
        if (c.at("verdict") != "PASS")
            out += c.at("id").get<std::string>() + " " + c.at("verdict").get<std::string>() + ": " + c.value("detail", "") + "\n";
    return out;
}

// pumprig run in the background, output to files, ended by pid (never by name).
class BackgroundRun {
public:
    BackgroundRun(const std::vector<std::string>& argv, const fs::path& out_dir) : out_(out_dir / "stdout"), err_(out_dir / "stderr") {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int rc = posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        REQUIRE(rc == 0);
    }
    ~BackgroundRun() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void signal(int sig) const { kill(pid_, sig); }
    // Waits for the process (bounded by the test's own limit); returns its exit code, or
    // 128 + signal when killed.
    int wait() {
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::string err() const { return read_text(err_); }

private:
    pid_t pid_ = -1;
    fs::path out_, err_;
};

}  // namespace pumprig::peertest
