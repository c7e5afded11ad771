#include "record/outcome.hpp"

#include <algorithm>

namespace pumprig::record {

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::Pass: return "PASS";
        case Outcome::Fail: return "FAIL";
        case Outcome::Inconclusive: return "INCONCLUSIVE";
        case Outcome::Error: return "ERROR";
        case Outcome::Aborted: return "ABORTED";
    }
    return "ERROR";
}

std::optional<Outcome> outcome_from_string(std::string_view text) {
    for (auto o : {Outcome::Pass, Outcome::Fail, Outcome::Inconclusive, Outcome::Error, Outcome::Aborted})
        if (text == to_string(o)) return o;
    return std::nullopt;
}

std::optional<std::string> meter_fault(std::span<const CheckResult> results) {
    std::string s;
    for (const auto& r : results)
        if (r.kind == "meter" && r.verdict == Verdict::Fail) s += (s.empty() ? "" : "; ") + r.id + ": " + r.detail;
    if (s.empty()) return std::nullopt;
    return s;
}

OutcomeDecision decide_outcome(std::span<const CheckResult> checks, const std::optional<EarlyEnd>& ended_early) {
    if (ended_early) return {ended_early->outcome, ended_early->why};
    const auto summary = summarise(checks);
    OutcomeDecision d;
    d.outcome = summary.overall == Verdict::Pass ? Outcome::Pass : summary.overall == Verdict::Fail ? Outcome::Fail : Outcome::Inconclusive;
    if (auto mf = meter_fault(checks);
        mf && std::none_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.verdict == Verdict::Fail && c.kind != "meter"; })) {
        d.outcome = Outcome::Error;
        d.error = "meter fault: " + *mf;
    }
    return d;
}

}  // namespace pumprig::record
