#include "run/sampler.hpp"

#include <time.h>

#include <algorithm>
#include <memory>

#include "core/realtime.hpp"

namespace pumprig::run {

Sampler::Sampler(Options options) : opt_(std::move(options)) {
    bool ready = false;
    thread_ = std::thread([this, &ready] {
        std::unique_ptr<RealtimePriority> priority;
        if (opt_.realtime_priority > 0) priority = std::make_unique<RealtimePriority>(opt_.realtime_priority);
        {
            std::lock_guard lock(mutex_);
            if (priority) {
                priority_active_ = priority->active();
                priority_detail_ = priority->detail();
            }
            ready = true;
        }
        wake_.notify_all();
        loop();
        timespec cpu{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        cpu_seconds_ = static_cast<double>(cpu.tv_sec) + 1e-9 * static_cast<double>(cpu.tv_nsec);
    });
    // The priority's outcome is known before the engine writes it into the record.
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return ready; });
}

Sampler::~Sampler() { stop(); }

void Sampler::start(BenchTime first_due) {
    {
        std::lock_guard lock(mutex_);
        first_due_ = first_due;
    }
    wake_.notify_all();
}

Sampler::Batch Sampler::take() {
    std::lock_guard lock(mutex_);
    Batch b;
    b.readings.swap(queue_);
    b.in_flight = in_flight_;
    return b;
}

void Sampler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Sampler::loop() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return stopping_ || first_due_.has_value(); });
    BenchTime next = first_due_.value_or(BenchTime{});
    // Waiting on the condition variable keeps stop() prompt; it wakes to a few ms, so the last
    // stretch to the instant is an absolute clock_nanosleep, as the engine's own real-time wait.
    constexpr auto kLastStretch = std::chrono::milliseconds(2);
    while (!stopping_) {
        const auto deadline = opt_.wall_deadline(next);
        if (wake_.wait_until(lock, deadline - kLastStretch, [&] { return stopping_; })) break;
        lock.unlock();
        pumprig::sleep_until(deadline);
        lock.lock();
        if (stopping_) break;
        // Stamped under the lock: take() never reports "nothing in flight" for a read whose
        // stamp is already taken, so a commit cannot pass a reading not yet handed over.
        const BenchTime t = opt_.clock->now();
        in_flight_ = t;
        lock.unlock();
        TakenReading taken{t, opt_.read()};
        lock.lock();
        queue_.push_back(std::move(taken));
        in_flight_.reset();
        while (next <= t) next += std::max(opt_.period, Millis{1});
    }
}

}  // namespace pumprig::run
