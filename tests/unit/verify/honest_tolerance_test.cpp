// Tolerances from the requirement, taken against the programmed quantity, plus the measurement's
// own uncertainty (issue 14): a conforming unit at the edge of its specification passes, a unit
// beyond it still fails. Each case failed before the tolerances were mended.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "synthetic.hpp"
#include "verify/checks.hpp"
#include "verify/iec60601.hpp"
#include "verify/report_checks.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;

namespace {

PumpStatusRecord status_at(BenchTime t, double res_ml, double deliv_ml) {
    PumpStatusRecord s;
    s.bench_t = t;
    s.state = "RUNNING";
    s.res_ml = res_ml;
    s.deliv_ml = deliv_ml;
    return s;
}

// A pump whose strokes are `error` off their nominal volume: it counts (and reports) nominal
// strokes while the meter sees what really flowed. Returns the reservoir checks.
std::vector<CheckResult> reservoir_of_a_pump_off_by(double error, double meter_error = 0.0) {
    const BenchTime refill = kT0 + 5min;
    const double rate = 100.0;  // uL/h programmed
    const std::vector<ExpectedSegment> expected = {{kT0 + 10min, kT0 + 6h, FlowRate{rate}, "basal"}};
    SeriesSpec spec;
    spec.to = kT0 + 6h;
    spec.tau_s = 20;
    spec.seed = 11;
    spec.stroke_ul = 0.25 * (1.0 + error);
    spec.rate = steps({{kT0 + 10min, rate * (1.0 + error)}});
    auto series = make_series(spec);
    for (auto& s : series) s.total = Volume{s.total.ul * (1.0 + meter_error)};
    // The pump's own count: programmed volume, to the printed decimals.
    std::vector<PumpStatusRecord> statuses;
    for (BenchTime t = kT0 + 15min; t <= kT0 + 6h; t += 15min) {
        const double counted_ml = std::round(rate * to_seconds(t - (kT0 + 10min)) / 3600.0) / 1000.0;
        statuses.push_back(status_at(t, std::round((20.0 - counted_ml) * 1000.0) / 1000.0, std::round((1.0 + counted_ml) * 1000.0) / 1000.0));
    }
    ReservoirCheckParams p;
    p.refill_at = refill;
    p.refill_volume = Volume::from_ml(20.0);
    p.window_end = kT0 + 6h;
    p.meter.line_tau = 20s;
    return check_reservoir(series, expected, statuses, p);
}

}  // namespace

TEST_CASE("honest tolerance: reservoir checks pass a unit 14.9 percent low or high, fail one 20 percent off") {
    for (const double error : {-0.149, 0.149}) {
        INFO("delivery error " << error);
        const auto r = reservoir_of_a_pump_off_by(error);
        REQUIRE(r.size() == 2);
        CHECK(r[0].verdict == Verdict::Pass);
        CHECK(r[1].verdict == Verdict::Pass);
        CHECK(r[0].tolerance_source.find("pump ICD 9") != std::string::npos);
    }
    // -14 % read by a meter 0.5 % low (inside its accuracy): still a conforming unit.
    const auto low_meter = reservoir_of_a_pump_off_by(-0.14, -0.005);
    CHECK(low_meter[0].verdict == Verdict::Pass);
    CHECK(low_meter[1].verdict == Verdict::Pass);
    for (const double error : {-0.20, 0.20}) {
        INFO("delivery error " << error);
        const auto r = reservoir_of_a_pump_off_by(error);
        CHECK(r[0].verdict == Verdict::Fail);
        CHECK(r[1].verdict == Verdict::Fail);
    }
}

TEST_CASE("honest tolerance: a line 30 percent faster or slower than the rig's passes the volume check over a stop") {
    // A bolus rate (1 mL/h, pump ICD 9) for 30 min, then stopped; the window covers the stop and
    // the line's tail, where the line constant decides most of what the meter counts.
    const BenchTime stop = kT0 + 30min;
    const std::vector<ExpectedSegment> expected = {{kT0, stop, FlowRate{1000.0}, "bolus"}};
    for (const double real_tau : {14.0, 26.0}) {
        INFO("real line tau " << real_tau << " s, rig says 20 s");
        SeriesSpec spec;
        spec.to = kT0 + 40min;
        spec.tau_s = real_tau;
        spec.stroke_ul = 0;
        spec.noise_ul = 0;
        spec.rate = [&](BenchTime t) { return t < stop ? 1000.0 : 0.0; };
        const auto series = make_series(spec);
        VolumeCheckParams p;
        p.window_start = stop - 5s;
        p.window_end = stop + 2min;
        p.meter.line_tau = 20s;
        // Without the rig's uncertainty on the constant this fails (a band on the nominal line).
        p.meter.line_tau_uncertainty = 0.0;
        CHECK(check_delivered_volume(series, expected, p).verdict == Verdict::Fail);
        p.meter.line_tau_uncertainty = 0.3;
        const auto r = check_delivered_volume(series, expected, p);
        CHECK(r.verdict == Verdict::Pass);
        CHECK(r.tolerance.find("line tau 20.0 s +-30 %") != std::string::npos);
    }
}

TEST_CASE("honest tolerance: event timing follows the clock drift that clock.drift accepts") {
    // The pump clock runs 100 ppm fast, set at kT0; a STEP due 10 h later is stamped 3.6 s late.
    PumpClockMapping clock;
    clock.set_at = kT0;
    const BenchTime due = kT0 + 10h;
    auto step_event = [&](Millis late) {
        PumpEventRecord e;
        e.bench_t = due + late;
        e.pump_t = to_unix_seconds(due + late);
        e.n = 7;
        e.type = "STEP";
        e.values = {{"step", "2"}};
        return std::vector<PumpEventRecord>{e};
    };
    RateChange change;
    change.expected_at = due;
    change.step = 2;
    EventTimingParams p;
    p.clock = clock;
    p.run_end = due + 1h;
    CHECK(check_change_time_event(step_event(3600ms), change, p).verdict == Verdict::Pass);
    // The clock check accepts the same pump clock: its limit at 10 h is the same 5.6 s.
    ClockCheckParams cp;
    cp.from = kT0;
    std::vector<PumpStatusRecord> statuses;
    for (Millis t{3'600'000}; t <= Millis{36'000'000}; t += Millis{3'600'000}) {
        PumpStatusRecord s;
        s.bench_t = kT0 + t;
        s.pump_t = to_unix_seconds(kT0 + t) + to_seconds(t) * 100e-6;
        statuses.push_back(s);
    }
    const auto c = check_pump_clock(statuses, cp);
    CHECK(c.verdict == Verdict::Pass);
    CHECK(c.upper == doctest::Approx(to_seconds(clock.uncertainty_at(due))).epsilon(1e-3));
    // 300 ppm is beyond what either accepts.
    CHECK(check_change_time_event(step_event(10800ms), change, p).verdict == Verdict::Fail);
}

TEST_CASE("honest tolerance: IEC 60601-2-24 limits carry the meter's own error") {
    // A pump 15.3 % low read by a meter: inside 15 % + the meter's 0.5 % + 0.1 uL/h.
    SeriesSpec spec;
    spec.to = kT0 + 2h + 1min;
    spec.seed = 5;
    spec.noise_ul = 0;
    spec.stroke_ul = 0;
    spec.rate = steps({{kT0, 600.0 * 0.847}});
    IecParams p;
    const auto a = analyse_iec60601(make_series(spec), kT0, FlowRate{600.0}, p);
    CHECK(a.checks[0].id == "iec60601.mean_error");
    CHECK(a.checks[0].verdict == Verdict::Pass);
    CHECK(a.checks[0].lower == doctest::Approx(-15.0 - 0.5 - 100.0 * 0.1 / 600.0));
    CHECK(a.checks[0].tolerance_source.find("IEC 60601-2-24") != std::string::npos);
    // 16 % low is beyond it.
    spec.rate = steps({{kT0, 600.0 * 0.84}});
    CHECK(analyse_iec60601(make_series(spec), kT0, FlowRate{600.0}, p).checks[0].verdict == Verdict::Fail);
}

TEST_CASE("honest tolerance: a flow register drifting while stopped fails meter.zero.flow though the total is right") {
    const BenchTime stop = kT0 + 30min;
    SeriesSpec spec;
    spec.to = kT0 + 2h;
    spec.rate = [&](BenchTime t) { return t < stop ? 40.0 : 0.0; };
    auto samples = make_series(spec);
    const std::vector<ExpectedSegment> segments{{kT0, stop, FlowRate{40}, "basal"}, {stop, kT0 + 2h, FlowRate{0}, "stopped"}};
    std::vector<PumpStatusRecord> statuses;
    for (BenchTime t = stop + 1min; t < kT0 + 2h; t += 1min) statuses.push_back(status_at(t, 19.98, 0.020));
    MeterHealthParams p;
    p.settling = 2min;
    auto find = [](const std::vector<CheckResult>& rs, std::string_view id) -> const CheckResult* {
        for (const auto& r : rs)
            if (r.id == id) return &r;
        return nullptr;
    };
    const auto good = check_meter_health(samples, segments, statuses, Millis{0}, p);
    REQUIRE(find(good, "meter.zero.flow"));
    CHECK(find(good, "meter.zero.flow")->verdict == Verdict::Pass);
    // The register drifts from 0 to 1 uL/h (10 times the zero accuracy) over the stop; the
    // total, which every volume check reads, stays right.
    for (auto& s : samples)
        if (s.t > stop) s.flow = FlowRate{1.0 * to_seconds(s.t - stop) / to_seconds(kT0 + 2h - stop)};
    const auto drift = check_meter_health(samples, segments, statuses, Millis{0}, p);
    CHECK(find(drift, "meter.zero")->verdict == Verdict::Pass);
    REQUIRE(find(drift, "meter.zero.flow"));
    CHECK(find(drift, "meter.zero.flow")->verdict == Verdict::Fail);
    CHECK(find(drift, "meter.zero.flow")->measured > 0.9);
    CHECK(meter_fault(drift).has_value());
}
