// The pump clock mapped to bench time when a scenario sets the clock more than once.
#include <doctest/doctest.h>

#include "record/data.hpp"

using namespace pumprig;
using namespace std::chrono_literals;
using record::PumpClockMapping;

namespace {
const BenchTime kT0{Millis{1'767'225'600'000}};  // 2026-01-01 00:00 bench time
// The pump's t= for a bench instant under an offset (pump = bench - offset), in seconds.
double pump_t(BenchTime bench, Millis offset) { return static_cast<double>((bench - offset).time_since_epoch().count()) / 1000.0; }
}  // namespace

TEST_CASE("events are mapped with the clock offset in force when they came") {
    // Set at the start with the pump 8 h ahead of the bench, then moved 4 h forward at 30 min.
    PumpClockMapping clock;
    clock.earlier.push_back({-8h, kT0});
    clock.pump_to_bench_offset = -12h;
    clock.set_at = kT0 + 30min;

    const BenchTime early = kT0 + 10min, late = kT0 + 40min;
    CHECK(clock.to_bench(pump_t(early, -8h), early + 200ms) == early);
    CHECK(clock.to_bench(pump_t(late, -12h), late + 200ms) == late);
    // With the last offset only (what the checks did), the early event lands 4 h before it happened.
    PumpClockMapping last_only = clock;
    last_only.earlier.clear();
    CHECK(last_only.to_bench(pump_t(early, -8h), early + 200ms) == early - 4h);

    // Stamped with the old clock a moment before the setting, read just after it.
    const BenchTime just_before = kT0 + 30min - 300ms;
    CHECK(clock.to_bench(pump_t(just_before, -8h), kT0 + 30min + 100ms) == just_before);
}

TEST_CASE("a clock set backward keeps events on their own offsets") {
    PumpClockMapping clock;
    clock.earlier.push_back({0h, kT0});
    clock.pump_to_bench_offset = 2h;  // the pump clock moved 2 h back at 1 h
    clock.set_at = kT0 + 1h;
    const BenchTime before = kT0 + 50min, after = kT0 + 70min;
    CHECK(clock.to_bench(pump_t(before, 0h), before + 1s) == before);
    CHECK(clock.to_bench(pump_t(after, 2h), after + 1s) == after);
}

TEST_CASE("the mapping's uncertainty grows from the setting in force") {
    PumpClockMapping clock;
    clock.earlier.push_back({0h, kT0});
    clock.pump_to_bench_offset = -4h;
    clock.set_at = kT0 + 10h;
    // 100 ppm of 5 h is 1.8 s, on top of the 2 s read latency; counted from the first setting.
    CHECK(clock.uncertainty_at(kT0 + 5h) == 3800ms);
    // 1 h after the second setting: 0.36 s.
    CHECK(clock.uncertainty_at(kT0 + 11h) == 2360ms);
}
