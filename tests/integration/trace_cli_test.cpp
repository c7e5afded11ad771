// pumprig trace, verify-record and validate's requirement check driven as a user drives them,
// on run folders made by pumprig run on the simulated bench (a defective pump and a sound one);
// the HTML pages are rendered by headless Chromium.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "history/results_store.hpp"
#include "record/manifest.hpp"
#include "support/chromium.hpp"
#include "support/files.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using pumprig::test::chromium_dom;
using pumprig::test::env_or;
using pumprig::test::read_file;
using pumprig::test::run_command;
using pumprig::test::TempDir;

namespace {

const std::string kSource = env_or("PUMPRIG_SOURCE_DIR", PUMPRIG_SOURCE_DIR);
const std::string kPumprig = env_or("PUMPRIG_BINARY", PUMPRIG_BUILD_DIR "/pumprig");

std::vector<fs::path> run_dirs(const fs::path& root) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && fs::exists(e.path() / "record.json")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& what) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const auto line = text.substr(start, end - start);
        if (line.find(what) != std::string::npos) out.push_back(line);
        start = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("trace over a suite run with a defective pump FAILs its requirement, lists what is not covered, and exits 1") {
    TempDir out;
    auto run = run_command({kPumprig, "run", "--out", out.path.string(), "--seed", "1", "--defect", "rate_high_8pct",
                            kSource + "/scenarios/functions/continuous.json", kSource + "/scenarios/functions/stop-start.json"},
                           std::chrono::seconds(600));
    INFO(run.err);
    REQUIRE(run.exit_code == 1);
    const auto dirs = run_dirs(out.path);
    REQUIRE(dirs.size() == 2);
    for (const auto& d : dirs) CHECK(fs::exists(d / "MANIFEST.sha256"));

    auto trace = run_command({kPumprig, "trace", "--release", out.path.string()}, std::chrono::seconds(120));
    INFO(trace.out);
    INFO(trace.err);
    CHECK(trace.exit_code == 1);
    // The defect makes the pump report 8 % more than it was programmed: status.rate fails, in
    // continuous (SRS-DEL-001, SRS-RES-001) and stop-start (SRS-DEL-004).
    const auto csv = read_file(out.path / "trace.csv");
    const auto del = lines_with(csv, "SRS-DEL-001,FAIL,1,");
    REQUIRE_FALSE(del.empty());
    CHECK(std::any_of(del.begin(), del.end(), [](const std::string& l) { return l.find(",continuous,") != std::string::npos &&
                                                                                l.find(",status.rate,") != std::string::npos &&
                                                                                l.find(",FAIL,") != std::string::npos; }));
    CHECK_FALSE(lines_with(csv, "SRS-DEL-004,FAIL,1,").empty());
    // Requirements these two scenarios do not cover are listed, not hidden.
    CHECK(lines_with(csv, "SRS-ACC-001,NOT COVERED,1,").size() == 1);
    const auto not_covered = lines_with(trace.out, "not covered by any check:");
    REQUIRE(not_covered.size() == 1);
    CHECK(not_covered[0].find("SRS-BOL-001") != std::string::npos);
    CHECK(not_covered[0].find("SRS-DEL-001") == std::string::npos);
    CHECK(lines_with(trace.out, "FAILED:")[0].find("SRS-DEL-001") != std::string::npos);

    // The pages render in a browser, the failure and the uncovered requirement shown.
    const auto dom = chromium_dom(out.path / "trace.html");
    CHECK(dom.find("<td class=\"v-fail\">FAIL</td>") != std::string::npos);
    CHECK(dom.find("id=\"req-SRS-DEL-001\"") != std::string::npos);
    CHECK(dom.find("<span class=\"id\">SRS-ACC-001</span>") != std::string::npos);
    const auto release = chromium_dom(out.path / "release.html");
    CHECK(release.find("Release verification report") != std::string::npos);
    CHECK(release.find("SIM0001") != std::string::npos);               // the pump's serial
    CHECK(release.find("detection-") != std::string::npos);           // the tool's detection power
    CHECK(release.find("rate_error") != std::string::npos);           // ... embedded (docs/detection-power.md)
    CHECK(release.find("intact (") != std::string::npos);             // record integrity
    CHECK(release.find("not stated in the rig file") != std::string::npos);
    // Each scenario links to its own run report, relative to the page.
    for (const auto& d : dirs) CHECK(release.find("href=\"" + d.filename().string() + "/report.html\"") != std::string::npos);
}

TEST_CASE("verify-record finds a byte changed in samples.csv, and trace of a sound pump exits 0") {
    TempDir out;
    auto run = run_command({kPumprig, "run", "--out", out.path.string(), "--seed", "1", kSource + "/scenarios/functions/continuous.json"},
                           std::chrono::seconds(600));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const auto dirs = run_dirs(out.path);
    REQUIRE(dirs.size() == 1);
    const auto dir = dirs[0];

    auto trace = run_command({kPumprig, "trace", "--out", (out.path / "trace").string(), out.path.string()}, std::chrono::seconds(120));
    INFO(trace.out);
    CHECK(trace.exit_code == 0);
    CHECK(lines_with(read_file(out.path / "trace" / "trace.csv"), "SRS-DEL-001,PASS,1,").size() > 0);

    auto ok = run_command({kPumprig, "verify-record", dir.string()}, std::chrono::seconds(60));
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find(": intact (manifest sha256 ") != std::string::npos);
    // `pumprig report` rebuilds the views: the folder stays intact.
    auto rebuilt = run_command({kPumprig, "report", dir.string()}, std::chrono::seconds(120));
    INFO(rebuilt.err);
    auto still = run_command({kPumprig, "verify-record", dir.string()}, std::chrono::seconds(60));
    CHECK(still.exit_code == 0);

    // One byte of samples.csv changed: the last digit of the last line's total.
    std::string samples = read_file(dir / "samples.csv");
    auto comma = samples.rfind('\n', samples.size() - 2);
    REQUIRE(comma != std::string::npos);
    const auto total_at = samples.find(',', samples.find(',', comma + 1) + 1) + 1;  // third column
    samples[total_at] = samples[total_at] == '9' ? '8' : '9';
    std::ofstream(dir / "samples.csv", std::ios::binary) << samples;
    auto bad = run_command({kPumprig, "verify-record", out.path.string()}, std::chrono::seconds(60));
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find("NOT INTACT") != std::string::npos);
    CHECK(bad.out.find("  changed  samples.csv\n") != std::string::npos);
    CHECK(bad.out.find("record.json") == std::string::npos);
}

TEST_CASE("validate exits 2 naming the file, place and pointer of a requirement id not in the catalogue") {
    TempDir t;
    std::string text = read_file(kSource + "/scenarios/functions/continuous.json");
    const std::string from = "\"requirements\": [\"SRS-DEL-001\", \"SRS-RES-001\"]";
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), "\"requirements\": [\"SRS-DEL-001\", \"SRS-RES-999\"]");
    std::ofstream(t.path / "continuous.json") << text;
    auto r = run_command({kPumprig, "validate", (t.path / "continuous.json").string()}, std::chrono::seconds(30));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("continuous.json:4:35: /requirements/1: requirement \"SRS-RES-999\" is not in the requirements catalogue") !=
          std::string::npos);
    auto ok = run_command({kPumprig, "validate", kSource + "/scenarios"}, std::chrono::seconds(30));
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
}

TEST_CASE("an eol run's history row holds the digest of its run folder's manifest") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    auto r = run_command({kPumprig, "eol", "--serial", "SIM0001", "--station", "EOL-1", "--operator", "Ana", "--history", history, "--out",
                          (tmp.path / "runs").string()},
                         std::chrono::seconds(600));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto dirs = run_dirs(tmp.path / "runs");
    REQUIRE(dirs.size() == 1);
    auto store = pumprig::history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_for("SIM0001", false);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    const auto digest = pumprig::record::sha256_file_hex(dirs[0] / "MANIFEST.sha256");
    REQUIRE(digest);
    CHECK((*runs)[0].manifest_sha256 == *digest);
    CHECK((*runs)[0].run_dirs == dirs[0].string());
    auto v = run_command({kPumprig, "verify-record", dirs[0].string()}, std::chrono::seconds(60));
    CHECK(v.out.find("intact (manifest sha256 " + *digest + ")") != std::string::npos);
}
