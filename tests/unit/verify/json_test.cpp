// JSON round trips of what the run record stores: checks (infinite limits included), the
// summary, IEC curves and the recorded pump data; bad input names what was expected.
#include <doctest/doctest.h>

#include <cmath>

#include "synthetic.hpp"
#include "verify/json.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;
using nlohmann::json;

TEST_CASE("verify JSON round trip of a check result with a one-sided limit") {
    CheckResult r;
    r.id = "event.low-res";
    r.name = "LOW_RES set";
    r.kind = "event";
    r.measured = 2;
    r.expected = 1;
    r.unit = "count";
    r.lower = 1;
    r.upper = std::numeric_limits<double>::infinity();
    r.tolerance = "at least one";
    r.verdict = Verdict::Pass;
    r.requirements = {"ICD-PUMP-8-LOW_RES", "REQ-12"};
    r.detail = "first: n=4";
    r.window_start = kT0;
    r.window_end = kT0 + 15min;
    const json j = r;
    CHECK(j.at("upper").is_null());
    CHECK(j.at("verdict") == "PASS");
    CHECK(j.at("window_end_ms") == 1767225600000LL + 900000);
    const auto back = json::parse(j.dump()).get<CheckResult>();
    CHECK(back.id == r.id);
    CHECK(back.measured == 2.0);
    CHECK(back.lower == 1.0);
    CHECK(std::isinf(back.upper));
    CHECK(back.upper > 0);
    CHECK(back.verdict == Verdict::Pass);
    CHECK(back.requirements == r.requirements);
    CHECK(back.window_start == r.window_start);
    CHECK(back.window_end == r.window_end);

    // INCONCLUSIVE with no measurement: NaN goes out as null and comes back as NaN.
    r.measured = std::nan("");
    r.verdict = Verdict::Inconclusive;
    const auto again = json::parse(json(r).dump()).get<CheckResult>();
    CHECK(std::isnan(again.measured));
    CHECK(again.verdict == Verdict::Inconclusive);

    json bad = json(r);
    bad["verdict"] = "MAYBE";
    CHECK_THROWS_WITH_AS(bad.get<CheckResult>(), doctest::Contains("PASS, FAIL or INCONCLUSIVE"),
                         std::invalid_argument);
}

TEST_CASE("verify JSON round trip of an IEC analysis and the recorded pump data") {
    SeriesSpec spec;
    spec.to = kT0 + 2h + 1min;
    spec.rate = steps({{kT0, 600.0}});
    const auto a = analyse_iec60601(make_series(spec), kT0, FlowRate{600.0}, IecParams{});
    const auto back = json::parse(json(a).dump()).get<IecAnalysis>();
    CHECK(back.start == a.start);
    CHECK(back.set_rate.ul_per_h == 600.0);
    CHECK(back.sample_interval == 30s);
    REQUIRE(back.startup.size() == a.startup.size());
    CHECK(back.startup[10].flow_ul_h == doctest::Approx(a.startup[10].flow_ul_h));
    REQUIRE(back.trumpet.size() == 5);
    CHECK(back.trumpet[3].ep_max_pct == doctest::Approx(a.trumpet[3].ep_max_pct));
    CHECK(back.trumpet[3].window_count == a.trumpet[3].window_count);
    CHECK(back.checks.size() == a.checks.size());
    CHECK(back.complete == a.complete);

    PumpEventRecord e{kT0 + 20ms, 1767225612.5, 3, "STEP", {{"step", "1"}, {"dose_ug_day", "250.0"}}};
    const auto e2 = json::parse(json(e).dump()).get<PumpEventRecord>();
    CHECK(e2.bench_t == e.bench_t);
    CHECK(e2.pump_t == 1767225612.5);
    CHECK(e2.values == e.values);

    PumpStatusRecord s;
    s.bench_t = kT0;
    s.state = "RUNNING";
    s.res_ml = 19.5;
    s.alarms = {"LOW_RES", "ERI"};
    s.bolus = "NONE";
    const auto s2 = json::parse(json(s).dump()).get<PumpStatusRecord>();
    CHECK(s2.res_ml == 19.5);
    CHECK(s2.alarms == s.alarms);

    CommandRecord c{kT0, "start", "START", record::Answer::ok(), record::Answer::error("STATE")};
    const auto c2 = record::command_from_json(json::parse(json(c).dump()), record::kSchemaVersion);
    CHECK(c2.verb == "START");
    CHECK(c2.expected == record::Answer::ok());
    CHECK(c2.answer.code == "STATE");

    RunSummary sum{3, 1, 0, Verdict::Fail};
    const auto sum2 = json::parse(json(sum).dump()).get<RunSummary>();
    CHECK(sum2.pass == 3);
    CHECK(sum2.overall == Verdict::Fail);
}
