// Line statistics against figures computed by hand (worked out in the comments).
#include <doctest/doctest.h>

#include "history/results_store.hpp"
#include "stats/line_stats.hpp"
#include "stats/stats_page.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::stats;
using history::Measurement;
using history::RunRecord;

namespace {

RunRecord run(const std::string& serial, const std::string& verdict, bool tested, std::vector<Measurement> ms = {}) {
    static int minute = 0;
    RunRecord r;
    r.serial = serial;
    r.verdict = verdict;
    r.tested = tested;
    char t[32];
    std::snprintf(t, sizeof t, "2026-01-01T08:%02d:00.000Z", minute++ % 60);
    r.started_at = t;
    r.measurements = std::move(ms);
    return r;
}

Measurement meas(const std::string& check, const std::string& verdict, std::optional<double> value = std::nullopt,
                 std::optional<double> lo = std::nullopt, std::optional<double> hi = std::nullopt) {
    Measurement m;
    m.scenario = "eol-basic";
    m.check_id = check;
    m.name = check + " name";
    m.unit = "uL";
    m.verdict = verdict;
    m.measured = value;
    m.lower = lo;
    m.upper = hi;
    return m;
}

}  // namespace

TEST_CASE("stats yield: first-pass and final yield count attempts only, station errors apart") {
    // SN1 passes; SN2 fails then passes; SN3 fails twice; SN4's first run is a station error,
    // then it passes (its first attempt); SN5 was never tested (serial mismatch).
    const std::vector<RunRecord> runs = {run("SN1", "PASS", true), run("SN2", "FAIL", true), run("SN3", "FAIL", true),
                                         run("SN4", "ERROR", true), run("SN2", "PASS", true), run("SN3", "FAIL", true),
                                         run("SN4", "PASS", true), run("SN5", "FAIL", false)};
    const auto y = compute_yield(runs);
    CHECK(y.units == 4);
    CHECK(y.first_pass == 2);  // SN1, SN4
    CHECK(y.final_pass == 3);  // SN1, SN2, SN4
    CHECK(y.attempts == 6);
    CHECK(y.retests == 2);     // SN2's and SN3's second
    CHECK(y.station_errors == 1);
    CHECK(*y.first_pass_yield() == doctest::Approx(0.5));
    CHECK(*y.final_yield() == doctest::Approx(0.75));
    CHECK_FALSE(compute_yield({}).first_pass_yield().has_value());
}

TEST_CASE("stats pareto: non-passing checks of attempts, most first, with the cumulative share") {
    const std::vector<RunRecord> runs = {
        run("SN2", "FAIL", true, {meas("volume.1", "FAIL"), meas("rate.1", "PASS")}),
        run("SN3", "FAIL", true, {meas("volume.1", "FAIL"), meas("rate.1", "INCONCLUSIVE")}),
        run("SN3", "FAIL", true, {meas("volume.1", "FAIL"), meas("rate.1", "PASS")}),
        // A station error's checks are not the unit's failures.
        run("SN4", "ERROR", true, {meas("rate.1", "FAIL")}),
    };
    const auto bars = pareto(runs);
    REQUIRE(bars.size() == 2);
    CHECK(bars[0].check_id == "volume.1");
    CHECK(bars[0].fail == 3);
    CHECK(bars[0].cumulative_percent == doctest::Approx(75.0));  // 3 of 4
    CHECK(bars[1].check_id == "rate.1");
    CHECK(bars[1].inconclusive == 1);
    CHECK(bars[1].fail == 0);
    CHECK(bars[1].cumulative_percent == doctest::Approx(100.0));
}

TEST_CASE("stats capability: Cp, Cpk from the moving range, Pp, Ppk from the standard deviation") {
    // 10 12 11 13 12: mean 11.6; moving ranges 2 1 2 1, MR-bar 1.5, sigma within 1.5/1.128;
    // squared deviations 2.56 .16 .36 1.96 .16 = 5.2, s = sqrt(5.2/4) = 1.140175.
    const std::vector<double> x = {10, 12, 11, 13, 12};
    const auto c = capability(x, 5.0, 17.0);
    CHECK(c.n == 5);
    CHECK(c.mean == doctest::Approx(11.6));
    CHECK(c.mr_bar == doctest::Approx(1.5));
    CHECK(c.sigma_within == doctest::Approx(1.5 / 1.128));
    CHECK(c.sigma_overall == doctest::Approx(1.140175).epsilon(1e-6));
    CHECK(*c.cp == doctest::Approx(1.504));          // 12 * 1.128 / 9
    CHECK(*c.cpk == doctest::Approx(1.3536));        // min(5.4, 6.6) * 1.128 / 4.5
    CHECK(*c.pp == doctest::Approx(1.754116).epsilon(1e-6));   // 12 / (6 s)
    CHECK(*c.ppk == doctest::Approx(1.578702).epsilon(1e-6));  // 5.4 / (3 s)

    // One-sided (upper limit only): no Cp, Cpk from the upper side.
    const auto up = capability(x, std::nullopt, 17.0);
    CHECK_FALSE(up.cp.has_value());
    CHECK(*up.cpk == doctest::Approx(1.3536));
    const auto low = capability(x, 5.0, std::nullopt);
    CHECK(*low.cpk == doctest::Approx(6.6 * 1.128 / 4.5));
    // No spread: undefined, never infinite.
    const std::vector<double> same = {3, 3, 3};
    const auto flat = capability(same, 1.0, 5.0);
    CHECK_FALSE(flat.cp.has_value());
    CHECK_FALSE(flat.cpk.has_value());
}

TEST_CASE("stats control chart: limits from the moving range and a point beyond 3 sigma after 8 on one side") {
    // Sum 120 over 11 points: centre 10.909; moving ranges sum 16 over 10, MR-bar 1.6, sigma
    // 1.6/1.128 = 1.41844, UCL 15.164. The first ten points are all below the centre (WE4 from
    // the eighth on); 20 is beyond 3 sigma (WE1).
    const std::vector<double> x = {10, 10.5, 9.5, 10, 10.5, 9.5, 10, 10.5, 9.5, 10, 20};
    const auto ch = individuals_chart(x);
    CHECK(ch.center == doctest::Approx(120.0 / 11));
    CHECK(ch.sigma == doctest::Approx(1.6 / 1.128));
    CHECK(ch.ucl == doctest::Approx(120.0 / 11 + 3 * 1.6 / 1.128));
    CHECK(ch.lcl == doctest::Approx(120.0 / 11 - 3 * 1.6 / 1.128));
    CHECK(ch.mr_ucl == doctest::Approx(3.267 * 1.6));
    REQUIRE(ch.hits.size() == 4);
    CHECK(ch.hits[0].point == 7);
    CHECK(ch.hits[0].rule == RunRule::EightOneSide);
    CHECK(ch.hits[1].point == 8);
    CHECK(ch.hits[2].point == 9);
    CHECK(ch.hits[3].point == 10);
    CHECK(ch.hits[3].rule == RunRule::Beyond3Sigma);
}

TEST_CASE("stats control chart: 2 of 3 beyond 2 sigma and a trend of six") {
    // 0 and 0.5 alternating with 1.6, 1.7 at points 10 and 11: centre 7.8/20 = 0.39; moving ranges
    // sum 10.4 over 19, sigma 0.48526, 2-sigma line 1.3605, 3-sigma 1.8458: both beyond 2 sigma
    // (WE2 completed at 11), none beyond 3.
    const std::vector<double> x = {0, .5, 0, .5, 0, .5, 0, .5, 0, .5, 1.6, 1.7, .5, 0, .5, 0, .5, 0, .5, 0};
    const auto ch = individuals_chart(x);
    CHECK(ch.center == doctest::Approx(0.39));
    CHECK(ch.sigma == doctest::Approx(10.4 / 19 / 1.128));
    REQUIRE(ch.hits.size() == 1);
    CHECK(ch.hits[0].point == 11);
    CHECK(ch.hits[0].rule == RunRule::TwoOfThreeBeyond2);

    // 1..6: five rises in a row complete a trend at the sixth point (z there 2.82: no WE1).
    const std::vector<double> rising = {1, 2, 3, 4, 5, 6};
    const auto t = individuals_chart(rising);
    REQUIRE(t.hits.size() == 1);
    CHECK(t.hits[0].point == 5);
    CHECK(t.hits[0].rule == RunRule::SixTrending);
    // Constant values: no limits to break.
    const std::vector<double> same = {2, 2, 2, 2, 2, 2, 2, 2, 2};
    CHECK(individuals_chart(same).hits.empty());
}

TEST_CASE("stats series: numeric measurements of attempts in time order with the latest limits") {
    const std::vector<RunRecord> runs = {
        run("SN1", "PASS", true, {meas("volume.1", "PASS", 100.0, 85.0, 115.0), meas("event.1", "PASS")}),
        run("SN2", "FAIL", true, {meas("volume.1", "FAIL", 80.0, 86.0, 116.0)}),
        run("SN9", "ERROR", true, {meas("volume.1", "PASS", 99.0, 85.0, 115.0)}),
    };
    const auto s = numeric_series(runs);
    REQUIRE(s.size() == 1);  // event.1 has no number; the ERROR run is no attempt
    CHECK(s[0].values == std::vector<double>{100.0, 80.0});
    CHECK(s[0].serials == std::vector<std::string>{"SN1", "SN2"});
    CHECK(*s[0].lsl == 86.0);
    CHECK(*s[0].usl == 116.0);
    CHECK(s[0].limits_vary);
    CHECK(s[0].fails == 1);
}

TEST_CASE("stats page: HTML is self-contained with inline SVG and escaped text, CSV has one row per measurement") {
    const std::vector<RunRecord> runs = {
        run("SN1", "PASS", true, {meas("v<1>", "PASS", 100.0, 85.0, 115.0)}),
        run("SN2", "FAIL", true, {meas("v<1>", "FAIL", 80.0, 85.0, 115.0)}),
        run("SN3", "PASS", true, {meas("v<1>", "PASS", 101.0, 85.0, 115.0)}),
    };
    const auto line = analyse(runs, {"sqlite:x", "EOL-1", "", "", ""});
    const auto html = render_html(line);
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("src=") == std::string::npos);      // nothing loaded from elsewhere
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("v<1>") == std::string::npos);      // text from the history is escaped
    CHECK(html.find("v&lt;1&gt;") != std::string::npos);
    CHECK(html.find("66.7 %") != std::string::npos);    // first-pass yield 2 of 3
    const auto csv = render_csv(line);
    CHECK(csv.rfind("scenario,check_id,name,unit,n,mean,", 0) == 0);
    CHECK(csv.find("\r\neol-basic,v<1>,v<1> name,uL,3,") != std::string::npos);
    const auto text = render_text(line);
    CHECK(text.find("units tested 3, first-pass yield 66.7 % (2), final yield 66.7 % (2)") != std::string::npos);
}
