// The traceability matrix on hand-made records: which run is the evidence, how a requirement's
// status follows from its checks, and what is listed as not covered, unknown or unlinked; the
// CSV and HTML views of it.
#include <doctest/doctest.h>

#include <algorithm>

#include "record/data.hpp"
#include "trace/matrix.hpp"
#include "trace/render.hpp"

using namespace pumprig;
using namespace pumprig::trace;
using record::Verdict;

namespace {

Catalogue catalogue() {
    Catalogue c;
    for (const char* id : {"SRS-DEL-001", "SRS-BOL-001", "SRS-ALM-001", "SRS-ACC-001"})
        c.requirements.push_back({id, std::string("text of ") + id, "pump ICD section 9", "pump.json"});
    return c;
}

record::CheckResult check(const std::string& id, Verdict v, std::vector<std::string> reqs, std::string source = "") {
    record::CheckResult c;
    c.id = id;
    c.name = "name of " + id;
    c.kind = "volume";
    c.verdict = v;
    c.requirements = std::move(reqs);
    c.tolerance_source = std::move(source);
    return c;
}

RunEvidence run(const std::string& scenario, long long start_ms, std::vector<record::CheckResult> checks, const std::string& dir) {
    RunEvidence r;
    r.dir = dir;
    r.record.scenario.name = scenario;
    r.record.start = BenchTime{Millis{start_ms}};
    r.record.outcome = record::Outcome::Pass;
    r.record.checks = std::move(checks);
    return r;
}

const RequirementRow& row(const Matrix& m, const std::string& id) {
    auto it = std::find_if(m.rows.begin(), m.rows.end(), [&](const RequirementRow& r) { return r.requirement.id == id; });
    REQUIRE(it != m.rows.end());
    return *it;
}

}  // namespace

TEST_CASE("a requirement's status follows its checks in the latest runs") {
    std::vector<RunEvidence> runs;
    // An older continuous run failed SRS-DEL-001; the later one passed: the later is the evidence.
    runs.push_back(run("continuous", 1000, {check("volume.1", Verdict::Fail, {"SRS-DEL-001"})}, "r/old"));
    runs.push_back(run("continuous", 2000, {check("volume.1", Verdict::Pass, {"SRS-DEL-001"}, "pump ICD section 9"),
                                            check("command.1", Verdict::Pass, {})},
                       "r/new"));
    runs.push_back(run("periodic-bolus", 1500, {check("bolus.1.volume", Verdict::Fail, {"SRS-BOL-001", "SRS-DEL-001"}),
                                                check("event.1", Verdict::Pass, {"SRS-BOL-001"})},
                       "r/bolus"));
    runs.push_back(run("low-reservoir", 1500, {check("event.1", Verdict::Inconclusive, {"SRS-ALM-001"}),
                                               check("volume.1", Verdict::Pass, {"SRS-ALM-001", "SRS-XYZ-9"})},
                       "r/low"));
    const auto m = build_matrix(catalogue(), std::move(runs));

    REQUIRE(m.runs.size() == 3);
    CHECK(m.superseded == std::vector<std::filesystem::path>{"r/old"});
    // SRS-DEL-001: passed in continuous, failed in periodic-bolus: FAIL.
    const auto& del = row(m, "SRS-DEL-001");
    CHECK(del.status == Status::Fail);
    CHECK(del.pass == 1);
    CHECK(del.fail == 1);
    CHECK(del.scenarios == std::vector<std::string>{"continuous", "periodic-bolus"});
    CHECK(row(m, "SRS-BOL-001").status == Status::Fail);
    // One inconclusive check and one pass: not verified.
    CHECK(row(m, "SRS-ALM-001").status == Status::Inconclusive);
    // No check names it.
    CHECK(row(m, "SRS-ACC-001").status == Status::NotCovered);
    CHECK(m.with_status(Status::NotCovered).size() == 1);
    // Named by a check, not in the catalogue.
    REQUIRE(m.unknown().size() == 1);
    CHECK(m.unknown()[0]->requirement.id == "SRS-XYZ-9");
    CHECK(m.unknown()[0]->status == Status::Pass);
    REQUIRE(m.unlinked.size() == 1);
    CHECK(m.unlinked[0].check.id == "command.1");
    CHECK(m.any_fail());
}

TEST_CASE("all checks passing, the matrix has no failure, and an older failed run does not count") {
    std::vector<RunEvidence> runs;
    runs.push_back(run("continuous", 3000, {check("volume.1", Verdict::Pass, {"SRS-DEL-001"})}, "r/b"));
    runs.push_back(run("continuous", 1000, {check("volume.1", Verdict::Fail, {"SRS-DEL-001"})}, "r/a"));
    const auto m = build_matrix(catalogue(), std::move(runs));
    CHECK_FALSE(m.any_fail());
    CHECK(row(m, "SRS-DEL-001").status == Status::Pass);
    CHECK(m.superseded == std::vector<std::filesystem::path>{"r/a"});
    // The same scenario on two channels of a bench: two runs, both evidence.
    std::vector<RunEvidence> two;
    two.push_back(run("continuous", 1000, {check("volume.1", Verdict::Pass, {"SRS-DEL-001"})}, "r/ch1"));
    two.back().record.rig.channel = "ch1";
    two.push_back(run("continuous", 1000, {check("volume.1", Verdict::Fail, {"SRS-DEL-001"})}, "r/ch2"));
    two.back().record.rig.channel = "ch2";
    const auto m2 = build_matrix(catalogue(), std::move(two));
    CHECK(m2.runs.size() == 2);
    CHECK(m2.superseded.empty());
    CHECK(row(m2, "SRS-DEL-001").status == Status::Fail);
}

TEST_CASE("the CSV has a row per requirement and check, uncovered and unlinked rows included") {
    std::vector<RunEvidence> runs;
    runs.push_back(run("continuous", 2000, {check("volume.1", Verdict::Fail, {"SRS-DEL-001"}, "pump ICD section 9, meter ICD section 2"),
                                            check("command.1", Verdict::Pass, {})},
                       "r/c"));
    const auto m = build_matrix(catalogue(), std::move(runs));
    const auto csv = matrix_csv(m, "out");
    CHECK(csv.starts_with("requirement_id,requirement_status,in_catalogue,source,scenario,channel,run_dir,run_outcome,run_start,check_id,"));
    CHECK(csv.find("SRS-DEL-001,FAIL,1,pump ICD section 9,continuous,,r/c,PASS,1970-01-01T00:00:02.000Z,volume.1,name of volume.1,volume,FAIL,"
                   "\"pump ICD section 9, meter ICD section 2\",,\r\n") != std::string::npos);
    CHECK(csv.find("SRS-ACC-001,NOT COVERED,1,pump ICD section 9,,,,,,,,,,,,\r\n") != std::string::npos);
    CHECK(csv.find("\r\n,,,,continuous,,r/c,PASS,1970-01-01T00:00:02.000Z,command.1,") != std::string::npos);
    // 1 header, 4 requirements (one with a check), 1 unlinked check.
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);
}

TEST_CASE("the HTML matrix escapes what records hold and lists what is not verified") {
    std::vector<RunEvidence> runs;
    runs.push_back(run("<script>alert(1)</script>", 2000, {check("volume.1", Verdict::Inconclusive, {"SRS-DEL-001"})}, "r/x"));
    const auto m = build_matrix(catalogue(), std::move(runs));
    const auto html = matrix_html(m, "out", "Traceability matrix");
    CHECK(html.find("<script>alert") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("<li class=\"v-inconclusive\"><span class=\"id\">SRS-DEL-001</span> INCONCLUSIVE") != std::string::npos);
    CHECK(html.find("<span class=\"id\">SRS-ACC-001</span>: text of SRS-ACC-001") != std::string::npos);
    CHECK(html.find("NO FAILURE") != std::string::npos);
}

TEST_CASE("markdown_to_html renders the docs' tables and escapes the rest") {
    const auto h = markdown_to_html("# Detection\n\nSome **bold** and `code` <b>raw</b>.\n\n| a | b |\n|---|---|\n| `x`<br>y | 2 |\n\n- one\n- two\n");
    CHECK(h.find("<h3>Detection</h3>") != std::string::npos);
    CHECK(h.find("<p>Some <b>bold</b> and <code>code</code> &lt;b&gt;raw&lt;/b&gt;.</p>") != std::string::npos);
    CHECK(h.find("<table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td><code>x</code><br>y</td><td>2</td></tr>\n</table>") != std::string::npos);
    CHECK(h.find("<ul>\n<li>one</li>\n<li>two</li>\n</ul>") != std::string::npos);
}

TEST_CASE("the release report warns of a meter past its calibration and of a folder that does not match its manifest") {
    std::vector<RunEvidence> runs;
    runs.push_back(run("continuous", 2000, {check("volume.1", Verdict::Pass, {"SRS-DEL-001"})}, "r/c"));
    runs.back().record.rig.name = "bench-a";
    runs.back().record.pump = record::PumpIdentity{"ITB-40", "SN123", "2.4.1", 1};
    runs.back().calibration_due = "2026-03-01";
    record::ManifestCheck changed;
    changed.has_manifest = true;
    changed.changed = {"samples.csv"};
    runs.back().manifest = changed;
    ReleaseContext ctx;
    ctx.tool_version = "0.1.0";
    ctx.now = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2};
    ctx.detection_file = "docs/detection-matrix.md";
    ctx.detection_markdown = "| defect | caught |\n|---|---|\n| `rate_high_8pct` | continuous |\n";
    ctx.detection_revision = "commit abc1234 of 2026-11-24";
    const auto html = release_html(build_matrix(catalogue(), std::move(runs)), ctx, "out");
    CHECK(html.find("<li>the flow meter of rig bench-a was due for calibration on 2026-03-01") != std::string::npos);
    CHECK(html.find("<td class=\"v-fail\">2026-03-01 (past)</td>") != std::string::npos);
    CHECK(html.find("NOT INTACT: changed samples.csv") != std::string::npos);
    CHECK(html.find("<td>SN123</td>") != std::string::npos);
    CHECK(html.find("commit abc1234 of 2026-11-24") != std::string::npos);
    CHECK(html.find("<td><code>rate_high_8pct</code></td>") != std::string::npos);
    // Three requirements are not covered: INCOMPLETE, not PASS.
    CHECK(html.find(">INCOMPLETE</span> 1 requirements verified, 0 failed, 0 inconclusive, 3 not covered.") != std::string::npos);
    // The day it is due, no warning.
    std::vector<RunEvidence> due;
    due.push_back(run("continuous", 2000, {}, "r/c"));
    due.back().calibration_due = "2026-03-02";
    CHECK(release_html(build_matrix(catalogue(), std::move(due)), ctx, "out").find("due for calibration") == std::string::npos);
}
