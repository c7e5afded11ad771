#include <doctest/doctest.h>

#include <algorithm>

#include "scenario/scenario.hpp"
#include "scenario_test_helpers.hpp"

using namespace pumprig;
using namespace pumprig::scenario;
using namespace pumprig::scenario::test;

namespace {

const char* kRefill = R"({"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"})";

bool has_message(const std::vector<Diagnostic>& ds, const std::string& part) {
    return std::any_of(ds.begin(), ds.end(), [&](const Diagnostic& d) { return d.message.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("scenario parse: metadata, settings and pump profile") {
    const auto s = parse_ok(scenario_text(std::string("[") + kRefill + "]",
                                          R"("description": "d", "tags": ["regression", "eol"], "drug": "baclofen",
                                             "concentration": "500 ug/mL",
                                             "settings": {"sample_period": "0.5 s", "status_period": "30 s",
                                                          "start_time_of_day": "08:00"}, )"));
    CHECK(s.name == "t");
    CHECK(s.description == "d");
    CHECK(s.requirements == std::vector<std::string>{"REQ-1"});
    CHECK(s.tags == std::vector<std::string>{"regression", "eol"});
    CHECK(s.drug == "baclofen");
    CHECK(s.concentration->ug_per_ml == 500);
    CHECK(s.settings.sample_period == Millis{500});
    CHECK(s.settings.status_period == Millis{30'000});
    CHECK(s.settings.start_time_of_day.minutes == 480);
    CHECK(s.pump.model == "ITB-40");
    CHECK(s.pump.reservoir.ml() == doctest::Approx(40));
    CHECK(s.pump.basal_min.ml_per_day() == doctest::Approx(0.048));
    CHECK(s.pump.bolus_max_rate.ml_per_h() == doctest::Approx(1.0));
    CHECK(s.pump.accuracy.value == 15);
    CHECK(s.pump.stroke.ul == doctest::Approx(0.25));
    CHECK(s.pump.max_steps == 10);
    // Defaults of unset settings, and the default-on checks added with the scenario's requirements.
    const auto d = parse_ok(scenario_text(std::string("[") + kRefill + "]"));
    CHECK(d.settings.sample_period == Millis{1000});
    CHECK(d.settings.status_period == Millis{10'000});
    CHECK(d.settings.start_time_of_day.minutes == 0);
    REQUIRE(d.checks.size() == 4);
    CHECK(check_name(d.checks[0].spec) == "rate");
    CHECK(check_name(d.checks[1].spec) == "bolus");
    CHECK(check_name(d.checks[2].spec) == "no_unexpected_alarms");
    CHECK(check_name(d.checks[3].spec) == "reservoir");
    CHECK_FALSE(d.checks[0].declared);
    CHECK(d.checks[0].requirements == std::vector<std::string>{"REQ-1"});
}

TEST_CASE("scenario parse: every step type") {
    const auto s = parse_ok(scenario_text(R"([
      {"do": "set_clock", "time_of_day": "07:30"},
      {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
      {"do": "alarm_threshold", "low_reservoir": "3 mL"},
      {"do": "prime", "volume": "0.2 mL"},
      {"do": "program", "label": "prog",
       "schedule": [{"start": "00:00", "dose": "250 ug/day"}, {"start": "08:00", "dose": "300 ug/day"}],
       "periodic_boluses": [{"start": "12:00", "dose": "50 ug", "duration": "10 min"}],
       "patient_bolus": {"dose": "25 ug", "duration": "15 min", "lockout": "2 h", "max_per_day": 4}},
      {"do": "read_program"},
      {"do": "start", "label": "started"},
      {"do": "status"},
      {"do": "clinician_bolus", "dose": "50 ug", "duration": "30 min"},
      {"do": "cancel_bolus"},
      {"do": "patient_bolus"},
      {"do": "patient_bolus", "expect": "LOCKOUT"},
      {"do": "wait", "for": "2 h 30 min"},
      {"do": "wait", "until": "08:00"},
      {"do": "wait", "until_event": {"type": "ALARM", "code": "LOW_RES", "state": "SET"}, "timeout": "1 d"},
      {"do": "stop"},
      {"do": "reset", "note": "reboot"}
    ])"));
    REQUIRE(s.steps.size() == 17);
    CHECK(std::get<SetClockStep>(s.steps[0].action).time_of_day->minutes == 450);
    const auto& refill = std::get<RefillStep>(s.steps[1].action);
    CHECK(refill.volume.ml() == doctest::Approx(20));
    CHECK(refill.concentration.ug_per_ml == 500);
    CHECK(std::get<AlarmThresholdStep>(s.steps[2].action).low_reservoir.ml() == doctest::Approx(3));
    CHECK(std::get<PrimeStep>(s.steps[3].action).volume.ul == doctest::Approx(200));
    const auto& prog = std::get<ProgramStep>(s.steps[4].action).program;
    REQUIRE(prog.steps.size() == 2);
    CHECK(prog.steps[1].start.minutes == 480);
    CHECK(prog.steps[1].dose.ug_per_day == 300);
    REQUIRE(prog.boluses.size() == 1);
    CHECK(prog.boluses[0].start.minutes == 720);
    CHECK(prog.boluses[0].dose.ug == 50);
    CHECK(prog.boluses[0].duration == Millis{600'000});
    REQUIRE(prog.patient_bolus.has_value());
    CHECK(prog.patient_bolus->lockout == Millis{7'200'000});
    CHECK(prog.patient_bolus->max_per_day == 4);
    CHECK(s.steps[4].label == "prog");
    CHECK(s.find_label("started") == std::size_t{6});
    CHECK(std::holds_alternative<ReadProgramStep>(s.steps[5].action));
    CHECK(std::holds_alternative<StartStep>(s.steps[6].action));
    CHECK(std::holds_alternative<StatusStep>(s.steps[7].action));
    const auto& bolus = std::get<ClinicianBolusStep>(s.steps[8].action);
    CHECK(bolus.dose.ug == 50);
    CHECK(bolus.duration == Millis{1'800'000});
    CHECK(std::holds_alternative<CancelBolusStep>(s.steps[9].action));
    CHECK(std::holds_alternative<PatientBolusStep>(s.steps[10].action));
    CHECK(s.steps[10].expect == "OK");
    CHECK(s.steps[11].expect == "LOCKOUT");
    CHECK(*std::get<WaitStep>(s.steps[12].action).duration == Millis{9'000'000});
    CHECK(std::get<WaitStep>(s.steps[13].action).until->minutes == 480);
    const auto& ev = std::get<WaitStep>(s.steps[14].action);
    CHECK(ev.until_event->type == "ALARM");
    CHECK(ev.until_event->code == "LOW_RES");
    CHECK(ev.until_event->state == "SET");
    CHECK(ev.timeout == Millis{86'400'000});
    CHECK(std::holds_alternative<StopStep>(s.steps[15].action));
    CHECK(std::holds_alternative<ResetStep>(s.steps[16].action));
    CHECK(step_name(s.steps[16].action) == "reset");
    CHECK(s.steps[4].pointer == "/steps/4");
}

TEST_CASE("scenario parse: declared checks") {
    const auto s = parse_ok(scenario_text(
        std::string("[") + kRefill + R"(, {"do": "wait", "for": "1 h", "label": "w"}])",
        R"("checks": [
            {"check": "volume", "from": "w", "to": "end", "tolerance": {"percent": "10 %", "absolute": "2 uL"},
             "requirements": ["REQ-9"]},
            {"check": "event", "event": {"type": "ALARM", "code": "LOW_RES"}, "from": "30 min", "to": "2 h"},
            {"check": "rate", "enabled": false},
            {"check": "accuracy", "sample_interval": "1 min", "windows": ["1 h", "2 h"], "startup_period": "4 h",
             "analysis_period": "12 h", "limits": {"mean_error": "5 %", "trumpet_max": "15 %", "trumpet_min": "-15 %"}}
          ], )"));
    REQUIRE(s.checks.size() == 7);  // 4 declared, then bolus, no_unexpected_alarms, reservoir by default
    const auto& vol = std::get<VolumeCheck>(s.checks[0].spec);
    CHECK(vol.from.kind == TimeRef::Kind::Label);
    CHECK(vol.from.label == "w");
    CHECK(vol.to.kind == TimeRef::Kind::End);
    CHECK(vol.tolerance.percent->value == 10);
    CHECK(vol.tolerance.absolute->ul == doctest::Approx(2));
    CHECK(s.checks[0].requirements == std::vector<std::string>{"REQ-9"});
    const auto& ev = std::get<EventCheck>(s.checks[1].spec);
    CHECK(ev.from.offset == Millis{1'800'000});
    CHECK(ev.to.offset == Millis{7'200'000});
    CHECK(s.checks[1].requirements == std::vector<std::string>{"REQ-1"});
    CHECK_FALSE(s.checks[2].enabled);
    const auto& acc = std::get<AccuracyCheck>(s.checks[3].spec);
    CHECK(acc.windows == std::vector<Millis>{Millis{3'600'000}, Millis{7'200'000}});
    CHECK(acc.trumpet_min_limit->value == -15);
    CHECK(acc.startup_period == Millis{14'400'000});
    CHECK(check_name(s.checks[4].spec) == "bolus");
}

TEST_CASE("scenario parse: unknown key gives its line, column and pointer") {
    const auto ds = parse_errors("{\"name\": \"t\", \"pump_profile\": \"itb-40\",\n"
                                 "  \"steps\": [\n"
                                 "    {\"do\": \"prime\", \"volume\": \"0.2 mL\", \"volum\": \"1 mL\"}\n"
                                 "  ]}");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].line == 3);
    CHECK(ds[0].column == 41);
    CHECK(ds[0].pointer == "/steps/0/volum");
    CHECK(ds[0].message == "unknown key \"volum\" in a \"prime\" step; expected one of: do, label, note, expect, volume");
    CHECK(format(ds[0]) == "test.json:3:41: /steps/0/volum: " + ds[0].message);
}

TEST_CASE("scenario parse: syntax error gives its position") {
    const auto ds = parse_errors("{\"name\": \"t\",\n  \"steps\": [,]}");
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].line == 2);
    CHECK(ds[0].column == 13);
    CHECK(ds[0].pointer.empty());
    CHECK(ds[0].message.starts_with("invalid JSON: syntax error"));
}

TEST_CASE("scenario parse: a value of the wrong dimension names what was expected") {
    const auto ds = parse_errors(scenario_text(R"([{"do": "refill", "volume": "0.5 mL/day", "concentration": 500}])"));
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].pointer == "/steps/0/volume");
    CHECK(ds[0].message == "expected a volume (nL, uL, µL, mL), got \"0.5 mL/day\" (mL/day is a flow rate)");
    CHECK(ds[1].pointer == "/steps/0/concentration");
    CHECK(ds[1].message == "expected a concentration such as \"500 ug/mL\" written with its unit as a string, "
                           "got 500 (a number without unit)");
}

TEST_CASE("scenario parse: every diagnostic is collected") {
    // Steps are checked against the pump profile, so with an unknown profile they wait for it.
    const auto ds = parse_errors(R"({"pump_profile": "itb-99", "steps": [{"do": "fly"}], "colour": "red"})");
    CHECK(ds.size() == 3);
    CHECK(has_message(ds, "missing \"name\""));
    CHECK(has_message(ds, "unknown pump profile \"itb-99\"; expected one of itb-20, itb-40"));
    CHECK(has_message(ds, "unknown key \"colour\""));
    const auto steps = parse_errors(scenario_text(R"([{"do": "fly"}, {"do": "prime"}, {"do": "start", "expect": "MAYBE"}])"));
    CHECK(steps.size() == 3);
    CHECK(has_message(steps, "expected one of set_clock, refill, prime, program, start, stop, clinician_bolus, "
                             "cancel_bolus, patient_bolus, alarm_threshold, reset, wait, read_program, status, got \"fly\""));
    CHECK(has_message(steps, "missing \"volume\": expected a volume such as \"0.2 mL\""));
    CHECK(has_message(steps, "expected one of OK, ARG, AUTH, LOCKED, UNKNOWN, STATE, RANGE, LOCKOUT, LIMIT, got \"MAYBE\""));
}

TEST_CASE("scenario parse: program outside the pump's limits") {
    // 500 ug/mL: 10 ug/day is 0.02 mL/day (below 0.048), 13000 ug/day is 26 mL/day (above 24);
    // a bolus of 600 ug over 60 min is 1.2 mL/h (above 1.0).
    const auto ds = parse_errors(scenario_text(std::string("[") + kRefill + R"(,
      {"do": "program",
       "schedule": [{"start": "01:00", "dose": "10 ug/day"}, {"start": "00:30", "dose": "13000 ug/day"}],
       "periodic_boluses": [{"start": "12:00", "dose": "600 ug", "duration": "60 min"},
                            {"start": "13:00", "dose": "50 ug", "duration": "1441 min"}]}])"));
    CHECK(ds.size() == 6);
    CHECK(has_message(ds, "the first schedule step starts at 01:00; the pump requires 00:00; the pump answers RANGE"));
    CHECK(has_message(ds, "start 00:30 does not come after the previous step's 01:00"));
    CHECK(has_message(ds, "basal rate 10.0 ug/day at 500 ug/mL is 0.0200 mL/day, outside the ITB-40 range 0.048 to 24.000 mL/day"));
    CHECK(has_message(ds, "is 26.0000 mL/day, outside"));
    CHECK(has_message(ds, "bolus of 600.0 ug at 500 ug/mL over 60 min runs at 1.2000 mL/h, above the ITB-40 bolus rate of 1.000 mL/h"));
    CHECK(has_message(ds, "a duration of 1441 min is outside 1 to 1440 min"));
    const auto it = std::find_if(ds.begin(), ds.end(), [](const Diagnostic& d) { return d.pointer == "/steps/1/schedule/0/dose"; });
    REQUIRE(it != ds.end());
}

TEST_CASE("scenario parse: a step that expects RANGE may break the limits") {
    parse_ok(scenario_text(std::string("[") + kRefill + R"(,
      {"do": "program", "expect": "RANGE", "schedule": [{"start": "00:00", "dose": "13000 ug/day"}]},
      {"do": "refill", "volume": "41 mL", "concentration": "500 ug/mL", "expect": "RANGE"},
      {"do": "clinician_bolus", "dose": "600 ug", "duration": "30 min", "expect": "RANGE"}])"));
    // Without the expectation the same refill is refused, naming the reservoir size.
    const auto ds = parse_errors(scenario_text(R"([{"do": "refill", "volume": "41 mL", "concentration": "500 ug/mL"}])"));
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].message == "refill of 41.000 mL is more than the ITB-40 reservoir of 40.000 mL; the pump answers RANGE "
                           "(write \"expect\": \"RANGE\" if the refusal is what the step tests)");
}

TEST_CASE("scenario parse: limits follow the concentration in force") {
    // 13000 ug/day is fine at 1000 ug/mL (13 mL/day) but not after a refill at 500 ug/mL (26 mL/day).
    const std::string program =
        R"({"do": "program", "schedule": [{"start": "00:00", "dose": "13000 ug/day"}]})";
    parse_ok(scenario_text(R"([{"do": "refill", "volume": "20 mL", "concentration": "1000 ug/mL"}, )" + program + "]"));
    const auto ds = parse_errors(scenario_text(R"([{"do": "refill", "volume": "20 mL", "concentration": "1000 ug/mL"}, )" +
                                               program + ", " + kRefill + "]"));
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].pointer == "/steps/2/concentration");
    CHECK(ds[0].message.find("26.0000 mL/day") != std::string::npos);
    // A program before any refill is refused with STATE.
    const auto none = parse_errors(scenario_text("[" + program + "]"));
    REQUIRE(none.size() == 1);
    CHECK(none[0].message.find("no refill before this program") == 0);
}

TEST_CASE("scenario parse: labels are unique and checks refer to existing ones") {
    const auto ds = parse_errors(scenario_text(R"([{"do": "start", "label": "a"}, {"do": "stop", "label": "a"}])",
                                               R"("checks": [{"check": "volume", "from": "b"}], )"));
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].message == "label \"a\" is used by an earlier step; expected a unique label");
    CHECK(ds[1].pointer == "/checks/0/from");
    CHECK(ds[1].message.starts_with("no step has the label \"b\""));
}

TEST_CASE("scenario validate_path: a missing path gives one diagnostic naming it") {
    const auto missing = source_dir() / "fixtures" / "does-not-exist.json";
    const auto ds = validate_path(missing, fixtures_dir());
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].file == missing);
    CHECK(ds[0].message == "no such file or directory; expected a scenario file or a directory of them");
}
