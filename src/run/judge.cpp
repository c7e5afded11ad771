// From a recorded run to its checks: the expected delivery is computed from the scenario and
// the times its steps ran (scenario/expected), then every declared or default check is made
// over the recorded samples, events, statuses and answers (verify/). Pure: `pumprig report`
// calls the same function on a stored record.
#include <algorithm>
#include <variant>

#include "bench/probe_stream.hpp"
#include "run/engine.hpp"
#include "scenario/expected.hpp"
#include "verify/iec60601.hpp"
#include "verify/report_checks.hpp"

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

// What the check's window starts or ends at that never came (the run was cut short before
// it): a step that never ran, or the scenario's end (its last step never ran). Nothing can be
// said of such a window, live or rebuilt.
std::optional<std::string> unreached_bound(const scenario::Scenario& sc, const RecordedRun& run, const scenario::Check& c) {
    std::optional<std::string> out;
    auto need = [&](const scenario::TimeRef& ref) {
        if (out) return;
        if (ref.kind == scenario::TimeRef::Kind::End) {
            if (!run.times.steps.empty() && !run.times.steps.back().at) out = "the scenario's end";
            return;
        }
        if (ref.kind != scenario::TimeRef::Kind::Label) return;
        const auto i = sc.find_label(ref.label);
        if (!i || *i >= run.times.steps.size() || !run.times.steps[*i].at) out = "step \"" + ref.label + "\"";
    };
    std::visit(
        [&](const auto& spec) {
            if constexpr (requires { spec.from; }) need(spec.from);
            if constexpr (requires { spec.to; }) need(spec.to);
        },
        c.spec);
    return out;
}

verify::AccuracySpec accuracy_of(const scenario::Scenario& sc, const scenario::Tolerance* tol = nullptr) {
    verify::AccuracySpec a;
    a.delivery_pct = sc.pump.accuracy.value;
    a.stroke = sc.pump.stroke;
    if (tol && tol->percent) a.delivery_pct = tol->percent->value;
    return a;
}

std::vector<std::string> reqs(const scenario::Check& c) { return c.requirements; }

// The checks pumprig adds to every run also name the requirement they judge themselves
// (requirements/pump.json), besides the scenario's.
std::vector<std::string> plus(std::vector<std::string> ids, const char* id) {
    ids.emplace_back(id);
    return ids;
}

struct Refill {
    BenchTime at;
    double conc_ug_ml;
};

// Refills the pump answered OK, in order.
std::vector<Refill> ok_refills(const scenario::Scenario& sc, const RecordedRun& run) {
    std::vector<Refill> out;
    for (std::size_t i = 0; i < sc.steps.size() && i < run.times.steps.size(); ++i)
        if (const auto* r = std::get_if<scenario::RefillStep>(&sc.steps[i].action);
            r && run.times.steps[i].at && run.times.steps[i].answer.value_or("") == "OK")
            out.push_back({*run.times.steps[i].at, r->concentration.ug_per_ml});
    return out;
}

// What STATUS must report, interval by interval, from the plan: the concentration of the last
// refill, and while the plan runs, the basal rate of the step in force at that concentration
// (0.048 mL/day while EMPTY_RES). Intervals keep clear of every change (state, step, refill) by
// a guard, so the time a STATUS takes to read never decides a verdict; around EMPTY_RES the
// guard is wider, since the plan places it to a stroke and strokes at the minimum rate are
// far apart.
std::vector<verify::ExpectedReport> expected_reports(const scenario::ExpectedPlan& plan, const std::vector<Refill>& refills,
                                                     BenchTime end) {
    constexpr Millis kGuard{5000}, kEmptyGuard{120'000};
    std::vector<verify::ExpectedReport> out;
    for (std::size_t k = 0; k < refills.size(); ++k) {
        verify::ExpectedReport r;
        r.from = refills[k].at + Millis{1};
        r.to = k + 1 < refills.size() ? refills[k + 1].at : end;
        r.conc_ug_ml = refills[k].conc_ug_ml;
        out.push_back(r);
    }
    // Boundaries of constant expected rate, each with its guard.
    std::vector<std::pair<BenchTime, Millis>> cuts;
    for (const auto& st : plan.states) cuts.push_back({st.t, kGuard});
    for (const auto& ch : plan.step_changes) cuts.push_back({ch.t, kGuard});
    for (const auto& rf : refills) cuts.push_back({rf.at, kGuard});
    for (const auto& a : plan.alarms)
        if (a.code == "EMPTY_RES") cuts.push_back({a.t, kEmptyGuard});
    cuts.push_back({end, kGuard});
    std::sort(cuts.begin(), cuts.end());
    auto state_at = [&](BenchTime t) {
        std::string s = "STOPPED";
        for (const auto& st : plan.states)
            if (st.t <= t) s = st.state;
        return s;
    };
    auto value_at = [&](BenchTime t) -> std::optional<double> {
        if (state_at(t) != "RUNNING") return std::nullopt;
        bool empty = false;
        for (const auto& a : plan.alarms)
            if (a.code == "EMPTY_RES" && a.t <= t) empty = a.set;
        if (empty) return 0.048;
        const scenario::ExpectedStepChange* step = nullptr;
        for (const auto& ch : plan.step_changes)
            if (ch.t <= t) step = &ch;
        double conc = 0;
        for (const auto& rf : refills)
            if (rf.at <= t) conc = rf.conc_ug_ml;
        if (!step || conc <= 0) return std::nullopt;
        return step->dose.ug_per_day / conc;  // ug/day over ug/mL: mL/day
    };
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
        const BenchTime a = cuts[k].first + cuts[k].second, b = cuts[k + 1].first - cuts[k + 1].second;
        if (b <= a) continue;
        const auto v = value_at(a);
        if (!v) continue;
        verify::ExpectedReport r;
        r.from = a;
        r.to = b;
        r.rate_ml_day = v;
        out.push_back(r);
    }
    return out;
}

}  // namespace

verify::IecParams iec_params(const scenario::Scenario& sc, const scenario::AccuracyCheck& a, std::vector<std::string> requirements) {
    verify::IecParams p;
    p.sample_interval = a.sample_interval;
    p.windows = a.windows;
    p.startup_period = a.startup_period;
    p.analysis_start = a.startup_period;
    p.analysis_end = a.startup_period + a.analysis_period;
    p.mean_error_limit_pct = a.mean_error_limit ? std::optional<double>(a.mean_error_limit->value) : std::optional<double>(sc.pump.accuracy.value);
    if (a.trumpet_max_limit || a.trumpet_min_limit) {
        for (const auto& w : a.windows) {
            verify::TrumpetLimit l;
            l.window = w;
            if (a.trumpet_max_limit) l.max_pct = a.trumpet_max_limit->value;
            if (a.trumpet_min_limit) l.min_pct = a.trumpet_min_limit->value;
            p.trumpet_limits.push_back(l);
        }
    }
    p.requirements = std::move(requirements);
    return p;
}

std::vector<verify::CheckResult> judge(const scenario::Scenario& sc, const RecordedRun& run) {
    std::vector<verify::CheckResult> out;
    const auto plan = scenario::expand(sc, run.times);
    // The pump clock was read at the run's start and set at each set_clock step: an event is
    // mapped with the offset in force when it came, and the mapping's uncertainty grows with the
    // drift allowed since that setting (clock.drift's, since the last one, too).
    verify::PumpClockMapping clock;
    clock.pump_to_bench_offset = -run.times.initial_pump_offset;
    clock.set_at = run.times.start;
    for (std::size_t i = 0; i < run.times.steps.size() && i < sc.steps.size(); ++i) {
        const auto& step = run.times.steps[i];
        if (!step.pump_offset || !step.at) continue;
        clock.earlier.push_back({clock.pump_to_bench_offset, *clock.set_at});
        clock.pump_to_bench_offset = -*step.pump_offset;
        clock.set_at = *step.at;
    }
    // The last setting is the run's offset (a schema-0 record may hold only that one).
    clock.pump_to_bench_offset = -run.pump_offset;
    const BenchTime clock_set_at = *clock.set_at;
    // Events were read until the run's end when it completed: a window closed by then has
    // passed, even if the last meter sample came a little earlier.
    const BenchTime events_until = run.complete ? std::max(run.last_data, run.times.end) : run.last_data;
    verify::MeterWindow meter;
    meter.line_tau = run.line_tau;
    meter.line_tau_uncertainty = run.line_tau_uncertainty;
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
        const std::size_t first = out.size();
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
                    ep.run_end = events_until;
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
                    p.run_end = events_until;
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
                    out.push_back(verify::check_expected_event(events, ee, clock, events_until));
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
                    const verify::IecParams p = iec_params(sc, a, reqs(c));
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
        if (const auto bound = unreached_bound(sc, run, c))
            for (std::size_t k = first; k < out.size(); ++k) {
                out[k].verdict = verify::Verdict::Inconclusive;
                out[k].detail = *bound + " was never reached (the run was cut short): " + out[k].detail;
            }
    }
    {
        // Probe records (bench/probe_stream.hpp) are judged as answers under their own ids.
        std::vector<verify::CommandRecord> commands, retry, resend, overflow;
        for (const auto& c : run.commands)
            (c.verb == "probe.retry" ? retry : c.verb == "probe.resend" ? resend : c.verb == "probe.overflow" ? overflow : commands).push_back(c);
        for (auto& r : verify::check_command_answers(commands, "command", plus(sc.requirements, "SRS-COM-003"))) out.push_back(std::move(r));
        for (auto& r : verify::check_command_answers(retry, "probe.retry", sc.requirements)) out.push_back(std::move(r));
        for (auto& r : verify::check_probe_resends(resend, bench::ProbeStream::kResendLimit, "probe.resend", sc.requirements))
            out.push_back(std::move(r));
        // An ALARM kept past 64 unacknowledged events comes again like any unacknowledged event.
        for (auto& r : verify::check_probe_resends(overflow, bench::ProbeStream::kResendLimit, "probe.overflow", sc.requirements))
            out.push_back(std::move(r));
    }

    // The bench clock is the reference: the pump clock is judged against it, never the
    // other way round (a drifting pump clock fails here instead of shifting expectations).
    verify::ClockCheckParams cp;
    cp.pump_minus_bench = run.pump_offset;
    cp.from = clock_set_at;
    cp.latency_allowance = clock.read_latency;
    cp.drift_ppm = clock.drift_ppm;
    cp.requirements = plus(sc.requirements, "SRS-CLK-001");
    out.push_back(verify::check_pump_clock(run.statuses, cp));

    // What the pump reports about itself against the plan (docs/checks.md section 8): these
    // catch firmware faults inside the ±15 % delivery band, which no meter check can.
    const auto refills = ok_refills(sc, run);
    // Rate and concentration reports merge into one list of intervals: split them so that a
    // STATUS is judged against each interval it falls in.
    {
        const auto reports = expected_reports(plan, refills, run.last_data);
        std::vector<verify::ExpectedReport> conc, rate;
        for (const auto& r : reports) (r.conc_ug_ml ? conc : rate).push_back(r);
        verify::StatusReportParams sp;
        sp.requirements = plus(sc.requirements, "SRS-STA-001");
        for (auto& r2 : verify::check_status_reports(run.statuses, rate, sp))
            if (r2.id == "status.rate") out.push_back(std::move(r2));
        for (auto& r2 : verify::check_status_reports(run.statuses, conc, sp))
            if (r2.id == "status.concentration") out.push_back(std::move(r2));
    }
    {
        std::vector<BenchTime> at;
        for (const auto& r : refills) at.push_back(r.at);
        verify::AccountingParams ap;
        ap.requirements = sc.requirements;
        for (auto& r2 : verify::check_reservoir_accounting(run.statuses, at, ap)) out.push_back(std::move(r2));
    }
    {
        std::vector<verify::PlannedBolusCount> planned;
        for (const auto& b : plan.boluses)
            if (b.start <= run.last_data) planned.push_back({scenario::to_string(b.kind), 1});
        verify::BolusCountParams bp;
        bp.from = run.times.start;
        bp.to = run.last_data;
        bp.clock = clock;
        bp.requirements = sc.requirements;
        out.push_back(verify::check_bolus_count(events, planned, bp));
    }
    for (std::size_t k = 0; k < plan.primes.size(); ++k) {
        verify::ExpectedPriming xp;
        xp.id = "prime." + std::to_string(k + 1) + ".delivered.event";
        xp.start = plan.primes[k].start;
        xp.end = plan.primes[k].end;
        xp.volume = plan.primes[k].volume;
        xp.requirements = sc.requirements;
        out.push_back(verify::check_priming_report(events, xp, clock, events_until));
    }

    // Whatever the run showed, a pump told to stop must stop (ICD 7).
    out.push_back(verify::check_stop_at_end(run.safe_stop, run.times.end, {"SRS-DEL-004"}));

    // The meter's own health (section 9): a faulty meter is reported as such, and the checks
    // that rest on its data are then not judged either way.
    verify::MeterHealthParams mp;
    mp.settling = settling;
    mp.line_tau_uncertainty = run.line_tau_uncertainty;
    mp.requirements = sc.requirements;
    for (auto& r2 : verify::check_meter_health(run.samples, plan.segments, run.statuses, run.line_tau, mp)) {
        // The meter's health is the bench's, not the pump's: these name the meter's requirements
        // (requirements/rig-meter.json) only, so a meter fault never marks a pump requirement.
        // A meter check added later names none until it is given one: the matrix lists it.
        r2.requirements.clear();
        if (r2.id == "meter.air") r2.requirements = {"MTR-001"};
        if (r2.id == "meter.frozen") r2.requirements = {"MTR-002"};
        if (r2.id == "meter.zero" || r2.id == "meter.zero.flow") r2.requirements = {"MTR-003"};  // the total and the register
        out.push_back(std::move(r2));
    }
    verify::discount_meter_checks(out);
    return out;
}

}  // namespace pumprig::run
