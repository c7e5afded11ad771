// pumprig compare RUN_A RUN_B: two runs of the same scenario side by side, check by check
// (their recorded checks), flagging verdict changes, checks in one run only and measured
// values that moved by more than a fraction of their tolerance band. Refuses (exit 2) runs of
// different scenario files (SHA-256) unless --force. Exit 0 when nothing is flagged, 1 when
// something is.
#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "core/text.hpp"
#include "report/compare.hpp"
#include "record/folder.hpp"
#include "record/recorder.hpp"
#include "run/rejudge.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

namespace {

struct Side {
    std::string dir, scenario, sha, outcome, firmware;
    std::vector<verify::CheckResult> checks;
};

// The checks of a run: the record's, or, for a record without them (cut short), re-judged
// from the raw files as `pumprig report` does.
Result<Side> load_side(const std::string& dir, const std::string& fixtures) {
    auto rec = record::read_record(std::filesystem::path(dir) / "record.json");
    if (!rec) return std::unexpected(rec.error());
    Side s;
    s.dir = dir;
    const auto& r = *rec;
    s.scenario = r.scenario.name;
    s.sha = r.scenario.sha256;
    s.outcome = r.outcome ? record::to_string(*r.outcome) : "";
    s.firmware = r.pump ? r.pump->firmware : "";
    if (r.judged && r.state == record::RunState::Complete) {
        s.checks = r.checks;
    } else {
        auto loaded = run::load_run(dir, fixtures);
        if (!loaded) return std::unexpected(loaded.error());
        s.checks = run::judge(loaded->scenario, loaded->data);
        s.outcome = (s.outcome.empty() ? "ABORTED" : s.outcome) + " (INCOMPLETE, re-judged)";
    }
    return s;
}

}  // namespace

int cmd_compare(int argc, char** argv) {
    std::vector<std::string> dirs;
    std::string html, fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    double fraction = 0.25;
    bool force = false;
    po::options_description desc("pumprig compare RUN_A RUN_B: compare two runs of the same scenario, check by check\nOptions");
    desc.add_options()("help,h", "show this help")
        ("html", po::value(&html), "also write the comparison as an HTML page to this file")
        ("move-fraction", po::value(&fraction)->default_value(0.25), "flag a measured value that moved by more than this fraction of its tolerance band")
        ("force", po::bool_switch(&force), "compare even if the scenario files differ (SHA-256)")
        ("fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json (to re-judge a run cut short)");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "compare", desc, dirs, vm)) return *done;
    if (dirs.size() != 2) {
        std::cerr << "pumprig compare: give exactly two run folders (RUN_A RUN_B), got " << dirs.size() << "\n";
        return kExitBadInput;
    }
    if (!(fraction > 0)) {
        std::cerr << "pumprig compare: --move-fraction: expected a number above 0\n";
        return kExitBadInput;
    }
    auto a = load_side(dirs[0], fixtures);
    auto b = load_side(dirs[1], fixtures);
    for (const auto* s : {&a, &b})
        if (!*s) {
            std::cerr << "pumprig compare: " << s->error().message << "\n";
            return kExitBadInput;
        }
    if (a->sha != b->sha && !force) {
        std::cerr << "pumprig compare: the runs ran different scenario files (SHA-256 " << a->sha << " and " << b->sha
                  << "); give --force to compare them anyway\n";
        return kExitBadInput;
    }
    const auto rows = report::compare_checks(a->checks, b->checks, {fraction});
    report::CompareHeader h{a->dir, b->dir, a->scenario, b->scenario, a->sha, b->sha, a->outcome, b->outcome, a->firmware, b->firmware, fraction};
    // Names and details come from the records: each line shown without control characters.
    std::istringstream table(report::format_compare_table(h, rows));
    for (std::string line; std::getline(table, line);) std::cout << printable(line) << "\n";
    if (!html.empty()) {
        if (auto w = record::write_file_atomic(html, report::render_compare_html(h, rows)); !w) {
            std::cerr << "pumprig compare: " << w.error().message << "\n";
            return kExitBenchError;
        }
    }
    for (const auto& r : rows)
        if (r.flagged) return kExitCheckFailed;
    return kExitPass;
}

}  // namespace pumprig::cli
