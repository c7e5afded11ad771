// A pump profile: the limits of one pump model (pump ICD section 9 and the ranges of sections
// 6 to 8), kept as data under fixtures/pumps/<id>.json so a new model is a new file.
#pragma once
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/units.hpp"
#include "scenario/quantity.hpp"

namespace pumprig::scenario {

struct IntRange {
    int min = 0;
    int max = 0;
    constexpr bool contains(int v) const { return v >= min && v <= max; }
};

struct PumpProfile {
    std::string id;           // file stem, e.g. "itb-40"
    std::string model;        // as HELLO reports it, e.g. "ITB-40"
    Volume reservoir;         // reservoir size (REFILL upper bound)
    FlowRate basal_min;       // slowest programmable basal rate (0.048 mL/day)
    FlowRate basal_max;       // fastest programmable basal rate (24 mL/day)
    FlowRate minimum_rate;    // rate kept while EMPTY_RES is set (0.048 mL/day)
    FlowRate bolus_max_rate;  // bolus and priming rate ceiling (1.0 mL/h); priming runs at it
    Concentration concentration_min;  // 50 ug/mL
    Concentration concentration_max;  // 4000 ug/mL
    Percent accuracy;         // delivery accuracy, +/- percent of programmed volume (15 %)
    Volume stroke;            // rotor stroke (0.25 uL)
    Volume low_res_default;   // LOW_RES threshold after manufacture (2.0 mL)
    Volume low_res_min;       // ALARM.CFG range (1.0 mL)
    Volume low_res_max;       //                  (5.0 mL)
    Volume empty_res;         // EMPTY_RES threshold (0.5 mL)
    Volume prime_min;         // smallest PRIME (0.001 mL); the largest is the estimate - empty_res
    int max_steps = 10;
    int max_boluses = 4;
    IntRange bolus_duration_min{1, 1440};  // PROG.BOLUS, BOLUS, PROG.PTM dur_min
    IntRange ptm_lockout_min{0, 1440};
    IntRange ptm_max_per_day{1, 24};
};

// Load and check fixtures/pumps/<id>.json (every key required, units as in scenario files).
Result<PumpProfile> load_pump_profile(const std::filesystem::path& file);
// fixtures_dir/pumps/<id>.json; BadInput naming the profiles present when the id is unknown.
Result<PumpProfile> find_pump_profile(const std::filesystem::path& fixtures_dir, std::string_view id);

}  // namespace pumprig::scenario
