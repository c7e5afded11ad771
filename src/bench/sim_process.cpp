#include "bench/sim_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <utility>

extern char** environ;

namespace pumprig::bench {

namespace {
// Answers to send_advance() left unread at most: they wait in the simulator's stdout pipe,
// which they must never fill (a pipe holds 4 KiB at the least; an answer is about 26 bytes).
constexpr std::size_t kMaxOwed = 64;
}  // namespace

Result<SimProcess> SimProcess::start(const std::string& program, const std::vector<std::string>& args,
                                     std::chrono::milliseconds ready_timeout) {
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0)
        return fail(ErrorKind::Io, std::string("cannot create pipes for the simulator: ") + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    SimProcess p;
    const int rc = posix_spawn(&p.pid_, program.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in_pipe[0]);
    close(out_pipe[1]);
    p.to_child_ = in_pipe[1];
    p.from_child_ = out_pipe[0];
    if (rc != 0) {
        p.pid_ = -1;
        return fail(ErrorKind::Io, "cannot start the simulator " + program + ": " + std::strerror(rc));
    }
    auto line = p.read_line(ready_timeout);
    if (!line) return fail(ErrorKind::Io, "the simulator " + program + " did not get ready: " + line.error().message);
    std::istringstream words(*line);
    std::string word;
    words >> word;
    if (word != "READY") return fail(ErrorKind::Protocol, "the simulator's first line is not READY", {}, {}, *line);
    while (words >> word) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) p.ready_[word.substr(0, eq)] = word.substr(eq + 1);
    }
    if (!p.ready_.count("pump") || !p.ready_.count("meter") || !p.ready_.count("clock_ms"))
        return fail(ErrorKind::Protocol, "the simulator's READY line lacks pump=, meter= or clock_ms=", {}, {}, *line);
    p.clock_ = BenchTime{Millis{std::stoll(p.ready_.at("clock_ms"))}};
    if (const auto it = p.ready_.find("tick_ms"); it != p.ready_.end()) {
        long long tick = 0;
        const auto& v = it->second;
        if (std::from_chars(v.data(), v.data() + v.size(), tick).ec == std::errc{} && tick > 0) p.tick_ = Millis{tick};
    }
    return p;
}

SimProcess::SimProcess(SimProcess&& o) noexcept { *this = std::move(o); }

SimProcess& SimProcess::operator=(SimProcess&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
        to_child_ = std::exchange(o.to_child_, -1);
        from_child_ = std::exchange(o.from_child_, -1);
        buffer_ = std::move(o.buffer_);
        ready_ = std::move(o.ready_);
        clock_ = o.clock_;
        tick_ = o.tick_;
        carry_ = o.carry_;
        owed_ = std::move(o.owed_);
        ended_ = std::move(o.ended_);
    }
    return *this;
}

SimProcess::~SimProcess() { stop(); }

Result<std::string> SimProcess::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return fail(ErrorKind::Timeout, "no answer from the simulator within " + std::to_string(timeout.count()) + " ms");
        pollfd pfd{from_child_, POLLIN, 0};
        const int n = poll(&pfd, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        char buf[4096];
        const ssize_t got = read(from_child_, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (auto gone = exited()) return std::unexpected(*gone);
            return std::unexpected(exited_error("closed its control channel"));
        }
        buffer_.append(buf, static_cast<std::size_t>(got));
    }
}

Result<void> SimProcess::send_line(const std::string& line) {
    if (pid_ < 0) return fail(ErrorKind::LinkLost, "the simulator is not running");
    const std::string out = line + "\n";
    // SIGPIPE is ignored (main.cpp): a simulator that died fails the write with EPIPE.
    if (write(to_child_, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
        if (auto gone = exited()) return std::unexpected(*gone);
        return std::unexpected(exited_error("closed its control channel"));
    }
    return {};
}

Result<std::string> SimProcess::command(const std::string& line) {
    if (auto s = settle(); !s) return std::unexpected(s.error());
    if (auto w = send_line(line); !w) return std::unexpected(w.error());
    // Advancing a long stretch of virtual time takes wall time: allow for it.
    auto reply = read_line(std::chrono::seconds(120));
    if (!reply) return std::unexpected(reply.error());
    if (reply->starts_with("OK")) return reply->size() > 3 ? reply->substr(3) : std::string{};
    return fail(ErrorKind::DeviceError, "the simulator refused the command", "SIM", line, *reply);
}

Result<BenchTime> SimProcess::clock_from(const std::string& line, const std::string& reply) {
    const auto eq = reply.find("clock_ms=");
    if (eq == std::string::npos) return fail(ErrorKind::Protocol, "the answer to " + line + " lacks clock_ms=", {}, line, reply);
    long long ms = 0;
    const char* first = reply.data() + eq + 9;
    if (std::from_chars(first, reply.data() + reply.size(), ms).ec != std::errc{})
        return fail(ErrorKind::Protocol, "the answer to " + line + " has no number after clock_ms=", {}, line, reply);
    return BenchTime{Millis{ms}};
}

Result<BenchTime> SimProcess::advance(Millis d) {
    const std::string line = "ADVANCE " + std::to_string(d.count());
    auto r = command(line);
    if (!r) return std::unexpected(r.error());
    auto now = clock_from(line, *r);
    if (!now) return now;
    carry_ += d - (*now - clock_);
    clock_ = *now;
    return clock_;
}

Result<BenchTime> SimProcess::send_advance(Millis d) {
    if (tick_ <= Millis{0}) return advance(d);
    if (owed_.size() >= kMaxOwed)
        if (auto s = settle(); !s) return std::unexpected(s.error());
    if (auto w = send_line("ADVANCE " + std::to_string(d.count())); !w) return std::unexpected(w.error());
    // The simulator's own arithmetic (tools/sim SimBench::advance): whole steps, the rest carried.
    const Millis total = carry_ + d;
    clock_ += (total / tick_) * tick_;
    carry_ = total % tick_;
    owed_.push_back(clock_);
    return clock_;
}

Result<void> SimProcess::settle() {
    while (!owed_.empty()) {
        const BenchTime want = owed_.front();
        owed_.pop_front();
        auto reply = read_line(std::chrono::seconds(120));
        if (!reply) return std::unexpected(reply.error());
        if (!reply->starts_with("OK")) return fail(ErrorKind::DeviceError, "the simulator refused an ADVANCE", "SIM", "ADVANCE", *reply);
        auto now = clock_from("ADVANCE", *reply);
        if (!now) return std::unexpected(now.error());
        if (*now != want)
            return fail(ErrorKind::Protocol,
                        "the simulator's clock after ADVANCE is " + std::to_string(now->time_since_epoch().count()) + " ms, expected " +
                            std::to_string(want.time_since_epoch().count()) + " ms (its step, tick_ms, is not what it announced)",
                        {}, "ADVANCE", *reply);
    }
    return {};
}

Error SimProcess::exited_error(const std::string& how) const {
    return Error{ErrorKind::LinkLost, kSimExited, "the simulator (pid " + std::to_string(pid_) + ") " + how +
                                                      ": the simulated bench is gone", {}, {}};
}

std::optional<Error> SimProcess::exited() {
    if (!ended_ && pid_ > 0) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            if (WIFSIGNALED(status)) ended_ = "was killed by signal " + std::to_string(WTERMSIG(status));
            else ended_ = "exited with status " + std::to_string(WEXITSTATUS(status));
        }
    }
    if (!ended_) return std::nullopt;
    return exited_error(*ended_);
}

void SimProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ > 0 && ended_) pid_ = -1;  // already reaped
    if (pid_ > 0) {
        if (to_child_ >= 0) {
            const char quit[] = "QUIT\n";
            [[maybe_unused]] auto w = write(to_child_, quit, sizeof quit - 1);
        }
        const auto deadline = std::chrono::steady_clock::now() + grace;
        int status = 0;
        bool reaped = false;
        while (std::chrono::steady_clock::now() < deadline) {
            const pid_t r = waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || r < 0) { reaped = true; break; }
            // Wait for the child's stdout to close (it exits) rather than sleeping blindly.
            pollfd pfd{from_child_, POLLIN, 0};
            poll(&pfd, 1, 20);
            if (pfd.revents & (POLLHUP | POLLIN)) {
                char buf[256];
                if (read(from_child_, buf, sizeof buf) <= 0) { waitpid(pid_, &status, 0); reaped = true; break; }
            }
        }
        if (!reaped) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
    to_child_ = from_child_ = -1;
}

SharedSimulator::SharedSimulator(SimProcess process, std::size_t channels)
    : process_(std::move(process)), now_ms_(process_.clock().time_since_epoch().count()), waiting_(channels), active_(channels, true) {}

SharedSimulator::~SharedSimulator() { process_.stop(); }

Result<void> SharedSimulator::wait_until(std::size_t channel, BenchTime t, bool confirmed) {
    std::unique_lock lock(mutex_);
    if (channel >= active_.size()) return fail(ErrorKind::BadInput, "no channel " + std::to_string(channel) + " on this simulator");
    waiting_[channel] = t;
    while (true) {
        if (broken_) break;
        if (now() >= t) break;
        bool all_waiting = true;
        BenchTime earliest = t;
        for (std::size_t i = 0; i < active_.size(); ++i) {
            if (!active_[i]) continue;
            // A channel whose instant has come is about to run, not waiting: it has to get the
            // lock and take its turn before time moves on.
            if (!waiting_[i] || *waiting_[i] <= now()) {
                all_waiting = false;
                break;
            }
            earliest = std::min(earliest, *waiting_[i]);
        }
        if (!all_waiting) {
            moved_.wait(lock);
            continue;
        }
        // Every running channel waits: advance to the first instant one of them needs. The lock
        // stays held; nobody else can want the simulator now. Unconfirmed, the next request of
        // each channel (all are waiting: none has one under way) comes after the ADVANCE.
        auto r = confirmed ? process_.advance(earliest - now()) : process_.send_advance(earliest - now());
        if (r) now_ms_.store(r->time_since_epoch().count());
        else broken_ = r.error();
        moved_.notify_all();
    }
    waiting_[channel].reset();
    // Moved by another channel's unconfirmed ADVANCE: this one asked for a confirmed move.
    if (confirmed && !broken_)
        if (auto s = process_.settle(); !s) {
            broken_ = s.error();
            moved_.notify_all();
        }
    if (broken_) return std::unexpected(*broken_);
    return {};
}

Result<void> SharedSimulator::settle() {
    std::lock_guard lock(mutex_);
    if (broken_) return std::unexpected(*broken_);
    if (auto s = process_.settle(); !s) {
        broken_ = s.error();
        moved_.notify_all();
        return std::unexpected(*broken_);
    }
    return {};
}

void SharedSimulator::leave(std::size_t channel) {
    std::lock_guard lock(mutex_);
    if (channel < active_.size()) {
        active_[channel] = false;
        waiting_[channel].reset();
    }
    moved_.notify_all();
}

std::optional<Error> SharedSimulator::exited() {
    std::lock_guard lock(mutex_);
    return process_.exited();
}

Result<std::string> SharedSimulator::command(const std::string& line) {
    std::lock_guard lock(mutex_);
    return process_.command(line);
}

WallClock::WallClock(double time_scale)
    : scale_(time_scale),
      steady0_(std::chrono::steady_clock::now()),
      bench0_(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now())) {}

BenchTime WallClock::now() const {
    const auto wall = std::chrono::steady_clock::now() - steady0_;
    const double ms = std::chrono::duration<double, std::milli>(wall).count() * scale_;
    return bench0_ + Millis{static_cast<long long>(ms)};
}

std::chrono::steady_clock::time_point WallClock::steady_at(BenchTime t) const {
    const double wall_ms = static_cast<double>((t - bench0_).count()) / scale_;
    return steady0_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double, std::milli>(wall_ms));
}

}  // namespace pumprig::bench
