// Checks against the meter's cumulative total: delivered volume, mean rate per step, when a
// rate change took effect, bolus volume and timing, reservoir accounting.
#include <algorithm>
#include <cmath>
#include <optional>

#include "verify/checks.hpp"
#include "verify/internal.hpp"

namespace pumprig::verify {

using internal::hours;
using internal::judge;
using internal::kInf;
using internal::kNaN;
using internal::make_result;
using internal::num;
using internal::seconds;

namespace {

// Meter-only part of a volume tolerance: +-0.5 % of reading, +-0.1 uL/h over the window.
double meter_allowance_ul(const AccuracySpec& acc, double volume_ul, Millis window) {
    return acc.meter_reading_pct / 100.0 * std::abs(volume_ul) +
           acc.meter_offset.ul_per_h * hours(window);
}

std::string volume_tolerance_text(const AccuracySpec& acc) {
    return num(acc.delivery_pct, 1) + " % of expected + 1 stroke (" + num(acc.stroke.ul, 2) +
           " uL) + meter " + num(acc.meter_reading_pct, 2) + " % of reading + " +
           num(acc.meter_offset.ul_per_h, 2) + " uL/h x window";
}

// Meter volume over [a, b], NaN when an edge has no data.
double meter_volume(std::span<const Sample> samples, BenchTime a, BenchTime b) {
    auto va = total_at(samples, a);
    auto vb = total_at(samples, b);
    if (!va || !vb) return kNaN;
    return vb->ul - va->ul;
}

// Ordinary least squares over a run of points, from prefix sums (x centred per fit).
struct Prefix {
    std::vector<double> n, x, y, xx, xy, yy;
    explicit Prefix(const std::vector<double>& xs, const std::vector<double>& ys) {
        const std::size_t size = xs.size() + 1;
        for (auto* v : {&n, &x, &y, &xx, &xy, &yy}) v->assign(size, 0.0);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            n[i + 1] = n[i] + 1;
            x[i + 1] = x[i] + xs[i];
            y[i + 1] = y[i] + ys[i];
            xx[i + 1] = xx[i] + xs[i] * xs[i];
            xy[i + 1] = xy[i] + xs[i] * ys[i];
            yy[i + 1] = yy[i] + ys[i] * ys[i];
        }
    }
    struct Fit { double slope = 0, intercept = 0, sse = kInf; };
    // Points [i, j).
    Fit fit(std::size_t i, std::size_t j) const {
        Fit f;
        const double cn = n[j] - n[i];
        if (cn < 2) return f;
        const double sx = x[j] - x[i], sy = y[j] - y[i];
        const double sxx = (xx[j] - xx[i]) - sx * sx / cn;
        const double sxy = (xy[j] - xy[i]) - sx * sy / cn;
        const double syy = (yy[j] - yy[i]) - sy * sy / cn;
        if (sxx <= 0) return f;
        f.slope = sxy / sxx;
        f.intercept = (sy - f.slope * sx) / cn;
        f.sse = std::max(0.0, syy - sxy * sxy / sxx);
        return f;
    }
};

}  // namespace

// 1. -----------------------------------------------------------------------------------------

CheckResult check_delivered_volume(std::span<const Sample> samples,
                                   std::span<const ExpectedSegment> expected,
                                   const VolumeCheckParams& p) {
    BenchTime a = p.window_start, b = p.window_end;
    const std::string clipped = internal::clip_to_samples(samples, a, b, p.meter.quality.max_gap);
    auto r = make_result(p.id, p.name, "volume", "uL", a, b, p.requirements);
    const Millis tau = p.meter.line_tau;
    r.expected = (expected_meter_total(expected, b, tau) - expected_meter_total(expected, a, tau)).ul;
    r.measured = meter_volume(samples, a, b);
    const double tol = p.accuracy.delivery_pct / 100.0 * std::abs(r.expected) +
                       p.accuracy.stroke.ul + meter_allowance_ul(p.accuracy, r.expected, b - a);
    r.lower = r.expected - tol;
    r.upper = r.expected + tol;
    r.tolerance = volume_tolerance_text(p.accuracy);
    const auto q = assess_window(samples, a, b, p.meter.quality);
    if (!q.usable) {
        r.verdict = Verdict::Inconclusive;
        r.detail = q.problem;
        return r;
    }
    judge(r);
    r.detail = "meter total difference over the window against the expected delivery through the "
               "line (tau " + num(seconds(tau), 1) + " s)" + (clipped.empty() ? "" : "; " + clipped);
    return r;
}

// 2. -----------------------------------------------------------------------------------------

std::vector<CheckResult> check_step_rates(std::span<const Sample> samples,
                                          std::span<const ExpectedSegment> expected,
                                          const StepRateParams& p) {
    std::vector<CheckResult> out;
    const Millis tau = p.meter.line_tau;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& seg = expected[i];
        BenchTime a = seg.start + p.settling;
        BenchTime b = seg.end;
        const std::string clipped = b > a ? internal::clip_to_samples(samples, a, b, p.meter.quality.max_gap)
                                          : std::string();
        auto r = make_result(p.id_prefix + "." + std::to_string(i + 1),
                             "mean rate, " + (seg.label.empty() ? "segment " + std::to_string(i + 1)
                                                                : seg.label),
                             "rate", "uL/h", a, b, p.requirements);
        r.tolerance = num(p.accuracy.delivery_pct, 1) + " % of expected + 1 stroke over the "
                      "window + meter " + num(p.accuracy.meter_reading_pct, 2) + " % + " +
                      num(p.accuracy.meter_offset.ul_per_h, 2) + " uL/h";
        if (b <= a) {
            r.detail = "segment not longer than the settling margin (" +
                       num(seconds(p.settling), 1) + " s): no steady part to measure";
            out.push_back(std::move(r));
            continue;
        }
        const double h = hours(b - a);
        // Expected mean over the same window through the line: after several tau this is the
        // segment's rate; with a short settling margin it still carries the previous rate's tail.
        r.expected = (expected_meter_total(expected, b, tau) - expected_meter_total(expected, a, tau)).ul / h;
        r.measured = meter_volume(samples, a, b) / h;
        const double tol = p.accuracy.delivery_pct / 100.0 * std::abs(r.expected) +
                           p.accuracy.stroke.ul / h +
                           p.accuracy.meter_reading_pct / 100.0 * std::abs(r.expected) +
                           p.accuracy.meter_offset.ul_per_h;
        r.lower = r.expected - tol;
        r.upper = r.expected + tol;
        const auto q = assess_window(samples, a, b, p.meter.quality);
        if (!q.usable) {
            r.detail = q.problem;
        } else {
            judge(r);
            r.detail = "meter total difference / window length, after " +
                       num(seconds(p.settling), 1) + " s of settling" +
                       (clipped.empty() ? "" : "; " + clipped);
        }
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

struct ChangePoint {
    bool found = false;
    double t_s = 0;                  // intersection of the two lines, s from the window start
    double slope_before = 0, slope_after = 0;  // uL/s
    std::string problem;
};

// Two lines fitted to the cumulative total, split at the best candidate sample; the line
// after the split starts `settle` later so the curved transition of the line does not bend it.
ChangePoint find_change_point(std::span<const Sample> samples, BenchTime a, BenchTime b,
                              Millis settle, Millis min_side) {
    ChangePoint cp;
    auto first = std::lower_bound(samples.begin(), samples.end(), a,
                                  [](const Sample& s, BenchTime t) { return s.t < t; });
    auto last = std::upper_bound(samples.begin(), samples.end(), b,
                                 [](BenchTime t, const Sample& s) { return t < s.t; });
    std::vector<double> xs, ys;
    if (first == last) {
        cp.problem = "no samples in the search window";
        return cp;
    }
    const double y0 = first->total.ul;
    for (auto it = first; it != last; ++it) {
        xs.push_back(seconds(it->t - a));
        ys.push_back(it->total.ul - y0);
    }
    const Prefix pre(xs, ys);
    const std::size_t n = xs.size();
    const double settle_s = seconds(settle);
    const double min_side_s = seconds(min_side);
    double best = kInf;
    std::size_t right = 0;
    for (std::size_t k = 2; k + 2 <= n; ++k) {
        // Left: [0, k); right: first index at or after x[k-1] + settle.
        if (xs[k - 1] - xs[0] < min_side_s) continue;
        right = std::max(right, k);
        while (right < n && xs[right] < xs[k - 1] + settle_s) ++right;
        if (right + 2 > n || xs[n - 1] - xs[right] < min_side_s) break;
        const auto l = pre.fit(0, k);
        const auto rt = pre.fit(right, n);
        const double sse = l.sse + rt.sse;
        if (sse < best) {
            best = sse;
            cp.found = true;
            cp.slope_before = l.slope;
            cp.slope_after = rt.slope;
            const double dm = l.slope - rt.slope;
            cp.t_s = dm == 0 ? kNaN : (rt.intercept - l.intercept) / dm;
        }
    }
    if (!cp.found) cp.problem = "search window too short for two fits (each side needs " +
                                num(min_side_s, 0) + " s, after " + num(settle_s, 0) +
                                " s of settling)";
    return cp;
}

}  // namespace

CheckResult check_change_time_meter(std::span<const Sample> samples, const RateChange& change,
                                    const ChangeTimingParams& p) {
    BenchTime a = change.expected_at - p.search_before;
    const BenchTime b = change.expected_at + p.search_after;
    // The search may reach back before the recording began (a change soon after the run's
    // start): search from the first sample instead. The end is never moved, since a late change
    // may lie beyond the data.
    if (!samples.empty() && samples.front().t > a && samples.front().t < change.expected_at)
        a = samples.front().t;
    auto r = make_result(change.id, change.name + " (meter)", "timing", "s", a, b,
                         change.requirements);
    r.expected = 0;  // measured is the offset from the expected time

    const double dr = std::abs(change.rate_after.ul_per_h - change.rate_before.ul_per_h);
    const double slower = std::min(std::abs(change.rate_before.ul_per_h),
                                   std::abs(change.rate_after.ul_per_h));
    const double faster = std::max(std::abs(change.rate_before.ul_per_h),
                                   std::abs(change.rate_after.ul_per_h));
    const Millis dt = internal::typical_sample_interval(samples, a, b);
    const Millis tau = p.meter.line_tau;
    // One stroke of vertical uncertainty on either fitted line moves their intersection by
    // stroke / |delta rate|; a new rate also shows only with its first stroke, up to one stroke
    // interval later (at the slower non-zero rate).
    const double stroke_s = dr > 0 ? p.accuracy.stroke.ul / dr * 3600.0 : kInf;
    const double interval_s = slower > 0 ? p.accuracy.stroke.ul / slower * 3600.0
                                         : (faster > 0 ? p.accuracy.stroke.ul / faster * 3600.0 : kInf);
    const double tol_s = std::max(stroke_s, interval_s) + 2.0 * seconds(dt) +
                         p.tau_uncertainty_fraction * seconds(tau) + seconds(p.extra_tolerance);
    r.lower = -tol_s;
    r.upper = tol_s;
    r.tolerance = "max(stroke / |delta rate|, stroke interval) + 2 sample intervals + " +
                  num(p.tau_uncertainty_fraction, 2) + " tau";
    if (dr <= 0) {
        r.detail = "no rate change expected: its time cannot be measured from the meter";
        return r;
    }
    const auto q = assess_window(samples, a, b, p.meter.quality);
    if (!q.usable) {
        r.detail = q.problem;
        return r;
    }
    const Millis settle = tau * 3;
    const Millis min_side = std::min(change.expected_at - a, p.search_after) / 4;
    const auto cp = find_change_point(samples, a, b, settle, min_side);
    if (!cp.found) {
        r.detail = cp.problem;
        return r;
    }
    const double seen_dr = std::abs(cp.slope_after - cp.slope_before) * 3600.0;
    // Less than a quarter of the expected change is noise, not the change looked for.
    if (std::isnan(cp.t_s) || seen_dr < 0.25 * dr) {
        r.verdict = Verdict::Fail;
        r.detail = "no rate change found in the meter total within the search window (rate " +
                   num(cp.slope_before * 3600.0, 2) + " -> " + num(cp.slope_after * 3600.0, 2) +
                   " uL/h, expected " + num(change.rate_before.ul_per_h, 2) + " -> " +
                   num(change.rate_after.ul_per_h, 2) + ")";
        return r;
    }
    // The asymptote after a step through a first-order line is the undelayed line shifted by tau.
    const double t_change_s = cp.t_s - seconds(tau);
    r.measured = t_change_s - seconds(change.expected_at - a);
    judge(r);
    r.detail = "change point of the meter total (two-line fit, rates " +
               num(cp.slope_before * 3600.0, 2) + " -> " + num(cp.slope_after * 3600.0, 2) +
               " uL/h), less tau";
    return r;
}

// 3. -----------------------------------------------------------------------------------------

namespace {

std::vector<PumpEventRecord> events_of(std::span<const PumpEventRecord> events,
                                       std::string_view type, std::string_view kind) {
    std::vector<PumpEventRecord> out;
    for (auto& e : dedupe_events(events)) {
        if (e.type != type) continue;
        if (!kind.empty()) {
            auto it = e.values.find("kind");
            if (it == e.values.end() || it->second != kind) continue;
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<double> value_number(const PumpEventRecord& e, const std::string& key) {
    auto it = e.values.find(key);
    if (it == e.values.end()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') return std::nullopt;
    return v;
}

}  // namespace

std::vector<CheckResult> check_bolus(std::span<const Sample> samples,
                                     std::span<const ExpectedSegment> expected,
                                     std::span<const PumpEventRecord> events,
                                     const ExpectedBolus& bolus, const BolusCheckParams& p) {
    std::vector<CheckResult> out;
    const BenchTime s = bolus.start;
    const BenchTime e = bolus.start + bolus.duration;
    const BenchTime b = e + p.settling;
    const Millis tau = p.meter.line_tau;
    const auto& acc = p.accuracy;

    // Volume from the meter, basal subtracted.
    {
        auto r = make_result(bolus.id + ".volume", "bolus volume (meter, basal subtracted)",
                             "bolus", "uL", s, b, bolus.requirements);
        const double all = (expected_meter_total(expected, b, tau) - expected_meter_total(expected, s, tau)).ul;
        // The bolus alone through the line, over the same window.
        const ExpectedSegment alone{s, e, bolus.duration.count() > 0
                                               ? FlowRate{bolus.volume.ul / hours(bolus.duration)}
                                               : FlowRate{},
                                    "bolus"};
        const std::span<const ExpectedSegment> one(&alone, 1);
        const double bolus_part = (expected_meter_total(one, b, tau) - expected_meter_total(one, s, tau)).ul;
        const double basal_part = all - bolus_part;
        r.expected = bolus_part;
        const double meter = meter_volume(samples, s, b);
        r.measured = meter - basal_part;
        // The basal under the bolus is as uncertain as any delivery: its 15 % counts too.
        const double tol = acc.delivery_pct / 100.0 * (std::abs(bolus_part) + std::abs(basal_part)) +
                           acc.stroke.ul + meter_allowance_ul(acc, all, b - s);
        r.lower = r.expected - tol;
        r.upper = r.expected + tol;
        r.tolerance = num(acc.delivery_pct, 1) + " % of bolus and basal in the window + 1 stroke + "
                      "meter accuracy";
        const auto q = assess_window(samples, s, b, p.meter.quality);
        if (!q.usable) r.detail = q.problem;
        else {
            judge(r);
            r.detail = "meter volume over the bolus and " + num(seconds(p.settling), 0) +
                       " s of settling, less the expected basal (" + num(basal_part, 2) + " uL)";
        }
        out.push_back(std::move(r));
    }

    // Start, duration and delivered volume from the pump's events.
    const auto starts = events_of(events, "BOLUS_START", bolus.kind);
    const PumpEventRecord* start_ev = nullptr;
    Millis best{Millis::max()};
    for (const auto& ev : starts) {
        const auto d = p.clock.to_bench(ev.pump_t) - s;
        const auto ad = d < Millis{0} ? -d : d;
        if (ad <= p.event_search && ad < best) {
            best = ad;
            start_ev = &ev;
        }
    }
    const bool could_have_more = p.run_end < s + p.event_search;
    {
        auto r = make_result(bolus.id + ".start.event", "bolus start (BOLUS_START event)",
                             "bolus", "s", s - p.event_search, s + p.event_search,
                             bolus.requirements);
        r.expected = 0;
        r.lower = -seconds(p.event_tolerance);
        r.upper = seconds(p.event_tolerance);
        r.tolerance = "+-" + num(seconds(p.event_tolerance), 1) + " s (clock mapping, stamping)";
        if (start_ev) {
            r.measured = seconds(p.clock.to_bench(start_ev->pump_t) - s);
            judge(r);
            r.detail = "BOLUS_START n=" + std::to_string(start_ev->n) + " against the expected start";
        } else if (could_have_more) {
            r.detail = "no BOLUS_START event, and the run ended before the search window did";
        } else {
            r.verdict = Verdict::Fail;
            r.detail = "no BOLUS_START event of kind " + bolus.kind + " within " +
                       num(seconds(p.event_search), 0) + " s of the expected start";
        }
        out.push_back(std::move(r));
    }

    // The first BOLUS_END of the same kind after the start.
    std::optional<PumpEventRecord> end_copy;
    if (start_ev) {
        for (auto& ev : events_of(events, "BOLUS_END", bolus.kind))
            if (ev.pump_t >= start_ev->pump_t) { end_copy = ev; break; }
    }
    const double bolus_rate = bolus.duration.count() > 0 ? bolus.volume.ul / hours(bolus.duration) : 0;
    {
        auto r = make_result(bolus.id + ".duration.event", "bolus duration (BOLUS_START to BOLUS_END)",
                             "bolus", "s", s, e, bolus.requirements);
        r.expected = seconds(bolus.duration);
        // Both ends on the pump clock: the offset cancels; the last stroke may come up to one
        // stroke interval early or late.
        const double tol = seconds(p.event_tolerance) +
                           (bolus_rate > 0 ? acc.stroke.ul / bolus_rate * 3600.0 : 0.0);
        r.lower = r.expected - tol;
        r.upper = r.expected + tol;
        r.tolerance = "event tolerance + 1 stroke interval at the bolus rate";
        if (start_ev && end_copy) {
            r.measured = end_copy->pump_t - start_ev->pump_t;
            judge(r);
            r.detail = "pump clock difference of BOLUS_END and BOLUS_START";
        } else if (!start_ev) {
            r.detail = "no BOLUS_START event to measure from";
            if (!could_have_more) r.verdict = Verdict::Fail;
        } else if (p.run_end < e + p.event_search) {
            r.detail = "no BOLUS_END event, and the run ended before it was due";
        } else {
            r.verdict = Verdict::Fail;
            r.detail = "no BOLUS_END event after the BOLUS_START";
        }
        out.push_back(std::move(r));
    }
    {
        auto r = make_result(bolus.id + ".delivered.event", "bolus volume (BOLUS_END vol_ml)",
                             "bolus", "uL", s, e, bolus.requirements);
        r.expected = bolus.volume.ul;
        // The pump counts whole strokes and prints mL to 3 decimals.
        const double tol = acc.stroke.ul + 0.5;
        r.lower = r.expected - tol;
        r.upper = r.expected + tol;
        r.tolerance = "1 stroke + 0.5 uL print rounding";
        std::optional<double> vol_ml = end_copy ? value_number(*end_copy, "vol_ml") : std::nullopt;
        if (vol_ml) {
            r.measured = *vol_ml * 1000.0;
            judge(r);
            r.detail = "BOLUS_END vol_ml, the pump's own count";
        } else if (end_copy) {
            r.verdict = Verdict::Fail;
            r.detail = "BOLUS_END has no readable vol_ml (expected a decimal number of mL)";
        } else {
            r.detail = "no BOLUS_END event";
            if (!could_have_more && p.run_end >= e + p.event_search) r.verdict = Verdict::Fail;
        }
        out.push_back(std::move(r));
    }

    // Start from the meter: the change point from the basal to basal + bolus.
    {
        RateChange change;
        change.id = bolus.id + ".start.meter";
        change.name = "bolus start";
        change.expected_at = s;
        change.rate_before = internal::expected_rate_at(expected, s - Millis{1});
        change.rate_after = internal::expected_rate_at(expected, s);
        change.requirements = bolus.requirements;
        auto timing = p.meter_timing;
        timing.meter = p.meter;
        timing.accuracy = acc;
        // The fit after the change must stay within the bolus.
        timing.search_after = std::min(timing.search_after, bolus.duration);
        timing.search_before = std::min(timing.search_before, std::max(bolus.duration, Millis{600'000}));
        auto r = check_change_time_meter(samples, change, timing);
        r.kind = "bolus";
        out.push_back(std::move(r));
    }
    return out;
}

// 5. -----------------------------------------------------------------------------------------

std::vector<CheckResult> check_reservoir(std::span<const Sample> samples,
                                         std::span<const ExpectedSegment> expected,
                                         std::span<const PumpStatusRecord> statuses,
                                         const ReservoirCheckParams& p) {
    const Millis tau = p.meter.line_tau;
    const auto& acc = p.accuracy;
    // Volume that left the pump but has not reached the meter yet, by the line model.
    auto in_line = [&](BenchTime t) {
        return (expected_delivered(expected, t) - expected_meter_total(expected, t, tau)).ul;
    };
    auto delivered_since = [&](BenchTime from, BenchTime to) {
        return meter_volume(samples, from, to) + in_line(to) - in_line(from);
    };
    auto tolerance = [&](double volume_ul, Millis span, int prints) {
        return acc.delivery_pct / 100.0 * std::abs(volume_ul) + acc.stroke.ul +
               meter_allowance_ul(acc, volume_ul, span) + prints * p.print_resolution.ul;
    };

    std::vector<const PumpStatusRecord*> after;
    for (const auto& s : statuses)
        if (s.bench_t > p.refill_at && s.bench_t <= p.window_end) after.push_back(&s);
    const std::string tol_text = num(acc.delivery_pct, 1) + " % of the volume delivered + 1 stroke "
                                 "+ meter accuracy + print rounding";

    auto res = make_result(p.id + ".res_ml", "reservoir estimate against refill - delivered",
                           "reservoir", "uL", p.refill_at, p.window_end, p.requirements);
    res.tolerance = tol_text;
    auto dlv = make_result(p.id + ".deliv_ml", "deliv_ml increase against the meter",
                           "reservoir", "uL", p.refill_at, p.window_end, p.requirements);
    dlv.tolerance = tol_text;

    if (after.empty()) {
        res.detail = dlv.detail = "no STATUS after the refill within the window";
        return {res, dlv};
    }
    const BenchTime last_t = after.back()->bench_t;
    const auto q = assess_window(samples, p.refill_at, last_t, p.meter.quality);
    if (!q.usable) {
        res.detail = dlv.detail = q.problem;
        return {res, dlv};
    }

    double worst = -1;
    for (const auto* s : after) {
        const double delivered = delivered_since(p.refill_at, s->bench_t);
        // The estimate never goes below 0 (pump ICD section 5).
        const double exp_ul = std::max(0.0, p.refill_volume.ul - delivered);
        const double tol = tolerance(delivered, s->bench_t - p.refill_at, 1);
        const double ratio = std::abs(s->res_ml * 1000.0 - exp_ul) / tol;
        if (ratio > worst) {
            worst = ratio;
            res.measured = s->res_ml * 1000.0;
            res.expected = exp_ul;
            res.lower = std::max(0.0, exp_ul - tol);
            res.upper = exp_ul + tol;
            res.detail = "worst STATUS at " + num(seconds(s->bench_t - p.refill_at), 1) +
                         " s after the refill (" + std::to_string(after.size()) + " checked)";
        }
    }
    judge(res);

    if (after.size() < 2) {
        dlv.detail = "one STATUS after the refill: no deliv_ml increase to compare";
        return {res, dlv};
    }
    const auto* ref = after.front();
    worst = -1;
    for (std::size_t i = 1; i < after.size(); ++i) {
        const auto* s = after[i];
        if (s->deliv_ml < ref->deliv_ml) {
            dlv.measured = kNaN;
            dlv.detail = "deliv_ml went down (the pump counts from its last power-on): not comparable";
            dlv.verdict = Verdict::Inconclusive;
            return {res, dlv};
        }
        const double meter = delivered_since(ref->bench_t, s->bench_t);
        const double pump = (s->deliv_ml - ref->deliv_ml) * 1000.0;
        const double tol = tolerance(meter, s->bench_t - ref->bench_t, 2);
        const double ratio = std::abs(pump - meter) / tol;
        if (ratio > worst) {
            worst = ratio;
            dlv.measured = pump;
            dlv.expected = meter;
            dlv.lower = meter - tol;
            dlv.upper = meter + tol;
            dlv.detail = "worst STATUS at " + num(seconds(s->bench_t - ref->bench_t), 1) +
                         " s after the first STATUS following the refill";
        }
    }
    judge(dlv);
    return {res, dlv};
}

}  // namespace pumprig::verify
