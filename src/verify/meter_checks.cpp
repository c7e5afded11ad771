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

// Tolerance on an expected meter volume v over a window: the pump's delivery accuracy on the
// programmed quantity, one stroke, and the meter's accuracy on what it reads (up to (1 + d) v).
double volume_tolerance_ul(const AccuracySpec& acc, double v, Millis window) {
    const double d = acc.delivery_pct / 100.0;
    return d * std::abs(v) + acc.stroke.ul + meter_allowance_ul(acc, (1.0 + d) * std::abs(v), window);
}

std::string line_text(const MeterWindow& m) {
    if (m.line_tau.count() <= 0 || m.line_tau_uncertainty <= 0) return "";
    return ", over line tau " + num(seconds(m.line_tau), 1) + " s +-" + num(100.0 * m.line_tau_uncertainty, 0) + " %";
}

std::string volume_tolerance_text(const AccuracySpec& acc, const MeterWindow& m) {
    return num(acc.delivery_pct, 1) + " % of expected + 1 stroke (" + num(acc.stroke.ul, 2) +
           " uL) + meter " + num(acc.meter_reading_pct, 2) + " % of reading + " +
           num(acc.meter_offset.ul_per_h, 2) + " uL/h x window" + line_text(m);
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
    auto volume = [&](Millis t) { return (expected_meter_total(expected, b, t) - expected_meter_total(expected, a, t)).ul; };
    r.expected = volume(tau);
    r.measured = meter_volume(samples, a, b);
    const auto [lo, hi] = internal::over_line_range(p.meter.line_tau, p.meter.line_tau_uncertainty, volume);
    r.lower = lo - volume_tolerance_ul(p.accuracy, lo, b - a);
    r.upper = hi + volume_tolerance_ul(p.accuracy, hi, b - a);
    r.tolerance = volume_tolerance_text(p.accuracy, p.meter);
    r.tolerance_source = internal::source::kMeterVolume;
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
                      num(p.accuracy.meter_offset.ul_per_h, 2) + " uL/h" + line_text(p.meter);
        r.tolerance_source = internal::source::kMeterVolume;
        if (b <= a) {
            r.detail = "segment not longer than the settling margin (" +
                       num(seconds(p.settling), 1) + " s): no steady part to measure";
            out.push_back(std::move(r));
            continue;
        }
        const double h = hours(b - a);
        // Expected mean over the same window through the line: after several tau this is the
        // segment's rate; with a short settling margin it still carries the previous rate's tail.
        auto rate = [&](Millis t) { return (expected_meter_total(expected, b, t) - expected_meter_total(expected, a, t)).ul / h; };
        r.expected = rate(tau);
        r.measured = meter_volume(samples, a, b) / h;
        // The volume tolerance over the window, per hour of it.
        const auto [lo, hi] = internal::over_line_range(p.meter.line_tau, p.meter.line_tau_uncertainty, rate);
        r.lower = lo - volume_tolerance_ul(p.accuracy, lo * h, b - a) / h;
        r.upper = hi + volume_tolerance_ul(p.accuracy, hi * h, b - a) / h;
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
    // The line's share: the rig's uncertainty on tau, never less than the 0.5 tau this check
    // allowed before the rig stated one (a rig saying +-30 % does not narrow it).
    const double tau_share = std::max(0.5, p.meter.line_tau_uncertainty);
    const double tol_s = std::max(stroke_s, interval_s) + 2.0 * seconds(dt) + tau_share * seconds(tau) +
                         seconds(p.extra_tolerance);
    r.lower = -tol_s;
    r.upper = tol_s;
    r.tolerance = "max(stroke / |delta rate|, stroke interval) + 2 sample intervals + " + num(tau_share, 2) + " tau";
    r.tolerance_source = "pump ICD 9 (strokes of 0.25 uL); sample interval; rig line constant uncertainty";
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
        auto all_at = [&](Millis t) { return (expected_meter_total(expected, b, t) - expected_meter_total(expected, s, t)).ul; };
        const double all = all_at(tau);
        const auto [all_lo, all_hi] = internal::over_line_range(p.meter.line_tau, p.meter.line_tau_uncertainty, all_at);
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
        const double d = acc.delivery_pct / 100.0;
        const double tol = d * (std::abs(bolus_part) + std::abs(basal_part)) + acc.stroke.ul +
                           meter_allowance_ul(acc, (1.0 + d) * std::abs(all), b - s);
        // measured - expected = meter - all: the line's range moves both ends by all's.
        r.lower = r.expected + (all_lo - all) - tol;
        r.upper = r.expected + (all_hi - all) + tol;
        r.tolerance = num(acc.delivery_pct, 1) + " % of bolus and basal in the window + 1 stroke + "
                      "meter accuracy" + line_text(p.meter);
        r.tolerance_source = internal::source::kMeterVolume;
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
        const auto d = p.clock.to_bench(ev.pump_t, ev.bench_t) - s;
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
        const Millis allowed = p.clock.uncertainty_at(s);
        r.lower = -seconds(allowed);
        r.upper = seconds(allowed);
        r.tolerance = "+-" + num(seconds(allowed), 1) + " s (clock mapping: read latency + drift since set)";
        r.tolerance_source = internal::source::kClock;
        if (start_ev) {
            r.measured = seconds(p.clock.to_bench(start_ev->pump_t, start_ev->bench_t) - s);
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
        const double tol = seconds(p.clock.read_latency) + seconds(bolus.duration) * p.clock.drift_ppm * 1e-6 +
                           (bolus_rate > 0 ? acc.stroke.ul / bolus_rate * 3600.0 : 0.0);
        r.lower = r.expected - tol;
        r.upper = r.expected + tol;
        r.tolerance = "clock read latency + drift over the duration + 1 stroke interval at the bolus rate";
        r.tolerance_source = "engineering choice (clock, as clock.drift); pump ICD 9 (strokes of 0.25 uL)";
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
        r.tolerance_source = internal::source::kPrint;
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
        // Each fitted line must see one rate: a basal step under the bolus (or just before it)
        // bends the line and moves the measured start. Stop at the nearest other rate change.
        for (const auto& seg : expected)
            for (const BenchTime edge : {seg.start, seg.end}) {
                if (edge == s) continue;
                const bool changes = internal::expected_rate_at(expected, edge - Millis{1}).ul_per_h !=
                                     internal::expected_rate_at(expected, edge).ul_per_h;
                if (!changes) continue;
                if (edge > s && edge - s < timing.search_after) timing.search_after = std::chrono::duration_cast<Millis>(edge - s);
                if (edge < s && s - edge < timing.search_before) timing.search_before = std::chrono::duration_cast<Millis>(s - edge);
            }
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
    auto in_line = [&](BenchTime t, Millis line_tau) {
        return (expected_delivered(expected, t) - expected_meter_total(expected, t, line_tau)).ul;
    };
    // Delivered = the meter's volume + what is still in the line at the end - at the start; the
    // line's share is taken over the rig's uncertainty on its constant: {nominal, low, high}.
    struct Delivered { double nominal, lo, hi; };
    auto delivered_since = [&](BenchTime from, BenchTime to) {
        const double meter = meter_volume(samples, from, to);
        auto at = [&](Millis t) { return meter + in_line(to, t) - in_line(from, t); };
        const auto [lo, hi] = internal::over_line_range(p.meter.line_tau, p.meter.line_tau_uncertainty, at);
        return Delivered{at(tau), lo, hi};
    };
    // The requirement is on the programmed volume (pump ICD 9: +-15 % of programmed volume), not
    // on the measured one: a pump 14.9 % low must pass. The meter's accuracy is on what it read.
    auto tolerance = [&](BenchTime from, BenchTime to, double measured_ul, int prints) {
        const double programmed = (expected_delivered(expected, to) - expected_delivered(expected, from)).ul;
        const double d = acc.delivery_pct / 100.0;
        return d * std::abs(programmed) + acc.stroke.ul +
               meter_allowance_ul(acc, std::max(std::abs(measured_ul), (1.0 + d) * std::abs(programmed)), to - from) +
               prints * p.print_resolution.ul;
    };
    // How far a reading lies out towards the nearer limit (1 at the limit): the worst STATUS.
    auto out_ratio = [](double measured, double expected, double lower, double upper) {
        const double room = measured < expected ? expected - lower : upper - expected;
        return room > 0 ? std::abs(measured - expected) / room : (measured == expected ? 0.0 : kInf);
    };

    std::vector<const PumpStatusRecord*> after;
    for (const auto& s : statuses)
        if (s.bench_t > p.refill_at && s.bench_t <= p.window_end) after.push_back(&s);
    const std::string tol_text = num(acc.delivery_pct, 1) + " % of the programmed volume + 1 stroke "
                                 "+ meter accuracy + print rounding" + line_text(p.meter);

    auto res = make_result(p.id + ".res_ml", "reservoir estimate against refill - delivered",
                           "reservoir", "uL", p.refill_at, p.window_end, p.requirements);
    res.tolerance = tol_text;
    res.tolerance_source = internal::source::kMeterVolume;
    auto dlv = make_result(p.id + ".deliv_ml", "deliv_ml increase against the meter",
                           "reservoir", "uL", p.refill_at, p.window_end, p.requirements);
    dlv.tolerance = tol_text;
    dlv.tolerance_source = internal::source::kMeterVolume;

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
        const auto delivered = delivered_since(p.refill_at, s->bench_t);
        // The estimate never goes below 0 (pump ICD section 5).
        const double exp_ul = std::max(0.0, p.refill_volume.ul - delivered.nominal);
        const double tol = tolerance(p.refill_at, s->bench_t, delivered.nominal, 1);
        const double lower = std::max(0.0, p.refill_volume.ul - delivered.hi - tol);
        const double upper = std::max(0.0, p.refill_volume.ul - delivered.lo) + tol;
        const double ratio = out_ratio(s->res_ml * 1000.0, exp_ul, lower, upper);
        if (ratio > worst) {
            worst = ratio;
            res.measured = s->res_ml * 1000.0;
            res.expected = exp_ul;
            res.lower = lower;
            res.upper = upper;
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
        const auto meter = delivered_since(ref->bench_t, s->bench_t);
        const double pump = (s->deliv_ml - ref->deliv_ml) * 1000.0;
        const double tol = tolerance(ref->bench_t, s->bench_t, meter.nominal, 2);
        const double lower = meter.lo - tol, upper = meter.hi + tol;
        const double ratio = out_ratio(pump, meter.nominal, lower, upper);
        if (ratio > worst) {
            worst = ratio;
            dlv.measured = pump;
            dlv.expected = meter.nominal;
            dlv.lower = lower;
            dlv.upper = upper;
            dlv.detail = "worst STATUS at " + num(seconds(s->bench_t - ref->bench_t), 1) +
                         " s after the first STATUS following the refill";
        }
    }
    judge(dlv);
    return {res, dlv};
}

}  // namespace pumprig::verify
