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
#include <sstream>

#include "bench/bench.hpp"
#include "bench/bench_lock.hpp"
#include "cli/commands.hpp"
#include "cli/rig_option.hpp"
#include "history/results_store.hpp"
#include "report/recorder.hpp"
#include "report/run_folder.hpp"
#include "run/engine.hpp"
#include "run/rejudge.hpp"
#include "scenario/scenario.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

namespace {

std::atomic<bool> g_eol_stop{false};
extern "C" void on_eol_signal(int) { g_eol_stop.store(true); }

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

std::vector<std::filesystem::path> json_files(const std::filesystem::path& p) {
    std::vector<std::filesystem::path> out;
    if (std::filesystem::is_directory(p)) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(p))
            if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
        std::sort(out.begin(), out.end());
    } else {
        out.push_back(p);
    }
    return out;
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
    std::string serial, station, operator_name, junit_file;
    std::string history_conn = std::getenv("PUMPRIG_HISTORY") ? std::getenv("PUMPRIG_HISTORY") : history::kDefaultConnection;
    std::string out = "reports", fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    std::string scenarios_path = std::string(PUMPRIG_SOURCE_DIR) + "/scenarios/eol";
    int max_retests = 2;
    int rt_priority = 0;
    bool wait = false;
    po::options_description desc(
        "pumprig eol: end-of-line test of one unit; ends with one line PASS or FAIL and the reason\nOptions");
    desc.add_options()("help,h", "show this help")
        ("serial", po::value(&serial), "the unit's serial number (absent: asked for on the terminal, a barcode scanner types it)")
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
        ("rt-priority", po::value(&rt_priority)->default_value(0),
         "real-time benches: sample at this SCHED_FIFO priority, 1-99 (needs root or CAP_SYS_NICE; 0: normal priority)");
    args.add_to(desc);
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "pumprig eol: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return kExitPass;
    }
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
    if (!vm.count("serial")) {
        if (!isatty(STDIN_FILENO)) {
            std::cerr << "pumprig eol: --serial SN is required when stdin is not a terminal\n";
            return kExitBadInput;
        }
        std::cerr << "Scan or type the unit's serial number, then Enter: " << std::flush;
        if (!std::getline(std::cin, serial)) {
            std::cerr << "\npumprig eol: no serial number read\n";
            return kExitBadInput;
        }
    }
    serial = trim(serial);
    if (!plausible_serial(serial)) {
        std::cerr << "pumprig eol: serial \"" << one_line(serial)
                  << "\": expected 1 to 64 printable characters without spaces, as the pump reports it (HELLO sn=)\n";
        return kExitBadInput;
    }
    // The one final line; every path below ends with it.
    auto final_fail = [&](const std::string& what, const std::string& reason, int code) {
        std::printf("FAIL %s %s: %s\n", serial.c_str(), what.c_str(), one_line(reason).c_str());
        std::fflush(stdout);
        return code;
    };

    auto rig = bench::load_rig(args.rig, PUMPRIG_SOURCE_DIR);
    if (!rig) {
        std::cerr << "pumprig eol: " << rig.error().message << "\n";
        return kExitBadInput;
    }
    // Scenarios are checked before anything else is touched: bad input never half-tests a unit.
    std::vector<scenario::Scenario> scenarios;
    bool bad = false;
    for (const auto& f : json_files(scenarios_path)) {
        auto sc = scenario::parse_scenario_file(f, fixtures);
        if (!sc) {
            for (const auto& d : sc.error()) std::cerr << scenario::format(d) << "\n";
            bad = true;
            continue;
        }
        if (std::find(sc->tags.begin(), sc->tags.end(), "eol") != sc->tags.end()) scenarios.push_back(std::move(*sc));
    }
    if (bad) return kExitBadInput;
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
    if (!store) return final_fail("history", store.error().message, store.error().kind == ErrorKind::BadInput ? kExitBadInput : kExitBenchError);
    auto tested = (*store)->tested_runs(serial);
    if (!tested) return final_fail("history", tested.error().message, kExitBenchError);
    if (*tested > max_retests) {
        return final_fail("retest-limit",
                          std::to_string(*tested) + " tests recorded in " + (*store)->describe() + ", at most 1 test and " +
                              std::to_string(max_retests) + " retests allowed",
                          kExitCheckFailed);
    }

    std::signal(SIGINT, on_eol_signal);
    std::signal(SIGTERM, on_eol_signal);
    std::optional<bench::BenchLock> lock;
    if (bench::rig_needs_lock(*rig)) {
        bench::LockOptions lo;
        lo.wait = wait;
        lo.command = command_line(argc, argv);
        lo.give_up = [] { return g_eol_stop.load(); };
        lo.on_wait = [](const bench::LockHolder& h) { std::cerr << "pumprig eol: waiting for the bench, held by " << h.describe() << "\n"; };
        auto l = bench::BenchLock::acquire(*rig, lo);
        if (!l) return final_fail("bench-lock", l.error().message, kExitBenchError);
        lock.emplace(std::move(*l));
    }

    history::RunRecord record;
    record.serial = serial;
    record.station = station;
    record.operator_name = operator_name;
    record.started_at = now_iso();
    record.rig = rig->name;
    record.pumprig_version = kVersion;
    std::vector<std::string> names, dirs;
    for (const auto& sc : scenarios) names.push_back(sc.name);
    record.scenarios = joined(names);

    // Writes the record; a result that cannot be recorded fails the unit (no untraceable PASS).
    auto save = [&](const std::string& verdict, const std::string& reason) -> std::optional<int> {
        record.ended_at = now_iso();
        record.verdict = verdict;
        record.reason = one_line(reason);
        record.run_dirs = joined(dirs);
        if (auto id = (*store)->record_run(record); !id) {
            std::cerr << "pumprig eol: the unit's result (" << verdict << (reason.empty() ? "" : ": " + reason)
                      << ") could not be recorded\n";
            return final_fail("history", id.error().message, kExitBenchError);
        } else {
            std::cerr << "recorded as run " << *id << " in " << (*store)->describe() << "\n";
        }
        return std::nullopt;
    };

    run::TraceRelay relay;
    std::vector<report::JUnitSuite> suites;
    std::vector<std::pair<std::string, verify::CheckResult>> all_checks;  // scenario, check
    std::optional<std::string> station_error;  // the bench failed or the run was stopped
    bool aborted = false;
    for (const auto& sc : scenarios) {
        if (g_eol_stop.load()) {
            aborted = true;
            station_error = "stopped by signal before " + sc.name;
            break;
        }
        std::cerr << "== " << sc.name << " (" << sc.file.string() << ")\n";
        bench::BenchOptions bo;
        bo.seed = args.seed;
        bo.sim_binary = args.sim_binary;
        bo.pump_trace = [&relay](bool to_device, std::string_view bytes) { relay(to_device, bytes); };
        auto bench = bench::Bench::open(*rig, bo);
        if (!bench) {
            station_error = bench.error().message;
            break;
        }
        // The serial check: the pump's own HELLO, before anything is sent that needs a session.
        auto id = (*bench)->pump().hello();
        if (!id) {
            station_error = "pump did not identify itself: " + id.error().describe();
            break;
        }
        record.reported_serial = id->serial;
        record.model = id->model;
        record.firmware = id->firmware;
        if (id->serial != serial) {
            const std::string reason = "the pump reports serial " + id->serial + ", not " + serial;
            std::cerr << "pumprig eol: " << reason << " (wrong unit on the bench, or a mistyped serial)\n";
            if (auto failed = save("FAIL", "serial-mismatch: " + reason)) return *failed;
            return final_fail("serial-mismatch", reason, kExitCheckFailed);
        }
        record.tested = true;
        run::RunOptions ro;
        ro.out_root = out;
        ro.seed = args.seed;
        ro.stop_requested = &g_eol_stop;
        ro.rig_file = args.rig;
        ro.trace = &relay;
        ro.realtime_priority = rt_priority;
        ro.log = [](const std::string& s) { std::cerr << "  " << s << "\n"; };
        auto r = run::run_scenario(**bench, sc, ro);
        if (!r.dir.empty()) dirs.push_back(r.dir.string());
        for (const auto& c : r.checks) all_checks.emplace_back(sc.name, c);
        std::cerr << "  " << run::to_string(r.outcome) << "  " << r.dir.string() << "\n";
        std::cerr << "  pump left " << (r.safe_stop.confirmed_stopped ? "stopped (confirmed)" : "NOT confirmed stopped: " + r.safe_stop.detail) << "\n";
        if (!r.dir.empty()) {
            run::ReportOptions rep;
            rep.rejudge = false;
            rep.fixtures_dir = fixtures;
            if (auto built = run::build_reports(r.dir, rep)) suites.push_back(built->junit_suite);
            else std::cerr << "  report not written: " << built.error().message << "\n";
        }
        if (r.outcome == run::Outcome::Error || r.outcome == run::Outcome::Aborted) {
            aborted = r.outcome == run::Outcome::Aborted;
            station_error = (aborted ? "aborted: " : "bench error: ") + r.error;
            break;
        }
    }
    if (!junit_file.empty()) {
        if (auto w = report::write_file_atomic(junit_file, report::render_junit(suites)); !w)
            std::cerr << "pumprig eol: " << w.error().message << "\n";
    }
    for (const auto& [sc, c] : all_checks) {
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
        record.measurements.push_back(std::move(m));
    }

    if (station_error) {
        const std::string verdict = aborted ? "ABORTED" : "ERROR";
        if (auto failed = save(verdict, (aborted ? "run: " : "bench: ") + *station_error)) return *failed;
        return final_fail(aborted ? "run" : "bench", *station_error, kExitBenchError);
    }
    // The first check that did not pass: a FAIL before an INCONCLUSIVE (a failure is the
    // stronger statement about the unit); INCONCLUSIVE fails the unit too (it was not verified).
    const verify::CheckResult* first_bad = nullptr;
    for (const auto& [sc, c] : all_checks)
        if (c.verdict == verify::Verdict::Fail) {
            first_bad = &c;
            break;
        }
    if (!first_bad)
        for (const auto& [sc, c] : all_checks)
            if (c.verdict != verify::Verdict::Pass) {
                first_bad = &c;
                break;
            }
    if (all_checks.empty()) {
        if (auto failed = save("FAIL", "no-checks: the scenarios made no check")) return *failed;
        return final_fail("no-checks", "the end-of-line scenarios made no check: nothing was verified", kExitCheckFailed);
    }
    if (first_bad) {
        const std::string reason = check_reason(*first_bad);
        if (auto failed = save("FAIL", first_bad->id + ": " + reason)) return *failed;
        return final_fail(first_bad->id, reason, kExitCheckFailed);
    }
    if (auto failed = save("PASS", "")) return *failed;
    std::printf("PASS %s %s %zu/%zu checks\n", serial.c_str(), record.scenarios.c_str(), all_checks.size(), all_checks.size());
    std::fflush(stdout);
    return kExitPass;
}

}  // namespace pumprig::cli
