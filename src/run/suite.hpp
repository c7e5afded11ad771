// Scenarios in turn on every channel of a bench: the one per-scenario loop of `pumprig run` and
// `pumprig eol` (open the bench for the scenario, run it on each channel, write its reports,
// say how it ended), and the one rule from outcomes to the exit code.
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "run/engine.hpp"
#include "run/rejudge.hpp"
#include "scenario/scenario.hpp"

namespace pumprig::run {

// Exit codes of every bench command (README): 0 all passed, 1 a check failed (or was
// inconclusive), 2 bad input, 3 a bench error or an aborted run.
inline constexpr int kExitPass = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitBenchError = 3;

int exit_code(Outcome outcome);
// The worse of two exit codes: bench error, then bad input, then a failed check, then pass.
int worse_exit(int a, int b);

// The rig a scenario runs on: the bench's own, with what the scenario sets up through the
// simulated bench (battery charge); BadInput when it needs a simulated bench and this is not.
Result<bench::RigDescription> rig_for_scenario(const bench::RigDescription& rig, const scenario::Scenario& scenario);

// One channel's run of one scenario, as it ended.
struct ScenarioRun {
    const scenario::Scenario* scenario = nullptr;
    std::size_t channel_index = 0;
    std::string channel;                 // empty on a single-channel bench
    RunResult result;                    // dir empty: the run never started (bench or rig error)
    std::optional<BuiltReports> reports; // report.html and junit.xml written into the run folder
    std::optional<std::string> manifest; // digest of the folder's MANIFEST.sha256, written last
};

struct SuiteOptions {
    bench::BenchOptions bench;           // seed, simulator binary (the trace is set here)
    RunOptions run;                      // for every run
    std::filesystem::path fixtures;      // pumps/<profile>.json, for the reports
    const std::atomic<bool>* stop = nullptr;  // checked before each scenario
    // --quiet: only what went wrong (checks not passed, errors, an outcome other than PASS, a
    // pump not confirmed stopped); no scenario headings, report paths or confirmations.
    bool quiet = false;
    // Lines with the channel's name: how each run ended (checks not passed, outcome, report,
    // whether the pump was left stopped).
    std::function<void(const std::string& channel, const std::string& line)> log;
    // The runs' progress lines, the same way (none: a live line on the terminal instead).
    std::function<void(const std::string& channel, const std::string& line)> progress;
    // Asked on a channel's own thread before its run; false skips the channel (eol: the serial).
    std::function<bool(std::size_t channel, bench::Bench& bench)> gate;
    // A channel that is done (eol: its unit concluded) lets go of the bench and runs no more;
    // when every channel is done the suite ends.
    std::function<bool(std::size_t channel)> channel_done;
    // Told the scenario that would have run next when `stop` ends the suite.
    std::function<void(const scenario::Scenario& next)> on_stopped;
    // The "== scenario" heading of each scenario (none: stderr). Takes the same path as `log`
    // so that a live progress line stays below it.
    std::function<void(const std::string& line)> heading;
    // Scenarios at once (pumprig run --jobs): each opens a bench of its own, so only a simulated
    // bench that pumprig starts (a simulator per scenario, seeded as one at a time) may run more
    // than one. The longest scenarios start first. Each scenario's lines (heading, the engine's log, how it ended) are held and
    // written together when it ends; `on_run` still gets the runs in scenario order. Taken as 1
    // with `gate` or `channel_done` (eol: one unit after another).
    std::size_t jobs = 1;
};

// Runs the scenarios in turn (or `jobs` at once); `on_run` gets each channel's run once the
// scenario has ended on every channel (a channel skipped by the gate or already done gives none),
// in scenario order, on the calling thread.
void run_suite(const bench::RigDescription& rig, const std::vector<scenario::Scenario>& scenarios, const SuiteOptions& options,
               const std::function<void(ScenarioRun&)>& on_run);

}  // namespace pumprig::run
