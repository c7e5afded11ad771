// A scenario: what a test does to the pump, step by step, and what it checks. Parsed from JSON
// (docs/scenarios.md, docs/scenario.schema.json) with every value's position kept, so each
// diagnostic names file, line, column and JSON pointer. Parsing collects every diagnostic.
#pragma once
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/units.hpp"
#include "scenario/profile.hpp"
#include "scenario/quantity.hpp"

namespace pumprig::scenario {

// ---------------------------------------------------------------------------------- diagnostics

struct Diagnostic {
    std::filesystem::path file;
    int line = 0;         // 1-based; 0 when the problem is the file itself (unreadable)
    int column = 0;       // 1-based, in bytes
    std::string pointer;  // JSON pointer of the value ("" for the document, "/steps/2/dose")
    std::string message;  // what was found and what was expected
};

// "file:line:column: pointer: message" (the format of `pumprig validate` and of the
// tests/data/scenarios_bad/*.expected files, which hold the part after "file:").
std::string format(const Diagnostic& d);

// ---------------------------------------------------------------------------------- program

struct ScheduleStep {
    TimeOfDay start;
    DoseRate dose;
};

struct PeriodicBolus {
    TimeOfDay start;
    Dose dose;
    Millis duration;  // whole minutes
};

struct PatientBolusSettings {
    Dose dose;
    Millis duration;   // whole minutes
    Millis lockout;    // whole minutes
    int max_per_day = 1;
};

struct Program {
    std::vector<ScheduleStep> steps;
    std::vector<PeriodicBolus> boluses;
    std::optional<PatientBolusSettings> patient_bolus;
};

// ---------------------------------------------------------------------------------- steps

// Pump clock := bench clock + offset, the offset chosen so that the pump's time of day at the
// scenario start (bench time of the first step) is `time_of_day` (default: the scenario's
// start_time_of_day). CLOCK,set is allowed only while STOPPED.
struct SetClockStep {
    std::optional<TimeOfDay> time_of_day;
};
struct RefillStep {
    Volume volume;
    Concentration concentration;
};
struct PrimeStep {
    Volume volume;
};
struct ProgramStep {
    Program program;
};
struct StartStep {};
struct StopStep {};
struct ClinicianBolusStep {
    Dose dose;
    Millis duration;  // whole minutes
};
struct CancelBolusStep {};
struct PatientBolusStep {};
struct AlarmThresholdStep {
    Volume low_reservoir;
};
struct ResetStep {};

// The event a wait can end on: type plus optional key values (empty = any).
struct EventMatch {
    std::string type;   // BOOT STATE STEP BOLUS_START BOLUS_END PRIME_END ALARM
    std::string code;   // ALARM code (LOW_RES, EMPTY_RES, ...)
    std::string state;  // STATE state or ALARM state (SET, CLEARED)
    std::string kind;   // BOLUS_* kind (CLINICIAN, PERIODIC, PTM)
    std::optional<int> step;  // STEP step number
};

// Exactly one of for / until / until_event.
struct WaitStep {
    std::optional<Millis> duration;           // "for"
    std::optional<TimeOfDay> until;           // "until": next time the pump clock shows it
    std::optional<EventMatch> until_event;    // "until_event", bounded by timeout
    Millis timeout{0};                        // required with until_event
};
// PROG.READ and its parts, compared with the program the scenario last committed with OK.
struct ReadProgramStep {};
struct StatusStep {};

using StepAction = std::variant<SetClockStep, RefillStep, PrimeStep, ProgramStep, StartStep,
                                StopStep, ClinicianBolusStep, CancelBolusStep, PatientBolusStep,
                                AlarmThresholdStep, ResetStep, WaitStep, ReadProgramStep,
                                StatusStep>;

// The "do" name of each alternative, in StepAction order ("set_clock", "refill", ...).
std::string_view step_name(const StepAction& action);
// True for steps that send a pump command (so "expect" applies); false for wait.
bool is_command(const StepAction& action);

struct Step {
    StepAction action;
    std::string label;          // empty when none; unique within the scenario
    std::string expect = "OK";  // "OK" or an ICD error code (section 10)
    std::string pointer;        // "/steps/<i>", for messages
    int line = 0;

    bool expects_ok() const { return expect == "OK"; }
};

// ---------------------------------------------------------------------------------- checks

// A point of the run: the start plus a duration, a step's label (the bench time it was
// executed), or the end of the run.
struct TimeRef {
    enum class Kind { FromStart, Label, End };
    Kind kind = Kind::FromStart;
    Millis offset{0};   // FromStart
    std::string label;  // Label
};

// Unset tolerances default to the pump profile's accuracy plus the meter's (verify applies it).
struct Tolerance {
    std::optional<Percent> percent;
    std::optional<Volume> absolute;
};

struct VolumeCheck {
    TimeRef from;
    TimeRef to{TimeRef::Kind::End, Millis{0}, {}};
    Tolerance tolerance;
};
// Mean rate per schedule step versus the programmed rate.
struct RateCheck {
    Tolerance tolerance;
};
// Each bolus's volume and timing.
struct BolusCheck {
    Tolerance tolerance;
};
struct EventCheck {
    EventMatch event;
    TimeRef from;
    TimeRef to{TimeRef::Kind::End, Millis{0}, {}};
};
struct NoUnexpectedAlarmsCheck {
    std::vector<std::string> allowed;  // alarm codes that may appear without being expected
};
// The pump's reservoir estimate (STATUS res_ml) versus the expected reservoir.
struct ReservoirCheck {
    std::optional<Volume> tolerance;  // unset: the profile's accuracy of what was delivered
};
// IEC 60601-2-24 start-up and trumpet analysis, configurable because at intrathecal rates
// useful windows are hours long.
struct AccuracyCheck {
    Millis sample_interval{30'000};
    std::vector<Millis> windows{Millis{2 * 60'000}, Millis{5 * 60'000}, Millis{11 * 60'000},
                                Millis{19 * 60'000}, Millis{31 * 60'000}};
    TimeRef from;                          // start of the start-up period
    Millis startup_period{2 * 3600'000};   // IEC default: first 2 h
    Millis analysis_period{3600'000};      // IEC default: 1 h, taken after the start-up period
    std::optional<Percent> mean_error_limit;    // |mean error| over the analysis period
    std::optional<Percent> trumpet_max_limit;   // largest window error, at the smallest window
    std::optional<Percent> trumpet_min_limit;   // smallest window error (negative allowed)
};

using CheckSpec = std::variant<VolumeCheck, RateCheck, BolusCheck, EventCheck,
                               NoUnexpectedAlarmsCheck, ReservoirCheck, AccuracyCheck>;

// "volume", "rate", "bolus", "event", "no_unexpected_alarms", "reservoir", "accuracy".
std::string_view check_name(const CheckSpec& spec);

struct Check {
    CheckSpec spec;
    std::string name;                       // given, or "<kind> <n>"
    std::vector<std::string> requirements;  // default: the scenario's
    bool enabled = true;                    // rate/bolus/no_unexpected_alarms/reservoir can be turned off
    bool declared = true;                   // false for the default-on checks the parser added
    std::string pointer;
};

// ---------------------------------------------------------------------------------- scenario

struct Settings {
    Millis sample_period{1000};    // meter sampling
    Millis status_period{10'000};  // STATUS polling by the engine
    TimeOfDay start_time_of_day{0};
};

// Preconditions that only the simulated bench can set up.
struct SimulatorPreset {
    std::optional<double> battery_pct;  // battery charge at power-on
    std::optional<Millis> motor_stall_after;  // the rotor stalls once, this long after the start
    bool any() const { return battery_pct.has_value() || motor_stall_after.has_value(); }
};

struct Scenario {
    std::filesystem::path file;
    std::string name;
    std::string description;
    std::vector<std::string> requirements;
    std::vector<std::string> tags;
    PumpProfile pump;               // loaded from pump_profile
    std::string drug;
    std::optional<Concentration> concentration;  // nominal drug concentration, informative
    Settings settings;
    SimulatorPreset simulator;
    std::vector<Step> steps;
    // Declared checks in file order, then the default-on ones (rate, bolus,
    // no_unexpected_alarms, reservoir) that were not declared, with declared == false.
    std::vector<Check> checks;

    // Index of the step with this label, if any.
    std::optional<std::size_t> find_label(std::string_view label) const;
};

using ParseResult = std::expected<Scenario, std::vector<Diagnostic>>;

// fixtures_dir holds pumps/<id>.json.
ParseResult parse_scenario_file(const std::filesystem::path& file,
                                const std::filesystem::path& fixtures_dir);
// Same, from text; `file` only names it in diagnostics.
ParseResult parse_scenario_text(std::string_view text, const std::filesystem::path& file,
                                const std::filesystem::path& fixtures_dir);

// For `pumprig validate`: a file, or a directory searched recursively for *.json (sorted).
// Returns every diagnostic of every file; empty means all valid. A path that does not exist
// gives one diagnostic on it.
// The scenario files a path names: the file itself, or every *.json below a folder, sorted. A
// missing path or a folder without scenario files adds a diagnostic to `problems`.
std::vector<std::filesystem::path> scenario_files(const std::filesystem::path& path, std::vector<Diagnostic>& problems);

std::vector<Diagnostic> validate_path(const std::filesystem::path& path,
                                      const std::filesystem::path& fixtures_dir);

}  // namespace pumprig::scenario
