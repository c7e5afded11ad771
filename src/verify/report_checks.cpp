// What the pump reports about itself against the plan, and the meter's health. docs/checks.md
// sections 8 and 9.
#include "verify/report_checks.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "verify/internal.hpp"

namespace pumprig::verify {

using internal::judge;
using internal::kInf;
using internal::make_result;
using internal::num;
using internal::seconds;

namespace {

const ExpectedReport* interval_at(std::span<const ExpectedReport> expected, BenchTime t) {
    for (const auto& e : expected)
        if (t >= e.from && t < e.to) return &e;
    return nullptr;
}

std::string iso_offset(BenchTime t, BenchTime origin) { return "t+" + num(seconds(t - origin), 1) + " s"; }

}  // namespace

std::vector<CheckResult> check_status_reports(std::span<const PumpStatusRecord> statuses,
                                              std::span<const ExpectedReport> expected,
                                              const StatusReportParams& p) {
    const BenchTime a = statuses.empty() ? BenchTime{} : statuses.front().bench_t;
    const BenchTime b = statuses.empty() ? BenchTime{} : statuses.back().bench_t;
    auto rate = make_result("status.rate", "basal rate the pump reports (STATUS rate_ml_day)", "status", "mL/day", a, b,
                            p.requirements);
    auto conc = make_result("status.concentration", "concentration the pump reports (STATUS conc_ug_ml)", "status", "ug/mL", a,
                            b, p.requirements);
    double worst_rate = -1, worst_conc = -1;
    std::size_t n_rate = 0, n_conc = 0;
    for (const auto& s : statuses) {
        const auto* e = interval_at(expected, s.bench_t);
        if (!e) continue;
        if (e->rate_ml_day && s.state == "RUNNING") {
            ++n_rate;
            const double dev = std::fabs(s.rate_ml_day - *e->rate_ml_day);
            if (dev > worst_rate) {
                worst_rate = dev;
                rate.measured = s.rate_ml_day;
                rate.expected = *e->rate_ml_day;
                rate.detail = "STATUS at " + iso_offset(s.bench_t, a) + " said rate_ml_day=" + num(s.rate_ml_day, 3);
            }
        }
        if (e->conc_ug_ml) {
            ++n_conc;
            const double dev = std::fabs(s.conc_ug_ml - *e->conc_ug_ml);
            if (dev > worst_conc) {
                worst_conc = dev;
                conc.measured = s.conc_ug_ml;
                conc.expected = *e->conc_ug_ml;
                conc.detail = "STATUS at " + iso_offset(s.bench_t, a) + " said conc_ug_ml=" + num(s.conc_ug_ml, 0);
            }
        }
    }
    if (n_rate > 0) {
        // The rate is a number the firmware computes (dose / concentration, ICD section 6), not
        // a measurement: it must be exact to the printed decimals. Delivery accuracy (±15 %) is
        // judged on the meter, not here.
        rate.lower = rate.expected - p.rate_print_resolution_ml_day - 1e-9;
        rate.upper = rate.expected + p.rate_print_resolution_ml_day + 1e-9;
        rate.tolerance = "print rounding " + num(p.rate_print_resolution_ml_day, 4) + " mL/day";
        rate.tolerance_source = "pump ICD 5 and 6 (rate = dose / concentration, printed with 3 decimals)";
        rate.detail = "worst of " + std::to_string(n_rate) + " statuses while RUNNING: " + rate.detail;
        judge(rate);
    }
    if (n_conc > 0) {
        conc.lower = conc.upper = conc.expected;
        conc.tolerance = "exact (a whole number set by REFILL)";
        conc.tolerance_source = internal::source::kExact;
        conc.detail = "worst of " + std::to_string(n_conc) + " statuses after a refill: " + conc.detail;
        judge(conc);
    }
    // Nothing to judge is not a finding: the check is left out, never INCONCLUSIVE.
    std::vector<CheckResult> out;
    if (n_rate > 0) out.push_back(rate);
    if (n_conc > 0) out.push_back(conc);
    return out;
}

std::vector<CheckResult> check_reservoir_accounting(std::span<const PumpStatusRecord> statuses,
                                                    std::span<const BenchTime> refills, const AccountingParams& p) {
    const BenchTime a = statuses.empty() ? BenchTime{} : statuses.front().bench_t;
    const BenchTime b = statuses.empty() ? BenchTime{} : statuses.back().bench_t;
    auto r = make_result("reservoir.accounting", "reservoir estimate goes down by what the pump counts as delivered", "reservoir",
                         "mL", a, b, p.requirements);
    std::size_t judged = 0;
    double worst = -1;
    for (std::size_t k = 0; k < refills.size(); ++k) {
        const BenchTime from = refills[k];
        const BenchTime until = k + 1 < refills.size() ? refills[k + 1] : BenchTime::max();
        const PumpStatusRecord* base = nullptr;
        for (const auto& s : statuses) {
            if (s.bench_t <= from || s.bench_t >= until) continue;
            // At 0.000 the estimate stops (ICD section 5): it no longer follows the count.
            if (s.res_ml <= 0.0005) break;
            if (!base) {
                base = &s;
                continue;
            }
            if (s.deliv_ml < base->deliv_ml) break;  // a power-on restarts the count: not comparable
            ++judged;
            const double used = base->res_ml - s.res_ml;
            const double counted = s.deliv_ml - base->deliv_ml;
            const double dev = used - counted;
            if (std::fabs(dev) > worst) {
                worst = std::fabs(dev);
                r.measured = used;
                r.expected = counted;
                r.detail = "from the STATUS at " + iso_offset(base->bench_t, a) + " to the one at " + iso_offset(s.bench_t, a) +
                           ": res_ml went down by " + num(used, 3) + " mL, deliv_ml went up by " + num(counted, 3) + " mL";
            }
        }
    }
    if (judged == 0) return {};  // fewer than two STATUS reads after a refill: nothing to judge
    r.lower = r.expected - p.tolerance_ml;
    r.upper = r.expected + p.tolerance_ml;
    r.tolerance = "4 x print rounding 0.0005 mL + 1 stroke";
    r.tolerance_source = internal::source::kPrint;
    judge(r);
    return {r};
}

CheckResult check_bolus_count(std::span<const PumpEventRecord> events, std::span<const PlannedBolusCount> planned,
                              const BolusCountParams& p) {
    auto r = make_result("boluses.count", "boluses started (BOLUS_START events) against the plan", "bolus", "count", p.from,
                         p.to, p.requirements);
    std::map<std::string, int> seen, want;
    for (const auto& pc : planned) want[pc.kind] += pc.count;
    for (const auto& e : dedupe_events(events)) {
        if (e.type != "BOLUS_START") continue;
        const BenchTime t = p.clock.to_bench(e.pump_t, e.bench_t);
        if (t < p.from - p.clock.uncertainty_at(p.from) || t > p.to + p.clock.uncertainty_at(p.to)) continue;
        auto it = e.values.find("kind");
        seen[it == e.values.end() ? std::string("?") : it->second] += 1;
    }
    int total_seen = 0, total_want = 0;
    std::string diff;
    std::map<std::string, int> kinds = want;
    for (const auto& [k, n] : seen) kinds[k] += 0;
    for (const auto& [k, n] : kinds) {
        total_seen += seen[k];
        total_want += want[k];
        if (seen[k] != want[k]) diff += (diff.empty() ? "" : ", ") + k + " " + std::to_string(seen[k]) + " started, " + std::to_string(want[k]) + " planned";
    }
    r.measured = total_seen;
    r.expected = total_want;
    r.lower = r.upper = total_want;
    r.tolerance = "exact, per kind";
    r.tolerance_source = internal::source::kExact;
    r.verdict = diff.empty() ? Verdict::Pass : Verdict::Fail;
    r.detail = diff.empty() ? std::to_string(total_seen) + " boluses started, as planned" : diff;
    return r;
}

CheckResult check_priming_report(std::span<const PumpEventRecord> events, const ExpectedPriming& x,
                                 const PumpClockMapping& clock, BenchTime run_end) {
    auto r = make_result(x.id, "volume primed as the pump reports it (PRIME_END vol_ml)", "priming", "mL", x.start, x.end,
                         x.requirements);
    r.expected = x.volume.ml();
    // Whole strokes: one either way, and the print rounding.
    const double tol = 0.00025 + 0.0005;
    r.lower = r.expected - tol;
    r.upper = r.expected + tol;
    r.tolerance = "1 stroke + print rounding 0.0005 mL";
    r.tolerance_source = internal::source::kPrint;
    const BenchTime search_end = x.end + Millis{3'600'000};
    for (const auto& e : dedupe_events(events)) {
        if (e.type != "PRIME_END") continue;
        const BenchTime t = clock.to_bench(e.pump_t, e.bench_t);
        if (t < x.start || t > search_end) continue;
        auto it = e.values.find("vol_ml");
        if (it == e.values.end()) continue;
        try {
            r.measured = std::stod(it->second);
        } catch (const std::exception&) {
            continue;
        }
        r.detail = "PRIME_END vol_ml=" + it->second + " at " + num(seconds(t - x.start), 1) + " s after the priming started";
        judge(r);
        return r;
    }
    if (run_end < search_end) {
        r.detail = "no PRIME_END before the run ended";
        return r;
    }
    r.detail = "no PRIME_END event after the priming";
    r.verdict = Verdict::Fail;
    return r;
}

std::vector<CheckResult> check_meter_health(std::span<const Sample> samples, std::span<const ExpectedSegment> expected,
                                            std::span<const PumpStatusRecord> statuses, Millis line_tau,
                                            const MeterHealthParams& p) {
    const BenchTime a = samples.empty() ? BenchTime{} : samples.front().t;
    const BenchTime b = samples.empty() ? BenchTime{} : samples.back().t;
    std::vector<CheckResult> out;

    auto air = make_result("meter.air", "meter readings with AIR", "meter", "count", a, b, p.requirements);
    if (!samples.empty()) {
        int n = 0;
        std::optional<BenchTime> first;
        for (const auto& s : samples)
            if (s.status & 0x2) {
                ++n;
                if (!first) first = s.t;
            }
        air.measured = n;
        air.expected = 0;
        air.lower = 0;
        air.upper = 0;
        air.tolerance = "none: air in the line invalidates the meter's data";
        air.tolerance_source = "meter ICD 3 (AIR: readings not valid)";
        air.detail = n == 0 ? "no AIR reading" : std::to_string(n) + " readings with AIR, the first at t+" + num(seconds(*first - a), 1) + " s";
        judge(air);
        out.push_back(air);
    }

    auto frozen = make_result("meter.frozen", "longest time the meter's sample counter stood still", "meter", "s", a, b,
                              p.requirements);
    if (samples.size() >= 2) {
        Millis longest{0};
        BenchTime since = samples.front().t, at = since;
        bool in_run = false;
        for (std::size_t i = 1; i < samples.size(); ++i) {
            if (samples[i].stale) {
                if (!in_run) since = samples[i - 1].t;
                in_run = true;
                const Millis len = std::chrono::duration_cast<Millis>(samples[i].t - since);
                if (len > longest) {
                    longest = len;
                    at = since;
                }
            } else {
                in_run = false;
            }
        }
        frozen.measured = seconds(longest);
        frozen.expected = 0;
        frozen.lower = 0;
        frozen.upper = seconds(p.max_frozen);
        frozen.tolerance = "the longest gap a meter window allows (" + num(seconds(p.max_frozen), 0) + " s)";
        frozen.tolerance_source = "engineering choice: the data-quality gap limit of every meter window (meter ICD 3: sample counts at 10 Hz)";
        frozen.detail = longest.count() == 0 ? "the counter moved at every reading"
                                             : "counter still for " + num(seconds(longest), 1) + " s from t+" + num(seconds(at - a), 1) + " s";
        judge(frozen);
        out.push_back(frozen);
    }

    // The line's tail over [a, b] (uL/h) is not known exactly: the real line's constant lies
    // within the rig's uncertainty and the pump delivered the fluid in it within its accuracy.
    // Judge against the whole range: {lowest, highest} over five constants, +-15 %.
    struct TailRange { double lo, hi; };
    auto tail_range = [&](BenchTime a0, BenchTime b0) {
        const double hh = internal::hours(std::chrono::duration_cast<Millis>(b0 - a0));
        const auto [lo, hi] = internal::over_line_range(line_tau, p.line_tau_uncertainty, [&](Millis t) {
            return (expected_meter_total(expected, b0, t).ul - expected_meter_total(expected, a0, t).ul) / hh;
        });
        const double d = p.accuracy.delivery_pct / 100.0;
        return TailRange{std::min(lo * (1.0 - d), lo * (1.0 + d)), std::max(hi * (1.0 - d), hi * (1.0 + d))};
    };
    // Zero: settled periods with no expected delivery in which the pump's own count stood still.
    // Judged twice: on the total (what every volume check reads) and on the flow register (its
    // zero, drifting or not: each minute's mean of the register within the zero accuracy).
    auto zero = make_result("meter.zero", "meter flow while nothing is delivered (zero)", "meter", "uL/h", a, b, p.requirements);
    auto zero_flow = make_result("meter.zero.flow", "meter flow register while nothing is delivered (zero, drift)", "meter",
                                 "uL/h", a, b, p.requirements);
    double worst = -1, worst_flow = -1;
    int flow_minutes = 0;
    int periods = 0;
    for (const auto& seg : expected) {
        if (seg.rate.ul_per_h != 0) continue;
        const BenchTime w0 = seg.start + p.settling, w1 = seg.end;
        if (w1 - w0 < p.min_zero_window) continue;
        // The pump's deliv_ml at the first status in the window and the last: unchanged, or
        // the flow may be the pump's (a pump that delivers while stopped is not a meter fault).
        const PumpStatusRecord *s0 = nullptr, *s1 = nullptr;
        for (const auto& s : statuses) {
            if (s.bench_t < w0 || s.bench_t > w1) continue;
            if (!s0) s0 = &s;
            s1 = &s;
        }
        if (!s0 || s0 == s1 || std::fabs(s1->deliv_ml - s0->deliv_ml) > 1e-9) continue;
        const BenchTime v0 = s0->bench_t, v1 = s1->bench_t;
        if (v1 - v0 < p.min_zero_window / 2) continue;
        const auto q = assess_window(samples, v0, v1, {});
        const auto t0 = total_at(samples, v0), t1 = total_at(samples, v1);
        if (!q.usable || !t0 || !t1) continue;
        ++periods;
        const double h = internal::hours(std::chrono::duration_cast<Millis>(v1 - v0));
        // The mean flow as the least-squares slope of the total over every reading in the
        // window, not the difference of its two ends: read noise on the total (a real meter's
        // and the simulator's) then averages out instead of deciding the verdict.
        double flow = (t1->ul - t0->ul) / h;
        {
            double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (const auto& smp : samples) {
                if (smp.t < v0 || smp.t > v1 || !smp.valid) continue;
                const double x = internal::hours(std::chrono::duration_cast<Millis>(smp.t - v0));
                n += 1;
                sx += x;
                sy += smp.total.ul;
                sxx += x * x;
                sxy += x * smp.total.ul;
            }
            const double den = n * sxx - sx * sx;
            if (n >= 3 && den > 0) flow = (n * sxy - sx * sy) / den;
        }
        const double tail = (expected_meter_total(expected, v1, line_tau).ul - expected_meter_total(expected, v0, line_tau).ul) / h;
        const auto tr = tail_range(v0, v1);
        const double dev = std::fabs(flow - tail);
        if (dev > worst) {
            worst = dev;
            zero.measured = flow;
            zero.expected = tail;
            // The meter's zero accuracy (0.1 uL/h) and its reading accuracy on the line's tail,
            // plus one nL of the total's resolution at each end.
            const double tol = p.accuracy.meter_offset.ul_per_h + tr.hi * p.accuracy.meter_reading_pct / 100.0 + 0.002 / h;
            zero.lower = tr.lo - tol;
            zero.upper = tr.hi + tol;
            zero.window_start = v0;
            zero.window_end = v1;
            zero.detail = "mean meter flow (least-squares slope of the total) " + num(flow, 3) + " uL/h over " + num(h * 60, 0) +
                          " min while stopped (pump deliv_ml unchanged)";
        }
        // The flow register, minute by minute: a zero offset shows in every minute, a drift in
        // the last ones. Only valid readings count (the register holds its last valid value).
        for (BenchTime m0 = v0; m0 + p.zero_flow_block <= v1; m0 += p.zero_flow_block) {
            const BenchTime m1 = m0 + p.zero_flow_block;
            double sum = 0;
            int n = 0;
            for (const auto& smp : samples)
                if (smp.t >= m0 && smp.t < m1 && smp.valid) {
                    sum += smp.flow.ul_per_h;
                    ++n;
                }
            if (n == 0) continue;
            ++flow_minutes;
            const double bh = internal::hours(p.zero_flow_block);
            const double block_tail = (expected_meter_total(expected, m1, line_tau).ul - expected_meter_total(expected, m0, line_tau).ul) / bh;
            const auto btr = tail_range(m0, m1);
            const double mean = sum / n;
            const double dev = std::fabs(mean - block_tail);
            if (dev > worst_flow) {
                worst_flow = dev;
                zero_flow.measured = mean;
                zero_flow.expected = block_tail;
                const double tol = p.accuracy.meter_offset.ul_per_h + btr.hi * p.accuracy.meter_reading_pct / 100.0 +
                                   p.flow_resolution.ul_per_h;
                zero_flow.lower = btr.lo - tol;
                zero_flow.upper = btr.hi + tol;
                zero_flow.window_start = m0;
                zero_flow.window_end = m1;
                zero_flow.detail = "mean of " + std::to_string(n) + " flow register readings over the worst " +
                                   num(seconds(p.zero_flow_block), 0) + " s while stopped (pump deliv_ml unchanged)";
            }
        }
    }
    // Without a settled stopped period the zero cannot be seen: left out, not INCONCLUSIVE.
    if (periods > 0) {
        zero.tolerance = "meter zero 0.1 uL/h + 0.5 % of the line's tail, the tail over the line constant's range and +-15 %";
        zero.tolerance_source = "meter ICD 2 (+-0.5 % of reading +-0.1 uL/h; total in whole nL)";
        judge(zero);
        out.push_back(zero);
    }
    if (flow_minutes > 0) {
        zero_flow.tolerance = "meter zero 0.1 uL/h + 0.5 % of the line's tail (over the line constant's range and +-15 %) + 0.01 uL/h resolution, per " +
                              num(seconds(p.zero_flow_block), 0) + " s mean";
        zero_flow.tolerance_source = "meter ICD 2 (+-0.5 % of reading +-0.1 uL/h; resolution 0.01 uL/h)";
        judge(zero_flow);
        out.push_back(zero_flow);
    }
    return out;
}

bool rests_on_meter(const CheckResult& r) {
    const std::string& id = r.id;
    auto ends_with = [&](std::string_view tail) { return id.size() >= tail.size() && id.compare(id.size() - tail.size(), tail.size(), tail) == 0; };
    return r.kind == "volume" || r.kind == "rate" || r.kind == "iec60601" || id.starts_with("iec60601") ||
           ends_with(".volume") || ends_with(".meter") || id == "reservoir.res_ml" || id == "reservoir.deliv_ml";
}

void discount_meter_checks(std::vector<CheckResult>& results) {
    const auto fault = meter_fault(results);
    if (!fault) return;
    for (auto& r : results) {
        if (r.kind == "meter" || !rests_on_meter(r) || r.verdict == Verdict::Inconclusive) continue;
        r.detail = std::string("meter fault, not judged (was ") + to_string(r.verdict) + "): " + r.detail;
        r.verdict = Verdict::Inconclusive;
    }
}

CheckResult check_stop_at_end(const std::optional<record::SafeStopInfo>& stop, BenchTime at, std::vector<std::string> requirements) {
    CheckResult r;
    r.id = "stop.end";
    r.name = "pump stopped at the end of the run";
    r.kind = "command";
    r.unit = "count";
    r.expected = 1;  // measured 1: a STATUS said STOPPED after the run's STOP
    r.lower = 1;
    r.upper = 1;
    r.tolerance = "the pump's answer";
    r.tolerance_source = "pump ICD 7 (STOP: allowed in every state, stops all delivery)";
    r.requirements = std::move(requirements);
    r.window_start = at;
    r.window_end = at;
    if (!stop) {
        r.verdict = Verdict::Inconclusive;
        r.detail = "the run ended before its safe stop (killed?): nothing says whether the pump stopped";
    } else if (stop->confirmed_stopped) {
        r.measured = 1;
        r.verdict = Verdict::Pass;
        r.detail = stop->detail;
    } else if (!stop->refusal.empty()) {
        r.measured = 0;
        r.verdict = Verdict::Fail;
        r.detail = "the pump did not stop: " + stop->refusal;
    } else {
        r.verdict = Verdict::Inconclusive;
        r.detail = "the pump could not be confirmed stopped, nor did it say it was running: " + stop->detail;
    }
    return r;
}

}  // namespace pumprig::verify
