// Checks over recorded data: pure functions of samples, events, statuses and the expected
// delivery, driven only by explicit parameters, so that `pumprig report` can re-judge a stored
// run with other tolerances. No device, no clock. Formulas and the origin of every tolerance:
// docs/checks.md.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"
#include "verify/records.hpp"
#include "verify/samples.hpp"

namespace pumprig::verify {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Verdicts and results

// Verdicts and results are the record's (record/data.hpp). INCONCLUSIVE: the window lacked
// valid data (gap, stale or invalid readings, run cut short), so neither PASS nor FAIL can be
// said. The outcome of a run (ERROR, ABORTED for bench failures) is record/outcome.hpp's.
using record::CheckResult;
using record::RunSummary;
using record::summarise;
using record::to_string;
using record::Verdict;
using record::verdict_from_string;

// ---------------------------------------------------------------------------------------------
// Data quality of a window of meter samples

struct DataQualityLimits {
    // Longest allowed time between two consecutive samples in (or around) a window.
    Millis max_gap = 5s;
    // Largest share of the window covered by invalid or stale readings.
    double max_bad_fraction = 0.02;
};

struct WindowQuality {
    bool covered = false;        // samples exist at or before the start and at or after the end
    bool reached = false;        // the last sample is at or after the window's end
    Millis longest_gap{0};
    double bad_fraction = 0;     // of the window's length
    bool usable = false;         // covered, reached, no gap too long, bad share within limits
    std::string problem;         // empty when usable; else what was wrong, for CheckResult.detail
};
WindowQuality assess_window(std::span<const Sample> samples, BenchTime a, BenchTime b,
                            const DataQualityLimits& limits);

// The meter total at t, interpolated linearly between the samples around t; nullopt outside.
std::optional<Volume> total_at(std::span<const Sample> samples, BenchTime t);

// ---------------------------------------------------------------------------------------------
// Expected delivery and the fluid line

// Volume the expected segments deliver from the earliest segment start up to t (no lag).
Volume expected_delivered(std::span<const ExpectedSegment> segments, BenchTime t);

// Volume the meter is expected to have counted up to t: the expected piecewise-constant rate
// passed through a first-order line with time constant tau (exact convolution with
// exp(-t/tau)/tau, computed per segment). tau = 0 gives expected_delivered.
Volume expected_meter_total(std::span<const ExpectedSegment> segments, BenchTime t, Millis tau);

// ---------------------------------------------------------------------------------------------
// Accuracy figures the tolerances are built from (defaults from the ICDs, always overridable)

struct AccuracySpec {
    double delivery_pct = 15.0;          // pump ICD section 9: +-15 % of programmed volume
    double meter_reading_pct = 0.5;      // meter ICD section 2: +-0.5 % of reading
    FlowRate meter_offset{0.1};          // meter ICD section 2: +-0.1 uL/h
    Volume stroke{0.25};                 // pump ICD section 9: strokes of 0.25 uL
};

// Common window parameters of the meter-based checks.
struct MeterWindow {
    Millis line_tau{0};          // fluid line time constant between pump and meter (the rig's)
    // The real line's constant lies within line_tau x (1 +- this): the expected meter volume is
    // taken over that whole range, so a line at either end of it fails nothing (rig "line").
    double line_tau_uncertainty = 0.5;
    DataQualityLimits quality{};
};

// ---------------------------------------------------------------------------------------------
// 1. Delivered volume over [a, b]

struct VolumeCheckParams {
    std::string id = "volume";
    std::string name = "delivered volume";
    BenchTime window_start{};
    BenchTime window_end{};
    MeterWindow meter{};
    AccuracySpec accuracy{};
    std::vector<std::string> requirements;
};
CheckResult check_delivered_volume(std::span<const Sample> samples,
                                   std::span<const ExpectedSegment> expected,
                                   const VolumeCheckParams& params);

// ---------------------------------------------------------------------------------------------
// 2. Mean rate per schedule step, and when a new rate took effect

struct StepRateParams {
    std::string id_prefix = "rate";
    Millis settling{0};  // skipped at the start of each segment (several tau)
    MeterWindow meter{};
    AccuracySpec accuracy{};
    std::vector<std::string> requirements;
};
// One result per expected segment (segments too short to outlast the settling margin are
// INCONCLUSIVE, never skipped silently).
std::vector<CheckResult> check_step_rates(std::span<const Sample> samples,
                                          std::span<const ExpectedSegment> expected,
                                          const StepRateParams& params);

// A rate change the scenario expects: from `rate_before` to `rate_after` at `expected_at`.
struct RateChange {
    std::string id = "timing";
    std::string name = "rate change";
    BenchTime expected_at{};
    FlowRate rate_before{};
    FlowRate rate_after{};
    int step = 0;                  // the pump's step number, for the STEP event (0: not checked)
    std::vector<std::string> requirements;
};

struct ChangeTimingParams {
    // Search window for the change point in the meter total, around expected_at. A change
    // outside it is reported as not found (FAIL when the data is complete).
    Millis search_before = 2h;
    Millis search_after = 2h;
    MeterWindow meter{};
    AccuracySpec accuracy{};
    // Extra allowance on top of the computed tolerance (docs/checks.md): sample interval and
    // the line constant's uncertainty (meter.line_tau_uncertainty) are added by the check itself.
    Millis extra_tolerance{0};
};
// Where the meter's cumulative total bends: two straight lines fitted to the total before and
// after a candidate change point (least squares, prefix sums), the best candidate, then the
// intersection of the lines, less tau (a first-order line delays the asymptote by tau).
CheckResult check_change_time_meter(std::span<const Sample> samples, const RateChange& change,
                                    const ChangeTimingParams& params);

struct EventTimingParams {
    PumpClockMapping clock{};     // its uncertainty at the expected time is the tolerance
    Millis search = 24h;          // how far from expected_at a STEP event is looked for
    BenchTime run_end{};          // last recorded instant: later windows are INCONCLUSIVE
};
// The STEP event for change.step nearest to expected_at, mapped to bench time.
CheckResult check_change_time_event(std::span<const PumpEventRecord> events,
                                    const RateChange& change, const EventTimingParams& params);

// ---------------------------------------------------------------------------------------------
// 3. Bolus

struct ExpectedBolus {
    std::string id = "bolus";
    std::string kind;  // CLINICIAN, PERIODIC, PTM (BOLUS_START/BOLUS_END kind=)
    BenchTime start{};
    Millis duration{0};
    Volume volume{};
    std::vector<std::string> requirements;
};

struct BolusCheckParams {
    Millis settling{0};              // window end extended by this (several tau)
    MeterWindow meter{};
    AccuracySpec accuracy{};
    PumpClockMapping clock{};        // BOLUS_START against the expected start: its uncertainty
    Millis event_search = 1h;        // BOLUS_START looked for within this of the expected start
    BenchTime run_end{};
    ChangeTimingParams meter_timing{};  // for the meter-based start
};
// Results: "<id>.volume" (meter, basal subtracted), "<id>.start.event", "<id>.duration.event",
// "<id>.delivered.event" (BOLUS_END vol_ml), "<id>.start.meter". `expected` are all expected
// segments, the bolus included.
std::vector<CheckResult> check_bolus(std::span<const Sample> samples,
                                     std::span<const ExpectedSegment> expected,
                                     std::span<const PumpEventRecord> events,
                                     const ExpectedBolus& bolus, const BolusCheckParams& params);

// ---------------------------------------------------------------------------------------------
// 4. Events and alarms

// Each event once: a re-sent line repeats (n, pump_t); n restarts after BOOT, so the key is
// (boot, n, pump_t). Order of first arrival is kept.
std::vector<PumpEventRecord> dedupe_events(std::span<const PumpEventRecord> events);

struct ExpectedEvent {
    std::string id = "event";
    std::string name;
    std::string type;                           // ALARM, STATE, STEP, ...
    std::map<std::string, std::string> values;  // must match (code=LOW_RES, state=SET, ...)
    BenchTime window_start{};
    BenchTime window_end{};
    std::vector<std::string> requirements;
};
// PASS when at least one deduplicated event matches within the window (event time = pump_t
// mapped to bench time); INCONCLUSIVE when none did and the run ended before the window's end.
CheckResult check_expected_event(std::span<const PumpEventRecord> events,
                                 const ExpectedEvent& expected, const PumpClockMapping& clock,
                                 BenchTime run_end);

struct AllowedAlarm {
    std::string code;
    std::optional<BenchTime> from;   // no bound when empty
    std::optional<BenchTime> until;
};
struct AlarmCheckParams {
    std::string id = "alarms.unexpected";
    std::vector<AllowedAlarm> allowed;
    PumpClockMapping clock{};
    std::vector<std::string> requirements;
};
// FAIL when any ALARM state=SET is not allowed at its time; measured = count of such alarms.
CheckResult check_no_unexpected_alarms(std::span<const PumpEventRecord> events,
                                       const AlarmCheckParams& params);

// ---------------------------------------------------------------------------------------------
// 5. Reservoir accounting

struct ReservoirCheckParams {
    std::string id = "reservoir";
    BenchTime refill_at{};        // when the REFILL was answered OK
    Volume refill_volume{};       // res_ml given at the refill
    BenchTime window_end{};       // statuses after the refill up to here are checked
    MeterWindow meter{};
    AccuracySpec accuracy{};
    Volume print_resolution{0.5};  // the pump prints mL to 3 decimals: +-0.5 uL of rounding
    std::vector<std::string> requirements;
};
// "<id>.res_ml": the pump's estimate against refill - meter-delivered since the refill;
// "<id>.deliv_ml": the pump's deliv_ml increase since the first status after the refill
// against the meter's. For each, the status with the largest deviation relative to its
// tolerance is reported. Meter volumes are corrected by the volume still in the line
// (expected delivered minus expected meter total), from the expected segments.
std::vector<CheckResult> check_reservoir(std::span<const Sample> samples,
                                         std::span<const ExpectedSegment> expected,
                                         std::span<const PumpStatusRecord> statuses,
                                         const ReservoirCheckParams& params);

// ---------------------------------------------------------------------------------------------
// 6. Command answers

// An answer matches when its kind (OK, ERR, none) and error code equal the expected ones and
// every key=value of the expected answer is in the answer with an equal value (numbers compared
// as numbers); extra keys in the answer are ignored (the ICD lets later firmware add some).
bool answer_matches(const record::Answer& expected, const record::Answer& answer);

// Event re-sending probes (bench/probe_stream.hpp, verb "probe.resend"): an event left
// unacknowledged must come again within `limit` of its first arrival (pump ICD 2: re-sent after
// 10 s). measured: after_s, the seconds until it came again (OK), or waited in vain (no answer:
// FAIL). "<id_prefix>.<index>".
std::vector<CheckResult> check_probe_resends(std::span<const CommandRecord> probes, Millis limit,
                                             std::string_view id_prefix = "probe.resend",
                                             const std::vector<std::string>& requirements = {});

// One result per command with an expected answer: "<id_prefix>.<index>".
std::vector<CheckResult> check_command_answers(std::span<const CommandRecord> commands,
                                               std::string_view id_prefix = "command",
                                               const std::vector<std::string>& requirements = {});

}  // namespace pumprig::verify

namespace pumprig::verify {

// ---------------------------------------------------------------------------------------------
// 7. The pump clock against the bench clock

struct ClockCheckParams {
    std::string id = "clock.drift";
    Millis pump_minus_bench{0};   // offset pumprig set (or first read) at `from`
    BenchTime from{};             // statuses read after this instant are judged
    // No ICD figure exists for the pump clock: the same allowance as every event-timing check
    // (PumpClockMapping): read latency plus 100 ppm of the time since the clock was set.
    Millis latency_allowance = PumpClockMapping::kReadLatency;
    double drift_ppm = PumpClockMapping::kDriftPpm;
    std::vector<std::string> requirements;
};
// measured: the largest |pump_t - (bench_t + offset)| over the statuses, in s; the limit grows
// with the time since `from`. INCONCLUSIVE with fewer than two statuses.
CheckResult check_pump_clock(std::span<const PumpStatusRecord> statuses, const ClockCheckParams& params);

}  // namespace pumprig::verify
