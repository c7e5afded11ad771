// pumprig run SCENARIO...: runs scenarios (files or folders) on a bench, one run folder each,
// prints the checks and a summary table. Exit 0 all passed, 1 a check failed, 2 bad input,
// 3 bench error, aborted run, or the bench held by another run (--wait waits for it).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "bench/bench.hpp"
#include "bench/bench_lock.hpp"
#include "bench/calibration.hpp"
#include "cli/commands.hpp"
#include "cli/load_scenarios.hpp"
#include "cli/lock_bench.hpp"
#include "cli/parse_args.hpp"
#include "cli/progress_option.hpp"
#include "cli/rig_option.hpp"
#include "cli/option_checks.hpp"
#include "cli/stop_signals.hpp"
#include "core/text.hpp"
#include "pump/sim/defects.hpp"
#include "record/recorder.hpp"
#include "run/engine.hpp"
#include "run/rejudge.hpp"
#include "run/suite.hpp"
#include "scenario/scenario.hpp"
#include "sim_catalogue/faults.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_run(int argc, char** argv) {
    BenchArgs args;
    std::vector<std::string> paths, tags;
    std::string junit_file;
    std::string out = "reports", fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    double max_hours = 0;
    int rt_priority = 0;
    // Scenarios at once: as many as cores on a simulated bench, one at a time on any other.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int jobs = cores;
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
        ("jobs,j", po::value(&jobs)->default_value(cores)->notifier(check_jobs),
         "simulated bench only: run this many scenarios at once, each on a simulator of its own (default: the number of cores; "
         "1 on any other bench)")
        ("defect", po::value(&defects), "simulated bench only: give the pump this defect, NAME[=MAGNITUDE] (pumprig-sim --list-defects); repeatable")
        ("meter-fault", po::value(&meter_faults), "simulated bench only: give the meter this fault (zero_drift[=X], air_bursts[=N], frozen[=S]); repeatable")
        ("quiet,q", "print only the summary (and failures, errors, a pump not confirmed stopped): no progress, no log lines");
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
    for (const auto& w : bench::calibration_warnings(*rig, std::chrono::system_clock::now())) std::cerr << "pumprig run: " << w << "\n";
    if (!defects.empty() || !meter_faults.empty()) {
        if (!rig->simulator.enabled) {
            std::cerr << "pumprig run: --defect and --meter-fault need a simulated bench (a rig with a \"simulator\" section), not "
                      << args.rig << "\n";
            return kExitBadInput;
        }
        // Checked here, so a typo is bad input, not a bench error later.
        for (const auto& d : defects) {
            if (std::string why; !pump::sim::parse_defect(d, &why)) {
                std::cerr << "pumprig run: --defect " << d << ": " << why << " (pumprig-sim --list-defects)\n";
                return kExitBadInput;
            }
            rig->simulator.defects.push_back(d);
        }
        for (const auto& f : meter_faults) {
            if (!sim_catalogue::is_meter_fault(f)) {
                std::cerr << "pumprig run: --meter-fault " << f << ": expected zero_drift, air_bursts or frozen, optionally =NUMBER\n";
                return kExitBadInput;
            }
            rig->simulator.meter_faults.push_back(f);
        }
    }
    // Several scenarios at once need a bench each: only a simulated bench that pumprig starts
    // can give that (a simulator per scenario). Any other bench is one bench: one at a time.
    if (!rig->simulator.enabled) {
        if (!vm["jobs"].defaulted() && jobs > 1) {
            std::cerr << "pumprig run: --jobs " << jobs << ": scenarios run at once only on a simulated bench that pumprig starts (a rig with a "
                      << "\"simulator\" section), not on " << args.rig << ": give --jobs 1 or leave --jobs out\n";
            return kExitBadInput;
        }
        jobs = 1;
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
    const bool quiet = vm.count("quiet") > 0;
    const std::size_t channels = std::max<std::size_t>(1, rig->channels.size());
    auto progress = make_progress(quiet);
    std::mutex out_mutex;  // channels run in threads; their lines must not interleave
    auto say = [&out_mutex, &progress](const std::string& channel, const std::string& line) {
        const std::string text = "  " + (channel.empty() ? "" : "[" + channel + "] ") + printable(line);
        if (progress) return progress->log_line(text);  // keeps the live line below the log
        std::lock_guard lock(out_mutex);
        std::cerr << text << "\n";
    };

    struct Row { std::string name; run::RunResult r; };
    std::vector<Row> rows;
    std::vector<report::JUnitSuite> suites;   // views of each run (src/run/rejudge.hpp)
    std::vector<report::SuiteEntry> entries;
    auto so = args.suite_options(out, fixtures, rt_priority, &g_stop);
    so.run.progress = progress ? &*progress : nullptr;
    so.quiet = quiet;
    if (max_hours > 0) so.run.max_bench_duration = Millis{static_cast<long long>(max_hours * 3600'000.0)};
    so.log = say;
    so.jobs = static_cast<std::size_t>(jobs);
    so.heading = [&out_mutex, &progress](const std::string& line) {
        if (progress) return progress->log_line(line);
        std::lock_guard lock(out_mutex);
        std::cerr << line << "\n";
    };
    if (!quiet && (!tty || channels > 1)) so.progress = say;
    run::run_suite(*rig, scenarios, so, [&](run::ScenarioRun& r) {
        const std::string name = r.channel.empty() ? r.scenario->name : r.scenario->name + " [" + r.channel + "]";
        if (r.reports) {
            suites.push_back(r.reports->junit_suite);
            entries.push_back(r.reports->suite_entry);
        } else if (r.result.dir.empty()) {
            // The run never started (the bench did not open): an error of its own.
            report::JUnitSuite js;
            js.name = name;
            js.outcome = "ERROR";
            js.error = r.result.error;
            suites.push_back(js);
            entries.push_back({name, "ERROR", true, 0, 0, 0, "", ""});
        }
        rows.push_back({name, std::move(r.result)});
    });

    std::printf("\n%-36s %-13s %6s %6s %6s  %s\n", "scenario", "outcome", "pass", "fail", "inconc", "record");
    int exit_code = kExitPass;
    for (const auto& row : rows) {
        const auto s = verify::summarise(row.r.checks);
        std::printf("%-36s %-13s %6zu %6zu %6zu  %s\n", printable(row.name).substr(0, 36).c_str(), run::to_string(row.r.outcome), s.pass, s.fail,
                    s.inconclusive, row.r.dir.string().c_str());
        exit_code = run::worse_exit(exit_code, run::exit_code(row.r.outcome));
    }
    if (g_stop.load()) {
        exit_code = kExitBenchError;
        std::cerr << "pumprig run: stopped by " << stop_signal_name() << "\n";
    }
    if (!junit_file.empty()) {
        // The JUnit file is what CI reads: one that could not be written fails the job (exit 3),
        // after everything else was written.
        if (auto w = record::write_file_atomic(junit_file, report::render_junit(suites)); !w) {
            std::cerr << "pumprig run: --junit: " << w.error().message << "\n";
            exit_code = run::worse_exit(exit_code, kExitBenchError);
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
        if (auto w = record::write_file_atomic(suite_dir / "index.html", report::render_suite_html(std::string("pumprig suite ") + stamp, entries)); w)
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
