// The defect catalogue of the simulated pump: faults that real pump firmware or mechanics can
// have, each switched on by name (pumprig-sim --defect NAME, or the rig's simulator "defects").
// A conforming pump has none. Each defect bends one small decision of the model (see the hooks
// named in pump_model.hpp); docs/defects.md describes them and docs/detection-matrix.md says
// which scenario and check of the library catches each one.
#pragma once
#include <bitset>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pumprig::pump::sim {

enum class Defect {
    RateHigh8,              // basal rate 8 % high (and reported so: the firmware's rate is wrong)
    RateLow8,               // basal rate 8 % low
    ScheduleHourLate,       // schedule steps follow a clock one hour behind (time-zone slip)
    StepAfterMidnightSkipped,  // at midnight the pump stays on the last step until the next one
    PeriodicBolusSkipped,   // every other periodic bolus due (the first, third, ...) is not given
    PeriodicBolusTwice,     // each periodic bolus is given twice, one after the other
    ClinicianBolusShort,    // a clinician bolus delivers 20 % less than its dose
    BolusDoubleDuration,    // every bolus runs over twice its duration (same volume)
    PtmLockoutIgnored,      // patient boluses are allowed within the lockout
    PtmLimitOffByOne,       // one patient bolus more than max_day in 24 h is allowed
    RefillConcentrationIgnored,  // a refill keeps the old concentration (once there is one)
    BolusNotDeducted,       // bolus strokes are not taken off the reservoir estimate
    LowResLate,             // LOW_RES set 1 mL below the threshold
    LowResNever,            // LOW_RES never set
    EmptyResNoMinimumRate,  // at EMPTY_RES the basal rate stays as programmed
    StopKeepsBolus,         // STOP stops the basal but a bolus under way goes on to its end
    RetryExecutedAgain,     // a repeated request (same SEQ and body) is executed again
    EventsNotResent,        // unacknowledged events are never sent again
    MotorStallUnreported,   // from the 40th stroke on the rotor stalls unnoticed: strokes are
                            // counted and reported, nothing flows, no MOTOR_STALL
    PrimingVolumeWrong,     // priming delivers 20 % more than asked (and reports it)
    ClockDrift,             // the pump clock runs 1 % fast
    kCount
};

struct DefectInfo {
    Defect defect;
    std::string_view name;  // as given on the command line and in rig files
    std::string_view description;
};

// Every defect, in catalogue order.
std::span<const DefectInfo> defect_catalogue();
std::optional<Defect> defect_from_name(std::string_view name);
std::string_view defect_name(Defect defect);

// The set of defects a simulated pump has (empty: a conforming pump).
class PumpDefects {
public:
    bool has(Defect d) const { return bits_.test(static_cast<std::size_t>(d)); }
    void add(Defect d) { bits_.set(static_cast<std::size_t>(d)); }
    bool none() const { return bits_.none(); }
    // Parses names; throws std::invalid_argument naming the unknown one and the known ones.
    static PumpDefects from_names(const std::vector<std::string>& names);

private:
    std::bitset<static_cast<std::size_t>(Defect::kCount)> bits_;
};

}  // namespace pumprig::pump::sim
