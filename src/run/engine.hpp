// The run engine: replays one scenario on a bench, on the bench clock, recording as it goes,
// then judges the record. A scenario step flows one way: parsed (scenario/) -> sent by the
// engine through the pump driver -> answer, events and meter samples recorded (report/) ->
// expected delivery computed from the scenario (scenario/expected) -> checks (verify/).
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "meter/total_tracker.hpp"
#include "record/outcome.hpp"
#include "record/recorder.hpp"
#include "record/run_record.hpp"
#include "run/progress.hpp"
#include "scenario/expected.hpp"
#include "scenario/scenario.hpp"
#include "verify/checks.hpp"
#include "verify/iec60601.hpp"
#include "verify/report_checks.hpp"

namespace pumprig::run {

// Outcome of a run: the checks' verdict, or a bench failure that kept them from being made
// (the rule: record/outcome.hpp).
using record::Outcome;
using record::to_string;

// Carries the pump driver's wire trace to the recorder of the run in progress (the bench is
// opened once for several runs; each run has its own record).
struct TraceRelay {
    record::RunRecorder* recorder = nullptr;
    const Clock* clock = nullptr;
    void operator()(pump::TraceKind kind, std::string_view bytes) const {
        if (!recorder || !clock) return;
        if (kind == pump::TraceKind::Note) recorder->trace_note(clock->now(), "pump", bytes);
        else recorder->trace(clock->now(), "pump", kind == pump::TraceKind::Sent, bytes);
    }
};

struct RunOptions {
    std::filesystem::path out_root = "reports";   // one folder per run below it
    std::uint64_t seed = 1;
    std::optional<Millis> max_bench_duration;     // abort a run longer than this
    const std::atomic<bool>* stop_requested = nullptr;  // set by SIGINT/SIGTERM
    ProgressReporter* progress = nullptr;         // live line or steady plain lines; null: none
    std::function<void(const std::string&)> log;  // plain log lines
    std::string rig_file;
    TraceRelay* trace = nullptr;
    // Real-time benches only: SCHED_FIFO priority of the sampling thread (0: normal priority).
    int realtime_priority = 0;
};

struct RunResult {
    Outcome outcome = Outcome::Error;
    std::filesystem::path dir;
    std::vector<verify::CheckResult> checks;
    std::string error;        // why the run ended early (Error/Aborted)
    bench::SafeStopReport safe_stop;
    double sampler_cpu_s = 0;  // real time: CPU time of the meter's sampling thread (run/sampler.hpp)
};

// A meter reading as the record keeps it: the total unwrapped by the tracker, a stale reading
// (the meter's counter did not move) never valid.
verify::Sample to_sample(BenchTime t, const meter::MeterReading& reading, const meter::TotalTracker::Update& total);

// Runs one scenario on an open bench. Never throws for device trouble: a bench failure ends
// the run as Error with what was measured until then kept and judged.
RunResult run_scenario(bench::Bench& bench, const scenario::Scenario& scenario, const RunOptions& options);

// The label a step's commands are recorded under (commands.jsonl): its own, or "<do> (step N)".
std::string step_label(const scenario::Scenario& scenario, std::size_t i);
// The steps of the record (record.json "steps") from the times they ran.
std::vector<record::StepRecord> step_records(const scenario::Scenario& scenario, const scenario::ExecutionTimes& times);

// Judges recorded data: used at the end of a run and by `pumprig report` to rebuild a record.
struct RecordedRun {
    std::vector<verify::Sample> samples;
    std::vector<verify::PumpEventRecord> events;
    std::vector<verify::PumpStatusRecord> statuses;
    std::vector<verify::CommandRecord> commands;
    scenario::ExecutionTimes times;
    Millis pump_offset{0};   // pump clock minus bench clock (from set_clock or the first status)
    Millis line_tau{20000};
    double line_tau_uncertainty = 0.5;  // the real line's constant: line_tau x (1 +- this)
    BenchTime last_data{};   // last instant with data (run end, or where it was cut)
    // The run went through every step and ended normally: events were read up to times.end,
    // so an event window that closed by then has passed even beyond the last meter sample.
    bool complete = false;
    // What the safe stop at the end found (unset: the run never reached it).
    std::optional<record::SafeStopInfo> safe_stop;
};
std::vector<verify::CheckResult> judge(const scenario::Scenario& scenario, const RecordedRun& run);
// The IEC 60601-2-24 analysis parameters of an accuracy check: what judge() judges with and
// what the report draws.
verify::IecParams iec_params(const scenario::Scenario& scenario, const scenario::AccuracyCheck& check,
                             std::vector<std::string> requirements);

}  // namespace pumprig::run
