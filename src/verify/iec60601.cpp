// IEC 60601-2-24 style analysis: flows per sample interval from the meter total, start-up
// curve, mean flow error over the analysis period, trumpet curve. Linear time: one pass to put
// the total on the S grid (binary search per grid point), prefix sums for every window size.
#include "verify/iec60601.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "verify/internal.hpp"

namespace pumprig::verify {

using internal::hours;
using internal::judge;
using internal::kInf;
using internal::kNaN;
using internal::make_result;
using internal::num;

namespace {

double minutes(Millis d) { return static_cast<double>(d.count()) / 60'000.0; }

std::string window_name(Millis p) {
    // Whole minutes print without decimals ("P2"), others with one ("P2.5").
    const double m = minutes(p);
    return m == std::floor(m) ? num(m, 0) : num(m, 1);
}

}  // namespace

Result<void> validate(const IecParams& p) {
    auto bad = [](std::string what) { return fail(ErrorKind::BadInput, std::move(what)); };
    const auto s = p.sample_interval.count();
    if (s <= 0) return bad("iec60601 sample_interval: expected a duration above 0");
    auto multiple = [&](Millis d) { return d.count() % s == 0; };
    if (p.analysis_start.count() < 0)
        return bad("iec60601 analysis_start: expected a duration of 0 or more");
    if (p.analysis_end <= p.analysis_start)
        return bad("iec60601 analysis_end: expected a time after analysis_start");
    if (p.startup_period.count() < 0)
        return bad("iec60601 startup_period: expected a duration of 0 or more");
    if (!multiple(p.analysis_start) || !multiple(p.analysis_end) || !multiple(p.startup_period))
        return bad("iec60601 analysis_start, analysis_end, startup_period: expected whole "
                   "multiples of sample_interval (" + num(internal::seconds(p.sample_interval), 3) + " s)");
    for (const auto w : p.windows) {
        if (w.count() <= 0 || !multiple(w))
            return bad("iec60601 windows: each observation window must be a whole multiple (1 or "
                       "more) of sample_interval; got " + num(minutes(w), 3) + " min");
    }
    if (p.mean_error_limit_pct && !(std::isfinite(*p.mean_error_limit_pct) && *p.mean_error_limit_pct >= 0))
        return bad("iec60601 mean_error_limit_pct: expected a finite percentage of 0 or more");
    for (const auto& l : p.trumpet_limits) {
        if (std::find(p.windows.begin(), p.windows.end(), l.window) == p.windows.end())
            return bad("iec60601 trumpet_limits: the limit for P = " + num(minutes(l.window), 3) +
                       " min names no analysed observation window");
        if ((l.max_pct && !std::isfinite(*l.max_pct)) || (l.min_pct && !std::isfinite(*l.min_pct)))
            return bad("iec60601 trumpet_limits: expected finite percentages");
    }
    if (!(p.quality.max_bad_fraction >= 0 && p.quality.max_bad_fraction <= 1))
        return bad("iec60601 quality.max_bad_fraction: expected a fraction from 0 to 1");
    return {};
}

std::vector<TrumpetPoint> trumpet_curve(std::span<const double> flows, double r, Millis s,
                                        std::span<const Millis> windows) {
    if (s.count() <= 0) throw std::invalid_argument("trumpet_curve: sample interval must be > 0");
    if (!(r > 0)) throw std::invalid_argument("trumpet_curve: set rate must be > 0");
    // prefix[i]: sum of (Q_k - r)/r for k < i; bad[i]: intervals without data among k < i.
    std::vector<double> prefix(flows.size() + 1, 0.0);
    std::vector<std::size_t> bad(flows.size() + 1, 0);
    for (std::size_t i = 0; i < flows.size(); ++i) {
        const bool ok = std::isfinite(flows[i]);
        prefix[i + 1] = prefix[i] + (ok ? (flows[i] - r) / r : 0.0);
        bad[i + 1] = bad[i] + (ok ? 0 : 1);
    }
    std::vector<TrumpetPoint> out;
    for (const auto p : windows) {
        if (p.count() <= 0 || p.count() % s.count() != 0)
            throw std::invalid_argument("trumpet_curve: window " + num(minutes(p), 3) +
                                        " min is not a whole multiple of the sample interval");
        const auto m = static_cast<std::size_t>(p.count() / s.count());
        TrumpetPoint tp;
        tp.window_min = minutes(p);
        tp.ep_max_pct = -kInf;
        tp.ep_min_pct = kInf;
        for (std::size_t j = 0; j + m <= flows.size(); ++j) {
            if (bad[j + m] != bad[j]) continue;  // a window over missing data is not a value
            const double ep = 100.0 / static_cast<double>(m) * (prefix[j + m] - prefix[j]);
            tp.ep_max_pct = std::max(tp.ep_max_pct, ep);
            tp.ep_min_pct = std::min(tp.ep_min_pct, ep);
            ++tp.window_count;
        }
        if (tp.window_count == 0) tp.ep_max_pct = tp.ep_min_pct = kNaN;
        out.push_back(tp);
    }
    return out;
}

IecAnalysis analyse_iec60601(std::span<const Sample> samples, BenchTime start, FlowRate set_rate,
                             const IecParams& p) {
    if (auto ok = validate(p); !ok) throw std::invalid_argument(ok.error().message);
    if (!(set_rate.ul_per_h > 0))
        throw std::invalid_argument("iec60601: set rate must be above 0 uL/h");

    IecAnalysis a;
    a.start = start;
    a.set_rate = set_rate;
    a.sample_interval = p.sample_interval;
    const Millis s = p.sample_interval;
    const double r = set_rate.ul_per_h;
    const auto n_startup = static_cast<std::size_t>(p.startup_period / s);
    const auto i1 = static_cast<std::size_t>(p.analysis_start / s);
    const auto i2 = static_cast<std::size_t>(p.analysis_end / s);
    const std::size_t n_grid = std::max(n_startup, i2);

    // Pairs of consecutive samples that make an interval unusable: too far apart, or either
    // reading invalid or stale. bad_prefix[i]: such pairs among (0,1) .. (i-1,i).
    std::vector<std::size_t> bad_prefix(samples.size(), 0);
    for (std::size_t i = 1; i < samples.size(); ++i) {
        const auto& x = samples[i - 1];
        const auto& y = samples[i];
        const bool bad = (y.t - x.t) > p.quality.max_gap || !x.valid || x.stale || !y.valid || y.stale;
        bad_prefix[i] = bad_prefix[i - 1] + (bad ? 1 : 0);
    }
    const bool sorted = std::is_sorted(samples.begin(), samples.end(),
                                       [](const Sample& x, const Sample& y) { return x.t < y.t; });
    double total_i1 = kNaN, total_i2 = kNaN;

    // One pass over the grid with two moving indices into the samples (both are in time
    // order): the total at each grid point, interpolated as total_at() does, and the samples
    // around it; each interval's flow from its two ends. No per-grid-point arrays but the flow
    // itself: a week at S = 1 s is 604,800 points (docs/performance.md, item 4).
    std::vector<double> flow(n_grid, kNaN);
    if (sorted && !samples.empty()) {
        const std::size_t n = samples.size();
        std::size_t lb = 0, ub = 0;  // first sample at or after t; first sample after t
        double prev_total = kNaN;
        std::ptrdiff_t prev_before = -1;
        for (std::size_t k = 0; k <= n_grid; ++k) {
            const BenchTime t = start + s * static_cast<Millis::rep>(k);
            while (lb < n && samples[lb].t < t) ++lb;
            while (ub < n && samples[ub].t <= t) ++ub;
            const std::ptrdiff_t before = static_cast<std::ptrdiff_t>(ub) - 1;
            const std::ptrdiff_t after = lb < n ? static_cast<std::ptrdiff_t>(lb) : -1;
            double tot = kNaN;
            if (t >= samples.front().t && t <= samples.back().t) {
                if (samples[lb].t == t) {
                    tot = samples[lb].total.ul;
                } else {
                    const auto& x = samples[lb - 1];
                    const auto& y = samples[lb];
                    const double f = static_cast<double>((t - x.t).count()) / static_cast<double>((y.t - x.t).count());
                    tot = x.total.ul + f * (y.total.ul - x.total.ul);
                }
            }
            if (k > 0 && !std::isnan(prev_total) && !std::isnan(tot) && prev_before >= 0 && after >= 0 &&
                bad_prefix[static_cast<std::size_t>(after)] == bad_prefix[static_cast<std::size_t>(prev_before)])
                flow[k - 1] = (tot - prev_total) / hours(s);
            if (k == i1) total_i1 = tot;
            if (k == i2) total_i2 = tot;
            prev_total = tot;
            prev_before = before;
        }
    }

    auto point = [&](std::size_t k) {
        FlowPoint fp;
        fp.t_min = minutes(s) * static_cast<double>(k + 1);
        fp.flow_ul_h = flow[k];
        fp.valid = std::isfinite(flow[k]);
        return fp;
    };
    bool startup_complete = true, analysis_complete = true;
    // Sized up front: grown by doubling, a week of 1 s intervals briefly held the old and the
    // new buffer (38 MiB for 14 MiB of points; docs/performance.md, item 4).
    a.startup.reserve(n_startup);
    a.analysis.reserve(i2 > i1 ? i2 - i1 : 0);
    for (std::size_t k = 0; k < n_startup; ++k) {
        a.startup.push_back(point(k));
        startup_complete &= a.startup.back().valid;
    }
    for (std::size_t k = i1; k < i2; ++k) {
        a.analysis.push_back(point(k));
        analysis_complete &= a.analysis.back().valid;
    }
    a.complete = startup_complete && analysis_complete;

    const double period_h = hours(p.analysis_end - p.analysis_start);
    a.mean_flow_ul_h = (total_i2 - total_i1) / period_h;
    a.mean_error_pct = 100.0 * (a.mean_flow_ul_h - r) / r;
    a.trumpet = trumpet_curve(std::span<const double>(flow).subspan(i1, i2 - i1), r, s, p.windows);

    const BenchTime t1 = start + p.analysis_start, t2 = start + p.analysis_end;
    // The meter's error, in percent of the set rate, added outside every limit.
    const double meter_pct = p.meter_reading_pct + 100.0 * p.meter_offset_ul_h / r;
    const std::string meter_text = " + meter " + num(p.meter_reading_pct, 2) + " % + " + num(p.meter_offset_ul_h, 2) +
                                   " uL/h (" + num(meter_pct, 2) + " % at this rate)";
    const std::string source = "IEC 60601-2-24 201.12.1 (accuracy test method); limit pump ICD 9 or the scenario; meter ICD 2";
    const std::string incomplete = "analysis period incomplete: some " + num(minutes(s), 2) +
                                   " min intervals lack valid meter data (gap, invalid or stale "
                                   "readings, or the run ended first)";
    {
        auto c = make_result(p.id_prefix + ".mean_error", "IEC 60601-2-24 mean flow error", "iec60601",
                             "%", t1, t2, p.requirements);
        c.measured = analysis_complete ? a.mean_error_pct : kNaN;
        c.expected = 0;
        if (p.mean_error_limit_pct) {
            c.lower = -*p.mean_error_limit_pct - meter_pct;
            c.upper = *p.mean_error_limit_pct + meter_pct;
            c.tolerance = "+-" + num(*p.mean_error_limit_pct, 2) + " %" + meter_text;
        } else {
            c.tolerance = "report only";
        }
        c.tolerance_source = source;
        if (!analysis_complete) c.detail = incomplete;
        else {
            judge(c);
            c.detail = "mean flow " + num(a.mean_flow_ul_h, 3) + " uL/h against set rate " +
                       num(r, 3) + " uL/h" + (p.mean_error_limit_pct ? "" : " (report only)");
        }
        a.checks.push_back(std::move(c));
    }
    for (std::size_t w = 0; w < a.trumpet.size(); ++w) {
        const auto& tp = a.trumpet[w];
        const Millis pw = p.windows[w];
        const TrumpetLimit* lim = nullptr;
        for (const auto& l : p.trumpet_limits)
            if (l.window == pw) lim = &l;
        for (const bool is_max : {true, false}) {
            auto c = make_result(p.id_prefix + ".trumpet.P" + window_name(pw) + (is_max ? ".max" : ".min"),
                                 "IEC 60601-2-24 trumpet Ep" + std::string(is_max ? "max" : "min") +
                                     " P=" + window_name(pw) + " min",
                                 "iec60601", "%", t1, t2, p.requirements);
            c.expected = 0;
            const std::optional<double> limit = lim ? (is_max ? lim->max_pct : lim->min_pct) : std::nullopt;
            if (limit) {
                (is_max ? c.upper : c.lower) = *limit + (is_max ? meter_pct : -meter_pct);
                c.tolerance = std::string(is_max ? "<= " : ">= ") + num(*limit, 2) + " %" + meter_text;
            } else {
                c.tolerance = "report only";
            }
            c.tolerance_source = source;
            if (!analysis_complete || tp.window_count == 0) {
                c.detail = tp.window_count == 0 ? "observation window longer than the analysis period"
                                                : incomplete;
            } else {
                c.measured = is_max ? tp.ep_max_pct : tp.ep_min_pct;
                judge(c);
                c.detail = std::to_string(tp.window_count) + " windows of " + window_name(pw) +
                           " min" + (limit ? "" : " (report only)");
            }
            a.checks.push_back(std::move(c));
        }
    }
    return a;
}

}  // namespace pumprig::verify
