// pumprig run SCENARIO...: runs scenarios (files or folders) on a bench, one run folder each,
// prints the checks and a summary table. Exit 0 all passed, 1 a check failed, 2 bad input,
// 3 bench error, aborted run, or the bench held by another run (--wait waits for it).
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <set>

#include "bench/bench.hpp"
#include "bench/bench_lock.hpp"
#include "cli/commands.hpp"
#include "cli/load_scenarios.hpp"
#include "cli/lock_bench.hpp"
#include "cli/parse_args.hpp"
#include "cli/rig_option.hpp"
#include "cli/option_checks.hpp"
#include "cli/stop_signals.hpp"
#include "core/text.hpp"
#include "pump/sim/defects.hpp"
#include "report/run_folder.hpp"
#include "run/channels.hpp"
#include "run/engine.hpp"
#include "run/rejudge.hpp"
#include "scenario/scenario.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_run(int argc, char** argv) {
    BenchArgs args;
    std::vector<std::string> paths, tags;
    std::string junit_file;
    std::string out = "reports", fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    double max_hours = 0;
    int rt_priority = 0;
    std::vector<std::string> defects, meter_faults;
    po::options_description desc("pumprig run SCENARIO...: run scenario files or folders on a bench\nOptions");
    desc.add_options()("help,h", "show this help")
        ("out", po::value(&out), "folder for the run folders (default reports/)")
        ("tags", po::value(&tags)->multitoken(), "run only scenarios with one of these tags")
        ("max-hours", po::value(&max_hours)->notifier(check_max_hours), "abort a scenario that runs longer than this many bench hours (above 0)")
        ("fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json")
        ("wait", "if another run holds the bench, wait for it instead of refusing at once (exit 3)")
        ("junit", po::value(&junit_file), "also write one JUnit XML file for all scenarios (a test suite each) here")
        ("rt-priority", po::value(&rt_priority)->default_value(0)->notifier(check_rt_priority),
         "real-time benches: sample at this SCHED_FIFO priority, 1-99 (needs root or CAP_SYS_NICE; 0: normal priority)")
        ("defect", po::value(&defects), "simulated bench only: give the pump this defect (pumprig-sim --list-defects); repeatable")
        ("meter-fault", po::value(&meter_faults), "simulated bench only: give the meter this fault (zero_drift[=X], air_bursts[=N], frozen[=S]); repeatable");
    args.add_to(desc);
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "run", desc, paths, vm)) return *done;
    if (paths.empty()) {
        std::cerr << "pumprig run: give at least one scenario file or folder\n";
        return kExitBadInput;
    }
    auto rig = bench::load_rig(args.rig, PUMPRIG_SOURCE_DIR);
    if (!rig) {
        std::cerr << "pumprig run: " << rig.error().message << "\n";
        return kExitBadInput;
    }
    // Key faults are bad input found now, not a bench error once the simulator runs.
    if (auto keys = bench::check_pump_keys(*rig); !keys) {
        std::cerr << "pumprig run: " << args.rig << ": " << keys.error().message << "\n";
        return kExitBadInput;
    }
    if (!defects.empty() || !meter_faults.empty()) {
        if (!rig->simulator.enabled) {
            std::cerr << "pumprig run: --defect and --meter-fault need a simulated bench (a rig with a \"simulator\" section), not "
                      << args.rig << "\n";
            return kExitBadInput;
        }
        // Checked here, so a typo is bad input, not a bench error later.
        for (const auto& d : defects) {
            if (!pump::sim::defect_from_name(d)) {
                std::cerr << "pumprig run: --defect " << d << ": expected a defect name from pumprig-sim --list-defects\n";
                return kExitBadInput;
            }
            rig->simulator.defects.push_back(d);
        }
        for (const auto& f : meter_faults) {
            if (!bench::is_meter_fault(f)) {
                std::cerr << "pumprig run: --meter-fault " << f << ": expected zero_drift, air_bursts or frozen, optionally =NUMBER\n";
                return kExitBadInput;
            }
            rig->simulator.meter_faults.push_back(f);
        }
    }
    // Every scenario is checked before the bench is touched: bad input never half-runs a suite.
    auto loaded = load_scenarios(paths, fixtures, tags);
    if (!loaded) return kExitBadInput;
    const auto& scenarios = *loaded;
    if (scenarios.empty()) {
        std::cerr << "pumprig run: no scenario to run (check the paths and --tags)\n";
        return kExitBadInput;
    }

    auto& g_stop = install_stop_signals();
    // One run per bench at a time (hardware, ser2net, a separately started simulator); the
    // lock is held until this process ends, however it ends (src/bench/bench_lock.hpp).
    auto bench_lock = lock_bench("run", *rig, argc, argv, vm.count("wait") > 0, [&g_stop] { return g_stop.load(); });
    if (!bench_lock) {
        std::cerr << "pumprig run: " << bench_lock.error().message << "\n";
        return kExitBenchError;
    }
    const bool tty = isatty(STDERR_FILENO);
    const std::size_t channels = std::max<std::size_t>(1, rig->channels.size());
    std::mutex out_mutex;  // channels run in threads; their lines must not interleave
    auto say = [&out_mutex](const std::string& channel, const std::string& line) {
        std::lock_guard lock(out_mutex);
        std::cerr << "  " << (channel.empty() ? "" : "[" + channel + "] ") << printable(line) << "\n";
    };

    struct Row { std::string name; run::RunResult r; };
    std::vector<Row> rows;
    std::vector<report::JUnitSuite> suites;   // views of each run (src/run/rejudge.hpp)
    std::vector<report::SuiteEntry> entries;
    auto bench_error = [&](const std::string& name, const std::string& error) {
        run::RunResult r;
        r.outcome = run::Outcome::Error;
        r.error = error;
        report::JUnitSuite js;
        js.name = name;
        js.outcome = "ERROR";
        js.error = error;
        suites.push_back(js);
        entries.push_back({name, "ERROR", true, 0, 0, 0, "", ""});
        rows.push_back({name, r});
    };
    for (const auto& sc : scenarios) {
        if (g_stop.load()) break;
        std::cerr << "== " << printable(sc.name) << " (" << printable(sc.file.string()) << ")" << (channels > 1 ? " on " + std::to_string(channels) + " channels" : "") << "\n";
        std::vector<run::TraceRelay> relays(channels);
        bench::BenchOptions bo;
        bo.seed = args.seed;
        bo.sim_binary = args.sim_binary;
        bo.channel_pump_trace = [&relays](std::size_t i, bool to_device, std::string_view bytes) { relays[i](to_device, bytes); };
        bench::RigDescription rig_for = *rig;
        if (sc.simulator.any()) {
            if (!rig_for.simulator.enabled) {
                std::cerr << "pumprig run: " << sc.file.string()
                          << ": /simulator: this scenario sets up the pump through the simulated bench (battery charge); "
                             "expected a rig with a \"simulator\" section, got " << args.rig << "\n";
                run::RunResult r;
                r.outcome = run::Outcome::Error;
                r.error = "scenario needs the simulated bench";
                rows.push_back({sc.name, r});
                continue;
            }
            if (sc.simulator.battery_pct) rig_for.simulator.battery_pct = *sc.simulator.battery_pct;
        }
        auto benches = bench::Bench::open_channels(rig_for, bo);
        if (!benches) {
            std::cerr << "pumprig run: " << printable(benches.error().message) << "\n";
            bench_error(sc.name, benches.error().message);
            continue;
        }
        run::RunOptions ro;
        ro.out_root = out;
        ro.seed = args.seed;
        ro.stop_requested = &g_stop;
        ro.live_progress = tty;
        ro.rig_file = args.rig;
        ro.realtime_priority = rt_priority;
        if (max_hours > 0) ro.max_bench_duration = Millis{static_cast<long long>(max_hours * 3600'000.0)};
        std::function<void(const std::string&, const std::string&)> log;
        if (!tty || channels > 1) log = say;
        auto runs = run::run_on_channels(*benches, sc, ro, relays, log);
        for (auto& cr : runs) {
            const std::string name = cr.channel.empty() ? sc.name : sc.name + " [" + cr.channel + "]";
            const std::string tag = cr.channel.empty() ? "" : "[" + cr.channel + "] ";
            auto& r = cr.result;
            if (r.dir.empty()) {
                // The channel never started (its links did not open): an error of its own.
                std::cerr << "  " << tag << "ERROR  " << printable(r.error) << "\n";
                bench_error(name, r.error);
                continue;
            }
            for (const auto& c : r.checks) {
                if (c.verdict == verify::Verdict::Pass) continue;
                std::fprintf(stderr, "  %s%-13s %-36s measured %.4g %s, expected %.4g (%s) %s\n", tag.c_str(), verify::to_string(c.verdict),
                             printable(c.id).c_str(), c.measured, printable(c.unit).c_str(), c.expected, printable(c.tolerance).c_str(),
                             printable(c.detail).c_str());
            }
            std::cerr << "  " << tag << run::to_string(r.outcome) << "  " << r.dir.string() << "\n";
            if (!r.error.empty()) std::cerr << "  " << tag << "error: " << printable(r.error) << "\n";
            run::ReportOptions rep;
            rep.rejudge = false;
            rep.fixtures_dir = fixtures;
            if (auto built = run::build_reports(r.dir, rep)) {
                std::cerr << "  " << tag << "report " << built->html.string() << "\n";
                suites.push_back(built->junit_suite);
                entries.push_back(built->suite_entry);
            } else {
                std::cerr << "  " << tag << "report not written: " << printable(built.error().message) << "\n";
            }
            std::cerr << "  " << tag << "pump left "
                      << (r.safe_stop.confirmed_stopped ? "stopped (confirmed)" : "NOT confirmed stopped: " + printable(r.safe_stop.detail)) << "\n";
            rows.push_back({name, std::move(r)});
        }
    }

    std::printf("\n%-36s %-13s %6s %6s %6s  %s\n", "scenario", "outcome", "pass", "fail", "inconc", "record");
    int exit_code = kExitPass;
    for (const auto& row : rows) {
        const auto s = verify::summarise(row.r.checks);
        std::printf("%-36s %-13s %6zu %6zu %6zu  %s\n", printable(row.name).substr(0, 36).c_str(), run::to_string(row.r.outcome), s.pass, s.fail,
                    s.inconclusive, row.r.dir.string().c_str());
        if (row.r.outcome == run::Outcome::Error || row.r.outcome == run::Outcome::Aborted) exit_code = kExitBenchError;
        else if (row.r.outcome != run::Outcome::Pass && exit_code == kExitPass) exit_code = kExitCheckFailed;
    }
    if (g_stop.load()) {
        exit_code = kExitBenchError;
        std::cerr << "pumprig run: stopped by " << stop_signal_name() << "\n";
    }
    if (!junit_file.empty()) {
        // The JUnit file is what CI reads: one that could not be written fails the job (exit 3),
        // after everything else was written.
        if (auto w = report::write_file_atomic(junit_file, report::render_junit(suites)); !w) {
            std::cerr << "pumprig run: --junit: " << w.error().message << "\n";
            exit_code = kExitBenchError;
        }
    }
    if (entries.size() > 1) {
        // The suite page sits in its own folder beside the run folders and links to them.
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        const auto suite_dir = std::filesystem::path(out) / (std::string("suite-") + stamp);
        std::error_code ec;
        std::filesystem::create_directories(suite_dir, ec);
        for (auto& e : entries)
            if (!e.report_href.empty()) e.report_href = "../" + e.report_href;
        if (auto w = report::write_file_atomic(suite_dir / "index.html", report::render_suite_html(std::string("pumprig suite ") + stamp, entries)); w)
            std::printf("suite page %s\n", (suite_dir / "index.html").string().c_str());
        else
            std::cerr << "pumprig run: " << w.error().message << "\n";
    }
    std::size_t passed = 0;
    for (const auto& row : rows) passed += row.r.outcome == run::Outcome::Pass;
    std::printf("%zu of %zu scenarios passed\n", passed, rows.size());
    return exit_code;
}

}  // namespace pumprig::cli
