#include <doctest/doctest.h>

#include <regex>

#include "report/html_report.hpp"
#include "report_test_support.hpp"

using namespace pumprig;
using namespace pumprig::report;
using namespace pumprig::report::test;

TEST_CASE("the run report shows verdict, identity, scenario hash and the check table") {
    auto v = small_view();
    v.checks.push_back(check("bolus.1.volume", verify::Verdict::Fail, 31.5, 40.0, 34.0, 46.0));
    v.checks.back().detail = "meter volume over the bolus window";
    v.checks.back().requirements = {"SRS-BOL-002", "SRS-BOL-003"};
    v.outcome = "FAIL";
    const std::string h = render_run_html(v);
    CHECK(h.starts_with("<!DOCTYPE html>"));
    CHECK(h.find("id=\"verdict\">FAIL</span>") != std::string::npos);
    CHECK(h.find("ITB-40, serial SIM0001, firmware 2.4.1") != std::string::npos);
    CHECK(h.find("LF-2000,SN=LF0001") != std::string::npos);
    CHECK(h.find(std::string(64, 'a')) != std::string::npos);
    CHECK(h.find(std::string("pumprig ") + kToolVersion) != std::string::npos);
    CHECK(h.find("2026-01-01T00:00:00.000Z") != std::string::npos);
    CHECK(h.find("<td class=\"id\">bolus.1.volume</td>") != std::string::npos);
    CHECK(h.find("31.5 uL") != std::string::npos);
    CHECK(h.find("34 to 46") != std::string::npos);
    CHECK(h.find("SRS-BOL-002, SRS-BOL-003") != std::string::npos);
    CHECK(h.find("meter volume over the bolus window") != std::string::npos);
    CHECK(h.find("1 passed, 1 failed, 0 inconclusive") != std::string::npos);
    CHECK(h.find("INCOMPLETE") == std::string::npos);
}

TEST_CASE("the run report is self-contained: no script, no external resource") {
    const std::string h = render_run_html(small_view());
    CHECK(h.find("<script") == std::string::npos);
    CHECK(h.find("src=") == std::string::npos);
    CHECK(h.find("<link") == std::string::npos);
    CHECK(h.find("@import") == std::string::npos);
    // The only URL is the SVG namespace, which is a name, not a resource.
    const std::regex url("https?://[^\"]*");
    for (auto it = std::sregex_iterator(h.begin(), h.end(), url); it != std::sregex_iterator(); ++it)
        CHECK(it->str() == "http://www.w3.org/2000/svg");
    CHECK(h.find("@media print") != std::string::npos);
}

TEST_CASE("the run report draws flow, volume and event markers as inline SVG") {
    const auto v = small_view();
    const std::string h = render_run_html(v);
    CHECK(h.find("<figure id=\"plot-flow\"><svg") != std::string::npos);
    CHECK(h.find("<figure id=\"plot-volume\"><svg") != std::string::npos);
    CHECK(h.find("<path class=\"series-measured\" d=\"M") != std::string::npos);
    CHECK(h.find("<path class=\"series-programmed\" d=\"M") != std::string::npos);
    CHECK(h.find("<path class=\"series-expected\" d=\"M") != std::string::npos);
    CHECK(h.find("<path class=\"band\" d=\"M") != std::string::npos);
    CHECK(h.find("<g class=\"marker-alarm\"><title>ALARM code=LOW_RES state=SET</title>") != std::string::npos);
    CHECK(h.find("<g class=\"marker-event\"><title>STEP step=1</title>") != std::string::npos);
    CHECK(h.find("id=\"no-iec\"") != std::string::npos);  // no accuracy check: said, not silently left out
}

TEST_CASE("the run report draws the IEC 60601-2-24 start-up and trumpet curves when there is an analysis") {
    auto v = small_view();
    verify::IecAnalysis a;
    a.set_rate = FlowRate{500};
    a.sample_interval = Millis{30'000};
    for (int i = 1; i <= 240; ++i) a.startup.push_back({i * 0.5, 500.0 + (i % 7) - 3.0, true});
    a.trumpet = {{2, 3.1, -2.9, 59}, {5, 1.8, -1.7, 56}, {11, 1.1, -0.9, 50}};
    a.mean_error_pct = 0.2;
    a.complete = true;
    v.iec = {a};
    const std::string h = render_run_html(v);
    CHECK(h.find("<figure id=\"plot-startup-1\"><svg") != std::string::npos);
    CHECK(h.find("<figure id=\"plot-trumpet-1\"><svg") != std::string::npos);
    CHECK(h.find("<path class=\"series-max\" d=\"M") != std::string::npos);
    CHECK(h.find("<path class=\"series-min\" d=\"M") != std::string::npos);
    CHECK(h.find("id=\"no-iec\"") == std::string::npos);
}

TEST_CASE("every text from a device or a scenario is escaped in the run report") {
    auto v = small_view();
    const std::string evil = "<script>alert('x')</script>&\"";
    v.record.scenario.name = evil;
    v.record.scenario.file = evil;
    v.record.pump->firmware = evil;
    v.record.pump->serial = "<img src=x onerror=alert(1)>";
    v.record.meter = evil;
    v.record.rig.name = evil;
    v.record.error = evil;
    v.checks[0].name = evil;
    v.checks[0].detail = evil;
    v.checks[0].id = evil;
    v.checks[0].requirements = {evil};
    v.checks[0].unit = evil;
    v.events[1].values["code"] = evil;
    v.notes = {evil};
    const std::string h = render_run_html(v);
    CHECK(h.find("<script") == std::string::npos);
    CHECK(h.find("<img") == std::string::npos);
    CHECK(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;") != std::string::npos);
}

TEST_CASE("an incomplete run is marked INCOMPLETE") {
    auto v = small_view();
    v.incomplete = true;
    v.outcome = "ABORTED";
    v.record.state = pumprig::record::RunState::Running;
    const std::string h = render_run_html(v);
    CHECK(h.find("id=\"incomplete\">INCOMPLETE</span>") != std::string::npos);
    CHECK(h.find("record state RUNNING") != std::string::npos);
    CHECK(h.find("id=\"verdict\">ABORTED</span>") != std::string::npos);
}

TEST_CASE("the suite page links each run's report and escapes names") {
    std::vector<SuiteEntry> entries = {
        {"continuous", "PASS", false, 5, 0, 0, "../run-a/report.html", "run-a"},
        {"<b>bolus</b>", "FAIL", false, 3, 1, 0, "../run-b/report.html", "run-b"},
        {"cut", "ABORTED", true, 1, 0, 2, "../run-c/report.html", "run-c"},
    };
    const std::string h = render_suite_html("pumprig suite 20260101T000000Z", entries);
    CHECK(h.find("<a href=\"../run-a/report.html\">run-a</a>") != std::string::npos);
    CHECK(h.find("<a href=\"../run-b/report.html\">run-b</a>") != std::string::npos);
    CHECK(h.find("&lt;b&gt;bolus&lt;/b&gt;") != std::string::npos);
    CHECK(h.find("ABORTED (INCOMPLETE)") != std::string::npos);
    CHECK(h.find("1 of 3 scenarios passed") != std::string::npos);
}

TEST_CASE("the run report puts the summary first, the plots next and the full check table last") {
    auto v = small_view();
    v.checks.push_back(check("rate.1", verify::Verdict::Fail, 545.0, 500.0, 430.0, 540.0));
    v.outcome = "FAIL";
    const std::string h = render_run_html(v);
    const auto summary = h.find("<section id=\"summary\">");
    const auto plots = h.find("<section id=\"plots\">");
    const auto table = h.find("<table class=\"checks\" id=\"checks\">");
    REQUIRE(summary != std::string::npos);
    REQUIRE(plots != std::string::npos);
    REQUIRE(table != std::string::npos);
    CHECK(summary < h.find("id=\"verdict\">FAIL"));
    CHECK(h.find("id=\"verdict\">FAIL") < plots);
    CHECK(plots < h.find("<figure id=\"plot-flow\">"));
    CHECK(h.find("<figure id=\"plot-volume\">") < table);
}

TEST_CASE("the summary lists exactly the checks that did not pass, with measured, limits, unit and reason") {
    auto v = small_view();  // volume.1 passes
    v.checks.push_back(check("rate.1", verify::Verdict::Fail, 545.0, 500.0, 430.0, 540.0));
    v.checks.back().detail = "meter rate over step 1 is 9 % high";
    v.checks.back().tolerance_source = "pump ICD 9 delivery accuracy; meter ICD 2";
    v.checks.push_back(check("timing.2", verify::Verdict::Pass, 1.0, 1.0, 0.0, 2.0));
    v.checks.push_back(check("bolus.1", verify::Verdict::Inconclusive, 0.0, 40.0, 34.0, 46.0));
    v.checks.back().detail = "no meter samples over the bolus window";
    v.outcome = "FAIL";
    const std::vector<const verify::CheckResult*> listed = checks_not_passed(v.checks);
    REQUIRE(listed.size() == 2);
    CHECK(listed[0]->id == "rate.1");
    CHECK(listed[1]->id == "bolus.1");
    const std::string h = render_run_html(v);
    const auto begin = h.find("<table class=\"checks\" id=\"not-passed\">");
    REQUIRE(begin != std::string::npos);
    const std::string table = h.substr(begin, h.find("</table>", begin) - begin);
    CHECK(table.find(">rate.1<") != std::string::npos);
    CHECK(table.find(">bolus.1<") != std::string::npos);
    CHECK(table.find("volume.1") == std::string::npos);
    CHECK(table.find("timing.2") == std::string::npos);
    CHECK(table.find("545 uL") != std::string::npos);
    CHECK(table.find("430 to 540 uL") != std::string::npos);
    CHECK(table.find("meter rate over step 1 is 9 % high") != std::string::npos);
    CHECK(table.find("limits from pump ICD 9 delivery accuracy; meter ICD 2") != std::string::npos);
    CHECK(table.find("no meter samples over the bolus window") != std::string::npos);
    CHECK(table.find(">INCONCLUSIVE<") != std::string::npos);

    // A PASS has no such list; an ERROR says its error text in the summary.
    CHECK(render_run_html(small_view()).find("id=\"not-passed\"") == std::string::npos);
    auto e = small_view();
    e.outcome = "ERROR";
    e.record.error = "meter link lost at step 3";
    const std::string he = render_run_html(e);
    const auto err = he.find("id=\"run-error\">Run error: meter link lost at step 3");
    REQUIRE(err != std::string::npos);
    CHECK(err < he.find("<section id=\"plots\">"));
}

TEST_CASE("the check table shows the tolerance's source, its formula and the detail on demand") {
    auto v = small_view();
    v.checks[0].tolerance_source = "pump ICD 9 delivery accuracy; meter ICD 2 reading accuracy";
    v.checks[0].tolerance = "15 % of expected + 0.5 % of reading + 0.25 uL";
    v.checks[0].detail = "meter volume over step 1";
    const std::string h = render_run_html(v);
    CHECK(h.find("<details><summary>pump ICD 9 delivery accuracy; meter ICD 2 reading accuracy</summary><p><b>Tolerance:</b> 15 % of "
                 "expected + 0.5 % of reading + 0.25 uL</p><p><b>Detail:</b> meter volume over step 1</p></details>") != std::string::npos);
    v.checks[0].tolerance_source.clear();
    CHECK(render_run_html(v).find("<details><summary>source not stated</summary>") != std::string::npos);
}

TEST_CASE("the flow plot smooths over an interval chosen from the run length and says which") {
    CHECK(flow_smoothing_interval(Millis{60'000}) == Millis{10'000});
    CHECK(flow_smoothing_interval(Millis{3'600'000}) == Millis{30'000});
    CHECK(flow_smoothing_interval(Millis{86'400'000}) == Millis{600'000});
    CHECK(interval_text(Millis{30'000}) == "30 s");
    CHECK(interval_text(Millis{600'000}) == "10 min");
    CHECK(interval_text(Millis{3'600'000}) == "1 h");
    auto v = small_view();  // one hour: 30 s
    const std::string h = render_run_html(v);
    CHECK(h.find("moving mean over 30 s") != std::string::npos);
    CHECK(h.find("meter flow, 30 s mean") != std::string::npos);
    // Raw range behind, the mean over it, the programmed rate drawn last (on top).
    const std::string svg = render_flow_plot(v);
    const auto raw = svg.find("<path class=\"band-raw\" d=\"M");
    const auto mean = svg.find("<path class=\"series-measured\" d=\"M");
    const auto programmed = svg.find("<path class=\"series-programmed\" d=\"M");
    REQUIRE(raw != std::string::npos);
    REQUIRE(mean != std::string::npos);
    REQUIRE(programmed != std::string::npos);
    CHECK(raw < mean);
    CHECK(mean < programmed);
}

TEST_CASE("the run report names the simulated unit played in a small table, and shows none for a real bench") {
    auto v = small_view();
    CHECK(render_run_html(v).find("simulated-unit") == std::string::npos);
    v.record.simulated_unit = std::map<std::string, double>{{"clock_ppm", 37.5}, {"delivery_error_pct", -14.9}};
    const std::string h = render_run_html(v);
    const auto table = h.find("<table class=\"meta\" id=\"simulated-unit\">");
    REQUIRE(table != std::string::npos);
    const std::string rows = h.substr(table, h.find("</table>", table) - table);
    CHECK(rows.find("<tr><th scope=\"row\">clock_ppm</th><td>37.5</td></tr>") != std::string::npos);
    CHECK(rows.find("<tr><th scope=\"row\">delivery_error_pct</th><td>-14.9</td></tr>") != std::string::npos);
}
