#include <doctest/doctest.h>
#include <pthread.h>
#include <sched.h>

#include "core/realtime.hpp"

using namespace pumprig;

TEST_CASE("sleep_until never returns before its absolute deadline, and at once for one passed") {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= 5; ++i) {
        const auto deadline = start + std::chrono::microseconds(300 * i);
        sleep_until(deadline);
        CHECK(std::chrono::steady_clock::now() >= deadline);
    }
    // A deadline in the past (or the epoch) is no wait at all, not an error or a hang.
    sleep_until(std::chrono::steady_clock::time_point{});
    sleep_until(start);
}

TEST_CASE("RealtimePriority gives the thread SCHED_FIFO when allowed and always gives back the old policy") {
    int policy_before = -1;
    sched_param p{};
    REQUIRE(pthread_getschedparam(pthread_self(), &policy_before, &p) == 0);
    {
        RealtimePriority rt(10);
        int policy = -1;
        REQUIRE(pthread_getschedparam(pthread_self(), &policy, &p) == 0);
        if (rt.active()) {
            CHECK(policy == SCHED_FIFO);
            CHECK(p.sched_priority == 10);
            CHECK(rt.detail().find("SCHED_FIFO 10") != std::string::npos);
        } else {
            // Not root: refused with the reason, and the thread is as it was.
            CHECK(policy == policy_before);
            CHECK(rt.detail().find("CAP_SYS_NICE") != std::string::npos);
        }
    }
    int policy_after = -1;
    REQUIRE(pthread_getschedparam(pthread_self(), &policy_after, &p) == 0);
    CHECK(policy_after == policy_before);
}

TEST_CASE("RealtimePriority refuses a priority outside SCHED_FIFO's range and changes nothing") {
    RealtimePriority rt(1000);
    CHECK_FALSE(rt.active());
    CHECK(rt.detail().find("outside") != std::string::npos);
}
