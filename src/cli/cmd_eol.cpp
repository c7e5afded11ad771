// pumprig eol: the end-of-line test of one unit on a production station. The operator gives
// (or scans) the serial; pumprig checks it against the serial the pump reports, runs every
// scenario tagged "eol", writes the run to the results history (every check a measurement) and
// ends with ONE line on stdout: "PASS SN0001 eol-basic 20/20 checks" or
// "FAIL SN0001 <first failed check id>: <reason>". Everything else goes to stderr.
// Exit codes as pumprig run: 0 PASS, 1 the unit failed, 2 bad input, 3 station (bench) error or
// aborted. docs/eol.md.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "bench/bench.hpp"
#include "bench/bench_lock.hpp"
#include "bench/calibration.hpp"
#include "cli/commands.hpp"
#include "cli/load_scenarios.hpp"
#include "cli/lock_bench.hpp"
#include "cli/parse_args.hpp"
#include "cli/progress_option.hpp"
#include "cli/rig_option.hpp"
#include "eol/eol_policy.hpp"
#include "cli/option_checks.hpp"
#include "cli/stop_signals.hpp"
#include "core/text.hpp"
#include "history/results_store.hpp"
#include "record/json.hpp"
#include "record/recorder.hpp"
#include "run/suite.hpp"
#include "scenario/scenario.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

namespace {

std::string now_iso() {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    return record::iso_time(BenchTime{now.time_since_epoch()});
}

std::string joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
    return s;
}

using eol::one_line;
using eol::trim;

}  // namespace

int cmd_eol(int argc, char** argv) {
    BenchArgs args;
    std::vector<std::string> serial_args;
    std::string station, operator_name, junit_file;
    std::string history_conn = std::getenv("PUMPRIG_HISTORY") ? std::getenv("PUMPRIG_HISTORY") : history::kDefaultConnection;
    std::string out = "reports", fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    std::string scenarios_path = std::string(PUMPRIG_SOURCE_DIR) + "/scenarios/eol";
    int max_retests = 2;
    int rt_priority = 0;
    bool wait = false;
    po::options_description desc(
        "pumprig eol: end-of-line test of one unit (one per channel on a bench of several); ends with one line PASS or FAIL "
        "and the reason for each unit\nOptions");
    desc.add_options()("help,h", "show this help")
        ("serial", po::value(&serial_args),
         "the unit's serial number (absent: asked for on the terminal, a barcode scanner types it); on a bench of several "
         "channels CHANNEL=SERIAL for each channel, CHANNEL=- for an empty one")
        ("station", po::value(&station), "this station's name (required)")
        ("operator", po::value(&operator_name), "the operator's name or badge (required)")
        ("history", po::value(&history_conn),
         "results history: sqlite:FILE (default sqlite:reports/history.sqlite, or $PUMPRIG_HISTORY), postgresql://... or \"host=... dbname=...\"")
        ("max-retests", po::value(&max_retests)->default_value(2), "tests of a unit allowed after its first (tested runs in the history)")
        ("scenarios", po::value(&scenarios_path), "end-of-line scenarios: a folder or a file (default scenarios/eol); those tagged eol run")
        ("out", po::value(&out), "folder for the run folders (default reports/)")
        ("fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json")
        ("junit", po::value(&junit_file), "also write a JUnit XML file (a test suite per scenario)")
        ("wait", "if another run holds the bench, wait for it instead of refusing at once")
        ("quiet,q", "only the final line(s) and what went wrong: no progress, no log lines on stderr")
        ("rt-priority", po::value(&rt_priority)->default_value(0)->notifier(check_rt_priority),
         "real-time benches: sample at this SCHED_FIFO priority, 1-99 (needs root or CAP_SYS_NICE; 0: normal priority)");
    args.add_to(desc);
    std::vector<std::string> positional;
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "eol", desc, positional, vm, 0)) return *done;
    wait = vm.count("wait") > 0;
    station = trim(station);
    operator_name = trim(operator_name);
    if (station.empty() || operator_name.empty()) {
        std::cerr << "pumprig eol: --station NAME and --operator NAME are required (they go into the results history)\n";
        return kExitBadInput;
    }
    if (max_retests < 0) {
        std::cerr << "pumprig eol: --max-retests: expected 0 or more, got " << max_retests << "\n";
        return kExitBadInput;
    }
    auto rig = bench::load_rig(args.rig, PUMPRIG_SOURCE_DIR);
    if (!rig) {
        std::cerr << "pumprig eol: " << rig.error().message << "\n";
        return kExitBadInput;
    }
    if (auto keys = bench::check_pump_keys(*rig); !keys) {
        std::cerr << "pumprig eol: " << args.rig << ": " << keys.error().message << "\n";
        return kExitBadInput;
    }
    for (const auto& w : bench::calibration_warnings(*rig, std::chrono::system_clock::now())) std::cerr << "pumprig eol: " << w << "\n";
    const auto channel_rigs = bench::channel_rigs(*rig);
    const bool multi = !rig->channels.empty();

    // One unit per channel (one on a single-channel bench). A channel given "-" is empty.
    using eol::Unit;
    std::vector<std::string> channel_names;
    for (const auto& c : channel_rigs) channel_names.push_back(c.channel);
    auto units = eol::units_for(channel_names);
    if (auto given = eol::assign_serials(units, serial_args, args.rig); !given) {
        std::cerr << "pumprig eol: " << given.error().message << "\n";
        return kExitBadInput;
    }
    // Serials not given are asked for on the terminal (a barcode scanner types them).
    for (auto& u : units) {
        if (!u.present || !u.serial.empty()) continue;
        if (!isatty(STDIN_FILENO)) {
            std::cerr << "pumprig eol: --serial " << (multi ? u.channel + "=SN for every channel" : std::string("SN"))
                      << " is required when stdin is not a terminal\n";
            return kExitBadInput;
        }
        std::cerr << (multi ? "Channel " + u.channel + ": scan or type the unit's serial number (- for none), then Enter: "
                            : std::string("Scan or type the unit's serial number, then Enter: "))
                  << std::flush;
        if (!std::getline(std::cin, u.serial)) {
            std::cerr << "\npumprig eol: no serial number read\n";
            return kExitBadInput;
        }
        if (multi && trim(u.serial) == "-") u.present = false;
    }
    if (auto checked = eol::check_serials(units); !checked) {
        std::cerr << "pumprig eol: " << checked.error().message << "\n";
        return kExitBadInput;
    }
    // The one final line per unit; every path below ends with it.
    auto final_line = [&](const Unit& u, const std::string& text) {
        std::printf("%s%s\n", multi ? ("[" + u.channel + "] ").c_str() : "", printable(text).c_str());
        std::fflush(stdout);
    };
    auto fail_all = [&](const std::string& what, const std::string& reason, int code) {
        for (const auto& u : units)
            if (u.present) final_line(u, "FAIL " + u.serial + " " + what + ": " + one_line(reason));
        return code;
    };

    // Scenarios are checked before anything else is touched: bad input never half-tests a unit.
    auto loaded = load_scenarios({scenarios_path}, fixtures, {"eol"});
    if (!loaded) return kExitBadInput;
    const auto& scenarios = *loaded;
    if (scenarios.empty()) {
        std::cerr << "pumprig eol: no scenario tagged eol in " << scenarios_path << "\n";
        return kExitBadInput;
    }
    if (auto where = history::parse_location(history_conn); !where) {
        std::cerr << "pumprig eol: " << where.error().message << "\n";
        return kExitBadInput;
    }
    // The history is opened first: a unit whose result cannot be recorded is not tested.
    auto store = history::open_store(history_conn);
    if (!store) return fail_all("history", store.error().message, store.error().kind == ErrorKind::BadInput ? kExitBadInput : kExitBenchError);
    std::vector<std::string> names;
    for (const auto& sc : scenarios) names.push_back(sc.name);
    for (auto& u : units) {
        if (!u.present) continue;
        auto tested = (*store)->tested_runs(u.serial);
        if (!tested) return fail_all("history", tested.error().message, kExitBenchError);
        eol::apply_retest_limit(u, *tested, max_retests, (*store)->describe());
        if (u.failed_early) continue;
        u.record.serial = u.serial;
        u.record.station = station;
        u.record.operator_name = operator_name;
        u.record.started_at = now_iso();
        // On a bench of several channels the channel is part of where the unit was tested.
        u.record.rig = multi ? rig->name + "/" + u.channel : rig->name;
        u.record.pumprig_version = kVersion;
        u.record.scenarios = joined(names);
    }

    auto& g_eol_stop = install_stop_signals();
    std::optional<bench::BenchLock> lock;
    if (std::any_of(units.begin(), units.end(), [](const Unit& u) { return !u.finished(); })) {
        auto l = lock_bench("eol", *rig, argc, argv, wait, [&g_eol_stop] { return g_eol_stop.load(); });
        if (!l) return fail_all("bench-lock", l.error().message, kExitBenchError);
        lock = std::move(*l);
    }

    const bool quiet = vm.count("quiet") > 0;
    auto progress = make_progress(quiet);
    std::mutex out_mutex;  // channels run in threads; their lines must not interleave
    auto say = [&out_mutex, &progress, multi](const std::string& channel, const std::string& line) {
        const std::string text = "  " + (multi ? "[" + channel + "] " : "") + printable(line);
        if (progress) return progress->log_line(text);  // keeps the live line below the log
        std::lock_guard l(out_mutex);
        std::cerr << text << "\n";
    };
    // The engine's log lines (commands, events); --quiet drops them.
    const std::function<void(const std::string&, const std::string&)> engine_log =
        quiet ? std::function<void(const std::string&, const std::string&)>() : say;
    std::vector<report::JUnitSuite> suites;
    auto so = args.suite_options(out, fixtures, rt_priority, &g_eol_stop);
    so.log = say;
    so.progress = engine_log;
    so.run.progress = progress ? &*progress : nullptr;
    so.quiet = quiet;
    so.channel_done = [&units](std::size_t i) { return units[i].finished(); };
    so.on_stopped = [&units](const scenario::Scenario& next) {
        for (auto& u : units) eol::stopped_before(u, next.name);
    };
    // The serial check, on the channel's own thread: the pump's own HELLO, before anything is
    // sent that needs a session. A unit that fails it is not run.
    so.gate = [&](std::size_t i, bench::Bench& bench) {
        auto& u = units[i];
        auto id = bench.pump().hello();
        if (!id) {
            eol::identification_failed(u, id.error().describe());
            return false;
        }
        if (!eol::check_serial(u, id->serial, id->model, id->firmware)) {
            say(u.channel, u.failed_early->second + " (wrong unit on the bench, or a mistyped serial)");
            return false;
        }
        return true;
    };
    run::run_suite(*rig, scenarios, so, [&](run::ScenarioRun& r) {
        eol::add_run(units[r.channel_index], r.scenario->name, r.result, r.manifest.value_or(""));
        if (r.reports) suites.push_back(r.reports->junit_suite);
    });
    bool junit_failed = false;
    if (!junit_file.empty()) {
        if (auto w = record::write_file_atomic(junit_file, report::render_junit(suites)); !w) {
            std::cerr << "pumprig eol: --junit: " << w.error().message << "\n";
            junit_failed = true;
        }
    }

    // Each unit's verdict goes to the history, then its one line. A result that cannot be
    // recorded fails the unit (no untraceable PASS).
    int exit_code = run::kExitPass;
    // A JUnit file that could not be written is an output lost (exit 3); the units' verdicts
    // and their history stand.
    if (junit_failed) exit_code = run::worse_exit(exit_code, run::kExitBenchError);
    for (auto& u : units) {
        if (!u.present) continue;
        const auto c = eol::conclude(u);
        if (c.recorded) {
            const auto row = eol::history_record(u, c, now_iso());
            if (auto id = (*store)->record_run(row); !id) {
                std::cerr << "pumprig eol: the result of " << u.serial << " (" << c.verdict << (c.reason.empty() ? "" : ": " + c.reason)
                          << ") could not be recorded\n";
                final_line(u, "FAIL " + u.serial + " history: " + one_line(id.error().message));
                exit_code = run::worse_exit(exit_code, run::kExitBenchError);
                continue;
            } else {
                if (!quiet) std::cerr << (multi ? "[" + u.channel + "] " : "") << "recorded as run " << *id << " in " << (*store)->describe() << "\n";
            }
        }
        final_line(u, eol::final_line(u, c));
        exit_code = run::worse_exit(exit_code, c.exit_code);
    }
    return exit_code;
}

}  // namespace pumprig::cli
