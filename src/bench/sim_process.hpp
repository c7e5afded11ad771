// The simulated bench as a child process: started with its options, ready when it prints its
// READY line, driven over its stdin/stdout control channel, stopped by pid. Used by pumprig
// for rig/sim.json and by integration tests as their fixture (no sleeps, no kill by name).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace pumprig::bench {

class SimProcess {
public:
    // Starts `program` with `args`, waits (wall time) for its READY line.
    static Result<SimProcess> start(const std::string& program, const std::vector<std::string>& args,
                                    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
    SimProcess(SimProcess&&) noexcept;
    SimProcess& operator=(SimProcess&&) noexcept;
    SimProcess(const SimProcess&) = delete;
    ~SimProcess();

    // Values from the READY line: pump, meter, meter_tcp, clock_ms, mode.
    const std::map<std::string, std::string>& ready() const { return ready_; }
    BenchTime clock() const { return clock_; }

    // Virtual time: advance the simulator's models; returns the new simulated clock.
    Result<BenchTime> advance(Millis d);
    // Sends a control command (e.g. "FAULT motor_stall"); returns the reply after "OK".
    Result<std::string> command(const std::string& line);
    // Asks the simulator to quit, then ends it by pid if it does not within the timeout.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
    pid_t pid() const { return pid_; }

private:
    SimProcess() = default;
    Result<std::string> read_line(std::chrono::milliseconds timeout);
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    std::map<std::string, std::string> ready_;
    BenchTime clock_{};
};

// Bench time of a simulator in virtual time: moves only when the controller advances it.
class VirtualClock final : public Clock {
public:
    explicit VirtualClock(SimProcess& sim) : sim_(sim), now_(sim.clock()) {}
    BenchTime now() const override { return now_; }
    Result<void> advance(Millis d) {
        auto t = sim_.advance(d);
        if (!t) return std::unexpected(t.error());
        now_ = *t;
        return {};
    }

private:
    SimProcess& sim_;
    BenchTime now_;
};

// Wall-clock bench time, scaled for a bench that runs faster than real time.
class WallClock final : public Clock {
public:
    explicit WallClock(double time_scale = 1.0);
    BenchTime now() const override;

private:
    double scale_;
    std::chrono::steady_clock::time_point steady0_;
    BenchTime bench0_;
};

}  // namespace pumprig::bench
