// JUnit XML, as the CI systems read it (Jenkins, GitLab): a <testsuite> per scenario run, a
// <testcase> per check. FAIL becomes <failure> with the measured and expected values;
// INCONCLUSIVE becomes <error> (nothing was verified, and a CI must not show it green); a run
// that ended early or was cut short gets a "run" test case with an <error>. The output
// validates against tests/data/junit/junit.xsd (the strict intersection of the Jenkins and the
// Ant/windyroad schemas).
#pragma once
#include <span>
#include <string>
#include <vector>

#include "verify/checks.hpp"

namespace pumprig::report {

struct JUnitSuite {
    std::string name;        // the scenario
    std::string package;     // classname prefix, e.g. "pumprig.<scenario>"
    std::string timestamp;   // the run's start, "YYYY-MM-DDTHH:MM:SS" (no zone: the Ant schema)
    double time_s = 0;       // bench duration of the run
    std::string hostname = "localhost";
    std::vector<verify::CheckResult> checks;
    std::string outcome;     // PASS FAIL INCONCLUSIVE ERROR ABORTED
    bool incomplete = false;
    std::string error;       // why the run ended early, if it did
    std::string run_dir;     // written to system-out, so a reader finds the record
};

std::string render_junit(std::span<const JUnitSuite> suites);

// "2026-01-01T08:00:00.000Z" -> "2026-01-01T08:00:00" (the Ant schema's timestamp has no zone;
// pumprig's times are UTC). Anything else gives "1970-01-01T00:00:00".
std::string junit_timestamp(std::string_view iso_utc);

}  // namespace pumprig::report
