// One run per bench at a time. The lock is flock() on a file in the rig's lock_dir named after
// the rig; the file holds who has it (pid, user, host, command, start time). The kernel
// releases flock when the holding process ends, however it ends (kill -9 included), so a lock
// never outlives its process; a file left behind is only a name, never a lock. The file
// descriptor is close-on-exec, so a child (pumprig-sim) never inherits the lock.
// Like labgrid's places: a refusal names the holder.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "bench/rig.hpp"
#include "core/error.hpp"

namespace pumprig::bench {

// What the lock file says about its holder.
struct LockHolder {
    long pid = 0;
    std::string user;
    std::string host;
    std::string command;
    std::string since;  // ISO 8601 UTC
    std::string describe() const;  // "pid 1234 (user ci on host rig-3, since ..., running: pumprig run ...)"
};

struct LockOptions {
    bool wait = false;                        // wait for the holder instead of refusing at once
    std::function<bool()> give_up;            // polled while waiting: true ends the wait (SIGINT)
    std::function<void(const LockHolder&)> on_wait;  // told once, when waiting starts
    std::string command;                      // this process's command line, for the file
};

class BenchLock {
public:
    // The lock file of a rig: <lock_dir>/pumprig-<rig name>.lock (name reduced to [A-Za-z0-9._-]).
    static std::filesystem::path file_for(const RigDescription& rig);

    // Takes the lock. Refused at once (kind Io, code "BENCH_LOCKED", message naming the
    // holder) if another process holds it and options.wait is false; with wait, polls until it
    // is free or give_up() says stop (code "BENCH_LOCK_WAIT_ABORTED").
    static Result<BenchLock> acquire(const RigDescription& rig, const LockOptions& options);
    static Result<BenchLock> acquire_file(const std::filesystem::path& file, const LockOptions& options);

    // Who holds the lock on this file now; empty if nobody does.
    static std::optional<LockHolder> holder(const std::filesystem::path& file);

    BenchLock(BenchLock&& other) noexcept;
    BenchLock& operator=(BenchLock&& other) noexcept;
    BenchLock(const BenchLock&) = delete;
    BenchLock& operator=(const BenchLock&) = delete;
    ~BenchLock();  // releases

    const std::filesystem::path& file() const { return file_; }

private:
    BenchLock(int fd, std::filesystem::path file) : fd_(fd), file_(std::move(file)) {}
    int fd_ = -1;
    std::filesystem::path file_;
};

// "key=value" lines of a lock file, parsed; fields missing stay empty (a file being written).
LockHolder parse_lock_file(const std::string& text);
std::string format_lock_file(const LockHolder& holder);

}  // namespace pumprig::bench

namespace pumprig::bench {

// A simulated bench that pumprig starts itself (a rig with a "simulator" section) belongs to
// that one process: nothing is shared, so it takes no lock and parallel simulated runs (CI
// jobs, tests) never refuse each other. Hardware, ser2net and separately started simulators
// are shared: they are locked.
inline bool rig_needs_lock(const RigDescription& rig) { return !rig.simulator.enabled; }

}  // namespace pumprig::bench
