#include "bench/bench_lock.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <sstream>
#include <thread>

namespace pumprig::bench {

namespace {

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

std::string now_iso() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

LockHolder this_process(const std::string& command) {
    LockHolder h;
    h.pid = static_cast<long>(getpid());
    if (const passwd* pw = getpwuid(geteuid())) h.user = pw->pw_name;
    else h.user = "uid " + std::to_string(geteuid());
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) h.host = host;
    h.command = command;
    h.since = now_iso();
    return h;
}

std::string read_all(int fd) {
    std::string text;
    char buf[1024];
    off_t offset = 0;
    for (;;) {
        const ssize_t n = pread(fd, buf, sizeof buf, offset);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        offset += n;
        if (text.size() > 64 * 1024) break;  // a lock file is a few lines; never read a huge one whole
    }
    return text;
}

// The holder as its file says. The holder writes the file just after taking the lock, so a
// reader may catch it empty for a moment: read again a few times (bounded) before giving up.
LockHolder read_holder(int fd) {
    LockHolder h;
    for (int attempt = 0; attempt < 50; ++attempt) {
        h = parse_lock_file(read_all(fd));
        if (h.pid != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // bounded retry of a read, not a race
    }
    return h;
}

std::string sanitized(const std::string& name) {
    std::string out;
    for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
    if (out.empty() || out[0] == '.') out = "rig" + out;
    return out;
}

}  // namespace

std::string LockHolder::describe() const {
    if (pid == 0) return "another process (its lock file does not name it yet)";
    std::string s = "pid " + std::to_string(pid);
    if (!user.empty()) s += ", user " + user;
    if (!host.empty()) s += " on " + host;
    if (!since.empty()) s += ", since " + since;
    if (!command.empty()) s += ", running: " + command;
    return s;
}

LockHolder parse_lock_file(const std::string& text) {
    LockHolder h;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        if (key == "pid") {
            try {
                h.pid = std::stol(value);
            } catch (const std::exception&) {
                h.pid = 0;
            }
        } else if (key == "user") h.user = value;
        else if (key == "host") h.host = value;
        else if (key == "command") h.command = value;
        else if (key == "since") h.since = value;
    }
    return h;
}

std::string format_lock_file(const LockHolder& h) {
    return "pid=" + std::to_string(h.pid) + "\nuser=" + one_line(h.user) + "\nhost=" + one_line(h.host) +
           "\ncommand=" + one_line(h.command) + "\nsince=" + one_line(h.since) + "\n";
}

std::filesystem::path BenchLock::file_for(const RigDescription& rig) {
    std::string name = rig.name;
    if (name.empty()) name = rig.file.stem().string();
    return rig.lock_dir / ("pumprig-" + sanitized(name) + ".lock");
}

Result<BenchLock> BenchLock::acquire(const RigDescription& rig, const LockOptions& options) {
    return acquire_file(file_for(rig), options);
}

Result<BenchLock> BenchLock::acquire_file(const std::filesystem::path& file, const LockOptions& options) {
    const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664);
    if (fd < 0)
        return fail(ErrorKind::Io, "bench lock: cannot open " + file.string() + ": " + std::strerror(errno) +
                                       " (expected a writable lock_dir in the rig description)");
    bool told = false;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) {
            const int e = errno;
            close(fd);
            return fail(ErrorKind::Io, "bench lock: flock on " + file.string() + " failed: " + std::strerror(e));
        }
        const LockHolder holder = read_holder(fd);
        if (!options.wait) {
            close(fd);
            return fail(ErrorKind::Io, "bench in use: " + file.string() + " is held by " + holder.describe() +
                                           " (wait for it to end, or run with --wait)", "BENCH_LOCKED");
        }
        if (!told && options.on_wait) options.on_wait(holder);
        told = true;
        if (options.give_up && options.give_up()) {
            close(fd);
            return fail(ErrorKind::Io, "bench lock: gave up waiting for " + holder.describe(), "BENCH_LOCK_WAIT_ABORTED");
        }
        // Poll rather than block in flock: a blocking flock would not notice SIGINT (the
        // handlers restart system calls), and the operator must be able to stop the wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const std::string text = format_lock_file(this_process(options.command));
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        // The lock is held; only the holder's description is missing. Refusals then say so.
    }
    return BenchLock(fd, file);
}

std::optional<LockHolder> BenchLock::holder(const std::filesystem::path& file) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    std::optional<LockHolder> h;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) h = read_holder(fd);
    close(fd);  // also drops a shared lock taken just now
    return h;
}

BenchLock::BenchLock(BenchLock&& other) noexcept : fd_(other.fd_), file_(std::move(other.file_)) { other.fd_ = -1; }

BenchLock& BenchLock::operator=(BenchLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = other.fd_;
        file_ = std::move(other.file_);
        other.fd_ = -1;
    }
    return *this;
}

BenchLock::~BenchLock() {
    if (fd_ < 0) return;
    // Empty the file before letting go, so it never names a process that no longer holds it;
    // the file itself stays (removing it would race with a process opening it to wait).
    if (ftruncate(fd_, 0) != 0) {
    }
    close(fd_);
}

}  // namespace pumprig::bench
