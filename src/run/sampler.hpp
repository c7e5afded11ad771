// Real-time benches: the meter read on its own thread and its own schedule, whatever the pump
// link is doing (a burst of set-up commands, a slow answer, retries, a reconnect back-off).
// Readings flow one way: this thread -> a queue -> the engine thread, the only one that writes
// the record (take()). Virtual time does not use it: there the engine samples between its
// pump commands, which is what keeps a replay deterministic.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/realtime.hpp"
#include "core/units.hpp"
#include "meter/profile.hpp"

namespace pumprig::run {

// One meter read as the sampler took it: stamped with the bench time the read began.
struct TakenReading {
    BenchTime t{};
    Result<meter::MeterReading> reading;
};

class Sampler {
public:
    struct Options {
        std::function<Result<meter::MeterReading>()> read;  // one meter read (the meter driver's)
        const Clock* clock = nullptr;                         // the bench clock (thread-safe to read)
        // The steady-clock instant at which the bench clock reads t (bench::Bench::wall_deadline).
        std::function<std::chrono::steady_clock::time_point(BenchTime)> wall_deadline;
        Millis period{1000};
        int realtime_priority = 0;  // SCHED_FIFO for the sampling thread; 0: normal priority
    };

    // Starts the thread, which takes its priority and then waits for start(): until then the
    // caller may use the meter itself (identify, zero it).
    explicit Sampler(Options options);
    ~Sampler();  // stop()
    Sampler(const Sampler&) = delete;
    Sampler& operator=(const Sampler&) = delete;

    // From now on the meter is the sampler's: a reading at once, then at first_due + k x period
    // (absolute deadlines; instants already past when a read ends are skipped, not caught up).
    void start(BenchTime first_due);

    struct Batch {
        std::vector<TakenReading> readings;  // in the order taken
        // Bench time stamp of a read under way (handed over by a later take()); none when idle.
        std::optional<BenchTime> in_flight;
    };
    // The readings taken since the last call. Every reading stamped before `in_flight` (all of
    // them when it is none) has been handed over: what the record may commit up to.
    Batch take();

    // Ends the thread: a read under way is finished and kept, none is begun. Idempotent.
    void stop();

    // CPU time the sampling thread used (known once stop() returned): pumprig-bench item 6.
    double cpu_seconds() const { return cpu_seconds_; }
    bool priority_active() const { return priority_active_; }
    const std::string& priority_detail() const { return priority_detail_; }

private:
    void loop();
    Options opt_;
    // Shared with the engine thread (take()), which runs at normal priority: with inheritance,
    // a SCHED_FIFO sampler waiting on it lends the engine its priority (no priority inversion).
    PriorityInheritanceMutex mutex_;
    std::condition_variable_any wake_;
    bool stopping_ = false;
    std::optional<BenchTime> first_due_;
    std::vector<TakenReading> queue_;
    std::optional<BenchTime> in_flight_;
    bool priority_active_ = false;
    double cpu_seconds_ = 0;
    std::string priority_detail_;
    std::thread thread_;
};

}  // namespace pumprig::run
