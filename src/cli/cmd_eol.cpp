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
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>

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
#include "history/results_store.hpp"
#include "report/recorder.hpp"
#include "report/run_folder.hpp"
#include "run/channels.hpp"
#include "run/engine.hpp"
#include "run/rejudge.hpp"
#include "scenario/scenario.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

namespace {

std::string now_iso() {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    return report::iso_time(BenchTime{now.time_since_epoch()});
}

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s;
}

// A serial as a scanner types it: printable ASCII without spaces, at most 64 characters. The
// pump ICD gives no format for sn=, so nothing stricter is assumed.
bool plausible_serial(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

// Why a check did not pass, in one line.
std::string check_reason(const verify::CheckResult& c) {
    std::string s = std::string(verify::to_string(c.verdict)) + " " + c.name + ": measured " + fmt(c.measured) + " " + c.unit +
                    ", expected " + fmt(c.expected) + " " + c.unit;
    if (std::isfinite(c.lower) || std::isfinite(c.upper))
        s += " within [" + (std::isfinite(c.lower) ? fmt(c.lower) : std::string("-inf")) + ", " +
             (std::isfinite(c.upper) ? fmt(c.upper) : std::string("inf")) + "]";
    if (!c.detail.empty()) s += " (" + c.detail + ")";
    return one_line(s);
}

std::string joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
    return s;
}

std::string command_line(int argc, char** argv) {
    std::string s = "pumprig";
    for (int i = 0; i < argc; ++i) s += std::string(" ") + argv[i];
    return s;
}

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
    const auto channel_rigs = bench::channel_rigs(*rig);
    const bool multi = !rig->channels.empty();

    // One unit per channel (one on a single-channel bench). A channel given "-" is empty.
    struct Unit {
        std::size_t index = 0;
        std::string channel;
        std::string serial;
        bool present = true;
        history::RunRecord record;
        std::vector<std::string> dirs;
        std::vector<std::pair<std::string, verify::CheckResult>> checks;  // scenario, check
        std::optional<std::string> station_error;                         // the bench failed or the run was stopped
        bool aborted = false;
        std::optional<std::pair<std::string, std::string>> failed_early;  // what, reason (serial mismatch, retest limit)
        int failed_early_code = kExitCheckFailed;
        bool finished() const { return !present || station_error || failed_early; }
    };
    std::vector<Unit> units(channel_rigs.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        units[i].index = i;
        units[i].channel = channel_rigs[i].channel;
    }
    if (!multi) {
        if (serial_args.size() > 1) {
            std::cerr << "pumprig eol: one --serial for a bench of one channel (" << args.rig << ")\n";
            return kExitBadInput;
        }
        if (!serial_args.empty()) units[0].serial = serial_args[0];
    } else {
        for (const auto& a : serial_args) {
            const auto eq = a.find('=');
            const std::string name = eq == std::string::npos ? "" : trim(a.substr(0, eq));
            auto it = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.channel == name; });
            if (it == units.end()) {
                std::string names;
                for (const auto& u : units) names += (names.empty() ? "" : ", ") + u.channel;
                std::cerr << "pumprig eol: --serial " << one_line(a) << ": expected CHANNEL=SERIAL with CHANNEL one of " << names << "\n";
                return kExitBadInput;
            }
            if (!it->serial.empty() || !it->present) {
                std::cerr << "pumprig eol: --serial " << printable(a) << ": channel " << it->channel << " is given more than once\n";
                return kExitBadInput;
            }
            it->serial = a.substr(eq + 1);
            if (trim(it->serial) == "-") it->present = false;
        }
    }
    for (auto& u : units) {
        if (!u.present) continue;
        if (u.serial.empty()) {
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
            if (multi && trim(u.serial) == "-") {
                u.present = false;
                continue;
            }
        }
        u.serial = trim(u.serial);
        if (!plausible_serial(u.serial)) {
            std::cerr << "pumprig eol: serial \"" << one_line(u.serial)
                      << "\": expected 1 to 64 printable characters without spaces, as the pump reports it (HELLO sn=)\n";
            return kExitBadInput;
        }
        for (const auto& other : units)
            if (&other != &u && other.present && other.serial == u.serial) {
                std::cerr << "pumprig eol: serial " << u.serial << " is given for two channels\n";
                return kExitBadInput;
            }
    }
    if (std::none_of(units.begin(), units.end(), [](const Unit& u) { return u.present; })) {
        std::cerr << "pumprig eol: no unit to test (every channel given as -)\n";
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
        if (*tested > max_retests) {
            u.failed_early = {"retest-limit", std::to_string(*tested) + " tests recorded in " + (*store)->describe() + ", at most 1 test and " +
                                                  std::to_string(max_retests) + " retests allowed"};
            continue;
        }
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

    std::mutex out_mutex;  // channels run in threads; their lines must not interleave
    auto say = [&out_mutex, multi](const std::string& channel, const std::string& line) {
        std::lock_guard l(out_mutex);
        std::cerr << "  " << (multi ? "[" + channel + "] " : "") << printable(line) << "\n";
    };
    std::vector<report::JUnitSuite> suites;
    bool junit_failed = false;
    for (const auto& sc : scenarios) {
        if (std::all_of(units.begin(), units.end(), [](const Unit& u) { return u.finished(); })) break;
        if (g_eol_stop.load()) {
            for (auto& u : units)
                if (!u.finished()) {
                    u.aborted = true;
                    u.station_error = "stopped by signal before " + sc.name;
                }
            break;
        }
        std::cerr << "== " << printable(sc.name) << " (" << printable(sc.file.string()) << ")\n";
        std::vector<run::TraceRelay> relays(units.size());
        bench::BenchOptions bo;
        bo.seed = args.seed;
        bo.sim_binary = args.sim_binary;
        bo.channel_pump_trace = [&relays](std::size_t i, bool to_device, std::string_view bytes) { relays[i](to_device, bytes); };
        auto benches = bench::Bench::open_channels(*rig, bo);
        if (!benches) {
            for (auto& u : units)
                if (!u.finished()) u.station_error = benches.error().message;
            break;
        }
        // A channel whose unit is done (or empty) lets go of the bench at once.
        for (auto& u : units)
            if (u.finished() && (*benches)[u.index].bench) (*benches)[u.index].bench->reset();

        // The serial check, on the channel's own thread: the pump's own HELLO, before anything
        // is sent that needs a session. A unit that fails it is not run.
        auto serial_check = [&](std::size_t i, bench::Bench& bench) {
            auto& u = units[i];
            auto id = bench.pump().hello();
            if (!id) {
                u.station_error = "pump did not identify itself: " + id.error().describe();
                return false;
            }
            u.record.reported_serial = id->serial;
            u.record.model = id->model;
            u.record.firmware = id->firmware;
            if (id->serial != u.serial) {
                const std::string reason = "the pump reports serial " + id->serial + ", not " + u.serial;
                say(u.channel, reason + " (wrong unit on the bench, or a mistyped serial)");
                u.failed_early = {"serial-mismatch", reason};
                return false;
            }
            u.record.tested = true;
            return true;
        };
        run::RunOptions ro;
        ro.out_root = out;
        ro.seed = args.seed;
        ro.stop_requested = &g_eol_stop;
        ro.rig_file = args.rig;
        ro.realtime_priority = rt_priority;
        for (auto& cr : run::run_on_channels(*benches, sc, ro, relays, say, serial_check)) {
            if (!cr.ran) continue;
            auto& u = *std::find_if(units.begin(), units.end(), [&](const Unit& x) { return x.channel == cr.channel; });
            const auto& r = cr.result;
            if (r.dir.empty() && r.outcome == run::Outcome::Error) {
                u.station_error = r.error;  // the channel's links did not open
                continue;
            }
            if (!r.dir.empty()) u.dirs.push_back(r.dir.string());
            for (const auto& c : r.checks) u.checks.emplace_back(sc.name, c);
            say(u.channel, std::string(run::to_string(r.outcome)) + "  " + r.dir.string());
            say(u.channel, "pump left " + (r.safe_stop.confirmed_stopped ? std::string("stopped (confirmed)")
                                                                         : "NOT confirmed stopped: " + r.safe_stop.detail));
            if (!r.dir.empty()) {
                run::ReportOptions rep;
                rep.rejudge = false;
                rep.fixtures_dir = fixtures;
                if (auto built = run::build_reports(r.dir, rep)) suites.push_back(built->junit_suite);
                else say(u.channel, "report not written: " + built.error().message);
            }
            if (r.outcome == run::Outcome::Error || r.outcome == run::Outcome::Aborted) {
                u.aborted = r.outcome == run::Outcome::Aborted;
                u.station_error = (u.aborted ? "aborted: " : "bench error: ") + r.error;
            }
        }
    }
    if (!junit_file.empty()) {
        if (auto w = report::write_file_atomic(junit_file, report::render_junit(suites)); !w) {
            std::cerr << "pumprig eol: --junit: " << w.error().message << "\n";
            junit_failed = true;
        }
    }

    // Each unit's verdict goes to the history, then its one line. A result that cannot be
    // recorded fails the unit (no untraceable PASS).
    int exit_code = kExitPass;
    auto worst = [&exit_code](int code) {
        auto rank = [](int c) { return c == kExitBenchError ? 3 : c == kExitBadInput ? 2 : c == kExitCheckFailed ? 1 : 0; };
        if (rank(code) > rank(exit_code)) exit_code = code;
    };
    // A JUnit file that could not be written is an output lost (exit 3); the units' verdicts
    // and their history stand.
    if (junit_failed) worst(kExitBenchError);
    for (auto& u : units) {
        if (!u.present) continue;
        auto conclude = [&](const std::string& verdict, const std::string& what, const std::string& reason, int code) {
            if (what != "retest-limit") {
                u.record.ended_at = now_iso();
                u.record.verdict = verdict;
                u.record.reason = one_line(what.empty() ? reason : what + ": " + reason);
                if (verdict == "PASS") u.record.reason.clear();
                u.record.run_dirs = joined(u.dirs);
                if (auto id = (*store)->record_run(u.record); !id) {
                    std::cerr << "pumprig eol: the result of " << u.serial << " (" << verdict << (reason.empty() ? "" : ": " + reason)
                              << ") could not be recorded\n";
                    final_line(u, "FAIL " + u.serial + " history: " + one_line(id.error().message));
                    worst(kExitBenchError);
                    return;
                } else {
                    std::cerr << (multi ? "[" + u.channel + "] " : "") << "recorded as run " << *id << " in " << (*store)->describe() << "\n";
                }
            }
            final_line(u, verdict == "PASS" ? "PASS " + u.serial + " " + reason : "FAIL " + u.serial + " " + what + ": " + one_line(reason));
            worst(code);
        };
        for (const auto& [sc, c] : u.checks) {
            history::Measurement m;
            m.scenario = sc;
            m.check_id = c.id;
            m.name = c.name;
            m.kind = c.kind;
            m.measured = finite(c.measured);
            m.expected = finite(c.expected);
            m.unit = c.unit;
            m.lower = finite(c.lower);
            m.upper = finite(c.upper);
            m.tolerance = c.tolerance;
            m.verdict = verify::to_string(c.verdict);
            m.detail = c.detail;
            m.requirements = joined(c.requirements);
            u.record.measurements.push_back(std::move(m));
        }
        if (u.failed_early) {
            conclude("FAIL", u.failed_early->first, u.failed_early->second, kExitCheckFailed);
            continue;
        }
        if (u.station_error) {
            conclude(u.aborted ? "ABORTED" : "ERROR", u.aborted ? "run" : "bench", *u.station_error, kExitBenchError);
            continue;
        }
        // The first check that did not pass: a FAIL before an INCONCLUSIVE (a failure is the
        // stronger statement about the unit); INCONCLUSIVE fails the unit too (it was not verified).
        const verify::CheckResult* first_bad = nullptr;
        for (const auto& [sc, c] : u.checks)
            if (c.verdict == verify::Verdict::Fail) {
                first_bad = &c;
                break;
            }
        if (!first_bad)
            for (const auto& [sc, c] : u.checks)
                if (c.verdict != verify::Verdict::Pass) {
                    first_bad = &c;
                    break;
                }
        if (u.checks.empty()) {
            conclude("FAIL", "no-checks", "the end-of-line scenarios made no check: nothing was verified", kExitCheckFailed);
        } else if (first_bad) {
            conclude("FAIL", first_bad->id, check_reason(*first_bad), kExitCheckFailed);
        } else {
            conclude("PASS", "", u.record.scenarios + " " + std::to_string(u.checks.size()) + "/" + std::to_string(u.checks.size()) + " checks",
                     kExitPass);
        }
    }
    return exit_code;
}

}  // namespace pumprig::cli
