#include "pump/sim/program.hpp"

namespace pumprig::pump::sim {

std::optional<std::int64_t> reservoir_size_nl(std::string_view model) {
    if (model == "ITB-20") return 20'000'000;
    if (model == "ITB-40") return 40'000'000;
    return std::nullopt;
}

double micro_to_ug(MicroUg dose) { return static_cast<double>(dose) / 1e6; }

double dose_to_nl(MicroUg dose, std::uint32_t conc_ug_ml) {
    // ug / (ug/mL) = mL; x 1e6 nL/mL cancels the 1e6 of MicroUg.
    return static_cast<double>(dose) / static_cast<double>(conc_ug_ml);
}

double Program::daily_ug() const {
    double total = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const int end = i + 1 < steps.size() ? steps[i + 1].start_min : kMinutesPerDay;
        total += micro_to_ug(steps[i].dose_ug_day) * (end - steps[i].start_min) / kMinutesPerDay;
    }
    for (const auto& b : boluses) total += micro_to_ug(b.dose_ug);
    return total;
}

std::size_t Program::step_index_at(std::int64_t ms_of_day) const {
    std::size_t index = 0;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (static_cast<std::int64_t>(steps[i].start_min) * 60'000 <= ms_of_day) index = i;
    return index;
}

bool bolus_within_rate_limit(MicroUg dose_ug, int dur_min, std::uint32_t conc_ug_ml) {
    // volume (mL) = D / C; over M minutes at most 1.0 mL/h <=> 60 D <= C M (D in ug).
    // In MicroUg and nL: 60 D' <= C M kMaxBolusNlPerHour. Doses are capped at parse time so
    // 60 D' fits in 64 bits.
    const auto lhs = static_cast<std::int64_t>(60) * dose_ug;
    const auto rhs = static_cast<std::int64_t>(conc_ug_ml) * dur_min * ItbLimits::kMaxBolusNlPerHour;
    return lhs <= rhs;
}

static bool basal_within_limits(MicroUg dose_ug_day, std::uint32_t conc_ug_ml) {
    // rate (mL/day) = D / C, so 0.048 <= D/C <= 24 <=> 0.048 C <= D <= 24 C; in MicroUg and nL
    // (1 mL = 1e6 nL) the bounds are whole numbers: kMin * C <= D' <= kMax * C.
    const auto c = static_cast<std::int64_t>(conc_ug_ml);
    return dose_ug_day >= ItbLimits::kMinBasalNlPerDay * c &&
           dose_ug_day <= ItbLimits::kMaxBasalNlPerDay * c;
}

std::string program_problem(const Program& program, std::uint32_t conc_ug_ml) {
    if (program.steps.empty()) return "a program needs at least one step";
    if (program.steps.front().start_min != 0) return "the first step must start at 00:00";
    for (std::size_t i = 1; i < program.steps.size(); ++i)
        if (program.steps[i].start_min <= program.steps[i - 1].start_min)
            return "step starts must strictly increase";
    for (std::size_t i = 0; i < program.steps.size(); ++i)
        if (!basal_within_limits(program.steps[i].dose_ug_day, conc_ug_ml))
            return "step " + std::to_string(i + 1) + " rate outside 0.048 to 24 mL/day";
    for (std::size_t i = 0; i < program.boluses.size(); ++i)
        if (!bolus_within_rate_limit(program.boluses[i].dose_ug, program.boluses[i].dur_min, conc_ug_ml))
            return "bolus " + std::to_string(i + 1) + " faster than 1.0 mL/h";
    if (program.ptm && !bolus_within_rate_limit(program.ptm->dose_ug, program.ptm->dur_min, conc_ug_ml))
        return "patient bolus faster than 1.0 mL/h";
    return {};
}

}  // namespace pumprig::pump::sim
