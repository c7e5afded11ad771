// judge(): an expected event whose window runs to the end of a completed run and never came is
// a FAIL, not INCONCLUSIVE (issue 14: the window's end was compared with the last meter sample,
// which always comes before the run's end).
#include <doctest/doctest.h>

#include "run/engine.hpp"
#include "scenario/scenario.hpp"

using namespace pumprig;
using namespace std::chrono_literals;

namespace {

constexpr BenchTime kStart{Millis{1767225600000LL}};

const char* kScenario = R"({
  "name": "missing-event",
  "pump_profile": "itb-40", "drug": "baclofen", "concentration": "500 ug/mL",
  "steps": [
    { "do": "wait", "for": "10 min" }
  ],
  "checks": [
    { "check": "event", "name": "a STEP that never comes", "event": { "type": "STEP", "step": 2 } }
  ]
})";

const verify::CheckResult* find(const std::vector<verify::CheckResult>& rs, std::string_view id) {
    for (const auto& r : rs)
        if (r.id == id) return &r;
    return nullptr;
}

run::RecordedRun ten_minutes(bool complete) {
    run::RecordedRun run;
    run.times.start = kStart;
    run.times.end = kStart + 10min + 1s;
    run.times.steps.resize(1);
    run.times.steps[0].at = kStart;
    for (BenchTime t = kStart; t <= kStart + 10min; t += 1s) {
        verify::Sample s;
        s.t = t;
        s.valid = true;
        s.status = 1;
        run.samples.push_back(s);
    }
    run.last_data = run.samples.back().t;
    run.complete = complete;
    return run;
}

}  // namespace

TEST_CASE("judge: an expected event missing from a completed run FAILs, from a run cut short is INCONCLUSIVE") {
    auto sc = scenario::parse_scenario_text(kScenario, "missing-event.json", PUMPRIG_SOURCE_DIR "/fixtures");
    REQUIRE(sc.has_value());
    const auto done = run::judge(*sc, ten_minutes(true));
    REQUIRE(find(done, "event.1"));
    CHECK(find(done, "event.1")->verdict == verify::Verdict::Fail);
    const auto cut = run::judge(*sc, ten_minutes(false));
    REQUIRE(find(cut, "event.1"));
    CHECK(find(cut, "event.1")->verdict == verify::Verdict::Inconclusive);
}
