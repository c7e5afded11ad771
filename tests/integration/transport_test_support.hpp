// Test helpers for real links: an in-process pseudo-terminal pair and a loopback TCP listener.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "transport/byte_stream.hpp"

namespace pumprig::testing {

// The test keeps the master side (the "device"); the code under test opens the slave path.
struct PtyPair {
    int master = -1;
    int slave_keepalive = -1;  // so the master never reads EIO while the code under test is not attached
    std::string slave_path;

    PtyPair() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
            throw std::runtime_error("posix_openpt failed");
        slave_path = ::ptsname(master);
        slave_keepalive = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        termios tio{};
        ::tcgetattr(slave_keepalive, &tio);
        ::cfmakeraw(&tio);
        ::tcsetattr(slave_keepalive, TCSANOW, &tio);
    }
    ~PtyPair() {
        close_master();
        if (slave_keepalive >= 0) ::close(slave_keepalive);
    }
    PtyPair(const PtyPair&) = delete;
    PtyPair& operator=(const PtyPair&) = delete;

    void close_master() {
        if (master >= 0) ::close(master);
        master = -1;
    }
    void write_master(const std::string& bytes) const {
        if (::write(master, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
            throw std::runtime_error("write to pty master failed");
    }
    // Reads until `want` bytes came or `timeout` passed (a bound, not an expectation).
    std::string read_master(std::size_t want, std::chrono::milliseconds timeout) const {
        return read_fd(master, want, timeout);
    }

    static std::string read_fd(int fd, std::size_t want, std::chrono::milliseconds timeout) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out.size() < want) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[512];
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
};

// A listening socket on 127.0.0.1 with a port picked by the kernel.
struct LoopbackListener {
    int fd = -1;
    int port = 0;
    LoopbackListener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0)
            throw std::runtime_error("loopback listener failed");
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ~LoopbackListener() { close(); }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    // The connection made by the code under test (already queued by the kernel).
    int accept_one() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

// A port that was free a moment ago, for a child process that must be told its port.
inline int pick_free_port() {
    LoopbackListener l;
    return l.port;
}

// ser2net 4.x serving one pseudo-terminal on a loopback TCP port, as a child process owned by
// the fixture: started with a YAML config in a temporary folder, ended by its pid.
class Ser2NetProcess {
public:
    static bool available() { return ::access("/usr/sbin/ser2net", X_OK) == 0; }

    explicit Ser2NetProcess(const std::string& serial_path) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pumprig-ser2net-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        port_ = pick_free_port();  // ser2net must be told its port; the window for a clash is tiny
        const auto config = dir_ / "ser2net.yaml";
        std::ofstream(config) << "%YAML 1.1\n---\nconnection: &pump\n"
                              << "  accepter: tcp,127.0.0.1," << port_ << "\n"
                              << "  connector: serialdev," << serial_path << ",115200n81,local\n";
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        const std::string pidfile = (dir_ / "ser2net.pid").string();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            // -n: stay in the foreground (our child), -u: no UUCP lock files left behind.
            ::execl("/usr/sbin/ser2net", "ser2net", "-n", "-u", "-c", config.c_str(), "-P", pidfile.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        output_fd_ = out[0];
        if (pid_ < 0) throw std::runtime_error("fork failed");
    }
    ~Ser2NetProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (output_fd_ >= 0) ::close(output_fd_);
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Ser2NetProcess(const Ser2NetProcess&) = delete;
    Ser2NetProcess& operator=(const Ser2NetProcess&) = delete;

    int port() const { return port_; }

    // ser2net prints no readiness line, so readiness is "accepts a connection": try to connect
    // until it does, within `budget`, watching the child's output pipe in between so that an
    // early exit is noticed at once (its output is returned in the error).
    Result<std::unique_ptr<transport::ByteStream>> connect(std::chrono::milliseconds budget) {
        const auto deadline = std::chrono::steady_clock::now() + budget;
        std::string output;
        while (true) {
            auto link = transport::open_tcp("127.0.0.1", port_);
            if (link) return link;
            if (std::chrono::steady_clock::now() >= deadline)
                return fail(ErrorKind::LinkLost, "ser2net did not accept within the budget: " + output);
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                output += PtyPair::read_fd(output_fd_, 4096, std::chrono::milliseconds{100});
                return fail(ErrorKind::LinkLost, "ser2net exited: " + output);
            }
            output += PtyPair::read_fd(output_fd_, 4096, std::chrono::milliseconds{20});
        }
    }

private:
    std::filesystem::path dir_;
    int port_ = 0;
    pid_t pid_ = -1;
    int output_fd_ = -1;
};

}  // namespace pumprig::testing
