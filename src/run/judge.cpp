// From a recorded run to its checks: the expected delivery is computed from the scenario and
// the times its steps ran (scenario/expected), then every declared or default check is made
// over the recorded samples, events, statuses and answers (verify/). Pure: `pumprig report`
// calls the same function on a stored record.
#include <algorithm>
#include <variant>

#include "run/engine.hpp"
#include "scenario/expected.hpp"
#include "verify/iec60601.hpp"

namespace pumprig::run {

namespace {

template <class... Ts>
struct overloaded : Ts... { using Ts::operator()...; };

BenchTime resolve(const scenario::Scenario& sc, const RecordedRun& run, const scenario::TimeRef& ref) {
    switch (ref.kind) {
        case scenario::TimeRef::Kind::FromStart: return run.times.start + ref.offset;
        case scenario::TimeRef::Kind::End: return run.times.end;
        case scenario::TimeRef::Kind::Label: {
            if (auto i = sc.find_label(ref.label); i && *i < run.times.steps.size() && run.times.steps[*i].at)
                return *run.times.steps[*i].at + ref.offset;
            return run.times.end;  // a step not reached: the window ends with the run
        }
    }
    return run.times.end;
}

verify::AccuracySpec accuracy_of(const scenario::Scenario& sc, const scenario::Tolerance* tol = nullptr) {
    verify::AccuracySpec a;
    a.delivery_pct = sc.pump.accuracy.value;
    a.stroke = sc.pump.stroke;
    if (tol && tol->percent) a.delivery_pct = tol->percent->value;
    return a;
}

std::vector<std::string> reqs(const scenario::Check& c) { return c.requirements; }

}  // namespace

std::vector<verify::CheckResult> judge(const scenario::Scenario& sc, const RecordedRun& run) {
    std::vector<verify::CheckResult> out;
    const auto plan = scenario::expand(sc, run.times);
    const verify::PumpClockMapping clock{-run.pump_offset};
    verify::MeterWindow meter;
    meter.line_tau = run.line_tau;
    const Millis settling = run.line_tau * 5 + sc.settings.sample_period * 2;
    const auto events = verify::dedupe_events(run.events);

    // Alarms the plan or the scenario expects are not "unexpected".
    std::vector<verify::AllowedAlarm> allowed;
    for (const auto& a : plan.alarms) allowed.push_back(verify::AllowedAlarm{a.code, std::nullopt, std::nullopt});
    for (const auto& c : sc.checks) {
        if (const auto* e = std::get_if<scenario::EventCheck>(&c.spec); e && e->event.type == "ALARM" && !e->event.code.empty())
            allowed.push_back(verify::AllowedAlarm{e->event.code, std::nullopt, std::nullopt});
        if (const auto* n = std::get_if<scenario::NoUnexpectedAlarmsCheck>(&c.spec))
            for (const auto& code : n->allowed) allowed.push_back(verify::AllowedAlarm{code, std::nullopt, std::nullopt});
    }

    int n_volume = 0, n_event = 0;
    for (const auto& c : sc.checks) {
        if (!c.enabled) continue;
        std::visit(
            overloaded{
                [&](const scenario::VolumeCheck& v) {
                    verify::VolumeCheckParams p;
                    p.id = "volume." + std::to_string(++n_volume);
                    p.name = c.name;
                    p.window_start = resolve(sc, run, v.from);
                    p.window_end = resolve(sc, run, v.to);
                    p.meter = meter;
                    p.accuracy = accuracy_of(sc, &v.tolerance);
                    p.requirements = reqs(c);
                    out.push_back(verify::check_delivered_volume(run.samples, plan.segments, p));
                },
                [&](const scenario::RateCheck& r) {
                    verify::StepRateParams p;
                    p.settling = settling;
                    p.meter = meter;
                    p.accuracy = accuracy_of(sc, &r.tolerance);
                    p.requirements = reqs(c);
                    // Judge the segments long enough to say something: settled, and with at least
                    // 20 strokes expected, or a stop of at least 10 minutes. Shorter ones are
                    // covered by the volume, bolus and timing checks.
                    std::vector<verify::ExpectedSegment> judged;
                    for (const auto& s : plan.segments) {
                        const Millis len = std::chrono::duration_cast<Millis>(s.end - s.start);
                        if (len <= settling + Millis{10 * 60'000}) continue;
                        const Volume v = volume_over(s.rate, len - settling);
                        if (s.rate.ul_per_h > 0 && v.ul < 20 * sc.pump.stroke.ul) continue;
                        judged.push_back(s);
                    }
                    for (auto& r2 : verify::check_step_rates(run.samples, judged, p)) out.push_back(std::move(r2));
                    // When each new step took effect, as the pump reports it (STEP events).
                    verify::EventTimingParams ep;
                    ep.clock = clock;
                    ep.run_end = run.last_data;
                    int k = 0;
                    for (const auto& ch : plan.step_changes) {
                        verify::RateChange change;
                        change.id = "timing.step-change-" + std::to_string(++k);
                        change.name = "step " + std::to_string(ch.step) + " in force";
                        change.expected_at = ch.t;
                        change.step = ch.step;
                        change.requirements = reqs(c);
                        out.push_back(verify::check_change_time_event(events, change, ep));
                    }
                },
                [&](const scenario::BolusCheck& b) {
                    verify::BolusCheckParams p;
                    p.settling = settling;
                    p.meter = meter;
                    p.accuracy = accuracy_of(sc, &b.tolerance);
                    p.clock = clock;
                    p.run_end = run.last_data;
                    int k = 0;
                    for (const auto& eb : plan.boluses) {
                        verify::ExpectedBolus vb;
                        vb.id = "bolus." + std::to_string(++k);
                        vb.kind = scenario::to_string(eb.kind);
                        vb.start = eb.start;
                        vb.duration = std::chrono::duration_cast<Millis>(eb.end - eb.start);
                        vb.volume = eb.volume;
                        vb.requirements = reqs(c);
                        for (auto& r2 : verify::check_bolus(run.samples, plan.segments, events, vb, p)) out.push_back(std::move(r2));
                    }
                },
                [&](const scenario::EventCheck& e) {
                    verify::ExpectedEvent ee;
                    ee.id = "event." + std::to_string(++n_event);
                    ee.name = c.name;
                    ee.type = e.event.type;
                    if (!e.event.code.empty()) ee.values["code"] = e.event.code;
                    if (!e.event.state.empty()) ee.values["state"] = e.event.state;
                    if (!e.event.kind.empty()) ee.values["kind"] = e.event.kind;
                    if (e.event.step) ee.values["step"] = std::to_string(*e.event.step);
                    ee.window_start = resolve(sc, run, e.from);
                    ee.window_end = resolve(sc, run, e.to);
                    ee.requirements = reqs(c);
                    out.push_back(verify::check_expected_event(events, ee, clock, run.last_data));
                },
                [&](const scenario::NoUnexpectedAlarmsCheck&) {
                    verify::AlarmCheckParams p;
                    p.allowed = allowed;
                    p.clock = clock;
                    p.requirements = reqs(c);
                    out.push_back(verify::check_no_unexpected_alarms(events, p));
                },
                [&](const scenario::ReservoirCheck&) {
                    // From the last refill answered OK.
                    std::optional<std::size_t> refill;
                    for (std::size_t i = 0; i < sc.steps.size() && i < run.times.steps.size(); ++i)
                        if (std::holds_alternative<scenario::RefillStep>(sc.steps[i].action) && run.times.steps[i].at &&
                            run.times.steps[i].answer.value_or("") == "OK")
                            refill = i;
                    if (!refill) return;
                    verify::ReservoirCheckParams p;
                    p.refill_at = *run.times.steps[*refill].at;
                    p.refill_volume = std::get<scenario::RefillStep>(sc.steps[*refill].action).volume;
                    p.window_end = run.last_data;
                    p.meter = meter;
                    p.accuracy = accuracy_of(sc);
                    p.requirements = reqs(c);
                    for (auto& r2 : verify::check_reservoir(run.samples, plan.segments, run.statuses, p)) out.push_back(std::move(r2));
                },
                [&](const scenario::AccuracyCheck& a) {
                    verify::IecParams p;
                    p.sample_interval = a.sample_interval;
                    p.windows = a.windows;
                    p.startup_period = a.startup_period;
                    p.analysis_start = a.startup_period;
                    p.analysis_end = a.startup_period + a.analysis_period;
                    p.mean_error_limit_pct = a.mean_error_limit ? std::optional<double>(a.mean_error_limit->value)
                                                                : std::optional<double>(sc.pump.accuracy.value);
                    if (a.trumpet_max_limit || a.trumpet_min_limit) {
                        for (const auto& w : a.windows) {
                            verify::TrumpetLimit l;
                            l.window = w;
                            if (a.trumpet_max_limit) l.max_pct = a.trumpet_max_limit->value;
                            if (a.trumpet_min_limit) l.min_pct = a.trumpet_min_limit->value;
                            p.trumpet_limits.push_back(l);
                        }
                    }
                    p.requirements = reqs(c);
                    const BenchTime start = resolve(sc, run, a.from);
                    const FlowRate rate = plan.rate_at(start + Millis{1});
                    if (rate.ul_per_h <= 0) {
                        verify::CheckResult r;
                        r.id = "iec60601";
                        r.name = c.name;
                        r.kind = "iec60601";
                        r.verdict = verify::Verdict::Inconclusive;
                        r.detail = "no programmed rate at the start of the accuracy analysis";
                        r.requirements = reqs(c);
                        out.push_back(r);
                        return;
                    }
                    auto an = verify::analyse_iec60601(run.samples, start, rate, p);
                    for (auto& r2 : an.checks) out.push_back(std::move(r2));
                },
            },
            c.spec);
    }
    for (auto& r : verify::check_command_answers(run.commands, "command", sc.requirements)) out.push_back(std::move(r));

    // The bench clock is the reference: the pump clock is judged against it, never the
    // other way round (a drifting pump clock fails here instead of shifting expectations).
    verify::ClockCheckParams cp;
    cp.pump_minus_bench = run.pump_offset;
    cp.from = run.times.start;
    for (std::size_t i = 0; i < run.times.steps.size() && i < sc.steps.size(); ++i)
        if (run.times.steps[i].pump_offset && run.times.steps[i].at) cp.from = *run.times.steps[i].at;
    cp.requirements = sc.requirements;
    out.push_back(verify::check_pump_clock(run.statuses, cp));
    return out;
}

}  // namespace pumprig::run
