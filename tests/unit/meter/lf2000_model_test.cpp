#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

#include "meter/sim/fluid_line.hpp"
#include "meter/sim/lf2000_model.hpp"
#include "meter_test_support.hpp"

using namespace pumprig;
using namespace pumprig::meter;
using namespace pumprig::meter::sim;

namespace {

constexpr Millis kPeriod{100};

// The volume that passes in one 100 ms measurement at a flow.
Volume per_measurement(double ul_per_h) { return volume_over(FlowRate::from_ul_per_h(ul_per_h), kPeriod); }

Lf2000Options quiet() {
    Lf2000Options o;
    o.noise = false;
    return o;
}

MeterReading decoded(const Lf2000Model& m) {
    auto r = decode_reading(m.profile(), m.input_block());
    REQUIRE(r.has_value());
    return *r;
}

WriteOutcome write(Lf2000Model& m, int address, std::vector<std::uint16_t> values) {
    return m.write_holding(address, values);
}

}  // namespace

TEST_CASE("meter LF-2000 model: the total is exact over many strokes through the line") {
    Lf2000Options o;
    o.seed = 11;  // noise on: it must not reach the total
    Lf2000Model meter(test::lf2000(), o);
    FluidLine line(Millis{20000});
    int strokes = 0;
    for (int tick = 0; tick < 36000; ++tick) {  // one hour at 10 Hz, a stroke every 3 s
        if (tick % 30 == 0) line.push(Volume::from_ul(0.25)), ++strokes;
        meter.measure(line.advance(kPeriod));
    }
    for (int tick = 0; tick < 20000; ++tick) meter.measure(line.advance(kPeriod));  // drain
    CHECK(line.held().ul == 0.0);
    CHECK(meter.exact_total().ul == doctest::Approx(strokes * 0.25).epsilon(1e-12));
    const auto shown = decoded(meter);
    CHECK(shown.total_raw == static_cast<std::uint64_t>(strokes) * 250u);
}

TEST_CASE("meter LF-2000 model: flow is the mean over the filter window plus nothing else") {
    Lf2000Model meter(test::lf2000(), quiet());
    REQUIRE(meter.filter() == Millis{1000});  // 10 measurements
    for (int i = 0; i < 10; ++i) meter.measure(per_measurement(10.0));
    CHECK(decoded(meter).flow.ul_per_h == doctest::Approx(10.0));
    for (int i = 0; i < 5; ++i) meter.measure(per_measurement(20.0));
    CHECK(decoded(meter).flow.ul_per_h == doctest::Approx(15.0));
    // A 300 ms filter: the mean of the last three measurements only.
    REQUIRE(write(meter, 101, {300}) == WriteOutcome::Accepted);
    meter.measure(per_measurement(50.0));
    CHECK(decoded(meter).flow.ul_per_h == doctest::Approx((20.0 + 20.0 + 50.0) / 3.0));
}

TEST_CASE("meter LF-2000 model: noise stays well within the accuracy with a fixed seed") {
    Lf2000Options o;
    o.seed = 42;
    Lf2000Model meter(test::lf2000(), o);
    const double truth = 100.0;
    const double accuracy = meter.profile().accuracy_at(FlowRate::from_ul_per_h(truth)).ul_per_h;
    double sum = 0, sum_sq = 0, worst = 0;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
        meter.measure(per_measurement(truth));
        const double err = decoded(meter).flow.ul_per_h - truth;
        sum += err;
        sum_sq += err * err;
        worst = std::max(worst, std::abs(err));
        const double t = decoded(meter).temperature_c;
        CHECK(std::abs(t - 22.0) < 0.2);
    }
    const double mean = sum / n, sd = std::sqrt(sum_sq / n - mean * mean);
    CHECK(worst < accuracy);
    CHECK(std::abs(mean) < 0.02);
    CHECK(sd == doctest::Approx(accuracy / 4).epsilon(0.15));  // noise is there, a quarter of it
}

TEST_CASE("meter LF-2000 model: air clears VALID, holds the flow and stops the total") {
    Lf2000Model meter(test::lf2000(), quiet());
    for (int i = 0; i < 10; ++i) meter.measure(per_measurement(36.0));
    const auto before = decoded(meter);
    CHECK(before.status == 0b0001);
    meter.inject_air(3);
    for (int i = 0; i < 3; ++i) {
        meter.measure(per_measurement(72.0));
        const auto r = decoded(meter);
        CHECK(r.status == 0b0010);
        CHECK_FALSE(r.valid);
        CHECK(r.air);
        CHECK(r.flow.ul_per_h == doctest::Approx(before.flow.ul_per_h));
        CHECK(r.total_raw == before.total_raw);
        CHECK(r.sample == static_cast<std::uint16_t>(before.sample + i + 1));
    }
    meter.measure(per_measurement(72.0));
    const auto after = decoded(meter);
    CHECK(after.valid);
    CHECK(after.total_raw == before.total_raw + 2u);  // 72 uL/h for 100 ms = 2 nL
}

TEST_CASE("meter LF-2000 model: fault and overrange bits") {
    Lf2000Model meter(test::lf2000(), quiet());
    meter.measure(per_measurement(10.0));
    meter.set_fault(true);
    meter.measure(per_measurement(10.0));
    CHECK(decoded(meter).status == 0b1000);
    meter.set_fault(false);
    meter.measure(per_measurement(10.0));
    CHECK(decoded(meter).status == 0b0001);
    const auto total = meter.exact_total();
    meter.measure(per_measurement(2500.0));  // beyond +-2000 uL/h
    const auto r = decoded(meter);
    CHECK(r.status == 0b0100);
    CHECK(r.overrange);
    CHECK(meter.exact_total().ul == total.ul);
}

TEST_CASE("meter LF-2000 model: a total reset takes effect at the next measurement") {
    Lf2000Model meter(test::lf2000(), quiet());
    for (int i = 0; i < 50; ++i) meter.measure(per_measurement(360.0));
    CHECK(decoded(meter).total_raw == 500u);
    REQUIRE(write(meter, 100, {1}) == WriteOutcome::Accepted);
    CHECK(meter.read_holding(100) == 0);  // the command register reads 0
    CHECK(decoded(meter).total_raw == 500u);  // not yet
    meter.measure(per_measurement(360.0));
    CHECK(decoded(meter).total_raw == 0u);
    meter.measure(per_measurement(360.0));
    CHECK(decoded(meter).total_raw == 10u);
    // Writing 0 does nothing.
    REQUIRE(write(meter, 100, {0}) == WriteOutcome::Accepted);
    meter.measure(per_measurement(360.0));
    CHECK(decoded(meter).total_raw == 20u);
}

TEST_CASE("meter LF-2000 model: the zero trim moves the flow, not the total") {
    Lf2000Model trimmed(test::lf2000(), quiet()), plain(test::lf2000(), quiet());
    REQUIRE(write(trimmed, 102, {static_cast<std::uint16_t>(-250)}) == WriteOutcome::Accepted);  // -2.50 uL/h
    CHECK(trimmed.zero_trim().ul_per_h == doctest::Approx(-2.5));
    for (int i = 0; i < 100; ++i) {
        trimmed.measure(per_measurement(30.0));
        plain.measure(per_measurement(30.0));
    }
    CHECK(decoded(trimmed).flow.ul_per_h == doctest::Approx(27.5));
    CHECK(decoded(plain).flow.ul_per_h == doctest::Approx(30.0));
    CHECK(trimmed.exact_total().ul == plain.exact_total().ul);
}

TEST_CASE("meter LF-2000 model: holding writes are checked whole, addresses before values") {
    Lf2000Model meter(test::lf2000(), quiet());
    CHECK(write(meter, 101, {50}) == WriteOutcome::IllegalValue);
    CHECK(write(meter, 101, {150}) == WriteOutcome::IllegalValue);  // not a step of 100
    CHECK(write(meter, 101, {10100}) == WriteOutcome::IllegalValue);
    CHECK(write(meter, 102, {1001}) == WriteOutcome::IllegalValue);
    CHECK(write(meter, 100, {2}) == WriteOutcome::IllegalValue);
    CHECK(write(meter, 103, {0}) == WriteOutcome::IllegalAddress);
    CHECK(write(meter, 99, {0, 0}) == WriteOutcome::IllegalAddress);
    CHECK(write(meter, 101, {200, 0, 0}) == WriteOutcome::IllegalAddress);  // 103 is not there
    CHECK(write(meter, 101, {50, 0, 0}) == WriteOutcome::IllegalAddress);   // address beats value
    // Filter good, trim bad: nothing is written.
    CHECK(write(meter, 100, {0, 2000, 5000}) == WriteOutcome::IllegalValue);
    CHECK(meter.filter() == Millis{1000});
    CHECK(meter.read_holding(101) == 1000);
    CHECK(write(meter, 100, {0, 2000, 500}) == WriteOutcome::Accepted);
    CHECK(meter.filter() == Millis{2000});
    CHECK(meter.read_holding(102) == 500);
    CHECK_FALSE(meter.read_holding(103).has_value());
}

TEST_CASE("meter LF-2000 model: the sample counter counts measurements and wraps") {
    Lf2000Model meter(test::lf2000(), quiet());
    for (int i = 0; i < 65537; ++i) meter.measure({});
    CHECK(decoded(meter).sample == 1);
    CHECK(decoded(meter).period == Millis{100});
}

TEST_CASE("meter LF-2000 model: a frozen meter stops its counter and values") {
    Lf2000Model meter(test::lf2000(), quiet());
    for (int i = 0; i < 5; ++i) meter.measure(per_measurement(100.0));
    const auto before = meter.input_block();
    meter.set_frozen(true);
    for (int i = 0; i < 5; ++i) meter.measure(per_measurement(500.0));
    CHECK(meter.input_block() == before);
    meter.set_frozen(false);
    meter.measure(per_measurement(100.0));
    CHECK(decoded(meter).sample == 6);
}

TEST_CASE("meter LF-2000 model: a zero drift grows with time") {
    Lf2000Model meter(test::lf2000(), quiet());
    REQUIRE(write(meter, 101, {100}) == WriteOutcome::Accepted);  // no averaging
    meter.set_zero_drift(FlowRate::from_ul_per_h(2.0));           // +2 uL/h per hour
    for (int i = 0; i < 36000; ++i) meter.measure({});
    CHECK(decoded(meter).flow.ul_per_h == doctest::Approx(2.0).epsilon(0.01));
    CHECK(meter.exact_total().ul == doctest::Approx(1.0).epsilon(0.01));  // mean 1 uL/h for 1 h
}

TEST_CASE("meter LF-2000 model: identification text") {
    Lf2000Options o;
    o.serial = "LF1234";
    o.firmware = "2.1";
    Lf2000Model meter(test::lf2000(), o);
    CHECK(meter.identification_text() == "LF-2000,SN=LF1234,FW=2.1");
}

TEST_CASE("meter LF-2000 model: the same model speaks another make's register map") {
    Lf2000Model meter(test::other_make(), quiet());
    for (int i = 0; i < 5; ++i) meter.measure(per_measurement(360.0));
    const auto block = meter.input_block();
    REQUIRE(block.size() == 7);
    const auto r = decoded(meter);
    CHECK(r.total.ul == doctest::Approx(0.05).epsilon(1e-6));
    CHECK(r.flow.ul_per_h == doctest::Approx(360.0).epsilon(1e-6));
    CHECK(write(meter, 201, {50}) == WriteOutcome::IllegalValue);
    CHECK(write(meter, 200, {5}) == WriteOutcome::Accepted);  // this make's reset value
    meter.measure({});
    CHECK(decoded(meter).total.ul == 0.0);
}

TEST_CASE("meter LF-2000 model: a unit's calibration error and noise reach the total as they reach the flow") {
    Lf2000Options o = quiet();
    o.gain_error = 0.005;  // the edges of the meter ICD's accuracy: +0.5 % of reading, +0.1 uL/h
    o.offset_ul_h = 0.1;
    Lf2000Model meter(test::lf2000(), o);
    for (int tick = 0; tick < 36000; ++tick) meter.measure(per_measurement(100.0));  // one hour at 100 uL/h
    CHECK(meter.exact_total().ul == doctest::Approx(100.0 * 1.005 + 0.1).epsilon(1e-9));
    CHECK(decoded(meter).flow.ul_per_h == doctest::Approx(100.0 * 1.005 + 0.1).epsilon(1e-6));  // float32, 0.01 uL/h steps

    // Noise in every measurement: the total of a noisy meter moves off the exact one, but by far
    // less than the accuracy over an hour (it averages out).
    Lf2000Options n;
    n.seed = 5;
    n.total_noise = true;
    Lf2000Model noisy(test::lf2000(), n);
    for (int tick = 0; tick < 36000; ++tick) noisy.measure(per_measurement(100.0));
    CHECK(noisy.exact_total().ul != 100.0);
    CHECK(noisy.exact_total().ul == doctest::Approx(100.0).epsilon(0.001));
}
