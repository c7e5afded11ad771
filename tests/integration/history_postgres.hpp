// A throw-away PostgreSQL server for tests: a cluster made by initdb in a temporary folder,
// started by pg_ctl on a free loopback port as the postgres user (the server refuses to run as
// root), ready when pg_ctl -w and pg_isready say so (bounded), stopped by pg_ctl stop at the end.
// docs/platform.md "Results history on PostgreSQL".
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/run_command.hpp"

namespace pumprig::test {

class PostgresServer {
public:
    PostgresServer() { start(); }
    ~PostgresServer() {
        if (started_) run(pg_ctl() + " -D " + (dir_ / "db").string() + " -m fast -w -t 60 stop", std::chrono::seconds(90));
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    bool ok() const { return started_ && problem_.empty(); }
    const std::string& problem() const { return problem_; }
    int port() const { return port_; }
    // libpq key=value form; the cluster trusts local connections (initdb -A trust).
    std::string conninfo() const {
        return "host=127.0.0.1 port=" + std::to_string(port_) + " user=pumprig dbname=postgres";
    }
    std::string uri() const { return "postgresql://pumprig@127.0.0.1:" + std::to_string(port_) + "/postgres"; }

    // The newest /usr/lib/postgresql/<version>/bin holding initdb, if any.
    static std::optional<std::filesystem::path> bin_dir() {
        std::vector<std::filesystem::path> found;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
            if (std::filesystem::exists(e.path() / "bin" / "initdb")) found.push_back(e.path() / "bin");
        if (found.empty()) return std::nullopt;
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
            return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
        });
        return found.back();
    }

private:
    std::string pg_ctl() const { return (bin_ / "pg_ctl").string(); }

    // As the postgres user when root (the server refuses root), else as ourselves.
    CommandResult run(const std::string& command, std::chrono::seconds limit) const {
        if (geteuid() == 0) return run_command({"/bin/su", "postgres", "-s", "/bin/sh", "-c", command}, limit);
        return run_command({"/bin/sh", "-c", command}, limit);
    }

    static int free_loopback_port() {
        const int s = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int port = 0;
        if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
        close(s);
        return port;
    }

    void start() {
        auto bin = bin_dir();
        if (!bin) {
            problem_ = "PostgreSQL server binaries not found under /usr/lib/postgresql (tools/setup.sh --tests installs postgresql)";
            return;
        }
        bin_ = *bin;
        char tmpl[] = "/tmp/pumprig-pg-XXXXXX";
        if (!mkdtemp(tmpl)) {
            problem_ = "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        if (geteuid() == 0) {
            const passwd* pw = getpwnam("postgres");
            if (!pw) {
                problem_ = "no postgres user to run the server as";
                return;
            }
            if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                problem_ = "cannot hand " + dir_.string() + " to the postgres user";
                return;
            }
        }
        auto init = run((bin_ / "initdb").string() + " -D " + (dir_ / "db").string() + " -A trust -U pumprig -E UTF8 --no-sync",
                        std::chrono::seconds(120));
        if (init.exit_code != 0) {
            problem_ = "initdb failed: " + init.err + init.out;
            return;
        }
        // A port found free may be taken before the server binds it: try a few.
        for (int attempt = 0; attempt < 3 && !started_; ++attempt) {
            port_ = free_loopback_port();
            auto st = run(pg_ctl() + " -D " + (dir_ / "db").string() + " -o \"-p " + std::to_string(port_) + " -k " + dir_.string() +
                              " -c listen_addresses=127.0.0.1 -c fsync=off\" -l " + (dir_ / "log").string() + " -w -t 60 start",
                          std::chrono::seconds(90));
            if (st.exit_code != 0) {
                problem_ = "pg_ctl start failed: " + st.err + st.out;
                continue;
            }
            started_ = true;
            problem_.clear();
        }
        if (!started_) return;
        auto ready = run_command({(bin_ / "pg_isready").string(), "-h", "127.0.0.1", "-p", std::to_string(port_), "-t", "30"},
                                 std::chrono::seconds(40));
        if (ready.exit_code != 0) problem_ = "pg_isready: " + ready.out + ready.err;
    }

    std::filesystem::path bin_;
    std::filesystem::path dir_;
    int port_ = 0;
    bool started_ = false;
    std::string problem_;
};

}  // namespace pumprig::test
