// The outcome of a run, decided once for the live run and for `pumprig report`'s rebuild.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "record/data.hpp"

namespace pumprig::record {

// The checks' verdict, or a bench failure that kept them from being made.
enum class Outcome { Pass, Fail, Inconclusive, Error, Aborted };
const char* to_string(Outcome o);  // "PASS", "FAIL", "INCONCLUSIVE", "ERROR", "ABORTED"
std::optional<Outcome> outcome_from_string(std::string_view text);

// The failed meter checks (kind "meter"), named ("meter.air: 3 readings with AIR, ..."), or
// nullopt when the meter looked healthy.
std::optional<std::string> meter_fault(std::span<const CheckResult> results);

struct OutcomeDecision {
    Outcome outcome = Outcome::Error;
    std::string error;  // why, for ERROR and ABORTED
};

// How a run ended before its checks could decide: ERROR (bench failure) or ABORTED (signal,
// time limit, or cut short), with why.
struct EarlyEnd {
    Outcome outcome = Outcome::Error;
    std::string why;
};

// The rule: a run that ended early is ERROR or ABORTED, as it ended. Otherwise the checks
// decide (FAIL if any failed, INCONCLUSIVE if any was or none were made, else PASS), except
// that a faulty meter with no other failure makes the run an ERROR naming the meter fault:
// the meter is the bench's problem, not the pump's.
OutcomeDecision decide_outcome(std::span<const CheckResult> checks, const std::optional<EarlyEnd>& ended_early);

}  // namespace pumprig::record
