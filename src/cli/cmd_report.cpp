// pumprig report RUN_DIR...: rebuilds every view of a run from its raw folder (report.html,
// junit.xml, record.rebuilt.json), re-judging the recorded data, optionally with another
// delivery tolerance. Works on runs that were cut short (marked INCOMPLETE). Exit codes as for
// run: 0 passed, 1 a check failed or was inconclusive, 2 bad input, 3 the run was aborted,
// errored or is incomplete.
#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "core/text.hpp"
#include "run/rejudge.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_report(int argc, char** argv) {
    std::vector<std::string> dirs;
    std::string fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    double tolerance_pct = 0;
    po::options_description desc("pumprig report RUN_DIR...: rebuild a run's reports from its run folder\nOptions");
    desc.add_options()("help,h", "show this help")
        ("tolerance-pct", po::value(&tolerance_pct), "re-judge with this delivery accuracy, percent of programmed volume")
        ("fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "report", desc, dirs, vm)) return *done;
    if (dirs.empty()) {
        std::cerr << "pumprig report: give at least one run folder\n";
        return kExitBadInput;
    }
    run::ReportOptions options;
    options.fixtures_dir = fixtures;
    if (vm.count("tolerance-pct")) options.tolerance_pct = tolerance_pct;
    int exit_code = kExitPass;
    for (const auto& d : dirs) {
        auto built = run::build_reports(d, options);
        if (!built) {
            std::cerr << "pumprig report: " << printable(built.error().message) << "\n";
            exit_code = kExitBadInput;
            continue;
        }
        const auto s = verify::summarise(built->checks);
        std::cout << built->outcome << (built->incomplete ? " INCOMPLETE" : "") << "  " << s.pass << " passed, " << s.fail << " failed, "
                  << s.inconclusive << " inconclusive  " << d << "\n";
        std::cout << "  " << built->html.string() << "\n  " << built->junit.string() << "\n";
        if (!built->rebuilt_record.empty()) std::cout << "  " << built->rebuilt_record.string() << "\n";
        int code = kExitPass;
        if (built->incomplete || built->outcome == "ERROR" || built->outcome == "ABORTED") code = kExitBenchError;
        else if (built->outcome != "PASS") code = kExitCheckFailed;
        if (exit_code != kExitBadInput) exit_code = std::max(exit_code, code);
    }
    return exit_code;
}

}  // namespace pumprig::cli
