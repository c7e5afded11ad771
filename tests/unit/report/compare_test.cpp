#include <doctest/doctest.h>

#include "report/compare.hpp"
#include "report_test_support.hpp"

using namespace pumprig;
using namespace pumprig::report;
using namespace pumprig::report::test;

TEST_CASE("compare flags a changed verdict and a move larger than the stated fraction of the band") {
    const std::vector<verify::CheckResult> a = {check("volume.1", verify::Verdict::Pass, 100, 100, 85, 115),
                                                check("rate.1", verify::Verdict::Pass, 500, 500, 425, 575),
                                                check("bolus.1.volume", verify::Verdict::Pass, 40, 40, 34, 46)};
    const std::vector<verify::CheckResult> b = {check("volume.1", verify::Verdict::Pass, 101, 100, 85, 115),     // 1/30 of band
                                                check("rate.1", verify::Verdict::Pass, 550, 500, 425, 575),      // 50/150 = 0.33
                                                check("bolus.1.volume", verify::Verdict::Fail, 33, 40, 34, 46)};  // verdict
    const auto rows = compare_checks(a, b, {0.25});
    REQUIRE(rows.size() == 3);
    CHECK_FALSE(rows[0].flagged);
    CHECK(*rows[0].moved_fraction == doctest::Approx(1.0 / 30));
    CHECK(rows[1].flagged);
    CHECK(rows[1].reason.find("moved 0.33 of its band") != std::string::npos);
    CHECK(rows[2].flagged);
    CHECK(rows[2].reason.find("verdict PASS -> FAIL") != std::string::npos);
    // A looser fraction stops flagging the move, never the verdict.
    const auto loose = compare_checks(a, b, {0.5});
    CHECK_FALSE(loose[1].flagged);
    CHECK(loose[2].flagged);
}

TEST_CASE("compare lists checks present in one run only") {
    const std::vector<verify::CheckResult> a = {check("volume.1", verify::Verdict::Pass, 100, 100, 85, 115),
                                                check("bolus.2.volume", verify::Verdict::Pass, 40, 40, 34, 46)};
    const std::vector<verify::CheckResult> b = {check("volume.1", verify::Verdict::Pass, 100, 100, 85, 115),
                                                check("event.3", verify::Verdict::Pass, 1, 1, 1, 1.0 / 0.0)};
    const auto rows = compare_checks(a, b);
    REQUIRE(rows.size() == 3);
    CHECK(rows[1].id == "bolus.2.volume");
    CHECK(rows[1].reason == "only in A");
    CHECK(rows[2].id == "event.3");
    CHECK(rows[2].reason == "only in B");
}

TEST_CASE("band_width of one-sided and limitless checks") {
    CHECK(*band_width(check("a", verify::Verdict::Pass, 0, 0, -2, 2)) == doctest::Approx(4));
    CHECK(*band_width(check("b", verify::Verdict::Pass, 0, 0, -1.0 / 0.0, 3)) == doctest::Approx(3));
    CHECK_FALSE(band_width(check("c", verify::Verdict::Pass, 0, 0, -1.0 / 0.0, 1.0 / 0.0)).has_value());
    CHECK_FALSE(band_width(check("d", verify::Verdict::Pass, 0, 0, 0, 0)).has_value());
}

TEST_CASE("the compare table and page name both runs and mark flagged rows") {
    const std::vector<verify::CheckResult> a = {check("volume.1", verify::Verdict::Pass, 100, 100, 85, 115)};
    const std::vector<verify::CheckResult> b = {check("volume.1", verify::Verdict::Fail, 120, 100, 85, 115)};
    const auto rows = compare_checks(a, b);
    CompareHeader h{"runs/a", "runs/b", "continuous", "continuous", "abc", "abc", "PASS", "FAIL", "2.4.1", "<2.5.0>", 0.25};
    const auto table = format_compare_table(h, rows);
    CHECK(table.find("A: runs/a") != std::string::npos);
    CHECK(table.find("!! volume.1") != std::string::npos);
    CHECK(table.find("1 of 1 checks differ") != std::string::npos);
    const auto html = render_compare_html(h, rows);
    CHECK(html.find("<tr class=\"flagged\">") != std::string::npos);
    CHECK(html.find("&lt;2.5.0&gt;") != std::string::npos);
    CHECK(html.find("hashes differ") == std::string::npos);
}
