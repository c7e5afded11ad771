#include <doctest/doctest.h>

#include "meter/total_tracker.hpp"
#include "meter_test_support.hpp"

using namespace pumprig;
using namespace pumprig::meter;

namespace {
MeterReading raw_total(std::uint32_t raw_nl, std::uint16_t sample) {
    MeterReading r;
    r.total_raw = raw_nl;
    r.total = Volume::from_nl(raw_nl);
    r.sample = sample;
    return r;
}
}  // namespace

TEST_CASE("meter total tracker: a uint32 total wrapping past 2^32 keeps counting") {
    TotalTracker t(test::lf2000());
    auto a = t.update(raw_total(4294967000u, 1));
    // The first reading after a restart is measured from 0 as a signed number: -296 nL.
    CHECK(a.total.nl() == doctest::Approx(-296.0));
    auto b = t.update(raw_total(200u, 2));  // wrapped: 496 nL later
    CHECK(b.delta.nl() == doctest::Approx(496.0));
    CHECK(b.total.nl() == doctest::Approx(200.0));
    CHECK_FALSE(b.stale);
}

TEST_CASE("meter total tracker: backward flow gives a negative delta") {
    TotalTracker t(test::lf2000());
    t.update(raw_total(100, 1));
    auto u = t.update(raw_total(50, 2));
    CHECK(u.delta.nl() == doctest::Approx(-50.0));
    CHECK(u.total.nl() == doctest::Approx(50.0));
}

TEST_CASE("meter total tracker: many wraps add up without rounding") {
    TotalTracker t(test::lf2000());
    std::uint32_t raw = 0;
    std::uint16_t sample = 0;
    const std::uint32_t step = 1'000'000'007u;  // under 2^31: one unambiguous delta per read
    for (int i = 0; i < 100; ++i) t.update(raw_total(raw += step, ++sample));
    CHECK(t.total().nl() == doctest::Approx(100.0 * step).epsilon(1e-15));
}

TEST_CASE("meter total tracker: restart measures the next reading from zero") {
    TotalTracker t(test::lf2000());
    t.update(raw_total(5000, 1));
    t.restart();
    auto u = t.update(raw_total(30, 2));
    CHECK(u.total.nl() == doctest::Approx(30.0));
    CHECK_FALSE(u.stale);
}

TEST_CASE("meter total tracker: a sample counter that does not move is stale") {
    TotalTracker t(test::lf2000());
    CHECK_FALSE(t.update(raw_total(10, 65535)).stale);
    auto s1 = t.update(raw_total(10, 65535));
    CHECK(s1.stale);
    CHECK(s1.stale_streak == 1);
    auto s2 = t.update(raw_total(10, 65535));
    CHECK(s2.stale_streak == 2);
    auto moved = t.update(raw_total(12, 0));  // the counter wrapped: it moved
    CHECK_FALSE(moved.stale);
    CHECK(moved.stale_streak == 0);
}

TEST_CASE("meter total tracker: a float total is taken as shown") {
    TotalTracker t(test::other_make());
    MeterReading r;
    r.total = Volume::from_ml(1.25);
    r.sample = 1;
    CHECK(t.update(r).total.ul == doctest::Approx(1250.0));
    r.total = Volume::from_ml(1.0);
    r.sample = 2;
    auto u = t.update(r);
    CHECK(u.total.ul == doctest::Approx(1000.0));
    CHECK(u.delta.ul == doctest::Approx(-250.0));
}
