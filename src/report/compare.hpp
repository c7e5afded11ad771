// Two runs of the same scenario side by side (two firmware versions, two pumps), check by
// check, with the differences that matter flagged: a verdict that changed, a check present in
// only one run, or a measured value that moved by more than a stated fraction of the check's
// tolerance band. Pure: the caller loads the runs.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "verify/checks.hpp"

namespace pumprig::report {

struct CompareOptions {
    // A move of the measured value larger than this fraction of the band (upper - lower; for a
    // one-sided check, the distance from the expected value to its limit) is flagged.
    double move_fraction = 0.25;
};

struct CompareRow {
    std::string id;
    std::string name;
    std::string unit;
    std::optional<verify::CheckResult> a;
    std::optional<verify::CheckResult> b;
    std::optional<double> moved_fraction;  // |measured b - measured a| / band, when both have one
    bool flagged = false;
    std::string reason;  // why flagged: "verdict PASS -> FAIL", "only in A", "moved 0.4 of its band"
};

// Rows in the order of A's checks, then the checks only B has, in B's order.
std::vector<CompareRow> compare_checks(std::span<const verify::CheckResult> a, std::span<const verify::CheckResult> b,
                                       const CompareOptions& options = {});

// The width of a check's acceptance band as used above; nullopt when it has no finite limit.
std::optional<double> band_width(const verify::CheckResult& c);

struct CompareHeader {
    std::string label_a, label_b;        // run folders
    std::string scenario_a, scenario_b;  // names
    std::string sha_a, sha_b;            // scenario hashes
    std::string outcome_a, outcome_b;
    std::string firmware_a, firmware_b;
    double move_fraction = 0.25;
};

// Plain text table for the console.
std::string format_compare_table(const CompareHeader& header, const std::vector<CompareRow>& rows);
// Self-contained HTML page of the same.
std::string render_compare_html(const CompareHeader& header, const std::vector<CompareRow>& rows);

}  // namespace pumprig::report
