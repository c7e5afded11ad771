#include "core/realtime.hpp"

#include <system_error>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace pumprig {

void sleep_until(std::chrono::steady_clock::time_point deadline) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    if (ns <= 0) return;
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    // Restarted after a signal: the deadline is absolute, so the retry costs nothing.
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

RealtimePriority::RealtimePriority(int priority) {
    sched_param old{};
    if (pthread_getschedparam(pthread_self(), &old_policy_, &old) != 0) {
        detail_ = "cannot read the thread's scheduling policy";
        return;
    }
    old_priority_ = old.sched_priority;
    const int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
    if (priority < lo || priority > hi) {
        detail_ = "real-time priority " + std::to_string(priority) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi);
        return;
    }
    sched_param p{};
    p.sched_priority = priority;
    if (const int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p); e != 0) {
        detail_ = std::string("SCHED_FIFO ") + std::to_string(priority) + " refused (" + std::strerror(e) +
                  "): needs root or CAP_SYS_NICE; sampling at normal priority";
        return;
    }
    active_ = true;
    detail_ = "sampling thread at SCHED_FIFO " + std::to_string(priority);
}

RealtimePriority::~RealtimePriority() {
    if (!active_) return;
    sched_param p{};
    p.sched_priority = old_priority_;
    (void)pthread_setschedparam(pthread_self(), old_policy_, &p);
}

PriorityInheritanceMutex::PriorityInheritanceMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    // Without inheritance (a kernel without PI futexes) it is still a plain mutex.
    (void)pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
}

PriorityInheritanceMutex::~PriorityInheritanceMutex() { pthread_mutex_destroy(&mutex_); }

void PriorityInheritanceMutex::lock() {
    if (const int e = pthread_mutex_lock(&mutex_); e != 0) throw std::system_error(e, std::generic_category(), "pthread_mutex_lock");
}

bool PriorityInheritanceMutex::try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }

void PriorityInheritanceMutex::unlock() { pthread_mutex_unlock(&mutex_); }

}  // namespace pumprig
