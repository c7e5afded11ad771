// The simulated pump as a unit of the population (PumpModelConfig's mechanics) and defects with
// magnitudes (defects.hpp): what the rotor pushes against what the pump reports.
#include <doctest/doctest.h>

#include "pump/sim/defects.hpp"
#include "sim_support.hpp"

using namespace pumprig;
using namespace pumprig::pump::sim;
using namespace pumprig::pump::sim::test;

namespace {

// A pump running 1000 ug/day at 500 ug/mL (2 mL/day: 8000 strokes a day).
Host running(PumpModelConfig config) {
    Host host(std::move(config));
    host.ready("20.000", "500", "1000.0");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=1000.0") == "OK");
    REQUIRE(host.code("PROG.COMMIT") == "OK");
    REQUIRE(host.code("START") == "OK");
    return host;
}

}  // namespace

TEST_CASE("pump unit: a stroke volume error changes what flows, not what the pump reports") {
    PumpModelConfig c;
    c.stroke_volume_error = -0.149;
    Host host = running(c);
    const double out = host.pump.advance(std::chrono::hours(6)).ul;
    CHECK(out == doctest::Approx(500.0 * 0.851).epsilon(0.002));
    CHECK(host.status("deliv_ml") == "0.500");  // nominal strokes, as counted
}

TEST_CASE("pump unit: jittered strokes leave late but none is lost, whatever the advance steps") {
    PumpModelConfig c;
    c.stroke_jitter_ms = 50;
    c.seed = 9;
    Host a = running(c), b = running(c);
    double in_steps = 0;
    for (int i = 0; i < 36000; ++i) in_steps += a.pump.advance(std::chrono::milliseconds(100)).ul;
    const double at_once = b.pump.advance(std::chrono::hours(1)).ul;
    CHECK(in_steps == doctest::Approx(at_once));
    CHECK(at_once == doctest::Approx(2000.0 / 24).epsilon(0.01));
}

TEST_CASE("pump unit: the clock runs clock_ppm fast against elapsed time") {
    PumpModelConfig c;
    c.clock_ppm = 50;
    Host host(c);
    host.login();
    const double t0 = std::stod(host.value("CLOCK", "t"));
    host.pump.advance(std::chrono::hours(24));
    const double t1 = std::stod(host.value("CLOCK", "t"));
    CHECK(t1 - t0 == doctest::Approx(86400.0 * (1 + 50e-6)).epsilon(1e-9));
}

TEST_CASE("pump defects: NAME=VALUE with a range, former names at their magnitudes") {
    std::string why;
    const auto rate = parse_defect("rate_error=-12", &why);
    REQUIRE(rate);
    CHECK(rate->defect == Defect::RateError);
    CHECK(rate->magnitude == -12);
    const auto old = parse_defect("rate_low_8pct");
    REQUIRE(old);
    CHECK(old->magnitude == -8);
    CHECK(parse_defect("stall")->magnitude == 100);
    CHECK_FALSE(parse_defect("stall=0", &why));
    CHECK_FALSE(parse_defect("stall=101", &why));
    CHECK(why.find("from 1 to 100") != std::string::npos);
    CHECK_FALSE(parse_defect("low_res_never=2", &why));
    CHECK(why.find("takes no magnitude") != std::string::npos);
    CHECK_FALSE(parse_defect("rate_high_8pct=3", &why));
    CHECK_FALSE(parse_defect("rate_high_9pct", &why));
    CHECK(why.find("rate_error") != std::string::npos);
}

TEST_CASE("pump defects: a partial stall loses that share of the strokes, unreported") {
    PumpModelConfig c;
    c.defects = PumpDefects::from_names({"stall=30"});
    Host host = running(c);
    const double out = host.pump.advance(std::chrono::hours(12)).ul;
    // 4000 strokes counted; from the 40th on, 30 % of them push nothing.
    CHECK(out == doctest::Approx((39 + (4000 - 39) * 0.7) * 0.25).epsilon(0.001));
    CHECK(host.status("deliv_ml") == "1.000");
    CHECK(host.status("alarms") == "NONE");
}
