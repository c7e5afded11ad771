// pumprig history SERIAL: a unit's end-of-line runs from the results history, oldest first;
// --csv FILE exports every measurement of them. docs/eol.md.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/history_option.hpp"
#include "cli/parse_args.hpp"
#include "core/text.hpp"
#include "history/results_store.hpp"
#include "record/recorder.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_history(int argc, char** argv) {
    std::string serial, csv_file;
    std::string history_conn = default_history();
    po::options_description desc("pumprig history SERIAL: a unit's end-of-line runs\nOptions");
    desc.add_options()("help,h", "show this help");
    add_history_option(desc, history_conn);
    desc.add_options()("csv", po::value(&csv_file), "also write every measurement of these runs to this CSV file");
    std::vector<std::string> positional;
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "history", desc, positional, vm, 1)) return *done;
    if (!positional.empty()) serial = positional[0];
    if (serial.empty()) {
        std::cerr << "pumprig history: give the unit's serial number, e.g. pumprig history SN0001\n";
        return kExitBadInput;
    }
    auto store = open_history("history", history_conn, false);  // reading only: nothing is created
    if (!store) return store.error();
    auto runs = (*store)->runs_for(serial, true);
    if (!runs) {
        std::cerr << "pumprig history: " << runs.error().message << "\n";
        return kExitBenchError;
    }
    std::printf("%-6s %-24s %-12s %-14s %-8s %-10s %-8s %-7s %s\n", "run", "started", "station", "operator", "model", "firmware",
                "verdict", "checks", "reason");
    int tested = 0;
    for (const auto& r : *runs) {
        std::size_t pass = 0;
        for (const auto& m : r.measurements) pass += m.verdict == "PASS";
        const std::string checks = std::to_string(pass) + "/" + std::to_string(r.measurements.size());
        std::printf("%-6lld %-24s %-12s %-14s %-8s %-10s %-8s %-7s %s\n", static_cast<long long>(r.id), printable(r.started_at).c_str(),
                    printable(r.station).c_str(), printable(r.operator_name).c_str(), printable(r.model).c_str(), printable(r.firmware).c_str(),
                    printable(r.verdict).c_str(), checks.c_str(), printable(r.reason).c_str());
        tested += r.tested;
    }
    std::printf("%zu runs of %s in %s, %d tested (%d retests)\n", runs->size(), printable(serial).c_str(), (*store)->describe().c_str(), tested,
                tested > 0 ? tested - 1 : 0);
    if (!csv_file.empty()) {
        if (auto w = record::write_file_atomic(csv_file, history::to_csv(*runs)); !w) {
            std::cerr << "pumprig history: " << w.error().message << "\n";
            return kExitBenchError;
        }
        std::printf("csv %s\n", csv_file.c_str());
    }
    return kExitPass;
}

}  // namespace pumprig::cli
