#include "pump/sim/defects.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace pumprig::pump::sim {

namespace {

constexpr std::array<DefectInfo, static_cast<std::size_t>(Defect::kCount)> kCatalogue{{
    {Defect::RateError, "rate_error", "basal rate off by M %, reported as delivered (rate_ml_day): a firmware rate error", "%", 8, -90, 100},
    {Defect::DeliveryError, "delivery_error",
     "each stroke pushes M % more (negative: less) than 0.25 uL while the pump counts and reports nominal strokes (mechanics)", "%", 20,
     -90, 200},
    {Defect::ScheduleLate, "schedule_late", "schedule steps come into force M minutes late (the schedule reads a clock behind)", "min",
     60, 1, 720},
    {Defect::StepAfterMidnightSkipped, "step_after_midnight_skipped",
     "at midnight the step starting 00:00 is skipped: the last step goes on until the next one"},
    {Defect::PeriodicBolusSkipped, "periodic_bolus_skipped", "every other periodic bolus (the first, third, ...) is not given"},
    {Defect::PeriodicBolusTwice, "periodic_bolus_twice", "each periodic bolus is given twice, the copy right after it"},
    {Defect::ClinicianBolusShort, "clinician_bolus_short", "a clinician bolus delivers (and reports) M % less than its dose", "%", 20,
     0.1, 100},
    {Defect::BolusSlow, "bolus_slow", "every bolus runs M % longer than its duration (same volume)", "%", 100, 1, 1000},
    {Defect::PtmLockoutShort, "ptm_lockout_short", "the patient-bolus lockout ends M minutes early (1440: not enforced)", "min", 1440,
     1, 1440},
    {Defect::PtmLimitOffByOne, "ptm_limit_off_by_one", "one patient bolus more than max_day allowed in 24 h"},
    {Defect::RefillConcentrationIgnored, "refill_concentration_ignored", "a refill's new concentration is ignored (old one kept)"},
    {Defect::BolusNotDeducted, "bolus_not_deducted", "bolus strokes are not taken off the reservoir estimate"},
    {Defect::LowResLate, "low_res_late", "LOW_RES set M mL below its threshold", "mL", 1, 0.001, 5},
    {Defect::LowResNever, "low_res_never", "LOW_RES never set"},
    {Defect::EmptyResNoMinimumRate, "empty_res_no_min_rate", "no switch to the minimum rate at EMPTY_RES"},
    {Defect::StopKeepsBolus, "stop_keeps_bolus", "STOP does not stop a bolus under way"},
    {Defect::RetryExecutedAgain, "retry_executed_again", "a repeated SEQ with the same body is executed again"},
    {Defect::EventsNotResent, "events_not_resent", "unacknowledged events are never sent again"},
    {Defect::Stall, "stall",
     "from the 40th stroke on, M % of the strokes push nothing and the pump does not notice (counts on, no MOTOR_STALL)", "%", 100, 1,
     100},
    {Defect::PrimingExcess, "priming_excess", "priming delivers (and reports) M % more than asked (negative: less)", "%", 20, -90, 200},
    {Defect::ClockDrift, "clock_drift", "the pump clock runs M ppm fast (negative: slow)", "ppm", 10000, -100000, 100000},
    {Defect::StallNotCleared, "stall_not_cleared", "STOP does not clear MOTOR_STALL: the pump stays SUSPENDED and START is refused"},
    {Defect::ResetForgetsProgram, "reset_forgets_program", "RESET loses the program and sets deliv_ml back to 0"},
    {Defect::StepWaitsForBolus, "step_waits_for_bolus", "a schedule step due during a bolus comes into force only when the bolus ends"},
    {Defect::WaitingBolusDropped, "waiting_bolus_dropped", "a periodic bolus due while another bolus runs is dropped instead of waiting"},
    {Defect::CommitRunningDeferred, "commit_running_deferred",
     "PROG.COMMIT while RUNNING answers OK but the old program goes on until the next START"},
    {Defect::PtmLimitCalendarDay, "ptm_limit_calendar_day", "max_day patient boluses counted per day of the pump clock, not over 24 h"},
    {Defect::EventOverflowDropsAlarms, "event_overflow_drops_alarms",
     "past 64 unacknowledged events the oldest is dropped even when it is an ALARM"},
    {Defect::EosKeepsRunning, "eos_keeps_running", "at EOS (battery exhausted) delivery goes on"},
    {Defect::RefillAdds, "refill_adds", "REFILL adds res_ml to the estimate instead of setting it"},
    {Defect::PtmLockoutOnClock, "ptm_lockout_on_clock", "the patient-bolus lockout is timed on the settable clock, not elapsed time"},
    {Defect::StopIgnored, "stop_ignored", "STOP while delivering is answered OK but delivery goes on (state stays RUNNING or PRIMING)"},
    {Defect::StopRefused, "stop_refused", "STOP while delivering is refused with ERR,code=STATE and delivery goes on"},
}};

constexpr std::array<DefectAlias, 10> kAliases{{
    {"rate_high_8pct", Defect::RateError, 8},
    {"rate_low_8pct", Defect::RateError, -8},
    {"schedule_hour_late", Defect::ScheduleLate, 60},
    {"clinician_bolus_short_20pct", Defect::ClinicianBolusShort, 20},
    {"bolus_double_duration", Defect::BolusSlow, 100},
    {"ptm_lockout_ignored", Defect::PtmLockoutShort, 1440},
    {"low_res_late_1ml", Defect::LowResLate, 1},
    {"motor_stall_unreported", Defect::Stall, 100},
    {"priming_volume_wrong", Defect::PrimingExcess, 20},
    {"clock_drift_1pct", Defect::ClockDrift, 10000},
}};

std::string known_names() {
    std::string known;
    for (const auto& info : kCatalogue)
        known += (known.empty() ? "" : ", ") + std::string(info.name) + (info.unit.empty() ? "" : "[=" + std::string(info.unit) + "]");
    return known;
}

std::string number_text(double v) {
    std::string s = std::to_string(v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) s.pop_back();
    return s;
}

}  // namespace

std::span<const DefectInfo> defect_catalogue() { return kCatalogue; }
std::span<const DefectAlias> defect_aliases() { return kAliases; }
const DefectInfo& defect_info(Defect defect) { return kCatalogue[static_cast<std::size_t>(defect)]; }
std::string_view defect_name(Defect defect) { return defect_info(defect).name; }

std::optional<DefectSpec> parse_defect(std::string_view text, std::string* why) {
    auto refuse = [&](std::string reason) -> std::optional<DefectSpec> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    const auto eq = text.find('=');
    const std::string_view name = text.substr(0, eq);
    for (const auto& a : kAliases)
        if (a.name == name) {
            if (eq != std::string_view::npos) return refuse("'" + std::string(name) + "' is a former name with a set magnitude; write " +
                                                            std::string(defect_name(a.defect)) + "=VALUE instead");
            return DefectSpec{a.defect, a.magnitude};
        }
    const DefectInfo* info = nullptr;
    for (const auto& d : kCatalogue)
        if (d.name == name) info = &d;
    if (!info) return refuse("unknown pump defect '" + std::string(text) + "'; expected one of: " + known_names());
    if (eq == std::string_view::npos) return DefectSpec{info->defect, info->default_magnitude};
    if (info->unit.empty()) return refuse("pump defect '" + std::string(name) + "' takes no magnitude (no '=VALUE')");
    const std::string_view value = text.substr(eq + 1);
    double v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(v) || v < info->min || v > info->max || v == 0)
        return refuse("pump defect '" + std::string(text) + "': expected " + std::string(name) + "=VALUE, VALUE in " +
                      std::string(info->unit) + " from " + number_text(info->min) + " to " + number_text(info->max) + ", not 0");
    return DefectSpec{info->defect, v};
}

PumpDefects PumpDefects::from_names(const std::vector<std::string>& names) {
    PumpDefects out;
    for (const auto& n : names) {
        std::string why;
        const auto spec = parse_defect(n, &why);
        if (!spec) throw std::invalid_argument(why);
        out.add(spec->defect, spec->magnitude);
    }
    return out;
}

}  // namespace pumprig::pump::sim
