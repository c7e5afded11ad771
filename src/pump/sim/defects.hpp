// The defect catalogue of the simulated pump: faults that real pump firmware or mechanics can
// have, each switched on by name, most with a magnitude (pumprig-sim --defect NAME[=VALUE], or
// the rig's simulator "defects"). A conforming pump has none. Data only: names, descriptions,
// magnitude units and ranges, and the parsing of "NAME[=VALUE]"; the model (pump_model.hpp)
// bends one small decision per defect. pumprig reads this catalogue to validate rigs.
// docs/defects.md describes them, docs/detection-power.md says how small a magnitude the
// library catches.
#pragma once
#include <array>
#include <bitset>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pumprig::pump::sim {

enum class Defect {
    RateError,              // basal rate off by M % (and reported so: the firmware's rate is wrong)
    DeliveryError,          // strokes push M % more (or less) than 0.25 uL; the pump reports nominal
    ScheduleLate,           // schedule steps follow a clock M minutes behind (time-zone slip)
    StepAfterMidnightSkipped,  // at midnight the pump stays on the last step until the next one
    PeriodicBolusSkipped,   // every other periodic bolus due (the first, third, ...) is not given
    PeriodicBolusTwice,     // each periodic bolus is given twice, one after the other
    ClinicianBolusShort,    // a clinician bolus delivers M % less than its dose
    BolusSlow,              // every bolus runs M % longer than its duration (same volume)
    PtmLockoutShort,        // the patient-bolus lockout is M minutes shorter than programmed
    PtmLimitOffByOne,       // one patient bolus more than max_day in 24 h is allowed
    RefillConcentrationIgnored,  // a refill keeps the old concentration (once there is one)
    BolusNotDeducted,       // bolus strokes are not taken off the reservoir estimate
    LowResLate,             // LOW_RES set M mL below the threshold
    LowResNever,            // LOW_RES never set
    EmptyResNoMinimumRate,  // at EMPTY_RES the basal rate stays as programmed
    StopKeepsBolus,         // STOP stops the basal but a bolus under way goes on to its end
    RetryExecutedAgain,     // a repeated request (same SEQ and body) is executed again
    EventsNotResent,        // unacknowledged events are never sent again
    Stall,                  // from the 40th stroke on, M % of the strokes push nothing, unnoticed
    PrimingExcess,          // priming delivers M % more than asked (and reports it)
    ClockDrift,             // the pump clock runs M ppm fast (negative: slow)
    StallNotCleared,        // STOP does not clear MOTOR_STALL: the pump stays SUSPENDED
    ResetForgetsProgram,    // RESET loses the program and clears deliv_ml
    StepWaitsForBolus,      // a step change during a bolus comes into force only at its end
    WaitingBolusDropped,    // a periodic bolus due during another bolus is dropped, not queued
    CommitRunningDeferred,  // PROG.COMMIT while RUNNING: the old program goes on until STOP/START
    PtmLimitCalendarDay,    // max_day counted per day of the pump clock, not over 24 h
    EventOverflowDropsAlarms,  // past 64 unacknowledged events the oldest goes, ALARM or not
    EosKeepsRunning,        // at EOS delivery goes on
    RefillAdds,             // REFILL adds res_ml to the estimate instead of setting it
    PtmLockoutOnClock,      // the patient-bolus lockout runs on the settable clock
    StopIgnored,            // STOP while delivering is answered OK, but delivery goes on
    StopRefused,            // STOP while delivering is refused with ERR,code=STATE
    kCount
};

struct DefectInfo {
    Defect defect;
    std::string_view name;  // as given on the command line and in rig files
    std::string_view description;
    // The magnitude, for defects that have one (unit empty: none): NAME=VALUE, VALUE within
    // [min, max]; plain NAME takes the default.
    std::string_view unit = {};
    double default_magnitude = 0, min = 0, max = 0;
};

// Former names, each a defect at a set magnitude (rate_high_8pct is rate_error=8).
struct DefectAlias {
    std::string_view name;
    Defect defect;
    double magnitude;
};

// Every defect, in catalogue order, and the former names.
std::span<const DefectInfo> defect_catalogue();
std::span<const DefectAlias> defect_aliases();
const DefectInfo& defect_info(Defect defect);
std::string_view defect_name(Defect defect);

struct DefectSpec {
    Defect defect;
    double magnitude = 0;  // the default for a plain name
};
// "NAME", "NAME=VALUE" or a former name; nullopt with `why` set for anything else.
std::optional<DefectSpec> parse_defect(std::string_view text, std::string* why = nullptr);
// Whether the text is a defect as parse_defect() takes it (rig files and pumprig's --defect).
inline std::optional<Defect> defect_from_name(std::string_view text) {
    auto s = parse_defect(text);
    return s ? std::optional<Defect>(s->defect) : std::nullopt;
}

// The set of defects a simulated pump has (empty: a conforming pump), with their magnitudes.
class PumpDefects {
public:
    bool has(Defect d) const { return bits_.test(static_cast<std::size_t>(d)); }
    double magnitude(Defect d) const { return magnitude_[static_cast<std::size_t>(d)]; }
    void add(Defect d, double magnitude = 0) {
        bits_.set(static_cast<std::size_t>(d));
        magnitude_[static_cast<std::size_t>(d)] = magnitude;
    }
    bool none() const { return bits_.none(); }
    // Parses NAME[=VALUE] specs; throws std::invalid_argument naming the bad one and why.
    static PumpDefects from_names(const std::vector<std::string>& names);

private:
    std::bitset<static_cast<std::size_t>(Defect::kCount)> bits_;
    std::array<double, static_cast<std::size_t>(Defect::kCount)> magnitude_{};
};

}  // namespace pumprig::pump::sim
