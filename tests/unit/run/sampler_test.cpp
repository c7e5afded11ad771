// The real-time sampler's hand-over: every reading it took reaches take(), in order, none is
// lost at stop(), and a read under way holds the record's horizon before its stamp. No timing
// is asserted: the tests wait for conditions (bounded), never for durations.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "run/sampler.hpp"

using namespace pumprig;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A bench clock the sampling thread may read while the test sets it.
class SharedClock final : public Clock {
public:
    explicit SharedClock(long long ms) : ms_(ms) {}
    BenchTime now() const override { return BenchTime{Millis{ms_.load()}}; }
    void set(long long ms) { ms_ = ms; }

private:
    std::atomic<long long> ms_;
};

// Counts the reads the sampler makes and lets the test wait for a number of them.
struct Meter {
    std::mutex m;
    std::condition_variable cv;
    int reads = 0;
    std::function<void(int)> during_read;  // called inside read n (1-based), outside the lock
    Result<meter::MeterReading> read() {
        int n = 0;
        {
            std::lock_guard lock(m);
            n = ++reads;
        }
        cv.notify_all();
        if (during_read) during_read(n);
        meter::MeterReading r;
        r.sample = static_cast<std::uint16_t>(n);
        return r;
    }
    bool wait_for_reads(int n) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, 30s, [&] { return reads >= n; });
    }
};

run::Sampler::Options options(Meter& meter, const Clock& clock) {
    run::Sampler::Options o;
    o.read = [&meter] { return meter.read(); };
    o.clock = &clock;
    o.wall_deadline = [](BenchTime) { return steady::now(); };  // every instant due at once
    o.period = Millis{1000};
    return o;
}

}  // namespace

TEST_CASE("the sampler reads nothing before start and nothing after stop") {
    Meter meter;
    SharedClock clock(1000);
    run::Sampler sampler(options(meter, clock));
    sampler.stop();
    CHECK(meter.reads == 0);
    CHECK(sampler.take().readings.empty());
    CHECK_FALSE(sampler.priority_active());
}

TEST_CASE("every reading the sampler took is handed over in order, the last ones after stop") {
    Meter meter;
    SharedClock clock(5000);
    run::Sampler sampler(options(meter, clock));
    sampler.start(BenchTime{Millis{5000}});
    REQUIRE(meter.wait_for_reads(40));
    std::vector<run::TakenReading> got = sampler.take().readings;  // some, while it goes on
    sampler.stop();
    auto rest = sampler.take();
    CHECK_FALSE(rest.in_flight);
    for (auto& r : rest.readings) got.push_back(std::move(r));
    REQUIRE(static_cast<int>(got.size()) == meter.reads);  // none lost, none invented
    for (std::size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].reading);
        CHECK(got[i].reading->sample == i + 1);
        CHECK(got[i].t == BenchTime{Millis{5000}});
    }
}

TEST_CASE("a read under way holds the horizon at its stamp and is kept when the sampler stops") {
    Meter meter;
    SharedClock clock(7000);
    std::promise<void> in_read2, release;
    auto released = release.get_future().share();
    meter.during_read = [&](int n) {
        if (n != 2) return;
        in_read2.set_value();
        released.wait();
    };
    auto o = options(meter, clock);
    std::atomic<int> deadlines{0};
    // The first two instants are due at once (reads 1 and 2); a third never comes before stop().
    o.wall_deadline = [&](BenchTime) { return ++deadlines <= 2 ? steady::now() : steady::now() + 1h; };
    run::Sampler sampler(std::move(o));
    sampler.start(BenchTime{Millis{6000}});
    REQUIRE(in_read2.get_future().wait_for(30s) == std::future_status::ready);
    clock.set(9000);  // later than the stamp of the read under way
    auto during = sampler.take();
    REQUIRE(during.in_flight);
    CHECK(*during.in_flight == BenchTime{Millis{7000}});  // the record may not commit past it
    auto stopping = std::async(std::launch::async, [&] { sampler.stop(); });
    release.set_value();
    stopping.get();
    auto after = sampler.take();
    CHECK_FALSE(after.in_flight);
    std::vector<std::uint16_t> counters;
    for (const auto& r : during.readings) counters.push_back(r.reading->sample);
    for (const auto& r : after.readings) counters.push_back(r.reading->sample);
    CHECK(counters == std::vector<std::uint16_t>{1, 2});  // read 2 finished and kept, no read 3
    CHECK(after.readings.back().t == BenchTime{Millis{7000}});
}

TEST_CASE("the sampler keeps an absolute schedule and skips instants already past") {
    Meter meter;
    SharedClock clock(10'500);
    std::mutex m;
    std::condition_variable cv;
    std::vector<long long> asked;  // the bench instants the sampler waited for
    auto o = options(meter, clock);
    o.wall_deadline = [&](BenchTime t) {
        {
            std::lock_guard lock(m);
            asked.push_back(t.time_since_epoch().count());
        }
        cv.notify_all();
        // Instants up to the clock's reading are due; later ones never come (stop() ends the wait).
        return t <= clock.now() ? steady::now() : steady::now() + 1h;
    };
    run::Sampler sampler(std::move(o));
    sampler.start(BenchTime{Millis{0}});
    {
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, 30s, [&] { return asked.size() >= 2; }));
    }
    sampler.stop();
    CHECK(meter.reads == 1);
    // Read at 10.5 s: the instants 1 s to 10 s are past and skipped; the next is 11 s on the grid.
    CHECK(asked == std::vector<long long>{0, 11'000});
}
