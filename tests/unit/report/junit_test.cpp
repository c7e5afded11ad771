#include <doctest/doctest.h>

#include "report/junit.hpp"
#include "report_test_support.hpp"

using namespace pumprig;
using namespace pumprig::report;
using namespace pumprig::report::test;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

JUnitSuite suite() {
    JUnitSuite s;
    s.name = "eol-basic";
    s.timestamp = "2026-01-01T08:00:00.200Z";
    s.time_s = 541;
    s.outcome = "FAIL";
    s.run_dir = "reports/x";
    s.checks = {check("volume.1", verify::Verdict::Pass, 100, 100, 85, 115),
                check("bolus.1.volume", verify::Verdict::Fail, 31.5, 40, 34, 46),
                check("iec60601.mean", verify::Verdict::Inconclusive, std::nan(""), 0, -15, 15)};
    s.checks[2].detail = "gap of 12 s in the window";
    return s;
}

}  // namespace

TEST_CASE("JUnit: a testsuite per scenario and a testcase per check") {
    const auto s = suite();
    const std::string x = render_junit(std::span(&s, 1));
    CHECK(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    CHECK(count(x, "<testsuite ") == 1);
    CHECK(count(x, "<testcase ") == 3);
    CHECK(x.find("name=\"eol-basic\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"541.000\" timestamp=\"2026-01-01T08:00:00\"") !=
          std::string::npos);
    CHECK(x.find("classname=\"pumprig.eol-basic\"") != std::string::npos);
}

TEST_CASE("JUnit: a failure carries the measured and expected values") {
    const auto s = suite();
    const std::string x = render_junit(std::span(&s, 1));
    CHECK(x.find("<failure type=\"FAIL\" message=\"measured 31.5 uL, expected 40 uL (limits 34 to 46; tolerance 15 % of expected)\">") !=
          std::string::npos);
    CHECK(x.find("<error type=\"INCONCLUSIVE\" message=\"inconclusive: gap of 12 s in the window\">") != std::string::npos);
    CHECK(x.find("requirements: SRS-DEL-001") != std::string::npos);
}

TEST_CASE("JUnit: an incomplete run gets a run test case with an error") {
    auto s = suite();
    s.incomplete = true;
    s.outcome = "ABORTED";
    s.error = "stopped by signal";
    const std::string x = render_junit(std::span(&s, 1));
    CHECK(x.find("tests=\"4\" failures=\"1\" errors=\"2\"") != std::string::npos);
    CHECK(x.find("<testcase name=\"run\"") != std::string::npos);
    CHECK(x.find("<error type=\"INCOMPLETE\" message=\"run INCOMPLETE: stopped by signal\">") != std::string::npos);
}

TEST_CASE("JUnit: names and details from scenarios are escaped") {
    auto s = suite();
    s.name = "a<b>&\"c\"";
    s.checks[1].detail = std::string("\x01<x/>]]>");
    const std::string x = render_junit(std::span(&s, 1));
    CHECK(x.find("name=\"a&lt;b&gt;&amp;&quot;c&quot;\"") != std::string::npos);
    CHECK(x.find("\xEF\xBF\xBD&lt;x/&gt;]]&gt;") != std::string::npos);
    CHECK(x.find("<x/>") == std::string::npos);
}

TEST_CASE("junit_timestamp drops milliseconds and zone, and refuses garbage") {
    CHECK(junit_timestamp("2026-01-01T08:00:00.200Z") == "2026-01-01T08:00:00");
    CHECK(junit_timestamp("2026-01-01T08:00:00") == "2026-01-01T08:00:00");
    CHECK(junit_timestamp("yesterday") == "1970-01-01T00:00:00");
}
