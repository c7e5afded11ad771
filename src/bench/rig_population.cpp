#include "bench/rig_population.hpp"

#include <sstream>

namespace pumprig::bench {

Result<UnitPins> read_unit_pins(const nlohmann::json& unit, const std::string& at, const std::filesystem::path& file) {
    auto bad = [&file](const std::string& ptr, const std::string& expected) {
        return fail(ErrorKind::BadInput, file.string() + ": at " + ptr + ": expected " + expected);
    };
    UnitPins out;
    if (!unit.is_object()) return bad(at, "an object of unit parameters pinned, e.g. {\"delivery_error_pct\": -14.9}");
    for (const auto& [key, value] : unit.items()) {
        const auto param = unit_param_from_name(key);
        std::string names;
        for (const auto& p : unit_params()) names += (names.empty() ? "" : ", ") + std::string(p.name);
        if (!param) return bad(at + "/" + key, "one of " + names + " (this key is unknown)");
        const auto& info = unit_params()[static_cast<std::size_t>(*param)];
        if (!value.is_number() || !(value.get<double>() >= info.min && value.get<double>() <= info.max)) {
            std::ostringstream range;
            range << "a number from " << info.min << " to " << info.max << " " << info.unit;
            return bad(at + "/" + key, range.str());
        }
        out.emplace_back(key, value.get<double>());
    }
    return out;
}

Result<RigPopulation> read_rig_population(const nlohmann::json& top, const std::string& pointer, const std::filesystem::path& file) {
    RigPopulation out;
    auto bad = [&file](const std::string& ptr, const std::string& expected) {
        return fail(ErrorKind::BadInput, file.string() + ": at " + ptr + ": expected " + expected);
    };
    if (top.contains("line")) {
        const auto& line = top.at("line");
        const std::string at = pointer + "/line";
        if (!line.is_object()) return bad(at, "an object: {\"tau_s\": 20, \"tau_uncertainty_pct\": 30}");
        for (const auto& [key, value] : line.items()) {
            if (key != "tau_s" && key != "tau_uncertainty_pct") return bad(at + "/" + key, "tau_s or tau_uncertainty_pct (this key is unknown)");
            if (!value.is_number()) return bad(at + "/" + key, "a number");
        }
        if (line.contains("tau_s")) {
            const double tau = line.at("tau_s").get<double>();
            if (!(tau >= 0 && tau <= 3600)) return bad(at + "/tau_s", "the line's nominal time constant in seconds, 0 to 3600");
            out.line_tau_s = tau;
        }
        if (line.contains("tau_uncertainty_pct")) {
            const double u = line.at("tau_uncertainty_pct").get<double>();
            if (!(u >= 0 && u <= 90)) return bad(at + "/tau_uncertainty_pct", "how far the real time constant may be from tau_s, percent, 0 to 90");
            out.line_tau_uncertainty_pct = u;
        }
        if (top.contains("line_tau_s")) return bad(pointer + "/line_tau_s", "no line_tau_s beside \"line\" (line_tau_s is the former name of line.tau_s)");
    }
    if (!top.contains("simulator") || !top.at("simulator").is_object()) return out;
    const auto& sim = top.at("simulator");
    const std::string at = pointer + "/simulator";
    if (sim.contains("ideal")) {
        if (!sim.at("ideal").is_boolean()) return bad(at + "/ideal", "true (the exact world) or false (a unit of the population, the default)");
        out.ideal = sim.at("ideal").get<bool>();
    }
    if (sim.contains("unit")) {
        auto pins = read_unit_pins(sim.at("unit"), at + "/unit", file);
        if (!pins) return std::unexpected(pins.error());
        out.unit_pins = std::move(*pins);
    }
    return out;
}

}  // namespace pumprig::bench
