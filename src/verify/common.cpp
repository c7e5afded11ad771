// Window data quality, interpolation of the meter total, and the
// expected meter total through a first-order fluid line.
#include <algorithm>
#include <cmath>

#include "verify/checks.hpp"
#include "verify/internal.hpp"

namespace pumprig::verify {

using internal::num;

namespace {

bool good(const Sample& s) { return s.valid && !s.stale; }

bool by_time(const Sample& s, BenchTime t) { return s.t < t; }

}  // namespace

WindowQuality assess_window(std::span<const Sample> samples, BenchTime a, BenchTime b,
                            const DataQualityLimits& limits) {
    WindowQuality q;
    if (b <= a) {
        q.problem = "empty window: its end is not after its start";
        return q;
    }
    if (samples.empty()) {
        q.problem = "no meter samples recorded";
        return q;
    }
    if (!std::is_sorted(samples.begin(), samples.end(),
                        [](const Sample& x, const Sample& y) { return x.t < y.t; })) {
        q.problem = "meter samples are not in time order";
        return q;
    }
    q.reached = samples.back().t >= b;
    q.covered = samples.front().t <= a && q.reached;

    // Pairs of consecutive samples that touch [a, b]: from the last sample at or before a (or
    // the first) to the first at or after b (or the last).
    auto first_after_a = std::upper_bound(samples.begin(), samples.end(), a,
                                          [](BenchTime t, const Sample& s) { return t < s.t; });
    std::size_t lo = first_after_a == samples.begin()
                         ? 0
                         : static_cast<std::size_t>(first_after_a - samples.begin()) - 1;
    auto first_at_b = std::lower_bound(samples.begin(), samples.end(), b, by_time);
    std::size_t hi = first_at_b == samples.end()
                         ? samples.size() - 1
                         : static_cast<std::size_t>(first_at_b - samples.begin());

    Millis bad{0};
    for (std::size_t i = lo + 1; i <= hi && i < samples.size(); ++i) {
        const auto& p = samples[i - 1];
        const auto& s = samples[i];
        q.longest_gap = std::max(q.longest_gap, s.t - p.t);
        // Conservative: an interval counts as bad when either reading around it is bad.
        if (!good(p) || !good(s)) {
            const auto from = std::max(p.t, a);
            const auto to = std::min(s.t, b);
            if (to > from) bad += to - from;
        }
    }
    // A single sample inside the window says nothing about the time around it.
    if (lo == hi && !good(samples[lo])) bad = b - a;
    q.bad_fraction = static_cast<double>(bad.count()) / static_cast<double>((b - a).count());

    if (samples.front().t > a) {
        q.problem = "no meter sample at or before the window start (recording began " +
                    num(internal::seconds(samples.front().t - a), 1) + " s after it)";
    } else if (!q.reached) {
        q.problem = "window not reached: the last meter sample is " +
                    num(internal::seconds(b - samples.back().t), 1) +
                    " s before the window end (run cut short)";
    } else if (q.longest_gap > limits.max_gap) {
        q.problem = "gap of " + num(internal::seconds(q.longest_gap), 1) +
                    " s between meter samples (limit " +
                    num(internal::seconds(limits.max_gap), 1) + " s)";
    } else if (q.bad_fraction > limits.max_bad_fraction) {
        q.problem = "invalid or stale meter readings over " + num(100.0 * q.bad_fraction, 1) +
                    " % of the window (limit " + num(100.0 * limits.max_bad_fraction, 1) + " %)";
    } else {
        q.usable = true;
    }
    return q;
}

std::optional<Volume> total_at(std::span<const Sample> samples, BenchTime t) {
    if (samples.empty() || t < samples.front().t || t > samples.back().t) return std::nullopt;
    auto it = std::lower_bound(samples.begin(), samples.end(), t, by_time);
    if (it->t == t) return it->total;
    const auto& s = *it;
    const auto& p = *(it - 1);
    const double f = static_cast<double>((t - p.t).count()) / static_cast<double>((s.t - p.t).count());
    return Volume{p.total.ul + f * (s.total.ul - p.total.ul)};
}

Volume expected_delivered(std::span<const ExpectedSegment> segments, BenchTime t) {
    return expected_meter_total(segments, t, Millis{0});
}

namespace {

// Cumulative response, in hours, of a unit rate switched on x hours ago through a first-order
// line: integral over [0, x] of (1 - exp(-u/tau)) du = x - tau (1 - exp(-x/tau)).
double lagged_ramp(double x_h, double tau_h) {
    if (x_h <= 0) return 0;
    if (tau_h <= 0) return x_h;
    return x_h + tau_h * std::expm1(-x_h / tau_h);
}

}  // namespace

Volume expected_meter_total(std::span<const ExpectedSegment> segments, BenchTime t, Millis tau) {
    // A segment is rate * (H(t - start) - H(t - end)); the line is linear, so each edge's
    // response adds up. Exact for any tau, no time stepping.
    const double tau_h = internal::hours(tau);
    double ul = 0;
    for (const auto& seg : segments) {
        if (seg.end <= seg.start) continue;
        ul += seg.rate.ul_per_h * (lagged_ramp(internal::hours(t - seg.start), tau_h) -
                                   lagged_ramp(internal::hours(t - seg.end), tau_h));
    }
    return Volume{ul};
}

namespace internal {

FlowRate expected_rate_at(std::span<const ExpectedSegment> segments, BenchTime t) {
    FlowRate r{};
    for (const auto& seg : segments)
        if (seg.start <= t && t < seg.end) r = r + seg.rate;
    return r;
}

CheckResult make_result(std::string id, std::string name, std::string kind, std::string unit,
                        BenchTime a, BenchTime b, std::vector<std::string> requirements) {
    CheckResult r;
    r.id = std::move(id);
    r.name = std::move(name);
    r.kind = std::move(kind);
    r.unit = std::move(unit);
    r.window_start = a;
    r.window_end = b;
    r.requirements = std::move(requirements);
    r.measured = kNaN;
    r.expected = kNaN;
    r.lower = -kInf;
    r.upper = kInf;
    r.verdict = Verdict::Inconclusive;
    return r;
}

void judge(CheckResult& r) {
    if (std::isnan(r.measured)) {
        r.verdict = Verdict::Inconclusive;
        return;
    }
    r.verdict = (r.measured >= r.lower && r.measured <= r.upper) ? Verdict::Pass : Verdict::Fail;
}

std::string clip_to_samples(std::span<const Sample> samples, BenchTime& a, BenchTime& b,
                            Millis max_gap) {
    if (samples.empty()) return {};
    std::string note;
    const BenchTime first = samples.front().t, last = samples.back().t;
    if (a < first && first - a <= max_gap && first < b) {
        note = "window start moved " + num(seconds(first - a), 3) + " s to the first sample";
        a = first;
    }
    if (b > last && b - last <= max_gap && last > a) {
        if (!note.empty()) note += "; ";
        note += "window end moved " + num(seconds(b - last), 3) + " s back to the last sample";
        b = last;
    }
    return note;
}

Millis typical_sample_interval(std::span<const Sample> samples, BenchTime a, BenchTime b) {
    std::vector<Millis::rep> dts;
    for (std::size_t i = 1; i < samples.size(); ++i) {
        if (samples[i].t < a || samples[i - 1].t > b) continue;
        dts.push_back((samples[i].t - samples[i - 1].t).count());
    }
    if (dts.empty()) return Millis{0};
    auto mid = dts.begin() + static_cast<std::ptrdiff_t>(dts.size() / 2);
    std::nth_element(dts.begin(), mid, dts.end());
    return Millis{*mid};
}

}  // namespace internal
}  // namespace pumprig::verify
