// Real-time waiting for the engine's real-time mode: sleeping to an absolute instant (so the
// time spent sampling does not push the next sample late), and an optional real-time scheduling
// priority for the thread that samples, so other work on the host cannot delay it.
#pragma once
#include <pthread.h>

#include <chrono>
#include <string>

namespace pumprig {

// Sleeps until `deadline` on CLOCK_MONOTONIC (std::chrono::steady_clock on Linux) with an
// absolute timer: no drift from the time the caller spent computing the delay.
void sleep_until(std::chrono::steady_clock::time_point deadline);

// SCHED_FIFO at `priority` for the calling thread while this object lives; the thread's
// previous policy comes back when it ends. Needs root or CAP_SYS_NICE; without them the
// thread keeps its priority and detail() says why.
class RealtimePriority {
public:
    explicit RealtimePriority(int priority);
    ~RealtimePriority();
    RealtimePriority(const RealtimePriority&) = delete;
    RealtimePriority& operator=(const RealtimePriority&) = delete;
    bool active() const { return active_; }
    const std::string& detail() const { return detail_; }

private:
    bool active_ = false;
    int old_policy_ = 0;
    int old_priority_ = 0;
    std::string detail_;
};

// A mutex with priority inheritance (PTHREAD_PRIO_INHERIT): a SCHED_FIFO thread waiting on it
// lends its priority to the normal-priority thread holding it, so that holder, preempted by
// other real-time threads, cannot keep the real-time thread waiting (priority inversion).
// Lockable, for std::unique_lock and std::condition_variable_any.
class PriorityInheritanceMutex {
public:
    PriorityInheritanceMutex();
    ~PriorityInheritanceMutex();
    PriorityInheritanceMutex(const PriorityInheritanceMutex&) = delete;
    PriorityInheritanceMutex& operator=(const PriorityInheritanceMutex&) = delete;
    void lock();
    bool try_lock();
    void unlock();

private:
    pthread_mutex_t mutex_;
};

}  // namespace pumprig
