// What the run engine records from the pump, as the checks read it: events (deduplicated here),
// STATUS answers and the answers to scenario commands. Plain data; nothing here talks to a pump.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace pumprig::verify {

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

// One scenario command and the pump's answer (bodies without SEQ, secrets already redacted).
struct CommandRecord {
    BenchTime bench_t;
    std::string step_label;       // the scenario step that sent it
    std::string verb;
    std::string expected_answer;  // "OK", "ERR,code=STATE", "OK,steps=2", ...; empty: not checked
    std::string answer;           // what came back; empty when nothing did
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

    BenchTime to_bench(double pump_t) const;
    // How far a pump time mapped to bench time near `t` may be off.
    Millis uncertainty_at(BenchTime t) const;
};

}  // namespace pumprig::verify
