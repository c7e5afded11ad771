// IEC 60601-2-24 analysis: the trumpet formula on a hand-computed example, a conforming run,
// incomplete data, scenario limits, parameter validation and a week of 1 s samples.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "synthetic.hpp"
#include "verify/iec60601.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;

TEST_CASE("verify trumpet curve against a hand-computed example") {
    // r = 10, relative errors (Q - r)/r = 0, .2, -.2, .1, -.1, 0.
    const std::vector<double> q = {10, 12, 8, 11, 9, 10};
    const std::vector<Millis> windows = {1min, 90s, 3min, 210s};
    const auto t = trumpet_curve(q, 10.0, 30s, windows);
    REQUIRE(t.size() == 4);
    // P = 1 min, m = 2: sums .2, 0, -.1, 0, -.1 -> Ep = 10, 0, -5, 0, -5.
    CHECK(t[0].window_min == 1.0);
    CHECK(t[0].ep_max_pct == doctest::Approx(10.0));
    CHECK(t[0].ep_min_pct == doctest::Approx(-5.0));
    CHECK(t[0].window_count == 5);
    // P = 1.5 min, m = 3: sums 0, .1, -.2, 0 -> Ep = 0, 3.33, -6.67, 0.
    CHECK(t[1].ep_max_pct == doctest::Approx(10.0 / 3.0));
    CHECK(t[1].ep_min_pct == doctest::Approx(-20.0 / 3.0));
    CHECK(t[1].window_count == 4);
    // P = 3 min, m = 6: one window, sum 0.
    CHECK(t[2].ep_max_pct == doctest::Approx(0.0));
    CHECK(t[2].window_count == 1);
    // Longer than the data: no window.
    CHECK(t[3].window_count == 0);
    CHECK(std::isnan(t[3].ep_max_pct));

    // A missing interval removes only the windows that cover it.
    const std::vector<double> gap = {10, 12, NAN, 11, 9, 10};
    const auto g = trumpet_curve(gap, 10.0, 30s, std::vector<Millis>{1min});
    CHECK(g[0].window_count == 3);
    CHECK(g[0].ep_max_pct == doctest::Approx(10.0));
    CHECK(g[0].ep_min_pct == doctest::Approx(-5.0));

    CHECK_THROWS_AS(trumpet_curve(q, 10.0, 30s, std::vector<Millis>{45s}), std::invalid_argument);
}

TEST_CASE("verify IEC analysis of a conforming run") {
    SeriesSpec spec;
    spec.to = kT0 + 2h + 1min;
    spec.tau_s = 30;
    spec.seed = 99;
    spec.rate = steps({{kT0, 600.0 * 1.02}});  // 10 uL/min, 2 % high
    const auto series = make_series(spec);
    IecParams p;
    const auto a = analyse_iec60601(series, kT0, FlowRate{600.0}, p);
    CHECK(a.complete);
    CHECK(a.startup.size() == 240);
    CHECK(a.analysis.size() == 120);
    CHECK(a.startup.front().t_min == doctest::Approx(0.5));
    CHECK(a.analysis.back().t_min == doctest::Approx(120.0));
    CHECK(a.mean_error_pct == doctest::Approx(2.0).epsilon(0.05));
    REQUIRE(a.trumpet.size() == 5);
    CHECK(a.trumpet[0].window_min == 2.0);
    CHECK(a.trumpet[0].window_count == 120 - 4 + 1);
    CHECK(a.trumpet[4].window_count == 120 - 62 + 1);
    // A shorter window sees more of the stroke ripple: the trumpet opens towards small P.
    CHECK(a.trumpet[0].ep_max_pct >= a.trumpet[4].ep_max_pct);
    CHECK(a.trumpet[0].ep_min_pct <= a.trumpet[4].ep_min_pct);
    REQUIRE(a.checks.size() == 1 + 2 * 5);
    for (const auto& c : a.checks) {
        INFO(c.id);
        CHECK(c.verdict == Verdict::Pass);
    }
    CHECK(a.checks[0].id == "iec60601.mean_error");
    CHECK(a.checks[1].id == "iec60601.trumpet.P2.max");
    CHECK(a.checks[1].tolerance == "report only");
    CHECK(a.checks[1].detail.find("report only") != std::string::npos);
}

TEST_CASE("verify IEC analysis: mean error limit, trumpet limits and incomplete data") {
    SeriesSpec spec;
    spec.to = kT0 + 2h + 1min;
    spec.seed = 5;
    spec.rate = steps({{kT0, 600.0 * 0.8}});
    const auto low = make_series(spec);
    IecParams p;
    p.trumpet_limits = {{2min, 5.0, -5.0}};
    const auto a = analyse_iec60601(low, kT0, FlowRate{600.0}, p);
    CHECK(a.mean_error_pct == doctest::Approx(-20.0).epsilon(0.02));
    CHECK(a.checks[0].verdict == Verdict::Fail);
    CHECK(a.checks[1].verdict == Verdict::Pass);   // Ep_max about -20 %, below +5 %
    CHECK(a.checks[2].verdict == Verdict::Fail);   // Ep_min about -20 %, below -5 %
    // The limit, widened by the meter's own error (0.5 % of reading + 0.1 uL/h at 600 uL/h).
    CHECK(a.checks[2].lower == doctest::Approx(-5.0 - 0.5 - 100.0 * 0.1 / 600.0));

    // Stale readings in the second hour: every check INCONCLUSIVE, never PASS.
    spec.rate = steps({{kT0, 600.0}});
    auto stale = make_series(spec);
    for (auto& s : stale)
        if (s.t > kT0 + 90min && s.t < kT0 + 91min) s.stale = true;
    const auto b = analyse_iec60601(stale, kT0, FlowRate{600.0}, p);
    CHECK_FALSE(b.complete);
    for (const auto& c : b.checks) {
        INFO(c.id);
        CHECK(c.verdict == Verdict::Inconclusive);
    }
    // The curve still shows the good intervals and marks the bad ones.
    std::size_t invalid = 0;
    for (const auto& fp : b.analysis) invalid += fp.valid ? 0 : 1;
    CHECK(invalid >= 2);
    CHECK(invalid <= 4);

    // Run cut short inside the analysis period.
    std::vector<Sample> cut(stale.begin(), stale.begin() + 5000);
    const auto c = analyse_iec60601(cut, kT0, FlowRate{600.0}, IecParams{});
    CHECK(c.checks[0].verdict == Verdict::Inconclusive);
    CHECK(c.checks[0].detail.find("incomplete") != std::string::npos);
}

TEST_CASE("verify IEC parameters are validated with named fields") {
    IecParams p;
    CHECK(validate(p).has_value());
    p.windows = {2min, 45s};
    auto e = validate(p);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().kind == ErrorKind::BadInput);
    CHECK(e.error().message.find("windows") != std::string::npos);
    p = IecParams{};
    p.analysis_end = p.analysis_start;
    CHECK(validate(p).error().message.find("analysis_end") != std::string::npos);
    p = IecParams{};
    p.trumpet_limits = {{7min, 1.0, std::nullopt}};
    CHECK(validate(p).error().message.find("trumpet_limits") != std::string::npos);
    CHECK_THROWS_AS(analyse_iec60601({}, kT0, FlowRate{600.0}, p), std::invalid_argument);
    CHECK_THROWS_AS(analyse_iec60601({}, kT0, FlowRate{0.0}, IecParams{}), std::invalid_argument);
    // No data at all is not a crash: INCONCLUSIVE.
    const auto none = analyse_iec60601({}, kT0, FlowRate{600.0}, IecParams{});
    CHECK(none.checks[0].verdict == Verdict::Inconclusive);
}

TEST_CASE("verify IEC analysis over seven days of 1 s samples") {
    // 604,801 samples built directly (a stepped model would only slow the test down): 20 uL/h
    // with seeded noise on the total; the analysis period is the whole week after the first day.
    std::mt19937_64 rng(2024);
    std::normal_distribution<double> noise(0.0, 0.01);
    std::vector<Sample> week;
    week.reserve(604'801);
    for (long long i = 0; i <= 604'800; ++i) {
        Sample s;
        s.t = kT0 + std::chrono::seconds(i);
        s.total = Volume{20.0 * static_cast<double>(i) / 3600.0 + noise(rng)};
        s.valid = true;
        s.counter = static_cast<std::uint16_t>(i * 10);
        week.push_back(s);
    }
    IecParams p;
    p.analysis_start = 24h;
    p.analysis_end = 168h;
    p.windows = {2min, 5min, 11min, 19min, 31min, 60min, 240min};
    const auto a = analyse_iec60601(week, kT0, FlowRate{20.0}, p);
    CHECK(a.complete);
    CHECK(a.analysis.size() == 144 * 120);
    CHECK(std::abs(a.mean_error_pct) < 0.01);
    CHECK(a.trumpet[6].window_count == 144 * 120 - 480 + 1);
    CHECK(a.checks[0].verdict == Verdict::Pass);
}
