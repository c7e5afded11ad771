// The rig's description of the real world around the pump, for the checks and the simulator:
// the fluid line ("line": {"tau_s": 20, "tau_uncertainty_pct": 30}) and, on a simulated bench,
// the unit the simulator plays ("simulator": {"ideal": false, "unit": {"clock_ppm": 50}}).
// docs/benches.md describes the fields, docs/simulator.md the population.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bench/population.hpp"
#include "core/error.hpp"

namespace pumprig::bench {

struct RigPopulation {
    // "line" (top level): the line's nominal time constant and how far the real one may be off.
    std::optional<double> line_tau_s;
    double line_tau_uncertainty_pct = 30.0;
    // "simulator": the exact world, and parameters of the unit pinned.
    bool ideal = false;
    UnitPins unit_pins;
};

// Reads "line" from the rig object `top` and "ideal" and "unit" from its "simulator" object
// (each optional). Errors name the file and the JSON pointer (`pointer` is top's, "" for the
// whole file) and say what was expected.
// One "unit" object of pins ({"delivery_error_pct": -14.9, ...}) at JSON pointer `at`: the rig's
// simulator section, or a channel's.
Result<UnitPins> read_unit_pins(const nlohmann::json& unit, const std::string& at, const std::filesystem::path& file);
Result<RigPopulation> read_rig_population(const nlohmann::json& top, const std::string& pointer, const std::filesystem::path& file);

}  // namespace pumprig::bench
