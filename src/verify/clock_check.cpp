#include <cmath>
#include <cstdio>

#include "verify/checks.hpp"
#include "verify/internal.hpp"

namespace pumprig::verify {

CheckResult check_pump_clock(std::span<const PumpStatusRecord> statuses, const ClockCheckParams& p) {
    CheckResult r;
    r.id = p.id;
    r.name = "pump clock against the bench clock";
    r.kind = "clock";
    r.unit = "s";
    r.expected = 0;
    r.requirements = p.requirements;
    r.window_start = p.from;
    char tol[128];
    std::snprintf(tol, sizeof tol, "%.1f s read latency + %.0f ppm of the time since the clock was set",
                  to_seconds(p.latency_allowance), p.drift_ppm);
    r.tolerance = tol;
    r.tolerance_source = internal::source::kClock;
    std::size_t n = 0;
    double worst_ratio = -1;
    for (const auto& s : statuses) {
        // A STATUS read at the very instant the clock was set cannot be placed before or after
        // it (virtual time does not move during a command): only later readings count.
        if (s.bench_t <= p.from) continue;
        ++n;
        const double expected_s = to_unix_seconds(s.bench_t + p.pump_minus_bench);
        const double dev = s.pump_t - expected_s;
        const double since = to_seconds(s.bench_t - p.from);
        const double limit = to_seconds(p.latency_allowance) + since * p.drift_ppm * 1e-6;
        const double ratio = std::fabs(dev) / limit;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            r.measured = dev;
            r.lower = -limit;
            r.upper = limit;
            r.window_end = s.bench_t;
        }
    }
    if (n < 2) {
        r.verdict = Verdict::Inconclusive;
        r.detail = "fewer than two STATUS readings after the clock was set";
        return r;
    }
    r.verdict = worst_ratio <= 1.0 ? Verdict::Pass : Verdict::Fail;
    char detail[160];
    std::snprintf(detail, sizeof detail, "worst of %zu STATUS readings, %.0f s after the clock was set", n,
                  to_seconds(r.window_end - p.from));
    r.detail = detail;
    return r;
}

}  // namespace pumprig::verify
