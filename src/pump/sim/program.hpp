// A pump program as the simulated ITB pump keeps it (ICD section 6), and the ITB family's
// limits (section 9). Doses are kept in micro-micrograms (ug x 1e6, integers) so that the limit
// checks at a boundary (exactly 24 mL/day, exactly 1.0 mL/h) compare exactly, not in floating
// point.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pumprig::pump::sim {

// Dose in ug x 1e6: the ICD allows 6 decimals, so every dose it can carry is a whole number here.
using MicroUg = std::int64_t;

inline constexpr int kMinutesPerDay = 1440;
inline constexpr std::size_t kMaxSteps = 10;
inline constexpr std::size_t kMaxPeriodicBoluses = 4;

// Section 9, the same for ITB-20 and ITB-40 apart from the reservoir. Volumes in nL.
struct ItbLimits {
    static constexpr std::int64_t kMinBasalNlPerDay = 48'000;      // 0.048 mL/day
    static constexpr std::int64_t kMaxBasalNlPerDay = 24'000'000;  // 24 mL/day
    static constexpr std::int64_t kMaxBolusNlPerHour = 1'000'000;  // 1.0 mL/h (bolus, priming)
    static constexpr std::uint32_t kMinConcUgPerMl = 50;
    static constexpr std::uint32_t kMaxConcUgPerMl = 4000;
    static constexpr std::int64_t kEmptyResNl = 500'000;           // EMPTY_RES at or below 0.5 mL
    static constexpr std::int64_t kStrokeNl = 250;                 // one rotor stroke: 0.25 uL
};

// Reservoir size of a model name, in nL; nullopt for a model the ICD does not describe.
std::optional<std::int64_t> reservoir_size_nl(std::string_view model);

struct ScheduleStep {
    int start_min = 0;        // minutes after midnight
    MicroUg dose_ug_day = 0;
};

struct PeriodicBolus {
    int start_min = 0;
    MicroUg dose_ug = 0;
    int dur_min = 1;
};

struct PatientBolus {
    MicroUg dose_ug = 0;
    int dur_min = 1;
    int lockout_min = 0;
    int max_day = 1;
};

struct Program {
    std::vector<ScheduleStep> steps;
    std::vector<PeriodicBolus> boluses;
    std::optional<PatientBolus> ptm;

    // Planned daily dose, basal and periodic boluses, in ug (PROG.COMMIT / PROG.READ daily_ug).
    double daily_ug() const;
    // Index (0 based) of the step in force at a time of day given in ms after midnight.
    // The program must have at least one step starting at 00:00 (a committed program has).
    std::size_t step_index_at(std::int64_t ms_of_day) const;
};

// Why a program cannot be committed (or why a refill would break it): empty when it is fine.
// Checks the PROG.COMMIT rules: at least one step, the first at 00:00, starts strictly
// increasing, every basal rate within 0.048..24 mL/day and every bolus (periodic and patient)
// at most 1.0 mL/h at the concentration given.
std::string program_problem(const Program& program, std::uint32_t conc_ug_ml);

// A bolus's own rate limit: dose over its duration at most 1.0 mL/h at this concentration.
bool bolus_within_rate_limit(MicroUg dose_ug, int dur_min, std::uint32_t conc_ug_ml);

// Volume in nL (fractional) of a dose at a concentration.
double dose_to_nl(MicroUg dose, std::uint32_t conc_ug_ml);
double micro_to_ug(MicroUg dose);

}  // namespace pumprig::pump::sim
