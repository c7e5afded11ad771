// End-of-line policy without a process or a bench (src/eol/eol_policy.hpp): retest limit,
// serial check, FAIL before INCONCLUSIVE, a bench problem is ERROR and spends no retest, every
// check a measurement.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "eol/eol_policy.hpp"
#include "run/suite.hpp"

using namespace pumprig;

namespace {

verify::CheckResult check(const std::string& id, verify::Verdict v) {
    verify::CheckResult c;
    c.id = id;
    c.name = id + " name";
    c.kind = "volume";
    c.verdict = v;
    c.measured = 80.1;
    c.expected = 103.9;
    c.unit = "uL";
    c.lower = 87.5;
    c.upper = 120.2;
    c.tolerance = "15 %";
    c.requirements = {"REQ-1", "REQ-2"};
    return c;
}

run::RunResult run_with(run::Outcome outcome, std::vector<verify::CheckResult> checks, const std::string& dir = "reports/run-1") {
    run::RunResult r;
    r.outcome = outcome;
    r.dir = dir;
    r.checks = std::move(checks);
    return r;
}

// A unit whose pump reported its serial: it is being tested.
eol::Unit tested_unit() {
    eol::Unit u;
    u.serial = "SN0001";
    u.record.serial = "SN0001";
    u.record.scenarios = "eol-basic";
    REQUIRE(eol::check_serial(u, "SN0001", "ITB-40", "2.1.0"));
    return u;
}

}  // namespace

TEST_CASE("eol policy: the retest limit allows one test and max-retests retests") {
    eol::Unit u;
    eol::apply_retest_limit(u, 2, 2, "sqlite h.sqlite");
    CHECK_FALSE(u.failed_early);
    eol::apply_retest_limit(u, 3, 2, "sqlite h.sqlite");
    REQUIRE(u.failed_early);
    CHECK(u.finished());
    u.serial = "SN0001";
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "FAIL");
    CHECK(c.exit_code == run::kExitCheckFailed);
    CHECK_FALSE(c.recorded);  // a refusal is not a run
    CHECK_FALSE(c.tested);
    CHECK(eol::final_line(u, c) == "FAIL SN0001 retest-limit: 3 tests recorded in sqlite h.sqlite, at most 1 test and 2 retests allowed");
}

TEST_CASE("eol policy: a serial the pump does not report fails the unit without spending a retest") {
    eol::Unit u;
    u.serial = "SN0001";
    CHECK_FALSE(eol::check_serial(u, "SN0002", "ITB-40", "2.1.0"));
    CHECK(u.record.reported_serial == "SN0002");
    CHECK(u.record.model == "ITB-40");
    CHECK(u.finished());
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "FAIL");
    CHECK(c.recorded);
    CHECK_FALSE(c.tested);
    CHECK(eol::final_line(u, c) == "FAIL SN0001 serial-mismatch: the pump reports serial SN0002, not SN0001");
    const auto row = eol::history_record(u, c, "2026-01-01T08:00:00.000Z");
    CHECK(row.verdict == "FAIL");
    CHECK_FALSE(row.tested);
    CHECK(row.reason == "serial-mismatch: the pump reports serial SN0002, not SN0001");
}

TEST_CASE("eol policy: a FAIL is named before an earlier INCONCLUSIVE") {
    auto u = tested_unit();
    eol::add_run(u, "eol-a", run_with(run::Outcome::Inconclusive, {check("volume.1", verify::Verdict::Pass), check("rate.1", verify::Verdict::Inconclusive)}));
    eol::add_run(u, "eol-b", run_with(run::Outcome::Fail, {check("bolus.1", verify::Verdict::Fail)}, "reports/run-2"));
    CHECK_FALSE(u.finished());  // a failed check does not stop the other scenarios
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "FAIL");
    CHECK(c.what == "bolus.1");
    CHECK(c.tested);
    CHECK(c.exit_code == run::kExitCheckFailed);
    CHECK(eol::final_line(u, c) ==
          "FAIL SN0001 bolus.1: FAIL bolus.1 name: measured 80.1 uL, expected 103.9 uL within [87.5, 120.2]");
}

TEST_CASE("eol policy: an INCONCLUSIVE check alone fails the unit (it was not verified)") {
    auto u = tested_unit();
    eol::add_run(u, "eol-a", run_with(run::Outcome::Inconclusive, {check("volume.1", verify::Verdict::Pass), check("rate.1", verify::Verdict::Inconclusive)}));
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "FAIL");
    CHECK(c.what == "rate.1");
    CHECK(c.tested);
}

TEST_CASE("eol policy: every check passed is a PASS naming the scenarios and the count") {
    auto u = tested_unit();
    eol::add_run(u, "eol-basic", run_with(run::Outcome::Pass, {check("volume.1", verify::Verdict::Pass), check("rate.1", verify::Verdict::Pass)}));
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "PASS");
    CHECK(c.exit_code == run::kExitPass);
    CHECK(c.tested);
    CHECK(eol::final_line(u, c) == "PASS SN0001 eol-basic 2/2 checks");
    const auto row = eol::history_record(u, c, "2026-01-01T08:00:00.000Z");
    CHECK(row.reason.empty());
    CHECK(row.tested);
    CHECK(row.run_dirs == "reports/run-1");
}

TEST_CASE("eol policy: scenarios that made no check fail the unit") {
    auto u = tested_unit();
    eol::add_run(u, "eol-basic", run_with(run::Outcome::Pass, {}));
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "FAIL");
    CHECK(c.what == "no-checks");
}

TEST_CASE("eol policy: a bench error is ERROR, never a tested FAIL, and spends no retest") {
    // Issue 15: the unit's run ended as a bench error after a check had failed; the history row
    // must say ERROR and must not count towards the retest limit.
    auto u = tested_unit();
    auto r = run_with(run::Outcome::Error, {check("volume.1", verify::Verdict::Fail)});
    r.error = "pump link lost";
    eol::add_run(u, "eol-basic", r);
    CHECK(u.finished());
    const auto c = eol::conclude(u);
    CHECK(c.verdict == "ERROR");
    CHECK(c.exit_code == run::kExitBenchError);
    CHECK_FALSE(c.tested);
    CHECK(eol::final_line(u, c) == "FAIL SN0001 bench: bench error: pump link lost");
    const auto row = eol::history_record(u, c, "2026-01-01T08:00:00.000Z");
    CHECK(row.verdict == "ERROR");
    CHECK_FALSE(row.tested);
    CHECK(row.measurements.size() == 1);  // what was measured is kept
}

TEST_CASE("eol policy: an aborted run and a stop between scenarios are ABORTED and spend no retest") {
    auto u = tested_unit();
    auto r = run_with(run::Outcome::Aborted, {});
    r.error = "stopped by signal";
    eol::add_run(u, "eol-basic", r);
    auto c = eol::conclude(u);
    CHECK(c.verdict == "ABORTED");
    CHECK(c.what == "run");
    CHECK_FALSE(c.tested);

    auto v = tested_unit();
    eol::add_run(v, "eol-a", run_with(run::Outcome::Pass, {check("volume.1", verify::Verdict::Pass)}));
    eol::stopped_before(v, "eol-b");
    c = eol::conclude(v);
    CHECK(c.verdict == "ABORTED");
    CHECK(c.reason == "stopped by signal before eol-b");
    CHECK_FALSE(c.tested);
}

TEST_CASE("eol policy: links that never opened and a silent pump are station errors") {
    auto u = tested_unit();
    run::RunResult r;
    r.outcome = run::Outcome::Error;
    r.error = "pump link: cannot open /dev/ttyUSB0";
    eol::add_run(u, "eol-basic", r);
    CHECK(eol::conclude(u).verdict == "ERROR");
    CHECK(u.dirs.empty());

    eol::Unit silent;
    silent.serial = "SN0001";
    eol::identification_failed(silent, "timeout");
    const auto c = eol::conclude(silent);
    CHECK(c.verdict == "ERROR");
    CHECK(c.reason == "pump did not identify itself: timeout");
    CHECK_FALSE(c.tested);
}

TEST_CASE("eol policy: every check becomes a measurement, numbers that are not finite left empty") {
    auto c1 = check("volume.1", verify::Verdict::Fail);
    auto c2 = check("event.1", verify::Verdict::Pass);
    c2.measured = std::numeric_limits<double>::quiet_NaN();
    c2.lower = -std::numeric_limits<double>::infinity();
    c2.detail = "BOLUS_END seen";
    const auto ms = eol::measurements({{"eol-a", c1}, {"eol-b", c2}});
    REQUIRE(ms.size() == 2);
    CHECK(ms[0].scenario == "eol-a");
    CHECK(ms[0].check_id == "volume.1");
    CHECK(ms[0].verdict == "FAIL");
    CHECK(*ms[0].measured == doctest::Approx(80.1));
    CHECK(*ms[0].lower == doctest::Approx(87.5));
    CHECK(ms[0].requirements == "REQ-1,REQ-2");
    CHECK(ms[0].tolerance == "15 %");
    CHECK_FALSE(ms[1].measured);
    CHECK_FALSE(ms[1].lower);
    CHECK(*ms[1].upper == doctest::Approx(120.2));
    CHECK(ms[1].detail == "BOLUS_END seen");
}

TEST_CASE("eol policy: serials as a scanner types them") {
    CHECK(eol::plausible_serial("SN0001"));
    CHECK_FALSE(eol::plausible_serial(""));
    CHECK_FALSE(eol::plausible_serial("SN 0001"));
    CHECK_FALSE(eol::plausible_serial(std::string(65, 'A')));
    CHECK(eol::trim("  SN0001\r\n") == "SN0001");
    CHECK(eol::one_line("a\nb\tc") == "a b c");
}

TEST_CASE("exit codes: one rule for run and eol") {
    CHECK(run::exit_code(run::Outcome::Pass) == 0);
    CHECK(run::exit_code(run::Outcome::Fail) == 1);
    CHECK(run::exit_code(run::Outcome::Inconclusive) == 1);
    CHECK(run::exit_code(run::Outcome::Error) == 3);
    CHECK(run::exit_code(run::Outcome::Aborted) == 3);
    CHECK(run::worse_exit(0, 1) == 1);
    CHECK(run::worse_exit(1, 0) == 1);
    CHECK(run::worse_exit(3, 1) == 3);
    CHECK(run::worse_exit(1, 2) == 2);
    CHECK(run::worse_exit(2, 3) == 3);
}

TEST_CASE("eol policy: serials given on the command line, per channel on a bench of several") {
    auto one = eol::units_for({""});
    CHECK(eol::assign_serials(one, {" SN0001 "}, "rig/a.json"));
    CHECK(eol::check_serials(one));
    CHECK(one[0].serial == "SN0001");
    auto two_given = eol::assign_serials(one, {"SN1", "SN2"}, "rig/a.json");
    REQUIRE_FALSE(two_given);
    CHECK(two_given.error().message == "one --serial for a bench of one channel (rig/a.json)");

    auto three = eol::units_for({"A", "B", "C"});
    REQUIRE(eol::assign_serials(three, {"A=SIM0101", "B=-", "C=SIM0103"}, "rig/3ch.json"));
    CHECK(eol::check_serials(three));
    CHECK(three[0].serial == "SIM0101");
    CHECK_FALSE(three[1].present);
    CHECK(three[2].index == 2);
    auto unknown = eol::assign_serials(three, {"D=SN9"}, "rig/3ch.json");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message == "--serial D=SN9: expected CHANNEL=SERIAL with CHANNEL one of A, B, C");

    auto twice = eol::units_for({"A", "B"});
    REQUIRE(eol::assign_serials(twice, {"A=SN1", "B=SN1"}, "rig/2ch.json"));
    auto dup = eol::check_serials(twice);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message == "serial SN1 is given for two channels");

    auto none = eol::units_for({"A", "B"});
    REQUIRE(eol::assign_serials(none, {"A=-", "B=-"}, "rig/2ch.json"));
    CHECK(eol::check_serials(none).error().message == "no unit to test (every channel given as -)");

    auto spaced = eol::units_for({""});
    REQUIRE(eol::assign_serials(spaced, {"SN 1"}, "rig/a.json"));
    CHECK(eol::check_serials(spaced).error().message.starts_with("serial \"SN 1\": expected 1 to 64 printable characters"));
}
