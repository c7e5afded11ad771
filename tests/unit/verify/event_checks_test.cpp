// Event, alarm, STEP timing, bolus and command-answer checks, and the run summary.
#include <doctest/doctest.h>

#include <vector>

#include "synthetic.hpp"
#include "verify/checks.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;

namespace {

double pump_seconds(BenchTime t) { return to_unix_seconds(t); }

PumpEventRecord event(BenchTime t, std::uint32_t n, std::string type,
                      std::map<std::string, std::string> values = {}) {
    PumpEventRecord e;
    e.bench_t = t + 20ms;  // received a little after it happened
    e.pump_t = pump_seconds(t);
    e.n = n;
    e.type = std::move(type);
    e.values = std::move(values);
    return e;
}

}  // namespace

TEST_CASE("verify dedupe counts each event once, across re-sends and boots") {
    std::vector<PumpEventRecord> in = {
        event(kT0, 1, "BOOT", {{"reason", "POWER"}}),
        event(kT0 + 1s, 2, "STATE", {{"state", "RUNNING"}}),
        event(kT0 + 1s, 2, "STATE", {{"state", "RUNNING"}}),  // re-sent after 10 s
        event(kT0 + 5s, 3, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
        event(kT0, 1, "BOOT", {{"reason", "POWER"}}),  // a late re-send of the BOOT
        event(kT0 + 60s, 1, "BOOT", {{"reason", "RESET"}}),  // n restarts after a reset
        event(kT0 + 60s, 2, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
        event(kT0 + 60s, 2, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
        event(kT0 + 61s, 3, "STATE", {{"state", "RUNNING"}}),
    };
    const auto out = dedupe_events(in);
    REQUIRE(out.size() == 6);
    CHECK(out[0].type == "BOOT");
    CHECK(out[1].n == 2);
    CHECK(out[2].type == "ALARM");
    CHECK(out[3].values.at("reason") == "RESET");
    CHECK(out[4].n == 2);
    CHECK(out[5].n == 3);
}

TEST_CASE("verify expected event: found in its window, missing, or the run ended first") {
    const std::vector<PumpEventRecord> events = {
        event(kT0 + 10min, 4, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
    };
    ExpectedEvent x;
    x.id = "event.low-res";
    x.type = "ALARM";
    x.values = {{"code", "LOW_RES"}, {"state", "SET"}};
    x.window_start = kT0 + 5min;
    x.window_end = kT0 + 15min;
    const PumpClockMapping clock{};
    CHECK(check_expected_event(events, x, clock, kT0 + 1h).verdict == Verdict::Pass);

    // The pump clock runs 20 min behind the bench: the event lands outside the window.
    CHECK(check_expected_event(events, x, PumpClockMapping{.pump_to_bench_offset = 20min}, kT0 + 1h).verdict == Verdict::Fail);

    auto other = x;
    other.values["code"] = "EMPTY_RES";
    const auto missing = check_expected_event(events, other, clock, kT0 + 1h);
    CHECK(missing.verdict == Verdict::Fail);
    CHECK(missing.measured == 0.0);
    CHECK(check_expected_event(events, other, clock, kT0 + 12min).verdict == Verdict::Inconclusive);
}

TEST_CASE("verify an unexpected ALARM fails, an expected one does not") {
    const std::vector<PumpEventRecord> events = {
        event(kT0 + 1min, 2, "STATE", {{"state", "RUNNING"}}),
        event(kT0 + 2h, 3, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
        event(kT0 + 2h, 3, "ALARM", {{"code", "LOW_RES"}, {"state", "SET"}}),
        event(kT0 + 3h, 4, "ALARM", {{"code", "MOTOR_STALL"}, {"state", "SET"}}),
        event(kT0 + 3h + 1min, 5, "ALARM", {{"code", "MOTOR_STALL"}, {"state", "CLEARED"}}),
    };
    AlarmCheckParams p;
    p.allowed = {{"LOW_RES", kT0 + 1h, kT0 + 3h}};
    const auto r = check_no_unexpected_alarms(events, p);
    CHECK(r.verdict == Verdict::Fail);
    CHECK(r.measured == 1.0);
    CHECK(r.detail.find("MOTOR_STALL") != std::string::npos);
    CHECK(r.detail.find("LOW_RES") == std::string::npos);

    p.allowed.push_back({"MOTOR_STALL", std::nullopt, std::nullopt});
    CHECK(check_no_unexpected_alarms(events, p).verdict == Verdict::Pass);

    // Allowed, but not at that time.
    p.allowed = {{"LOW_RES", kT0 + 4h, std::nullopt}, {"MOTOR_STALL", std::nullopt, std::nullopt}};
    CHECK(check_no_unexpected_alarms(events, p).verdict == Verdict::Fail);
}

TEST_CASE("verify STEP event timing: on time passes, one hour late fails") {
    RateChange change;
    change.id = "timing.step-2.event";
    change.expected_at = kT0 + 8h;
    change.step = 2;
    EventTimingParams p;
    p.run_end = kT0 + 24h;
    const std::vector<PumpEventRecord> on_time = {
        event(kT0, 3, "STEP", {{"step", "1"}, {"dose_ug_day", "250.0"}}),
        event(kT0 + 8h + 300ms, 9, "STEP", {{"step", "2"}, {"dose_ug_day", "300.0"}}),
    };
    const auto ok = check_change_time_event(on_time, change, p);
    CHECK(ok.verdict == Verdict::Pass);
    CHECK(ok.measured == doctest::Approx(0.3));

    const std::vector<PumpEventRecord> late = {
        event(kT0 + 9h, 9, "STEP", {{"step", "2"}, {"dose_ug_day", "300.0"}}),
    };
    const auto f = check_change_time_event(late, change, p);
    CHECK(f.verdict == Verdict::Fail);
    CHECK(f.measured == doctest::Approx(3600.0));

    CHECK(check_change_time_event({}, change, p).verdict == Verdict::Fail);
    p.run_end = kT0 + 7h;
    CHECK(check_change_time_event({}, change, p).verdict == Verdict::Inconclusive);
}

TEST_CASE("verify bolus: meter volume with basal subtracted, events, and meter start") {
    // Basal 20 uL/h, clinician bolus 100 uL over 10 min (600 uL/h on top) at +2 h.
    const BenchTime bs = kT0 + 2h;
    const std::vector<ExpectedSegment> expected = {
        {kT0, bs, FlowRate{20.0}, "basal step 1"},
        {bs, bs + 10min, FlowRate{620.0}, "basal step 1 + clinician bolus"},
        {bs + 10min, kT0 + 4h, FlowRate{20.0}, "basal step 1"},
    };
    SeriesSpec spec;
    spec.to = kT0 + 4h;
    spec.tau_s = 60;
    spec.seed = 21;
    ExpectedBolus bolus;
    bolus.id = "bolus.1";
    bolus.kind = "CLINICIAN";
    bolus.start = bs;
    bolus.duration = 10min;
    bolus.volume = Volume{100.0};
    BolusCheckParams p;
    p.settling = 10min;
    p.meter.line_tau = 60s;
    p.run_end = kT0 + 4h;
    const std::vector<PumpEventRecord> events = {
        event(bs + 200ms, 7, "BOLUS_START", {{"kind", "CLINICIAN"}, {"dose_ug", "50.0"}, {"vol_ml", "0.100"}}),
        event(bs + 200ms, 7, "BOLUS_START", {{"kind", "CLINICIAN"}, {"dose_ug", "50.0"}, {"vol_ml", "0.100"}}),
        event(bs + 10min + 250ms, 8, "BOLUS_END", {{"kind", "CLINICIAN"}, {"dose_ug", "50.0"}, {"vol_ml", "0.100"}}),
    };

    spec.rate = steps({{kT0, 20.0}, {bs, 620.0}, {bs + 10min, 20.0}});
    const auto good = check_bolus(make_series(spec), expected, events, bolus, p);
    REQUIRE(good.size() == 5);
    for (const auto& r : good) {
        INFO(r.id << " " << r.detail << " measured " << r.measured);
        CHECK(r.verdict == Verdict::Pass);
    }
    CHECK(good[0].id == "bolus.1.volume");
    CHECK(good[0].measured == doctest::Approx(100.0).epsilon(0.02));
    CHECK(good[2].measured == doctest::Approx(600.05));

    // Half the bolus delivered: the meter volume fails.
    spec.rate = steps({{kT0, 20.0}, {bs, 320.0}, {bs + 10min, 20.0}});
    const auto half = check_bolus(make_series(spec), expected, events, bolus, p);
    CHECK(half[0].verdict == Verdict::Fail);

    // No events at all, run long over: the event-based results fail.
    const auto no_events = check_bolus(make_series(spec), expected, {}, bolus, p);
    CHECK(no_events[1].verdict == Verdict::Fail);
    CHECK(no_events[2].verdict == Verdict::Fail);
}

TEST_CASE("verify command answers compare fields, numbers as numbers") {
    // Answers as the pump sends them, parsed once into values (record::Answer).
    auto matches = [](std::string_view want, std::string_view got) {
        return answer_matches(record::Answer::parse(want), record::Answer::parse(got));
    };
    CHECK(matches("OK", "OK"));
    CHECK(matches("OK", "13,OK"));
    CHECK(matches("OK,steps=2", "9,OK,steps=2,boluses=1,daily_ug=333.3"));
    CHECK(matches("OK,daily_ug=333.30", "OK,steps=2,daily_ug=333.3"));
    CHECK(matches("ERR,code=STATE", "ERR,code=STATE,msg=not stopped"));
    CHECK_FALSE(matches("OK", "ERR,code=STATE"));
    CHECK_FALSE(matches("ERR,code=STATE", "ERR,code=RANGE"));
    CHECK_FALSE(matches("OK,steps=2", "OK,steps=3"));
    CHECK_FALSE(matches("OK,steps=2", "OK"));
    CHECK_FALSE(matches("OK", ""));

    using record::Answer;
    const std::vector<CommandRecord> cmds = {
        {kT0, "start therapy", "START", Answer::ok(), Answer::ok()},
        {kT0 + 1s, "bolus while stopped", "BOLUS", Answer::error("STATE"), Answer::ok()},
        {kT0 + 2s, "status", "STATUS", std::nullopt, Answer::parse("OK,state=RUNNING")},
        {kT0 + 3s, "refill", "REFILL", Answer::ok(), Answer::none()},
    };
    const auto r = check_command_answers(cmds, "command", {"ICD-PUMP-7"});
    REQUIRE(r.size() == 3);
    CHECK(r[0].verdict == Verdict::Pass);
    CHECK(r[1].verdict == Verdict::Fail);
    CHECK(r[1].id == "command.2");
    CHECK(r[2].verdict == Verdict::Fail);
    CHECK(r[2].detail == "no answer");
}

TEST_CASE("verify run summary: FAIL beats INCONCLUSIVE beats PASS") {
    auto with = [](std::initializer_list<Verdict> vs) {
        std::vector<CheckResult> rs;
        for (auto v : vs) {
            CheckResult r;
            r.verdict = v;
            rs.push_back(r);
        }
        return summarise(rs);
    };
    CHECK(with({Verdict::Pass, Verdict::Pass}).overall == Verdict::Pass);
    const auto s = with({Verdict::Pass, Verdict::Inconclusive, Verdict::Fail, Verdict::Fail});
    CHECK(s.overall == Verdict::Fail);
    CHECK(s.pass == 1);
    CHECK(s.inconclusive == 1);
    CHECK(s.fail == 2);
    CHECK(with({Verdict::Pass, Verdict::Inconclusive}).overall == Verdict::Inconclusive);
    CHECK(with({}).overall == Verdict::Inconclusive);
    CHECK(std::string(to_string(Verdict::Inconclusive)) == "INCONCLUSIVE");
    CHECK(verdict_from_string("FAIL") == Verdict::Fail);
    CHECK_FALSE(verdict_from_string("fail").has_value());
}

TEST_CASE("verify probe.resend: an event sent again within the limit passes, late or never fails, with no invented ICD code") {
    auto probe = [](record::Answer answer, const char* after) {
        CommandRecord c;
        c.bench_t = kT0;
        c.step_label = "probe: event STATE n=4 left unacknowledged";
        c.verb = "probe.resend";
        c.answer = std::move(answer);
        c.answer.values["after_s"] = after;
        return c;
    };
    const std::vector<CommandRecord> probes = {probe(record::Answer::ok(), "10.2"), probe(record::Answer::ok(), "13.5"),
                                               probe(record::Answer::none(), "12.0")};
    const auto r = check_probe_resends(probes, 12s);
    REQUIRE(r.size() == 3);
    CHECK(r[0].id == "probe.resend.1");
    CHECK(r[0].verdict == Verdict::Pass);
    CHECK(r[0].measured == doctest::Approx(10.2));
    CHECK(r[1].verdict == Verdict::Fail);
    CHECK(r[2].verdict == Verdict::Fail);
    CHECK(r[2].detail == "not sent again within 12.0 s");
    for (const auto& c : r) CHECK(c.tolerance_source.find("pump ICD 2") != std::string::npos);
}
