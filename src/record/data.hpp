// The run record as typed data: what a run measured (meter samples, pump events, STATUS
// answers, scenario commands with their answers) and what was judged of it (check results).
// Plain data with no logic beyond the verdict counts; record/json.hpp reads and writes it,
// docs/record.md describes the files for other readers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"

namespace pumprig::record {

// One meter reading as recorded by the sampler.
struct Sample {
    BenchTime t;             // bench time of the read
    Volume total;            // meter total since the run's reset, unwrapped (nL resolution)
    FlowRate flow;           // filtered flow, as the meter reports it
    std::uint16_t status = 0;   // raw status bits (bit 0 VALID, 1 AIR, 2 OVERRANGE, 3 FAULT)
    std::uint16_t counter = 0;  // the meter's sample counter
    bool valid = false;      // VALID bit set, and the counter moved since the previous read
    bool stale = false;      // the counter did not move: the meter's data is frozen
};

// The largest bench-time step between consecutive samples (record.json max_sample_gap_ms): how
// long the record went without a reading. None with fewer than two samples.
std::optional<Millis> max_sample_gap(std::span<const Sample> samples);

// One EV line as received (duplicates included: the pump re-sends until acknowledged).
struct PumpEventRecord {
    BenchTime bench_t;      // bench time the line was received
    double pump_t = 0;      // the event's t= (pump clock, Unix seconds)
    std::uint32_t n = 0;    // EVSEQ, counts from 1 after each boot
    std::string type;       // BOOT, STATE, STEP, BOLUS_START, BOLUS_END, PRIME_END, ALARM, ...
    std::map<std::string, std::string> values;  // every other key=value, as sent
};

// One STATUS answer.
struct PumpStatusRecord {
    BenchTime bench_t;
    double pump_t = 0;
    std::string state;
    double res_ml = 0;
    double conc_ug_ml = 0;
    double rate_ml_day = 0;
    double deliv_ml = 0;
    int step = 0;
    int batt_pct = 0;
    std::vector<std::string> alarms;  // empty for NONE
    std::string bolus;                // NONE, CLINICIAN, PERIODIC, PTM
};

// A command's answer as a value: OK, a device error (the ICD's ERR,code=...), or none (timeout
// or lost link after the driver's retries: whether the pump acted is unknown). Keys the pump
// added (OK,steps=2) are kept as values, without SEQ.
struct Answer {
    enum class Kind { Ok, Error, None };
    Kind kind = Kind::None;
    std::string code;                            // the device's error code (Error only)
    std::map<std::string, std::string> values;   // further key=value of the answer

    static Answer ok() { return {Kind::Ok, {}, {}}; }
    static Answer error(std::string code) { return {Kind::Error, std::move(code), {}}; }
    static Answer none() { return {}; }
    // What scenario steps name: "OK", the error code, or "NO_ANSWER".
    static Answer from_code(std::string_view code);
    std::string code_or_ok() const;
    // The ICD's text: "OK", "OK,steps=2", "ERR,code=STATE"; "no answer" for none.
    std::string text() const;
    // The ICD's text back (a leading SEQ field skipped). The records of pumprig 0.1.0 wrote a
    // missing answer as "" or "ERR,code=NO_ANSWER": both read as none.
    static Answer parse(std::string_view text);
    bool operator==(const Answer&) const = default;
};
const char* to_string(Answer::Kind kind);  // "OK", "ERR", "NONE"

// One scenario command (or link probe) and the pump's answer (secrets already redacted).
struct CommandRecord {
    BenchTime bench_t;
    std::string step_label;           // the scenario step that sent it
    std::string verb;
    std::optional<Answer> expected;   // unset: the answer is not checked
    Answer answer;
};

// Pump clock to bench time: bench = pump_t + offset. The engine measures the offset (bench
// time minus pump clock) when it reads or sets the pump clock and records it with the run.
//
// A mapped time is uncertain by the read latency of the offset plus the pump crystal's drift
// since the clock was set. The ICD states no clock accuracy, so both are an engineering choice
// (docs/checks.md): 2 s (one STATUS read on a loaded host, the clock's print resolution) and
// 100 ppm (twice a common 50 ppm crystal). `clock.drift` accepts exactly this much, and every
// event-timing check allows exactly this much, so a clock that passes one passes the other.
struct PumpClockMapping {
    static constexpr Millis kReadLatency{2000};
    static constexpr double kDriftPpm = 100.0;

    Millis pump_to_bench_offset{0};
    std::optional<BenchTime> set_at;  // when the offset was set or first read; none: no drift term
    Millis read_latency = kReadLatency;
    double drift_ppm = kDriftPpm;

    // A scenario may set the pump clock more than once (a clock moved forward mid-run): the
    // offsets in force before the last setting, oldest first, each from its `set_at` on. The
    // two fields above are the last one.
    struct Earlier {
        Millis pump_to_bench_offset{0};
        BenchTime set_at{};
    };
    std::vector<Earlier> earlier;

    // Bench time of a pump time, with the offset in force when the event was received. An event
    // stamped just before a setting but read just after it still carries the old clock: when the
    // offset in force puts it before that setting, or later than it was received, the previous
    // offset is used if that one fits (both allow the read latency).
    BenchTime to_bench(double pump_t, BenchTime received) const;
    // How far a pump time mapped to bench time near `t` may be off: the drift since the setting
    // in force at `t`.
    Millis uncertainty_at(BenchTime t) const;
};

// INCONCLUSIVE: the window lacked valid data (gap, stale or invalid readings, run cut short,
// a step it starts at never ran), so neither PASS nor FAIL can be said.
enum class Verdict { Pass, Fail, Inconclusive };
const char* to_string(Verdict v);  // "PASS", "FAIL", "INCONCLUSIVE"
std::optional<Verdict> verdict_from_string(std::string_view text);

struct CheckResult {
    std::string id;    // stable within a run: "volume.basal-1", "timing.step-2.meter", ...
    std::string name;  // human-readable
    std::string kind;  // volume, rate, timing, bolus, event, alarm, reservoir, command, iec60601, meter
    double measured = 0;
    double expected = 0;
    std::string unit;  // uL, uL/h, s, %, count
    double lower = 0;  // acceptance limits on `measured` (may be infinite: one-sided check)
    double upper = 0;
    std::string tolerance;  // how the limits were built: "15 % + 0.25 uL + meter 0.5 % + 0.1 uL/h"
    // Where the limits come from: "pump ICD 1.3", "IEC 60601-2-24 201.12.1.102", "meter ICD 2",
    // or "engineering choice: <reason>" where no document states a figure.
    std::string tolerance_source;
    Verdict verdict = Verdict::Inconclusive;
    std::vector<std::string> requirements;
    std::string detail;  // why, in a sentence: what was missing, which event, which alarm
    BenchTime window_start{};
    BenchTime window_end{};
};

// The checks counted: FAIL if any failed, else INCONCLUSIVE if any was inconclusive (or there
// were none: nothing was verified), else PASS.
struct RunSummary {
    std::size_t pass = 0;
    std::size_t fail = 0;
    std::size_t inconclusive = 0;
    Verdict overall = Verdict::Inconclusive;
};
RunSummary summarise(std::span<const CheckResult> results);

}  // namespace pumprig::record
