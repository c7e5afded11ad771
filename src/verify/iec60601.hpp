// IEC 60601-2-24 style flow analysis (start-up curve, mean flow error, trumpet curve) from the
// meter's cumulative total. The standard weighs the mass delivered per sample interval S; here
// the meter's total plays the balance: Q_i = (total(t0 + (i+1)S) - total(t0 + iS)) / S.
// Linear in the number of samples and intervals: prefix sums, no per-window rescans.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"
#include "verify/checks.hpp"
#include "verify/samples.hpp"

namespace pumprig::verify {

// Limits for one observation window P; an empty side is not judged.
struct TrumpetLimit {
    Millis window{0};
    std::optional<double> max_pct;  // Ep_max must be <= this
    std::optional<double> min_pct;  // Ep_min must be >= this
};

struct IecParams {
    std::string id_prefix = "iec60601";
    Millis sample_interval = 30s;             // S
    Millis startup_period = 2h;               // T0: start-up curve from 0 to T0
    Millis analysis_start = 1h;               // T1 (from the start of the infusion)
    Millis analysis_end = 2h;                 // T2: default the second hour
    std::vector<Millis> windows{2min, 5min, 11min, 19min, 31min};  // P
    std::optional<double> mean_error_limit_pct = 15.0;  // |mean error| <= this; empty: report only
    std::vector<TrumpetLimit> trumpet_limits;           // default none: report only
    // The meter is the balance: its own error widens every limit (never narrows it), as in
    // every other volume check. Meter ICD section 2: +-0.5 % of reading +-0.1 uL/h.
    double meter_reading_pct = 0.5;
    double meter_offset_ul_h = 0.1;
    DataQualityLimits quality{};
    std::vector<std::string> requirements;
};

// One interval's flow, for plotting: t_min = end of the interval, in minutes from the start.
struct FlowPoint {
    double t_min = 0;
    double flow_ul_h = 0;
    bool valid = true;  // the interval's data was complete (no gap, no invalid/stale reading)
};

struct TrumpetPoint {
    double window_min = 0;      // P
    double ep_max_pct = 0;
    double ep_min_pct = 0;
    std::size_t window_count = 0;  // number of P-windows slid over the analysis period
};

struct IecAnalysis {
    BenchTime start{};
    FlowRate set_rate{};
    Millis sample_interval{0};
    std::vector<FlowPoint> startup;     // 0..T0
    std::vector<FlowPoint> analysis;    // T1..T2
    double mean_flow_ul_h = 0;          // over T1..T2, from the total volume
    double mean_error_pct = 0;          // 100 (mean_flow - r) / r
    std::vector<TrumpetPoint> trumpet;  // one per P, in the order asked
    // Every interval of the start-up and analysis periods had valid data (the checks need only
    // the analysis period's).
    bool complete = false;
    std::vector<CheckResult> checks;    // mean error, then one per trumpet window
};

// Checks S > 0, T1 < T2, T1, T2, T0 and every P whole multiples of S, limits finite; the error
// names the field and what was expected.
Result<void> validate(const IecParams& params);

// `start`: when the set rate began (the infusion start). Intervals beyond the last sample
// make the analysis incomplete (INCONCLUSIVE checks), never a crash. Parameters that fail
// validate(), or a set rate not above 0, throw std::invalid_argument with validate's message.
IecAnalysis analyse_iec60601(std::span<const Sample> samples, BenchTime start, FlowRate set_rate,
                             const IecParams& params);

// The trumpet formula on already-computed flows (exposed for tests and for re-analysis):
// for each P, m = P/S, Ep_max = max_j (100/m) sum_{i=j}^{j+m-1} (Q_i - r)/r, Ep_min likewise.
// P must be a whole multiple of S (else std::invalid_argument); a P longer than the flows
// gives window_count = 0.
std::vector<TrumpetPoint> trumpet_curve(std::span<const double> flows_ul_h, double set_rate_ul_h,
                                        Millis sample_interval, std::span<const Millis> windows);

}  // namespace pumprig::verify
