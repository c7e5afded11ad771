// Meter-based checks on synthetic series: the line model against a numerical line, volume and
// rate checks (conforming, 20 % low, gaps, stale data, run cut short), change timing.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "synthetic.hpp"
#include "verify/checks.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;

namespace {

constexpr double kRate = 20.0;  // uL/h, an intrathecal basal (0.48 mL/day)

std::vector<ExpectedSegment> one_segment(BenchTime a, BenchTime b, double rate) {
    return {ExpectedSegment{a, b, FlowRate{rate}, "basal step 1"}};
}

VolumeCheckParams volume_params(BenchTime a, BenchTime b, double tau_s) {
    VolumeCheckParams p;
    p.id = "volume.test";
    p.window_start = a;
    p.window_end = b;
    p.meter.line_tau = Millis{static_cast<long long>(tau_s * 1000)};
    p.requirements = {"ICD-PUMP-9-ACCURACY"};
    return p;
}

}  // namespace

TEST_CASE("verify lag model: a rate step through the line matches the analytic cumulative curve") {
    const double tau_s = 120;
    const BenchTime on = kT0 + 10min;
    const auto segments = one_segment(on, kT0 + 3h, 60.0);  // 1 uL/min
    // Hand formula for a step: r (x - tau (1 - exp(-x / tau))), x the time since the step.
    for (double x_s : {0.0, 30.0, 120.0, 600.0, 3600.0}) {
        const double r_s = 60.0 / 3600.0;
        const double want = r_s * (x_s - tau_s * (1 - std::exp(-x_s / tau_s)));
        const auto got = expected_meter_total(segments, on + Millis{static_cast<long long>(x_s * 1000)},
                                              Millis{static_cast<long long>(tau_s * 1000)});
        CHECK(got.ul == doctest::Approx(want).epsilon(1e-9));
    }
    // Nothing before the step; tau 0 is the plain integral.
    CHECK(expected_meter_total(segments, on - 1s, 120s).ul == 0.0);
    CHECK(expected_meter_total(segments, on + 1h, 0s).ul == doctest::Approx(60.0));
    CHECK(expected_delivered(segments, on + 30min).ul == doctest::Approx(30.0));
}

TEST_CASE("verify lag model: up and down steps match a finely stepped numerical line") {
    const double tau_s = 90;
    const std::vector<ExpectedSegment> segments = {
        {kT0, kT0 + 20min, FlowRate{30.0}, "basal"},
        {kT0 + 20min, kT0 + 30min, FlowRate{330.0}, "basal + bolus"},
        {kT0 + 30min, kT0 + 60min, FlowRate{30.0}, "basal"},
    };
    SeriesSpec spec;
    spec.to = kT0 + 70min;
    spec.sim_step = 10ms;
    spec.tau_s = tau_s;
    spec.stroke_ul = 0;  // continuous, so only the line shapes the curve
    spec.noise_ul = 0;
    spec.rate = steps({{kT0, 30.0}, {kT0 + 20min, 330.0}, {kT0 + 30min, 30.0}, {kT0 + 60min, 0.0}});
    const auto series = make_series(spec);
    double worst = 0;
    for (const auto& s : series)
        worst = std::max(worst, std::abs(s.total.ul - expected_meter_total(segments, s.t, 90s).ul));
    // Euler-free exact step of the line per 10 ms; the residual is the 10 ms discretisation of the input.
    CHECK(worst < 0.02);
    CHECK(series.back().total.ul == doctest::Approx(25.0 + 55.0).epsilon(1e-3));
}

TEST_CASE("verify volume check: a conforming series passes, and 20 percent low fails") {
    const BenchTime a = kT0 + 30min, b = kT0 + 3h;
    const auto expected = one_segment(kT0, kT0 + 4h, kRate);
    SeriesSpec spec;
    spec.to = kT0 + 4h;
    spec.tau_s = 60;
    spec.seed = 42;
    spec.rate = steps({{kT0, kRate * 1.03}});  // 3 % high: within 15 %
    const auto good = make_series(spec);
    const auto r = check_delivered_volume(good, expected, volume_params(a, b, 60));
    CHECK(r.verdict == Verdict::Pass);
    CHECK(r.expected == doctest::Approx(kRate * 2.5).epsilon(1e-3));
    CHECK(r.measured == doctest::Approx(kRate * 1.03 * 2.5).epsilon(0.01));
    CHECK(r.lower < r.expected);
    CHECK(r.upper > r.expected);
    CHECK(r.requirements == std::vector<std::string>{"ICD-PUMP-9-ACCURACY"});

    spec.rate = steps({{kT0, kRate * 0.8}});
    const auto low = make_series(spec);
    const auto f = check_delivered_volume(low, expected, volume_params(a, b, 60));
    CHECK(f.verdict == Verdict::Fail);
    CHECK(f.measured < f.lower);
}

TEST_CASE("verify volume check: a gap, stale readings or a short run are INCONCLUSIVE, never PASS") {
    const BenchTime a = kT0 + 30min, b = kT0 + 3h;
    const auto expected = one_segment(kT0, kT0 + 4h, kRate);
    SeriesSpec spec;
    spec.to = kT0 + 4h;
    spec.seed = 7;
    spec.rate = steps({{kT0, kRate}});
    const auto full = make_series(spec);

    SUBCASE("gap of samples") {
        std::vector<Sample> gap;
        for (const auto& s : full)
            if (s.t < kT0 + 1h || s.t > kT0 + 1h + 2min) gap.push_back(s);
        const auto r = check_delivered_volume(gap, expected, volume_params(a, b, 0));
        CHECK(r.verdict == Verdict::Inconclusive);
        CHECK(r.detail.find("gap") != std::string::npos);
    }
    SUBCASE("stale readings over 5 percent of the window") {
        auto stale = full;
        for (auto& s : stale)
            if (s.t >= kT0 + 1h && s.t < kT0 + 1h + 10min) {
                s.stale = true;
                s.valid = false;
            }
        const auto r = check_delivered_volume(stale, expected, volume_params(a, b, 0));
        CHECK(r.verdict == Verdict::Inconclusive);
        CHECK(r.detail.find("stale") != std::string::npos);
    }
    SUBCASE("invalid readings (air) even with a plausible total") {
        auto air = full;
        for (auto& s : air)
            if (s.t >= kT0 + 2h && s.t < kT0 + 2h + 15min) {
                s.valid = false;
                s.status = 0x2;
            }
        CHECK(check_delivered_volume(air, expected, volume_params(a, b, 0)).verdict ==
              Verdict::Inconclusive);
    }
    SUBCASE("run cut short before the window end") {
        std::vector<Sample> cut;
        for (const auto& s : full)
            if (s.t < kT0 + 2h) cut.push_back(s);
        const auto r = check_delivered_volume(cut, expected, volume_params(a, b, 0));
        CHECK(r.verdict == Verdict::Inconclusive);
        CHECK(r.detail.find("not reached") != std::string::npos);
    }
    SUBCASE("a window ending just after the last sample is shrunk to the data, not INCONCLUSIVE") {
        const auto r = check_delivered_volume(full, expected, volume_params(a, full.back().t + 600ms, 0));
        CHECK(r.verdict == Verdict::Pass);
        CHECK(r.window_end == full.back().t);
        CHECK(r.detail.find("moved") != std::string::npos);
    }
    SUBCASE("no samples at all") {
        const auto r = check_delivered_volume({}, expected, volume_params(a, b, 0));
        CHECK(r.verdict == Verdict::Inconclusive);
    }
    SUBCASE("a few bad readings below the limit still judge") {
        auto few = full;
        for (auto& s : few)
            if (s.t >= kT0 + 1h && s.t < kT0 + 1h + 20s) s.valid = false;
        CHECK(check_delivered_volume(few, expected, volume_params(a, b, 0)).verdict == Verdict::Pass);
    }
}

TEST_CASE("verify assess_window reports what is wrong") {
    SeriesSpec spec;
    spec.to = kT0 + 10min;
    spec.rate = steps({{kT0, kRate}});
    const auto s = make_series(spec);
    const auto ok = assess_window(s, kT0 + 1min, kT0 + 9min, {});
    CHECK(ok.usable);
    CHECK(ok.covered);
    CHECK(ok.bad_fraction == 0.0);
    CHECK(ok.longest_gap == 1s);
    const auto before = assess_window(s, kT0 - 1min, kT0 + 9min, {});
    CHECK_FALSE(before.usable);
    CHECK(before.problem.find("before the window start") != std::string::npos);
    const auto empty = assess_window(s, kT0 + 2min, kT0 + 2min, {});
    CHECK_FALSE(empty.usable);
}

TEST_CASE("verify step rates: each segment's mean rate after settling") {
    const std::vector<ExpectedSegment> expected = {
        {kT0, kT0 + 2h, FlowRate{20.0}, "basal step 1"},
        {kT0 + 2h, kT0 + 4h, FlowRate{25.0}, "basal step 2"},
        {kT0 + 4h, kT0 + 4h + 5min, FlowRate{20.0}, "basal step 1"},
    };
    SeriesSpec spec;
    spec.to = kT0 + 4h + 5min;
    spec.tau_s = 120;
    spec.seed = 3;
    spec.rate = steps({{kT0, 20.0 * 0.95}, {kT0 + 2h, 25.0 * 0.95}, {kT0 + 4h, 20.0}});
    const auto series = make_series(spec);
    StepRateParams p;
    p.settling = 10min;
    p.meter.line_tau = 120s;
    const auto results = check_step_rates(series, expected, p);
    REQUIRE(results.size() == 3);
    CHECK(results[0].verdict == Verdict::Pass);
    CHECK(results[0].measured == doctest::Approx(19.0).epsilon(0.02));
    CHECK(results[1].verdict == Verdict::Pass);
    CHECK(results[1].expected == doctest::Approx(25.0).epsilon(1e-3));
    CHECK(results[1].id == "rate.2");
    // Shorter than the settling margin: nothing steady to measure, said so.
    CHECK(results[2].verdict == Verdict::Inconclusive);
    CHECK(results[2].detail.find("settling") != std::string::npos);

    // The pump stuck at the first rate: step 2 fails.
    spec.rate = steps({{kT0, 20.0}});
    const auto stuck = check_step_rates(make_series(spec), expected, p);
    CHECK(stuck[1].verdict == Verdict::Fail);
}

TEST_CASE("verify change timing from the meter: on time passes, one hour late fails") {
    RateChange change;
    change.id = "timing.step-2.meter";
    change.expected_at = kT0 + 3h;
    change.rate_before = FlowRate{20.0};
    change.rate_after = FlowRate{40.0};
    ChangeTimingParams p;
    p.meter.line_tau = 120s;
    SeriesSpec spec;
    spec.to = kT0 + 6h;
    spec.tau_s = 120;
    spec.seed = 11;

    spec.rate = steps({{kT0, 20.0}, {kT0 + 3h, 40.0}});
    const auto on_time = check_change_time_meter(make_series(spec), change, p);
    CHECK(on_time.verdict == Verdict::Pass);
    CHECK(std::abs(on_time.measured) < on_time.upper);
    // Stroke interval at 20 uL/h is 45 s; one stroke over 20 uL/h of change is 45 s too.
    CHECK(on_time.upper >= 45.0);
    CHECK(on_time.upper < 300.0);

    spec.rate = steps({{kT0, 20.0}, {kT0 + 4h, 40.0}});
    const auto late = check_change_time_meter(make_series(spec), change, p);
    CHECK(late.verdict == Verdict::Fail);
    CHECK(late.measured == doctest::Approx(3600.0).epsilon(0.03));

    // No change at all: reported as not found.
    spec.rate = steps({{kT0, 20.0}});
    const auto none = check_change_time_meter(make_series(spec), change, p);
    CHECK(none.verdict == Verdict::Fail);
    CHECK(none.detail.find("no rate change") != std::string::npos);

    // A change 20 min after the recording began: the search starts at the first sample.
    auto early = change;
    early.expected_at = kT0 + 20min;
    spec.rate = steps({{kT0, 20.0}, {kT0 + 20min, 40.0}});
    const auto soon = check_change_time_meter(make_series(spec), early, p);
    CHECK(soon.verdict == Verdict::Pass);
    CHECK(soon.window_start == kT0);

    // Run cut short before the search window ends: INCONCLUSIVE.
    spec.to = kT0 + 3h + 30min;
    spec.rate = steps({{kT0, 20.0}, {kT0 + 3h, 40.0}});
    CHECK(check_change_time_meter(make_series(spec), change, p).verdict == Verdict::Inconclusive);
}

TEST_CASE("verify reservoir accounting against the meter") {
    const BenchTime refill = kT0 + 5min;
    const std::vector<ExpectedSegment> expected = {{kT0 + 10min, kT0 + 5h, FlowRate{100.0}, "basal"}};
    SeriesSpec spec;
    spec.to = kT0 + 5h;
    spec.tau_s = 60;
    spec.seed = 5;
    spec.rate = steps({{kT0 + 10min, 100.0}});
    const auto series = make_series(spec);
    auto status_at = [&](BenchTime t, double res_ml, double deliv_ml) {
        PumpStatusRecord s;
        s.bench_t = t;
        s.state = "RUNNING";
        s.res_ml = res_ml;
        s.deliv_ml = deliv_ml;
        return s;
    };
    ReservoirCheckParams p;
    p.refill_at = refill;
    p.refill_volume = Volume::from_ml(20.0);
    p.window_end = kT0 + 5h;
    p.meter.line_tau = 60s;
    // 100 uL/h from +10 min: after 1 h 50 min, 183.3 uL delivered.
    const std::vector<PumpStatusRecord> good = {
        status_at(kT0 + 10min, 20.000, 1.000),
        status_at(kT0 + 2h, 19.817, 1.183),
        status_at(kT0 + 4h, 19.617, 1.383),
    };
    const auto r = check_reservoir(series, expected, good, p);
    REQUIRE(r.size() == 2);
    CHECK(r[0].id == "reservoir.res_ml");
    CHECK(r[0].verdict == Verdict::Pass);
    CHECK(r[1].verdict == Verdict::Pass);
    // The worst of the two later statuses is reported; both agree with the meter to a stroke or so.
    CHECK(std::abs(r[1].measured - r[1].expected) < 1.0);
    CHECK(r[0].detail.find("2 checked") == std::string::npos);
    CHECK(r[0].detail.find("3 checked") != std::string::npos);

    // The pump counts 40 % more than the meter saw.
    const std::vector<PumpStatusRecord> bad = {
        status_at(kT0 + 10min, 20.000, 1.000),
        status_at(kT0 + 4h, 19.463, 1.537),
    };
    const auto f = check_reservoir(series, expected, bad, p);
    CHECK(f[0].verdict == Verdict::Fail);
    CHECK(f[1].verdict == Verdict::Fail);

    // No status after the refill: nothing to judge.
    const auto none = check_reservoir(series, expected, {}, p);
    CHECK(none[0].verdict == Verdict::Inconclusive);
}
