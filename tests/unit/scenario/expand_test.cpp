// expand(): every expectation below is computed by hand from the pump ICD, in the comments.
// ITB-40 at 500 ug/mL: 240 ug/day = 0.48 mL/day = 20 uL/h; 480 ug/day = 40 uL/h.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/clock.hpp"
#include "scenario/expected.hpp"
#include "scenario_test_helpers.hpp"

using namespace pumprig;
using namespace pumprig::scenario;
using namespace pumprig::scenario::test;
using namespace std::chrono_literals;

namespace {

constexpr BenchTime t0 = kDefaultVirtualEpoch;  // 00:00 UTC

const std::string kSetup = R"({"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},)";
const std::string kContinuous = R"({"do": "program", "schedule": [{"start": "00:00", "dose": "240 ug/day"}]},)";

ExpectedPlan plan_of(const std::string& steps, const std::string& extra = "") {
    const Scenario s = parse_ok(scenario_text("[" + steps + "]", extra));
    return expand(s, nominal_execution(s, t0));
}

void check_segment(const verify::ExpectedSegment& seg, Millis from, Millis to, double ul_per_h, const std::string& label) {
    CHECK(seg.start == t0 + from);
    CHECK(seg.end == t0 + to);
    CHECK(seg.rate.ul_per_h == doctest::Approx(ul_per_h));
    CHECK(seg.label == label);
}

}  // namespace

TEST_CASE("scenario expand: continuous program") {
    const auto plan = plan_of(kSetup + kContinuous + R"({"do": "start"}, {"do": "wait", "for": "2 h"})");
    REQUIRE(plan.segments.size() == 1);
    check_segment(plan.segments[0], 0h, 2h, 20, "basal step 1");
    CHECK(plan.total_volume().ul == doctest::Approx(40));
    CHECK(plan.reservoir_at(t0 + 2h).ul == doctest::Approx(19960));
    CHECK(plan.reservoir_at(t0 + 1h).ul == doctest::Approx(19980));
    REQUIRE(plan.step_changes.size() == 1);
    CHECK(plan.step_changes[0].t == t0);
    CHECK(plan.step_changes[0].step == 1);
    CHECK_FALSE(plan.low_res_at.has_value());
    CHECK(plan.rate_at(t0 + 90min).ul_per_h == doctest::Approx(20));
}

TEST_CASE("scenario expand: schedule crossing midnight") {
    // The pump clock is set so that the scenario starts at 23:00; step 2 (22:00, 40 uL/h) is in
    // force until midnight, then step 1 (00:00, 20 uL/h).
    const auto plan = plan_of(R"({"do": "set_clock"},)" + kSetup +
                                  R"({"do": "program", "schedule": [{"start": "00:00", "dose": "240 ug/day"},
                                                                    {"start": "22:00", "dose": "480 ug/day"}]},
                                     {"do": "start"}, {"do": "wait", "for": "2 h"})",
                              R"("settings": {"start_time_of_day": "23:00"}, )");
    REQUIRE(plan.segments.size() == 2);
    check_segment(plan.segments[0], 0h, 1h, 40, "basal step 2");
    check_segment(plan.segments[1], 1h, 2h, 20, "basal step 1");
    CHECK(plan.total_volume().ul == doctest::Approx(60));
    REQUIRE(plan.step_changes.size() == 2);
    CHECK(plan.step_changes[0].t == t0);
    CHECK(plan.step_changes[0].step == 2);
    CHECK(plan.step_changes[1].t == t0 + 1h);
    CHECK(plan.step_changes[1].step == 1);
}

TEST_CASE("scenario expand: periodic bolus") {
    // 50 ug at 500 ug/mL = 100 uL over 30 min = 200 uL/h on top of 20 uL/h, at 01:00.
    const auto plan = plan_of(kSetup + R"({"do": "program", "schedule": [{"start": "00:00", "dose": "240 ug/day"}],
                                           "periodic_boluses": [{"start": "01:00", "dose": "50 ug", "duration": "30 min"}]},
                                          {"do": "start"}, {"do": "wait", "for": "2 h"})");
    REQUIRE(plan.segments.size() == 3);
    check_segment(plan.segments[0], 0h, 1h, 20, "basal step 1");
    check_segment(plan.segments[1], 1h, 90min, 220, "basal step 1 + periodic bolus 1");
    check_segment(plan.segments[2], 90min, 2h, 20, "basal step 1");
    CHECK(plan.total_volume().ul == doctest::Approx(140));
    REQUIRE(plan.boluses.size() == 1);
    CHECK(plan.boluses[0].kind == BolusKind::Periodic);
    CHECK(plan.boluses[0].number == 1);
    CHECK(plan.boluses[0].start == t0 + 1h);
    CHECK(plan.boluses[0].end == t0 + 90min);
    CHECK(plan.boluses[0].volume.ul == doctest::Approx(100));
    CHECK_FALSE(plan.boluses[0].cut_short);
}

TEST_CASE("scenario expand: a periodic bolus due during a clinician bolus waits for its end") {
    // Clinician 10 ug (20 uL) over 20 min from 00:50 (60 uL/h) to 01:10; the 01:00 periodic
    // bolus (100 uL over 30 min) starts at 01:10 and ends at 01:40.
    const auto plan = plan_of(kSetup + R"({"do": "program", "schedule": [{"start": "00:00", "dose": "240 ug/day"}],
                                           "periodic_boluses": [{"start": "01:00", "dose": "50 ug", "duration": "30 min"}]},
                                          {"do": "start"}, {"do": "wait", "for": "50 min"},
                                          {"do": "clinician_bolus", "dose": "10 ug", "duration": "20 min"},
                                          {"do": "wait", "for": "70 min"})");
    REQUIRE(plan.boluses.size() == 2);
    CHECK(plan.boluses[1].start == t0 + 70min);
    CHECK(plan.boluses[1].end == t0 + 100min);
    REQUIRE(plan.segments.size() == 4);
    check_segment(plan.segments[1], 50min, 70min, 80, "basal step 1 + clinician bolus");
    check_segment(plan.segments[2], 70min, 100min, 220, "basal step 1 + periodic bolus 1");
    CHECK(plan.total_volume().ul == doctest::Approx(40 + 20 + 100));
}

TEST_CASE("scenario expand: clinician bolus and cancel") {
    // 50 ug = 100 uL over 30 min (200 uL/h) from 1 h, cancelled at 1 h 15 min: 50 uL delivered.
    const auto plan = plan_of(kSetup + kContinuous + R"({"do": "start"}, {"do": "wait", "for": "1 h"},
                                          {"do": "clinician_bolus", "dose": "50 ug", "duration": "30 min"},
                                          {"do": "wait", "for": "15 min"}, {"do": "cancel_bolus"},
                                          {"do": "wait", "for": "45 min"})");
    REQUIRE(plan.segments.size() == 3);
    check_segment(plan.segments[0], 0h, 1h, 20, "basal step 1");
    check_segment(plan.segments[1], 1h, 75min, 220, "basal step 1 + clinician bolus");
    check_segment(plan.segments[2], 75min, 2h, 20, "basal step 1");
    REQUIRE(plan.boluses.size() == 1);
    CHECK(plan.boluses[0].kind == BolusKind::Clinician);
    CHECK(plan.boluses[0].planned_volume.ul == doctest::Approx(100));
    CHECK(plan.boluses[0].volume.ul == doctest::Approx(50));
    CHECK(plan.boluses[0].end == t0 + 75min);
    CHECK(plan.boluses[0].cut_short);
    CHECK(plan.total_volume().ul == doctest::Approx(90));
}

TEST_CASE("scenario expand: patient bolus lockout and daily limit") {
    // 10 ug = 20 uL over 10 min (120 uL/h); lockout 60 min; at most 2 a day.
    // Presses at 0 (OK), 30 min (LOCKOUT), 70 min (OK), 190 min (LIMIT: 2 started in 24 h).
    const auto s = parse_ok(scenario_text(
        "[" + kSetup + R"({"do": "program", "schedule": [{"start": "00:00", "dose": "240 ug/day"}],
                          "patient_bolus": {"dose": "10 ug", "duration": "10 min", "lockout": "60 min", "max_per_day": 2}},
                         {"do": "start"}, {"do": "patient_bolus"}, {"do": "wait", "for": "30 min"},
                         {"do": "patient_bolus", "expect": "LOCKOUT"}, {"do": "wait", "for": "40 min"},
                         {"do": "patient_bolus"}, {"do": "wait", "for": "2 h"},
                         {"do": "patient_bolus", "expect": "LIMIT"}, {"do": "wait", "for": "10 min"}])"));
    const auto plan = expand(s, nominal_execution(s, t0));
    std::vector<std::string> predicted;
    for (const auto& a : plan.answers)
        if (std::holds_alternative<PatientBolusStep>(s.steps[a.step_index].action)) predicted.push_back(a.predicted);
    CHECK(predicted == std::vector<std::string>{"OK", "LOCKOUT", "OK", "LIMIT"});
    REQUIRE(plan.boluses.size() == 2);
    CHECK(plan.boluses[0].start == t0);
    CHECK(plan.boluses[1].start == t0 + 70min);
    CHECK(plan.boluses[1].volume.ul == doctest::Approx(20));
    // 200 min of basal at 20 uL/h plus two 20 uL boluses.
    CHECK(plan.total_volume().ul == doctest::Approx(20.0 * 200 / 60 + 40));

    // A pump that answered OK to the locked-out press delivers nothing by the plan, and the
    // answer mismatch is visible.
    auto times = nominal_execution(s, t0);
    times.steps[5].answer = "OK";
    const auto wrong = expand(s, times);
    CHECK(wrong.boluses.size() == 2);
    const auto it = std::find_if(wrong.answers.begin(), wrong.answers.end(), [](const ExpectedAnswer& a) { return a.step_index == 5; });
    REQUIRE(it != wrong.answers.end());
    CHECK(it->predicted == "LOCKOUT");
    CHECK(it->governing == "OK");
}

TEST_CASE("scenario expand: refill with a concentration change") {
    // 240 ug/day is 20 uL/h at 500 ug/mL, then 10 uL/h at 1000 ug/mL.
    const auto plan = plan_of(kSetup + kContinuous + R"({"do": "start"}, {"do": "wait", "for": "1 h"}, {"do": "stop"},
                                          {"do": "refill", "volume": "20 mL", "concentration": "1000 ug/mL"},
                                          {"do": "start"}, {"do": "wait", "for": "1 h"})");
    REQUIRE(plan.segments.size() == 2);
    check_segment(plan.segments[0], 0h, 1h, 20, "basal step 1");
    check_segment(plan.segments[1], 1h, 2h, 10, "basal step 1");
    CHECK(plan.total_volume().ul == doctest::Approx(30));
    CHECK(plan.reservoir_at(t0 + 1h).ul == doctest::Approx(20000));  // the refill's new estimate
    CHECK(plan.reservoir_at(t0 + 2h).ul == doctest::Approx(19990));
}

TEST_CASE("scenario expand: EMPTY_RES drops to the minimum rate") {
    // 0.6 mL at 500 ug/mL: LOW_RES at the refill (0.6 <= 2.0 mL). 2400 ug/day = 4.8 mL/day =
    // 200 uL/h reaches 0.5 mL after 100 uL, at 30 min; then 0.048 mL/day = 2 uL/h.
    const auto plan = plan_of(R"({"do": "refill", "volume": "0.6 mL", "concentration": "500 ug/mL"},
                                 {"do": "program", "schedule": [{"start": "00:00", "dose": "2400 ug/day"}],
                                  "periodic_boluses": [{"start": "00:45", "dose": "10 ug", "duration": "10 min"}]},
                                 {"do": "start"}, {"do": "wait", "for": "1 h"})");
    REQUIRE(plan.segments.size() == 2);
    check_segment(plan.segments[0], 0h, 30min, 200, "basal step 1");
    check_segment(plan.segments[1], 30min, 1h, 2, "minimum rate (EMPTY_RES)");
    CHECK(plan.boluses.empty());  // no periodic bolus while EMPTY_RES is set
    CHECK(plan.low_res_at == t0);
    CHECK(plan.empty_res_at == t0 + 30min);
    CHECK(plan.reservoir_at(t0 + 30min).ul == doctest::Approx(500));
    CHECK(plan.reservoir_at(t0 + 1h).ul == doctest::Approx(499));
    CHECK(plan.total_volume().ul == doctest::Approx(101));
}

TEST_CASE("scenario expand: stop and start") {
    const auto plan = plan_of(kSetup + kContinuous + R"({"do": "start"}, {"do": "wait", "for": "1 h"}, {"do": "stop"},
                                          {"do": "wait", "for": "30 min"}, {"do": "start"}, {"do": "wait", "for": "30 min"})");
    REQUIRE(plan.segments.size() == 3);
    check_segment(plan.segments[0], 0h, 1h, 20, "basal step 1");
    check_segment(plan.segments[1], 1h, 90min, 0, "stopped");
    check_segment(plan.segments[2], 90min, 2h, 20, "basal step 1");
    CHECK(plan.total_volume().ul == doctest::Approx(30));
    REQUIRE(plan.states.size() == 3);
    CHECK(plan.states[0].state == "RUNNING");
    CHECK(plan.states[1].t == t0 + 1h);
    CHECK(plan.states[1].state == "STOPPED");
    CHECK(plan.states[2].t == t0 + 90min);
}

TEST_CASE("scenario expand: priming at 1 mL/h, and a step not reached does nothing") {
    // 0.2 mL at 1 mL/h takes 12 min.
    const auto s = parse_ok(scenario_text("[" + kSetup + R"({"do": "prime", "volume": "0.2 mL"},
                                         {"do": "wait", "for": "20 min"}, {"do": "prime", "volume": "0.1 mL"}])"));
    auto times = nominal_execution(s, t0);
    times.steps.resize(3);  // the run ended before the second prime
    times.end = t0 + 30min;
    const auto plan = expand(s, times);
    REQUIRE(plan.segments.size() == 2);
    check_segment(plan.segments[0], 0min, 12min, 1000, "priming");
    check_segment(plan.segments[1], 12min, 30min, 0, "stopped");
    REQUIRE(plan.primes.size() == 1);
    CHECK(plan.primes[0].end == t0 + 12min);
    CHECK(plan.total_volume().ul == doctest::Approx(200));
}

TEST_CASE("scenario nominal_execution: wait until a time of day and until an expected event") {
    // Reservoir 2.1 mL at 20 uL/h reaches the 2.0 mL LOW_RES threshold after 5 h.
    const auto s = parse_ok(scenario_text(
        R"([{"do": "set_clock"}, {"do": "refill", "volume": "2.1 mL", "concentration": "500 ug/mL"},)" + kContinuous +
            R"({"do": "start"}, {"do": "wait", "until": "08:00"},
               {"do": "wait", "until_event": {"type": "ALARM", "code": "LOW_RES"}, "timeout": "1 d"}])",
        R"("settings": {"start_time_of_day": "06:00"}, )"));
    const auto times = nominal_execution(s, t0);
    REQUIRE(times.steps.size() == 6);
    CHECK(*times.steps[5].at == t0 + 2h);
    CHECK(times.end == t0 + 5h);
}
