// Quantities as people write them in scenario files ("0.5 mL/day", "250 ug/day", "2 h 30 min",
// "08:00", "15 %"), parsed into strong types so a volume never lands where a rate belongs.
// Every parse failure names the dimension that was expected and the units it accepts.
#pragma once
#include <compare>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/units.hpp"

namespace pumprig::scenario {

// Drug mass, micrograms (the pump ICD's dose unit).
struct Dose {
    double ug = 0.0;
    constexpr auto operator<=>(const Dose&) const = default;
};

// Drug mass per day, micrograms per day (the unit of PROG.STEP dose_ug_day).
struct DoseRate {
    double ug_per_day = 0.0;
    constexpr auto operator<=>(const DoseRate&) const = default;
};

// Drug concentration, micrograms per millilitre (REFILL conc_ug_ml).
struct Concentration {
    double ug_per_ml = 0.0;
    constexpr auto operator<=>(const Concentration&) const = default;
};

// Time of day on the pump clock (UTC), minutes after midnight, 0..1439.
struct TimeOfDay {
    int minutes = 0;
    constexpr auto operator<=>(const TimeOfDay&) const = default;
};

// A percentage as written ("15 %" -> 15.0).
struct Percent {
    double value = 0.0;
    constexpr auto operator<=>(const Percent&) const = default;
};

enum class Dimension { Volume, FlowRate, Duration, TimeOfDay, Dose, DoseRate, Concentration, Percent };

const char* to_string(Dimension d);
// The units accepted for a dimension, for error messages ("nL, uL, µL, mL").
const char* accepted_units(Dimension d);

// Each returns BadInput naming the expected dimension and its units when the text is not a
// number followed by a unit of that dimension (a known unit of another dimension is named too).
Result<Volume> parse_volume(std::string_view text);          // nL uL µL mL
Result<FlowRate> parse_flow_rate(std::string_view text);     // uL/h uL/min uL/day mL/h mL/day (/d)
Result<Millis> parse_duration(std::string_view text);        // ms s min h d, compounds "2 h 30 min"
Result<TimeOfDay> parse_time_of_day(std::string_view text);  // "HH:MM", 00:00..23:59
Result<Dose> parse_dose(std::string_view text);              // ug µg mg
Result<DoseRate> parse_dose_rate(std::string_view text);     // ug/day ug/h mg/day (/d)
Result<Concentration> parse_concentration(std::string_view text);  // ug/mL mg/mL
Result<Percent> parse_percent(std::string_view text);        // "15 %", "15%"

// Conversions used by the scenario checks and the expected-delivery model.
inline FlowRate to_flow_rate(DoseRate r, Concentration c) {
    return FlowRate::from_ml_per_day(r.ug_per_day / c.ug_per_ml);
}
inline Volume to_volume(Dose d, Concentration c) { return Volume::from_ml(d.ug / c.ug_per_ml); }

// "HH:MM" text of a time of day.
std::string format_time_of_day(TimeOfDay t);

}  // namespace pumprig::scenario
