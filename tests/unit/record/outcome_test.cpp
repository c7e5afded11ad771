// The outcome rule, shared by the live run and `pumprig report` (record/outcome.hpp).
#include <doctest/doctest.h>

#include <vector>

#include "record/outcome.hpp"

using namespace pumprig::record;

namespace {

CheckResult check(const char* id, const char* kind, Verdict v) {
    CheckResult c;
    c.id = id;
    c.kind = kind;
    c.verdict = v;
    c.detail = "why";
    return c;
}

}  // namespace

TEST_CASE("outcome: the checks decide a run that ran to its end") {
    const std::vector<CheckResult> pass = {check("volume.1", "volume", Verdict::Pass), check("rate.1", "rate", Verdict::Pass)};
    CHECK(decide_outcome(pass, std::nullopt).outcome == Outcome::Pass);
    CHECK(decide_outcome(pass, std::nullopt).error.empty());
    auto with_fail = pass;
    with_fail.push_back(check("event.1", "event", Verdict::Fail));
    with_fail.push_back(check("bolus.1", "bolus", Verdict::Inconclusive));
    CHECK(decide_outcome(with_fail, std::nullopt).outcome == Outcome::Fail);
    auto with_inconclusive = pass;
    with_inconclusive.push_back(check("bolus.1", "bolus", Verdict::Inconclusive));
    CHECK(decide_outcome(with_inconclusive, std::nullopt).outcome == Outcome::Inconclusive);
    CHECK(decide_outcome({}, std::nullopt).outcome == Outcome::Inconclusive);  // nothing verified
}

TEST_CASE("outcome: a faulty meter alone makes the run an ERROR naming the fault") {
    std::vector<CheckResult> checks = {check("volume.1", "volume", Verdict::Inconclusive), check("meter.air", "meter", Verdict::Fail),
                                       check("command.1", "command", Verdict::Pass)};
    const auto d = decide_outcome(checks, std::nullopt);
    CHECK(d.outcome == Outcome::Error);
    CHECK(d.error == "meter fault: meter.air: why");
    REQUIRE(meter_fault(checks));
    // A pump failure besides it is still the pump's FAIL.
    checks.push_back(check("event.1", "event", Verdict::Fail));
    CHECK(decide_outcome(checks, std::nullopt).outcome == Outcome::Fail);
    CHECK_FALSE(meter_fault(std::vector<CheckResult>{check("volume.1", "volume", Verdict::Fail)}));
}

TEST_CASE("outcome: a run that ended early is ERROR or ABORTED whatever its checks say") {
    const std::vector<CheckResult> pass = {check("volume.1", "volume", Verdict::Pass)};
    const auto aborted = decide_outcome(pass, EarlyEnd{Outcome::Aborted, "stopped by signal"});
    CHECK(aborted.outcome == Outcome::Aborted);
    CHECK(aborted.error == "stopped by signal");
    const std::vector<CheckResult> meter = {check("meter.air", "meter", Verdict::Fail)};
    const auto error = decide_outcome(meter, EarlyEnd{Outcome::Error, "pump link lost"});
    CHECK(error.outcome == Outcome::Error);
    CHECK(error.error == "pump link lost");
}

TEST_CASE("outcome names read back") {
    for (auto o : {Outcome::Pass, Outcome::Fail, Outcome::Inconclusive, Outcome::Error, Outcome::Aborted})
        CHECK(outcome_from_string(to_string(o)) == o);
    CHECK_FALSE(outcome_from_string("DONE"));
}
