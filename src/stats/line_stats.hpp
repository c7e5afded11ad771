// Line statistics over the results history: yield, failures by check (Pareto), process
// capability and individuals control charts with run rules. Pure functions over runs and
// numbers (no I/O), so each figure is unit-tested against hand-computed ones. docs/stats.md.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "history/results_store.hpp"

namespace pumprig::stats {

// A unit's attempts are its tested runs that reached a verdict on the unit (PASS or FAIL).
// Runs the station ended (ERROR, ABORTED) say nothing about the unit and are counted apart;
// untested runs (a serial mismatch) are not attempts.
bool is_attempt(const history::RunRecord& run);
bool is_station_error(const history::RunRecord& run);

struct Yield {
    std::size_t units = 0;           // units with at least one attempt
    std::size_t first_pass = 0;      // units whose first attempt passed
    std::size_t final_pass = 0;      // units whose last attempt passed
    std::size_t attempts = 0;
    std::size_t retests = 0;         // attempts after a unit's first
    std::size_t station_errors = 0;  // ERROR and ABORTED runs
    std::optional<double> first_pass_yield() const;  // fraction 0..1; empty without units
    std::optional<double> final_yield() const;
};
// `runs` in time order (first attempt = earliest).
Yield compute_yield(std::span<const history::RunRecord> runs);

struct ParetoBar {
    std::string scenario;
    std::string check_id;
    std::string name;
    std::size_t fail = 0;          // FAIL verdicts in attempts
    std::size_t inconclusive = 0;  // INCONCLUSIVE verdicts (they fail the unit too)
    std::size_t total() const { return fail + inconclusive; }
    double cumulative_percent = 0;  // of all non-passing checks, this bar and those before it
};
// Checks that did not pass in attempts, most frequent first (ties: scenario, check id).
std::vector<ParetoBar> pareto(std::span<const history::RunRecord> runs);

// d2 for moving ranges of two: sigma estimated as MR-bar / d2.
inline constexpr double kD2 = 1.128;

struct Capability {
    std::size_t n = 0;
    double mean = 0;
    double mr_bar = 0;          // mean moving range of consecutive points
    double sigma_within = 0;    // MR-bar / d2 (what Cp, Cpk and the control chart use)
    double sigma_overall = 0;   // sample standard deviation, n - 1 (what Pp, Ppk use)
    std::optional<double> lsl, usl;
    // Empty when undefined: Cp and Pp need both limits; Cpk and Ppk one; none with a zero sigma.
    std::optional<double> cp, cpk, pp, ppk;
};
Capability capability(std::span<const double> values, std::optional<double> lsl, std::optional<double> usl);

// Western Electric rules, plus a trend (Nelson's rule 3). A point is flagged with a rule when
// the pattern is complete at it and the point itself is part of it (beyond the zone, on the side).
enum class RunRule {
    Beyond3Sigma = 1,        // one point beyond 3 sigma
    TwoOfThreeBeyond2 = 2,   // 2 of 3 in a row beyond 2 sigma, same side
    FourOfFiveBeyond1 = 3,   // 4 of 5 in a row beyond 1 sigma, same side
    EightOneSide = 4,        // 8 in a row on one side of the centre line
    SixTrending = 5,         // 6 in a row steadily increasing or decreasing
};
const char* describe(RunRule rule);
const char* short_name(RunRule rule);  // "WE1".."WE4", "trend"

struct RuleHit {
    std::size_t point = 0;
    RunRule rule{};
};

struct ControlChart {
    double center = 0;
    double sigma = 0;  // MR-bar / d2
    double ucl = 0, lcl = 0;       // center +- 3 sigma (= 2.66 MR-bar)
    double mr_ucl = 0;             // moving range chart's upper limit, 3.267 MR-bar
    std::vector<RuleHit> hits;     // in point order, then rule order
};
// Individuals chart of values in time order. Fewer than 2 values: no limits (sigma 0, no hits).
ControlChart individuals_chart(std::span<const double> values);

// One numeric measurement (a check of a scenario) over the selected attempts, in time order.
struct Series {
    std::string scenario, check_id, name, unit;
    std::vector<double> values;
    std::vector<std::string> serials, times;  // each value's unit and run start
    std::optional<double> lsl, usl;           // the most recent run's limits
    bool limits_vary = false;                 // earlier runs had other limits
    std::size_t fails = 0;                    // values whose check did not pass
};
std::vector<Series> numeric_series(std::span<const history::RunRecord> runs);

// Equal-width bins over [lo, hi] (Sturges' count, at least 5); counts per bin.
struct Histogram {
    double lo = 0, hi = 0;
    std::vector<std::size_t> counts;
};
Histogram histogram(std::span<const double> values, double lo, double hi);

}  // namespace pumprig::stats
