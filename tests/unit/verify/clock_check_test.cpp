#include <doctest/doctest.h>

#include "verify/checks.hpp"

using namespace pumprig;
using namespace pumprig::verify;

namespace {

// Statuses every minute for `hours`, the pump clock running `rate` times as fast as the bench.
std::vector<PumpStatusRecord> statuses(BenchTime from, Millis offset, double rate, double hours) {
    std::vector<PumpStatusRecord> out;
    for (int m = 0; m <= hours * 60; ++m) {
        PumpStatusRecord s;
        s.bench_t = from + Millis{m * 60'000LL};
        const double elapsed = m * 60.0;
        s.pump_t = to_unix_seconds(from + offset) + elapsed * rate + 0.0004;  // printed to 3 decimals
        out.push_back(s);
    }
    return out;
}

}  // namespace

TEST_CASE("clock check passes an honest pump clock over a day") {
    const BenchTime t0{Millis{1767225600000LL}};
    ClockCheckParams p;
    p.pump_minus_bench = Millis{8 * 3600'000LL};
    p.from = t0;
    const auto r = check_pump_clock(statuses(t0, p.pump_minus_bench, 1.0 + 20e-6, 24), p);
    CHECK(r.verdict == Verdict::Pass);
    CHECK(r.measured == doctest::Approx(24 * 3600 * 20e-6).epsilon(0.01));
}

TEST_CASE("clock check fails a pump clock running 1 percent fast") {
    const BenchTime t0{Millis{1767225600000LL}};
    ClockCheckParams p;
    p.from = t0;
    const auto r = check_pump_clock(statuses(t0, Millis{0}, 1.01, 1), p);
    CHECK(r.verdict == Verdict::Fail);
    CHECK(r.measured > 30.0);  // 1 % of an hour is 36 s
}

TEST_CASE("clock check ignores statuses before the clock was set and needs two readings") {
    const BenchTime t0{Millis{1767225600000LL}};
    ClockCheckParams p;
    p.from = t0 + Millis{3600'000};  // set after the last reading
    const auto r = check_pump_clock(statuses(t0, Millis{0}, 1.5, 0.9), p);
    CHECK(r.verdict == Verdict::Inconclusive);
}
