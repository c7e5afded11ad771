// A peer program (mbpoll, python3) run as a child for a baseline: started with posix_spawn, its
// stdout (and stderr) read line by line with a wall-time limit, ended by its pid. Never killed
// by name, never waited for with a sleep.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pumprig::benchmark {

class ChildProcess {
public:
    // argv[0] is looked up in PATH. Returns nullopt (and sets `error`) when it cannot start.
    static std::optional<ChildProcess> start(const std::vector<std::string>& argv, std::string& error);
    ChildProcess(ChildProcess&& o) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();

    // The next line of output (without its newline), waiting up to `timeout`; nullopt on
    // timeout or end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Everything left until the child closes its output (or the timeout), then its exit status
    // (-1 when it had to be killed).
    int finish(std::chrono::milliseconds timeout, std::string* rest = nullptr);
    // Ends the child by its pid (SIGTERM, then SIGKILL) and reaps it.
    void stop();

private:
    ChildProcess() = default;
    pid_t pid_ = -1;
    int out_ = -1;
    bool eof_ = false;
    std::string buffer_;
};

}  // namespace pumprig::benchmark
