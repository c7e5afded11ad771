// The names a rig or a command line may give the simulated bench, besides the pump defects
// (src/pump/sim/defects.hpp): meter faults, scheduled faults and link-fault options. Plain data
// without the models, so that pumprig checks a rig's simulator section itself (bad input, exit
// 2, with the file and pointer) instead of leaving the mistake to pumprig-sim. docs/simulator.md.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace pumprig::sim_catalogue {

// A meter fault as pumprig-sim --meter-fault takes it: zero_drift, air_bursts or frozen,
// optionally =NUMBER (0 or more).
bool is_meter_fault(const std::string& text);

// A scheduled fault as --fault-at takes it, without K@: BENCH_SECONDS:NAME[:ARG]. Empty when
// valid, else what was expected.
std::optional<std::string> scheduled_fault_problem(const std::string& text);

// A rig's "faults" list: pumprig-sim's fault options with their values
// (["--corrupt-rate", "0.001", "--fault-at", "3600:pump_reset"], or "--option=value").
// The index of the first bad item and what was expected there, or nothing when all are valid.
struct OptionProblem {
    std::size_t index = 0;
    std::string expected;
};
std::optional<OptionProblem> fault_options_problem(const std::vector<std::string>& args);

}  // namespace pumprig::sim_catalogue
