#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "meter/sim/fluid_line.hpp"

using namespace pumprig;
using pumprig::meter::sim::FluidLine;

TEST_CASE("meter fluid line: everything pushed in comes out, exactly") {
    FluidLine line(Millis{20000});
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> strokes_per_tick(0, 3);
    Volume out;
    for (int tick = 0; tick < 20000; ++tick) {  // 2000 s of strokes at random times
        const int n = strokes_per_tick(rng);
        for (int i = 0; i < n; ++i) line.push(Volume::from_ul(0.25));
        out += line.advance(Millis{100});
        CHECK(std::abs((line.total_out() + line.held() - line.total_in()).ul) < 1e-9);
    }
    CHECK(line.held().ul > 0.0);
    for (int tick = 0; tick < 20000 && line.held().ul != 0.0; ++tick) out += line.advance(Millis{100});
    CHECK(line.held().ul == 0.0);
    CHECK(line.total_out().ul == line.total_in().ul);
    CHECK(out.ul == doctest::Approx(line.total_in().ul).epsilon(1e-12));
}

TEST_CASE("meter fluid line: a stroke leaves as a first-order lag") {
    FluidLine line(Millis{20000});
    line.push(Volume::from_ul(0.25));
    Volume out;
    for (int tick = 0; tick < 200; ++tick) out += line.advance(Millis{100});  // one time constant
    CHECK(out.ul == doctest::Approx(0.25 * (1.0 - std::exp(-1.0))).epsilon(1e-9));
}

TEST_CASE("meter fluid line: without compliance the volume passes at the next step") {
    FluidLine line(Millis{0});
    line.push(Volume::from_ul(0.25));
    CHECK(line.advance(Millis{100}).ul == 0.25);
    CHECK(line.advance(Millis{100}).ul == 0.0);
}

TEST_CASE("meter fluid line: backflow comes out negative") {
    FluidLine line(Millis{1000});
    line.push(Volume::from_ul(-1.0));
    Volume out;
    for (int tick = 0; tick < 1000; ++tick) out += line.advance(Millis{100});
    CHECK(out.ul == doctest::Approx(-1.0));
    CHECK(line.held().ul == 0.0);
}
