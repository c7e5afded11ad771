// judge() alone (src/run/judge.cpp): a scenario and recorded data in, verdicts out, without a
// bench or a whole run. The recorded meter data come from the synthetic stroke pump of the
// verify tests, so the reference is built independently of the code judged.
#include <doctest/doctest.h>

#include <algorithm>

#include "run/engine.hpp"
#include "unit/scenario/scenario_test_helpers.hpp"
#include "unit/verify/synthetic.hpp"

using namespace pumprig;
using namespace std::chrono_literals;

namespace {

// 6000 ug/day at 500 ug/mL: 500 uL/h for an hour between "started" and "stopped".
const scenario::Scenario& one_hour() {
    static const scenario::Scenario sc = scenario::test::parse_ok(scenario::test::scenario_text(
        R"([{"do": "set_clock"}, {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
            {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
            {"do": "start", "label": "started"}, {"do": "wait", "for": "1 h"},
            {"do": "stop", "label": "stopped"}, {"do": "wait", "for": "5 min"}])",
        R"("settings": {"sample_period": "1 s"},
           "checks": [{"check": "volume", "name": "volume delivered", "from": "started", "to": "stopped"},
                      {"check": "no_unexpected_alarms"}], )"));
    return sc;
}

// The run as planned, the meter seeing `ul_per_h` while the pump runs.
run::RecordedRun recorded(double ul_per_h) {
    const auto& sc = one_hour();
    run::RecordedRun r;
    r.times = scenario::nominal_execution(sc, verify::test::kT0);
    const BenchTime started = *r.times.steps[3].at, stopped = *r.times.steps[5].at;
    verify::test::SeriesSpec spec;
    spec.from = r.times.start;
    spec.to = r.times.end;
    spec.tau_s = 20;
    spec.rate = verify::test::steps({{started, ul_per_h}, {stopped, 0}});
    r.samples = verify::test::make_series(spec);
    r.line_tau = 20s;
    r.last_data = r.times.end;
    return r;
}

const verify::CheckResult& find(const std::vector<verify::CheckResult>& checks, const std::string& kind, const std::string& name = "") {
    auto it = std::find_if(checks.begin(), checks.end(),
                           [&](const verify::CheckResult& c) { return c.kind == kind && (name.empty() || c.name == name); });
    REQUIRE_MESSAGE(it != checks.end(), "no check of kind " << kind << " " << name);
    return *it;
}

}  // namespace

TEST_CASE("judge: delivery as programmed passes the volume check, against the plan's volume") {
    const auto checks = run::judge(one_hour(), recorded(500));
    const auto& v = find(checks, "volume", "volume delivered");
    CHECK(v.verdict == verify::Verdict::Pass);
    CHECK(v.expected == doctest::Approx(500).epsilon(0.01));  // uL in one hour
    CHECK(v.lower < 500);
    CHECK(v.upper > 500);
    CHECK(v.requirements == std::vector<std::string>{"REQ-1"});
    CHECK(find(checks, "alarm").verdict == verify::Verdict::Pass);
}

TEST_CASE("judge: delivery 20 % low fails the volume check, 10 % low is within the ICD's 15 %") {
    CHECK(find(run::judge(one_hour(), recorded(400)), "volume", "volume delivered").verdict == verify::Verdict::Fail);
    CHECK(find(run::judge(one_hour(), recorded(600)), "volume", "volume delivered").verdict == verify::Verdict::Fail);
    CHECK(find(run::judge(one_hour(), recorded(450)), "volume", "volume delivered").verdict == verify::Verdict::Pass);
}

TEST_CASE("judge: without meter data the volume check is inconclusive, never a pass") {
    auto r = recorded(500);
    r.samples.clear();
    CHECK(find(run::judge(one_hour(), r), "volume", "volume delivered").verdict == verify::Verdict::Inconclusive);
}

TEST_CASE("judge: an alarm nobody expected fails no_unexpected_alarms") {
    auto r = recorded(500);
    verify::PumpEventRecord e;
    e.bench_t = *r.times.steps[3].at + 10min;
    e.pump_t = static_cast<double>(e.bench_t.time_since_epoch().count()) / 1000.0;
    e.n = 1;
    e.type = "ALARM";
    e.values = {{"code", "MOTOR_STALL"}, {"state", "SET"}};
    r.events.push_back(e);
    CHECK(find(run::judge(one_hour(), r), "alarm").verdict == verify::Verdict::Fail);
}

TEST_CASE("judge: an answer other than the one expected fails its command check") {
    auto r = recorded(500);
    verify::CommandRecord ok{*r.times.steps[3].at, "started", "START", record::Answer::ok(), record::Answer::ok()};
    r.commands.push_back(ok);
    auto checks = run::judge(one_hour(), r);
    CHECK(std::none_of(checks.begin(), checks.end(),
                       [](const verify::CheckResult& c) { return c.kind == "command" && c.verdict == verify::Verdict::Fail; }));
    verify::CommandRecord wrong{*r.times.steps[5].at, "stopped", "STOP", record::Answer::ok(), record::Answer::error("STATE")};
    r.commands.push_back(wrong);
    checks = run::judge(one_hour(), r);
    CHECK(std::any_of(checks.begin(), checks.end(),
                      [](const verify::CheckResult& c) { return c.kind == "command" && c.verdict == verify::Verdict::Fail; }));
}
