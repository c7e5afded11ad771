// Fixtures for the meter integration tests: an in-process pseudo-terminal pair, the simulated
// meter served on a thread, and child processes (mbpoll, socat, python) owned by pid, read with
// deadlines, and killed by pid at the end. Nothing here sleeps to wait for anything.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "meter/sim/lf2000_model.hpp"
#include "meter/sim/meter_server.hpp"

extern char** environ;

namespace pumprig::meter::itest {

using SteadyClock = std::chrono::steady_clock;

inline std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

inline std::string source_dir() {
    const char* dir = std::getenv("PUMPRIG_SOURCE_DIR");
    return dir && *dir ? dir : PUMPRIG_SOURCE_DIR;  // compiled in; the environment overrides
}

// A raw pseudo-terminal pair made here: the server keeps the master, a client opens slave_path.
struct PtyPair {
    int master = -1;
    int slave_keepalive = -1;  // so the master never reads EIO while no client has it open
    std::string slave_path;

    PtyPair() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
            throw std::runtime_error("posix_openpt failed");
        slave_path = ::ptsname(master);
        slave_keepalive = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave_keepalive < 0) throw std::runtime_error("cannot open " + slave_path);
        termios t{};
        ::tcgetattr(slave_keepalive, &t);
        ::cfmakeraw(&t);
        ::tcsetattr(slave_keepalive, TCSANOW, &t);
    }
    ~PtyPair() {
        if (slave_keepalive >= 0) ::close(slave_keepalive);
        if (master >= 0) ::close(master);
    }
    PtyPair(const PtyPair&) = delete;
    PtyPair& operator=(const PtyPair&) = delete;
};

// The model and its server on a thread. Tests touch the model only through with_model(), which
// holds the same lock the server holds while it answers one request.
class ServedMeter {
public:
    ServedMeter(MeterProfile profile, sim::Lf2000Options options, int unit_id = 1)
        : model_(std::move(profile), std::move(options)), server_(model_, unit_id) {
        if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    }
    ~ServedMeter() { stop(); ::close(stop_pipe_[0]); ::close(stop_pipe_[1]); }

    void serve_rtu(int fd) {
        auto ok = server_.serve_rtu(fd);
        if (!ok) throw std::runtime_error(ok.error().describe());
    }
    int serve_tcp() {
        auto port = server_.serve_tcp(0);
        if (!port) throw std::runtime_error(port.error().describe());
        return *port;
    }
    void start() { thread_ = std::thread([this] { loop(); }); }
    void stop() {
        if (!thread_.joinable()) return;
        const char quit = 'q';
        (void)!::write(stop_pipe_[1], &quit, 1);
        thread_.join();
    }

    template <class F>
    auto with_model(F&& f) {
        std::lock_guard lock(mutex_);
        return f(model_);
    }
    sim::MeterServerStats stats() {
        std::lock_guard lock(mutex_);
        return server_.stats();
    }

private:
    void loop() {
        for (;;) {
            std::vector<pollfd> fds{{stop_pipe_[0], POLLIN, 0}};
            {
                std::lock_guard lock(mutex_);
                for (int fd : server_.fds()) fds.push_back({fd, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) continue;
            if (fds[0].revents) return;
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                std::lock_guard lock(mutex_);
                server_.on_readable(fds[i].fd);
            }
        }
    }

    sim::Lf2000Model model_;
    sim::MeterServer server_;
    std::mutex mutex_;
    int stop_pipe_[2]{-1, -1};
    std::thread thread_;
};

// A child process with its stdout and stderr on pipes; killed by pid when it goes out of scope.
class Child {
public:
    // merge_stderr: the child's stderr goes to the stdout pipe too (for tools that print errors).
    // stdin_pipe: the child's stdin is a pipe written by write_stdin() (else it inherits ours).
    explicit Child(std::vector<std::string> argv, bool merge_stderr = false, bool stdin_pipe = false) : argv_(std::move(argv)) {
        int out[2], err[2], in[2] = {-1, -1};
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        if (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (stdin_pipe) posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, merge_stderr ? out[1] : err[1], 2);
        std::vector<char*> args;
        for (auto& a : argv_) args.push_back(a.data());
        args.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(err[1]);
        if (stdin_pipe) ::close(in[0]);
        in_ = in[1];
        out_ = out[0];
        err_ = err[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start " + argv_[0]);
        }
    }
    ~Child() {
        kill();
        if (in_ >= 0) ::close(in_);
        ::close(out_);
        ::close(err_);
    }
    // All of `bytes` to the child's stdin (stdin_pipe): false if it could not take them.
    bool write_stdin(const std::string& bytes) {
        for (std::size_t off = 0; off < bytes.size();) {
            const ssize_t n = ::write(in_, bytes.data() + off, bytes.size() - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            off += static_cast<std::size_t>(n);
        }
        return true;
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // Next line from stdout (or stderr), or nullopt at end of stream or deadline.
    std::optional<std::string> line(bool from_stderr, std::chrono::milliseconds within) {
        std::string& buf = from_stderr ? err_buf_ : out_buf_;
        const int fd = from_stderr ? err_ : out_;
        const auto deadline = SteadyClock::now() + within;
        for (;;) {
            if (auto nl = buf.find('\n'); nl != std::string::npos) {
                std::string l = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                captured_ += l + "\n";
                return l;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            buf.append(chunk, static_cast<std::size_t>(n));
        }
    }
    // First stdout/stderr line containing `needle`, within the time given.
    std::optional<std::string> wait_for(const std::string& needle, bool from_stderr, std::chrono::milliseconds within) {
        const auto deadline = SteadyClock::now() + within;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
            auto l = line(from_stderr, left);
            if (!l) return std::nullopt;
            if (l->find(needle) != std::string::npos) return l;
        }
    }
    // All of stdout until the child closes it (or the deadline), then its exit status.
    std::pair<std::string, int> finish(std::chrono::milliseconds within) {
        std::string all = out_buf_;
        out_buf_.clear();
        const auto deadline = SteadyClock::now() + within;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
            if (left.count() <= 0) break;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) break;
            all.append(chunk, static_cast<std::size_t>(n));
        }
        captured_ += all;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
        const int status = kill(std::max(left, std::chrono::milliseconds{0}));
        return {all, status};
    }
    // Ends the child: waits up to `grace` for it to exit by itself, then kills it by pid.
    // Returns its exit code, or -signal if it was killed.
    int kill(std::chrono::milliseconds grace = std::chrono::milliseconds{0}) {
        if (pid_ <= 0) return exit_status_;
        int status = 0;
        if (grace.count() > 0) {
            // A pidfd becomes readable when the process exits: a bounded wait, no sleeping.
            const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
            if (pidfd >= 0) {
                pollfd p{pidfd, POLLIN, 0};
                ::poll(&p, 1, static_cast<int>(grace.count()));
                ::close(pidfd);
            }
        }
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);  // by pid, never by name
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return exit_status_;
    }
    pid_t pid() const { return pid_; }
    const std::string& captured() const { return captured_; }  // for failure messages

private:
    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    std::string out_buf_, err_buf_, captured_;
    int exit_status_ = 0;
};

}  // namespace pumprig::meter::itest
