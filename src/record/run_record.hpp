// record.json as typed data: the run header (tool, rig, identity, scenario, seed, times), the
// steps as they ran, the pump clock mapping, link gaps, how far the data files are complete
// (the horizon), the outcome and the checks. One schema for the live run, the rebuilt record
// and third-party readers (docs/record.md, docs/record.schema.json).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "record/data.hpp"
#include "record/outcome.hpp"

namespace pumprig::record {

// Version of the record's schema, in every record.json. Records without it were written by
// pumprig 0.1.0 (schema 0) and are still read (record/json.hpp).
inline constexpr int kSchemaVersion = 1;

struct ToolInfo {
    std::string name = "pumprig";
    std::string version;
};

struct RigInfo {
    std::string name;
    std::string channel;     // empty on a bench of one channel
    std::string file;
    bool simulated = false;
    bool virtual_time = false;
    std::string pump_link;
    std::string meter_link;
};

struct PumpIdentity {
    std::string model, serial, firmware;
    std::uint32_t proto = 0;  // the ICD protocol version HELLO named
};

struct ScenarioInfo {
    std::string name;
    std::string file;
    std::string sha256;
    std::vector<std::string> tags;
    std::vector<std::string> requirements;
};

struct RealtimeInfo {
    int requested = 0;
    bool active = false;
    std::string detail;
};

// What pumprig could do to leave the pump safe at the end of a run (bench::Bench::safe_stop).
struct SafeStopInfo {
    bool attempted = false;
    bool stop_answered = false;     // STOP answered OK
    bool confirmed_stopped = false; // a following STATUS said state=STOPPED
    std::string detail;
    // The pump's own answer that it did not stop, when it gave one: a STATUS after the STOP (OK
    // or refused) saying RUNNING, PRIMING or SUSPENDED. ICD 7 allows STOP in every state, so
    // this is the pump's fault (check stop.end FAILs); without it (link lost, no answer) the
    // pump's state is unknown and the check is INCONCLUSIVE.
    std::string refusal;
};

// How the pump was found at the start of the run, and whether it was stopped before anything
// else was sent (a pump left running by a run killed before this one).
struct InitialStateInfo {
    std::string state;            // the state STATUS answered first ("" when it did not answer)
    bool stop_sent = false;
    bool confirmed_stopped = false;
    Millis settled{0};            // bench time waited after the STOP for the line to drain
    std::string detail;
};

// A pump link outage or a pump reset during the run.
struct Gap {
    BenchTime from{};
    std::optional<BenchTime> to;
    std::string reason;
    std::optional<bool> recovered;
    std::optional<bool> program_unchanged;
};

// One scenario step as it ran.
struct StepRecord {
    std::size_t index = 0;
    std::string action;                  // "set_clock", "wait", ...
    std::string label;
    std::optional<BenchTime> at;         // unset: not reached
    std::optional<std::string> answer;   // "OK", the ICD error code or NO_ANSWER; unset: no command
    std::optional<Millis> pump_offset;   // pump clock minus bench clock after the step, when set
};

struct LinkCounters {
    std::uint64_t requests = 0, retries = 0, busy = 0, crc_errors = 0, timeouts = 0, events = 0,
                  duplicate_events = 0, discarded_lines = 0;  // pump link
    std::uint64_t meter_reads = 0, meter_retries = 0, meter_errors = 0;
};

// Written by `pumprig report` into record.rebuilt.json.
struct RebuiltInfo {
    std::string by = "pumprig report";
    std::string original_state;
    std::optional<double> tolerance_pct;
    std::vector<std::string> notes;
};

enum class RunState { Running, Complete, Incomplete };
const char* to_string(RunState s);  // "RUNNING", "COMPLETE", "INCOMPLETE"

struct RunRecord {
    int schema_version = kSchemaVersion;
    ToolInfo tool;
    RigInfo rig;
    std::optional<PumpIdentity> pump;   // unset: authentication failed
    std::optional<std::string> meter;   // the meter's identification; unset: failed
    ScenarioInfo scenario;
    std::uint64_t seed = 0;
    std::optional<RealtimeInfo> realtime_priority;
    RunState state = RunState::Running;
    BenchTime start{};
    std::optional<BenchTime> end;
    // Pump clock minus bench clock: as first read, and in force at the end (or so far).
    Millis initial_pump_offset{0};
    Millis pump_offset{0};
    Millis line_tau{0};
    // The rig's uncertainty on that constant, as a fraction: the real line's is tau x (1 +- it).
    // Records before it was recorded read 0.5 (the figure the meter timing checks always used).
    double line_tau_uncertainty = 0.5;
    // A simulated bench only: the unit of the population its channel played, as pumprig-sim
    // announced it (docs/simulator.md, "A realistic bench"): value by parameter name, the name
    // ending in its unit (delivery_error_pct, clock_ppm, ...). Unset on a real bench.
    std::optional<std::map<std::string, double>> simulated_unit;
    std::vector<StepRecord> steps;
    std::vector<Gap> gaps;
    // The largest step between consecutive samples.csv lines (record::max_sample_gap), set when
    // the run is judged; none with fewer than two samples, and in records before it existed.
    std::optional<Millis> max_sample_gap;
    // Every data file is complete before this bench time (horizon.txt while the run goes on).
    std::optional<BenchTime> horizon;
    std::optional<Outcome> outcome;
    std::string error;
    std::optional<InitialStateInfo> initial_state;
    std::optional<SafeStopInfo> safe_stop;
    std::optional<LinkCounters> links;
    bool judged = false;                // checks and summary present
    std::vector<CheckResult> checks;
    std::optional<RebuiltInfo> rebuilt;
};

}  // namespace pumprig::record
