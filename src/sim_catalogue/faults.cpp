#include "sim_catalogue/faults.hpp"

#include <array>
#include <cstdlib>
#include <string_view>

namespace pumprig::sim_catalogue {

namespace {

// The whole of `text` as a number, or nothing.
std::optional<double> number(const std::string& text) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return std::nullopt;
    return v;
}

// Scheduled fault names and what their argument is (tools/sim/sim_bench.cpp SimChannel::fault).
struct ScheduledFault {
    std::string_view name;
    std::string_view argument;  // empty: takes none
};
constexpr std::array<ScheduledFault, 8> kScheduled{{
    {"motor_stall", ""},
    {"battery", "PCT"},
    {"air", "N"},
    {"freeze", ""},
    {"unfreeze", ""},
    {"pump_reset", ""},
    {"pump_link_down", "MS"},
    {"meter_silent", "MS"},
}};

std::string scheduled_names() {
    std::string s;
    for (const auto& f : kScheduled) s += (s.empty() ? "" : ", ") + std::string(f.name) + (f.argument.empty() ? "" : ":" + std::string(f.argument));
    return s;
}

// "K@" before a value names one channel of several (pumprig-sim --channels).
std::string without_channel(const std::string& value) {
    const auto at = value.find('@');
    if (at == std::string::npos || at == 0 || at > 1) return value;
    return value[0] >= '1' && value[0] <= '8' ? value.substr(at + 1) : value;
}

}  // namespace

bool is_meter_fault(const std::string& text) {
    const auto eq = text.find('=');
    const std::string name = text.substr(0, eq);
    if (name != "zero_drift" && name != "air_bursts" && name != "frozen") return false;
    if (eq == std::string::npos) return true;
    const auto v = number(text.substr(eq + 1));
    return v && *v >= 0;
}

std::optional<std::string> scheduled_fault_problem(const std::string& text) {
    const std::string expected = "\"BENCH_SECONDS:NAME[:ARG]\" with NAME one of " + scheduled_names() + ", e.g. \"3600:pump_reset\"";
    const auto c1 = text.find(':');
    if (c1 == std::string::npos) return expected;
    const auto secs = number(text.substr(0, c1));
    if (!secs || *secs < 0) return expected;
    const auto c2 = text.find(':', c1 + 1);
    const std::string name = text.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    for (const auto& f : kScheduled) {
        if (f.name != name) continue;
        if (f.argument.empty()) return c2 == std::string::npos ? std::nullopt : std::optional<std::string>(name + " without an argument");
        const auto arg = c2 == std::string::npos ? std::nullopt : number(text.substr(c2 + 1));
        const bool ok = arg && (name == "battery" ? *arg >= 0 && *arg <= 100 : *arg > 0);
        if (!ok) return name + ":" + std::string(f.argument) + " with " + std::string(f.argument) + (name == "battery" ? " from 0 to 100" : " a number above 0");
        return std::nullopt;
    }
    return expected;
}

std::optional<OptionProblem> fault_options_problem(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string option = args[i];
        std::optional<std::string> value;
        if (const auto eq = option.find('='); option.starts_with("--") && eq != std::string::npos) {
            value = option.substr(eq + 1);
            option = option.substr(0, eq);
        }
        const bool rate = option == "--corrupt-rate" || option == "--drop-rate" || option == "--late-rate";
        if (!rate && option != "--fault-at")
            return OptionProblem{i, "a fault option of pumprig-sim: --corrupt-rate R, --drop-rate R, --late-rate R or --fault-at S:NAME[:ARG]"};
        if (!value) {
            if (i + 1 == args.size()) return OptionProblem{i, "a value after " + option};
            value = args[++i];
        }
        if (rate) {
            const auto v = number(*value);
            if (!v || *v < 0 || *v > 1) return OptionProblem{i, "a probability from 0 to 1 after " + option};
        } else if (auto problem = scheduled_fault_problem(without_channel(*value))) {
            return OptionProblem{i, *problem};
        }
    }
    return std::nullopt;
}

}  // namespace pumprig::sim_catalogue
