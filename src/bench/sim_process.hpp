// The simulated bench as a child process: started with its options, ready when it prints its
// READY line, driven over its stdin/stdout control channel, stopped by pid. Used by pumprig
// for rig/sim.json and by integration tests as their fixture (no sleeps, no kill by name).
#pragma once
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
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
    // Virtual time, without waiting: sends ADVANCE and returns the clock it leads to, known
    // from the simulator's step (READY tick_ms=). The simulator applies it before any request
    // written on a device link after this returns (docs/simulator.md, "Control channel"); its
    // answer is read and checked later, by settle() or the next call that needs an answer.
    // Without tick_ms in READY (another simulator), the same as advance().
    Result<BenchTime> send_advance(Millis d);
    // Reads the answers still owed to send_advance(), each checked against its clock. After it,
    // the simulator has moved its models and flushed what they sent on the links.
    Result<void> settle();
    // Sends a control command (e.g. "FAULT motor_stall"); returns the reply after "OK".
    Result<std::string> command(const std::string& line);
    // Asks the simulator to quit, then ends it by pid if it does not within the timeout.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
    pid_t pid() const { return pid_; }
    // The simulator ended by itself (crashed, killed): an Error with code kSimExited saying how
    // ("killed by signal 9"), or nullopt while it runs. Reaps it if it did.
    std::optional<Error> exited();

private:
    SimProcess() = default;
    Error exited_error(const std::string& how) const;
    Result<std::string> read_line(std::chrono::milliseconds timeout);
    Result<void> send_line(const std::string& line);
    Result<BenchTime> clock_from(const std::string& line, const std::string& reply);
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    std::map<std::string, std::string> ready_;
    BenchTime clock_{};
    Millis tick_{0};   // the simulator's step (READY tick_ms=); 0: not announced
    Millis carry_{0};  // time asked for that has not yet made a whole step
    std::deque<BenchTime> owed_;  // clocks that answers to send_advance() must report, in order
    std::optional<std::string> ended_;  // how it ended, once reaped
};

// Error code of a simulator that is gone: the bench went with it, no link will come back.
inline constexpr const char* kSimExited = "SIM_EXITED";

// One simulator process serving a bench's channels (one, for a single-channel rig) on one
// virtual clock. Each channel's run asks to let time pass to its next instant; time moves
// only when every channel still running is waiting, and then only to the earliest instant
// asked for, so each channel meets its pump and meter at the very instants it would alone.
// A channel that ends leaves, and no longer holds time back for the others.
class SharedSimulator {
public:
    SharedSimulator(SimProcess process, std::size_t channels);
    ~SharedSimulator();
    SharedSimulator(const SharedSimulator&) = delete;
    SharedSimulator& operator=(const SharedSimulator&) = delete;

    const std::map<std::string, std::string>& ready() const { return process_.ready(); }
    BenchTime now() const { return BenchTime{Millis{now_ms_.load()}}; }
    // Virtual time: returns once the clock has reached t (every channel waiting moved it).
    // `confirmed` false: the simulator may not have applied the last move yet, only promised
    // to before any request sent after this returns (SimProcess::send_advance); settle() waits
    // for it. true (and every other call here): it has.
    Result<void> wait_until(std::size_t channel, BenchTime t, bool confirmed = true);
    Result<void> settle();
    void leave(std::size_t channel);
    // A control command for the simulator (FAULT ...), one at a time whichever channel asks.
    Result<std::string> command(const std::string& line);
    pid_t pid() const { return process_.pid(); }
    // The simulator ended by itself (SimProcess::exited).
    std::optional<Error> exited();

private:
    std::mutex mutex_;
    std::condition_variable moved_;
    SimProcess process_;
    std::atomic<long long> now_ms_;
    std::vector<std::optional<BenchTime>> waiting_;  // per channel: the instant it waits for
    std::vector<bool> active_;                       // per channel: still running
    std::optional<Error> broken_;                    // the simulator failed: every channel hears it
};

// Bench time of a simulator in virtual time: moves only when the controller advances it.
class VirtualClock final : public Clock {
public:
    explicit VirtualClock(const SharedSimulator& sim) : sim_(sim) {}
    BenchTime now() const override { return sim_.now(); }

private:
    const SharedSimulator& sim_;
};

// Wall-clock bench time, scaled for a bench that runs faster than real time.
class WallClock final : public Clock {
public:
    explicit WallClock(double time_scale = 1.0);
    BenchTime now() const override;
    // The steady-clock instant at which this clock reads t: what a real-time wait sleeps to.
    std::chrono::steady_clock::time_point steady_at(BenchTime t) const;

private:
    double scale_;
    std::chrono::steady_clock::time_point steady0_;
    BenchTime bench0_;
};

}  // namespace pumprig::bench
