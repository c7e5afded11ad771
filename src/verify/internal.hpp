// Helpers shared by the verify .cpp files only (not part of the public API).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "core/units.hpp"
#include "verify/checks.hpp"

namespace pumprig::verify::internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Fixed-point text for details (g++ 12 has no <format>).
inline std::string num(double v, int decimals = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

inline double hours(Millis d) { return static_cast<double>(d.count()) / 3'600'000.0; }
inline double seconds(Millis d) { return static_cast<double>(d.count()) / 1000.0; }
inline Millis millis_from_seconds(double s) {
    return Millis{static_cast<Millis::rep>(s >= 0 ? s * 1000.0 + 0.5 : s * 1000.0 - 0.5)};
}

// Where tolerances come from (CheckResult::tolerance_source). Each check names its own; these
// are the ones several checks share.
namespace source {
inline constexpr const char* kMeterVolume =
    "pump ICD 9 (+-15 % of programmed volume, strokes of 0.25 uL); meter ICD 2 (+-0.5 % of reading "
    "+-0.1 uL/h); rig line constant and its uncertainty";
inline constexpr const char* kClock =
    "engineering choice: the ICD states no clock accuracy; 2 s read latency + 100 ppm since the clock "
    "was set (twice a common 50 ppm crystal), the allowance clock.drift accepts";
inline constexpr const char* kPrint = "pump ICD 2 (mL printed with 3 decimals) and 9 (whole strokes of 0.25 uL)";
inline constexpr const char* kExact = "pump ICD: the value is fixed exactly";
}  // namespace source

// The rig's line constant is itself a measured figure (MeterWindow::line_tau_uncertainty): a
// quantity that depends on it is taken over that range, {lowest, highest}. Five points span it
// (nominal among them); the expected volume over a window is smooth in tau.
template <class F>
std::pair<double, double> over_line_range(Millis tau, double uncertainty, F f) {
    double lo = f(tau), hi = lo;
    if (tau.count() > 0 && uncertainty > 0) {
        for (int k = 0; k <= 4; ++k) {
            const double factor = std::max(0.0, 1.0 - uncertainty + 2.0 * uncertainty * k / 4.0);
            const double v = f(Millis{std::llround(static_cast<double>(tau.count()) * factor)});
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    return {lo, hi};
}

// Sum of the rates of the segments in force at t (s <= t < e).
FlowRate expected_rate_at(std::span<const ExpectedSegment> segments, BenchTime t);

// A result pre-filled with identity, window and requirements.
CheckResult make_result(std::string id, std::string name, std::string kind, std::string unit,
                        BenchTime a, BenchTime b, std::vector<std::string> requirements);

// Sets the verdict from measured against [lower, upper]; NaN measured gives INCONCLUSIVE.
void judge(CheckResult& r);

// A window whose edge lies less than one allowed gap beyond the recorded samples (the run's
// first sample comes just after its start, its last just before its end) is shrunk to the data,
// so that the sampler's phase alone never makes a window INCONCLUSIVE. Further out, the window
// is kept and assess_window reports it not covered. Returns a note when it shrank.
std::string clip_to_samples(std::span<const Sample> samples, BenchTime& a, BenchTime& b,
                            Millis max_gap);

// Median time between consecutive samples in [a, b] (0 when fewer than two).
Millis typical_sample_interval(std::span<const Sample> samples, BenchTime a, BenchTime b);

}  // namespace pumprig::verify::internal
