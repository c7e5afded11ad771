// Expected delivery: an independent reference model of the pump ICD's delivery rules
// (sections 6 to 9), run over a scenario and the times its steps were executed. Computed by
// pumprig from the scenario, never from the pump, so the checks compare the pump with the ICD.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "scenario/scenario.hpp"
#include "verify/samples.hpp"

namespace pumprig::scenario {

// What happened to one scenario step in the run (or is planned for it).
struct StepExecution {
    std::optional<BenchTime> at;        // bench time the command was sent; unset: not reached
    std::optional<std::string> answer;  // "OK" or the ICD error code; unset: the step's expect
    // Pump clock minus bench clock in force after this step, when the engine knows it (set_clock
    // reads it back). Unset: the model derives it from the scenario's time-of-day rule.
    std::optional<Millis> pump_offset;
};

struct ExecutionTimes {
    BenchTime start;                   // scenario start (bench time)
    BenchTime end;                     // end of the run: the plan covers [start, end)
    Millis initial_pump_offset{0};     // pump clock minus bench clock before any set_clock
    std::vector<StepExecution> steps;  // one per scenario step, same order (missing: not reached)
};

// Nominal execution for planning before a run: commands take no time, "wait for" its duration,
// "wait until" the next pump time of day, "wait until_event" the model's time of that event if
// it predicts one, else its timeout. Answers are left unset (the scenario's expectations).
ExecutionTimes nominal_execution(const Scenario& scenario, BenchTime start,
                                 Millis initial_pump_offset = Millis{0});

enum class BolusKind { Periodic, Clinician, Patient };
const char* to_string(BolusKind kind);  // "PERIODIC", "CLINICIAN", "PTM" as the ICD names them

struct ExpectedBolus {
    BolusKind kind{};
    int number = 0;             // periodic bolus number in its program (1 based), 0 otherwise
    std::size_t step_index = 0; // scenario step that caused it (command, or the program)
    BenchTime start;
    BenchTime end;              // actual end: planned, or cut by cancel/stop/reset/EMPTY_RES
    Millis planned_duration{0};
    Dose dose;
    Volume planned_volume;      // dose / concentration in force at its start
    Volume volume;              // expected delivered volume (planned_volume unless cut short)
    bool cut_short = false;
    std::string label;          // "periodic bolus 1", "clinician bolus", "patient bolus"
};

struct ExpectedPrime {
    std::size_t step_index = 0;
    BenchTime start;
    BenchTime end;
    Volume planned_volume;
    Volume volume;
};

struct ExpectedStepChange {
    BenchTime t;
    int step = 0;  // 1 based
    DoseRate dose;
};

struct ExpectedAlarm {
    BenchTime t;
    std::string code;  // LOW_RES, EMPTY_RES
    bool set = true;   // false: cleared
};

struct ExpectedState {
    BenchTime t;
    std::string state;  // STOPPED, RUNNING, PRIMING
};

// The reservoir estimate at a point (linear between points).
struct ReservoirPoint {
    BenchTime t;
    Volume volume;
};

// The answer the model predicts for each executed command step, next to the one that governs
// the plan (the run's answer, else the scenario's expectation). A command changes the plan only
// when both are OK. `reason` says why the model refuses (e.g. "3 patient boluses in 24 h").
struct ExpectedAnswer {
    std::size_t step_index = 0;
    BenchTime t;
    std::string predicted;  // "OK" or an ICD code
    std::string governing;  // what the plan followed
    std::string reason;
};

struct ExpectedPlan {
    // Piecewise-constant, contiguous and non-overlapping from start to end (zero-rate segments
    // while stopped), basal and boluses summed; label names what is delivering ("basal step 2 +
    // periodic bolus 1", "priming", "minimum rate (EMPTY_RES)", "stopped").
    std::vector<verify::ExpectedSegment> segments;
    std::vector<ReservoirPoint> reservoir;   // at every segment boundary and refill
    std::optional<BenchTime> low_res_at;     // first time LOW_RES is expected set
    std::optional<BenchTime> empty_res_at;   // first time EMPTY_RES is expected set
    std::vector<ExpectedAlarm> alarms;
    std::vector<ExpectedBolus> boluses;
    std::vector<ExpectedPrime> primes;
    std::vector<ExpectedStepChange> step_changes;
    std::vector<ExpectedState> states;
    std::vector<ExpectedAnswer> answers;
    BenchTime start;
    BenchTime end;

    // Integral of the segments over [from, to) (clipped to the plan).
    Volume volume_between(BenchTime from, BenchTime to) const;
    Volume total_volume() const { return volume_between(start, end); }
    // Rate in force at t (zero outside the plan).
    FlowRate rate_at(BenchTime t) const;
    // The expected reservoir estimate at t (linear between points, never below zero).
    Volume reservoir_at(BenchTime t) const;
};

// Runs the reference model. Steps without `at` did not happen; each step's effect uses the
// concentration and the program in force at that point of the run.
ExpectedPlan expand(const Scenario& scenario, const ExecutionTimes& times);

}  // namespace pumprig::scenario
