// The simulated bench's population: a conforming pump, its fluid line and its meter vary from
// one unit to the next the way a production population and a real bench do, each within its
// requirement (docs/simulator.md, "A realistic bench", gives every figure and its source).
// A unit is drawn from (seed, pump serial) with std::mt19937_64, so a run is reproducible;
// every parameter can be pinned (to test the edges of the population), and `ideal` gives the
// exact world (exact pump, line at its nominal constant, exact meter total, no latency).
// Data and the draw only: the models take the values (tools/sim/sim_bench.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pumprig::bench {

enum class UnitParam {
    DeliveryErrorPct,   // mechanical stroke volume error; the pump reports nominal strokes
    StrokeJitterMs,     // each stroke's liquid leaves up to this late
    ClockPpm,           // pump clock rate error
    LineTauErrorPct,    // the line's real time constant against the rig's nominal one
    MeterGainErrorPct,  // meter calibration, of reading (flow and total)
    MeterOffsetUlH,     // meter zero offset (flow and total)
    AnswerLatencyMs,    // the pump acts on a request up to this late (bench time)
    EventLatencyMs,     // an event line leaves up to this late (bench time)
    ResetDurationMs,    // RESET to BOOT
    kCount
};

struct UnitParamInfo {
    UnitParam param;
    std::string_view name;  // as pinned: --unit NAME=VALUE, rig "simulator": {"unit": {NAME: VALUE}}
    std::string_view unit;
    double min, max;        // what a pin may say (the requirement's range)
    double ideal;           // the exact world's value
    std::string_view drawn;  // how the population draws it, for --help and the docs
};

std::span<const UnitParamInfo> unit_params();
std::optional<UnitParam> unit_param_from_name(std::string_view name);

struct UnitValues {
    std::array<double, static_cast<std::size_t>(UnitParam::kCount)> v{};
    double operator[](UnitParam p) const { return v[static_cast<std::size_t>(p)]; }
    double& operator[](UnitParam p) { return v[static_cast<std::size_t>(p)]; }
    bool meter_total_noise = false;  // off in the exact world
    // "delivery_error_pct=-3.21 stroke_jitter_ms=..." (for logs), each name after `key_prefix`
    // (pumprig-sim's READY line: "unit.1.delivery_error_pct=-3.21 ..."). Numbers round-trip.
    std::string describe(std::string_view key_prefix = {}) const;
};

using UnitPins = std::vector<std::pair<std::string, double>>;

// "NAME=VALUE" checked against the table; nullopt with `why` set when it is not one.
std::optional<std::pair<std::string, double>> parse_unit_pin(std::string_view text, std::string* why = nullptr);

// One unit of the population: drawn from (seed, serial), then the pins applied (a pin does not
// change the other parameters' draws). `line_tau_uncertainty_pct` bounds the line's draw.
// ideal: every parameter at its exact value, pins still applied (to test one effect alone).
UnitValues draw_unit(std::uint64_t seed, std::string_view serial, const UnitPins& pins, bool ideal,
                     double line_tau_uncertainty_pct);

}  // namespace pumprig::bench
