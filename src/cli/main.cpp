// pumprig: command-line entry. One file per subcommand (cmd_*.cpp); this file only dispatches.
#include <csignal>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/commands.hpp"

using namespace pumprig::cli;

namespace {

void usage(std::ostream& out) {
    out << "pumprig: hardware-in-the-loop test rig controller for intrathecal drug pumps\n\n"
           "usage: pumprig COMMAND [options]   (pumprig COMMAND --help for its options)\n\n"
           "commands:\n"
           "  probe      open both links, identify and authenticate the pump, read the meter\n"
           "  run        run scenarios on a bench and judge them\n"
           "  validate   check scenario files without a bench\n"
           "  report     rebuild a run's reports (HTML, JUnit) from its run folder, optionally re-judged\n"
           "  compare    compare two runs of the same scenario, check by check\n"
           "  eol        end-of-line test of one unit: serial check, eol scenarios, one PASS/FAIL line, results history\n"
           "  history    a unit's end-of-line runs from the results history (--csv to export)\n"
           "  stats      the line's yield, failures by check, capability and control charts (--html, --csv)\n"
           "  ports      this host's serial ports (USB ids, serial numbers, by-id paths) and a rig snippet\n"
           "  trace      traceability matrix of runs against the requirements catalogue (--release: release report)\n"
           "  verify-record  check run folders against their MANIFEST.sha256 (changed, added, missing files)\n\n"
           "exit codes: 0 all passed, 1 a check failed, 2 bad input, 3 bench error or aborted run\n";
}

}  // namespace

int main(int argc, char** argv) {
    // A closed output pipe (`pumprig run ... | head`) fails a write with EPIPE instead of ending
    // the process: a run goes on, stops the pump and writes its record (docs/reliability.md).
    std::signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(std::cerr);
        return kExitBadInput;
    }
    const std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(std::cout);
        return kExitPass;
    }
    if (cmd == "--version") {
        std::cout << "pumprig " << kVersion << "\n";
        return kExitPass;
    }
    try {
        if (cmd == "probe") return cmd_probe(argc - 1, argv + 1);
        if (cmd == "run") return cmd_run(argc - 1, argv + 1);
        if (cmd == "validate") return cmd_validate(argc - 1, argv + 1);
        if (cmd == "report") return cmd_report(argc - 1, argv + 1);
        if (cmd == "compare") return cmd_compare(argc - 1, argv + 1);
        if (cmd == "eol") return cmd_eol(argc - 1, argv + 1);
        if (cmd == "history") return cmd_history(argc - 1, argv + 1);
        if (cmd == "stats") return cmd_stats(argc - 1, argv + 1);
        if (cmd == "ports") return cmd_ports(argc - 1, argv + 1);
        if (cmd == "trace") return cmd_trace(argc - 1, argv + 1);
        if (cmd == "verify-record") return cmd_verify_record(argc - 1, argv + 1);
    } catch (const std::exception& e) {
        std::cerr << "pumprig " << cmd << ": " << e.what() << "\n";
        return kExitBenchError;
    }
    std::cerr << "pumprig: no command '" << cmd << "'\n\n";
    usage(std::cerr);
    return kExitBadInput;
}
