#include "pump/sim/defects.hpp"

#include <array>
#include <stdexcept>

namespace pumprig::pump::sim {

namespace {

constexpr std::array<DefectInfo, static_cast<std::size_t>(Defect::kCount)> kCatalogue{{
    {Defect::RateHigh8, "rate_high_8pct", "basal rate 8 % high, reported as delivered (rate_ml_day)"},
    {Defect::RateLow8, "rate_low_8pct", "basal rate 8 % low, reported as delivered (rate_ml_day)"},
    {Defect::ScheduleHourLate, "schedule_hour_late", "schedule steps come into force one hour late (time-zone slip)"},
    {Defect::StepAfterMidnightSkipped, "step_after_midnight_skipped",
     "at midnight the step starting 00:00 is skipped: the last step goes on until the next one"},
    {Defect::PeriodicBolusSkipped, "periodic_bolus_skipped", "every other periodic bolus (the first, third, ...) is not given"},
    {Defect::PeriodicBolusTwice, "periodic_bolus_twice", "each periodic bolus is given twice, the copy right after it"},
    {Defect::ClinicianBolusShort, "clinician_bolus_short_20pct", "a clinician bolus delivers 20 % less than its dose"},
    {Defect::BolusDoubleDuration, "bolus_double_duration", "every bolus runs over twice its duration"},
    {Defect::PtmLockoutIgnored, "ptm_lockout_ignored", "patient-bolus lockout not enforced"},
    {Defect::PtmLimitOffByOne, "ptm_limit_off_by_one", "one patient bolus more than max_day allowed in 24 h"},
    {Defect::RefillConcentrationIgnored, "refill_concentration_ignored", "a refill's new concentration is ignored (old one kept)"},
    {Defect::BolusNotDeducted, "bolus_not_deducted", "bolus strokes are not taken off the reservoir estimate"},
    {Defect::LowResLate, "low_res_late_1ml", "LOW_RES set 1 mL below its threshold"},
    {Defect::LowResNever, "low_res_never", "LOW_RES never set"},
    {Defect::EmptyResNoMinimumRate, "empty_res_no_min_rate", "no switch to the minimum rate at EMPTY_RES"},
    {Defect::StopKeepsBolus, "stop_keeps_bolus", "STOP does not stop a bolus under way"},
    {Defect::RetryExecutedAgain, "retry_executed_again", "a repeated SEQ with the same body is executed again"},
    {Defect::EventsNotResent, "events_not_resent", "unacknowledged events are never sent again"},
    {Defect::MotorStallUnreported, "motor_stall_unreported",
     "the rotor stalls from the 40th stroke on and the pump does not notice (counts on, no MOTOR_STALL)"},
    {Defect::PrimingVolumeWrong, "priming_volume_wrong", "priming delivers 20 % more than asked"},
    {Defect::ClockDrift, "clock_drift_1pct", "the pump clock runs 1 % fast"},
}};

}  // namespace

std::span<const DefectInfo> defect_catalogue() { return kCatalogue; }

std::optional<Defect> defect_from_name(std::string_view name) {
    for (const auto& d : kCatalogue)
        if (d.name == name) return d.defect;
    return std::nullopt;
}

std::string_view defect_name(Defect defect) { return kCatalogue[static_cast<std::size_t>(defect)].name; }

PumpDefects PumpDefects::from_names(const std::vector<std::string>& names) {
    PumpDefects out;
    for (const auto& n : names) {
        auto d = defect_from_name(n);
        if (!d) {
            std::string known;
            for (const auto& info : kCatalogue) known += (known.empty() ? "" : ", ") + std::string(info.name);
            throw std::invalid_argument("unknown pump defect '" + n + "'; expected one of: " + known);
        }
        out.add(*d);
    }
    return out;
}

}  // namespace pumprig::pump::sim
