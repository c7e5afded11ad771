// The scenarios a bench command runs: every file the paths name (scenario::scenario_files),
// parsed before the bench is touched, kept if it has one of `tags` (any, when none given).
// Every diagnostic of every file goes to stderr; any at all is bad input (nullopt), so that a
// suite never half-runs.
#pragma once
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "scenario/scenario.hpp"

namespace pumprig::cli {

inline std::optional<std::vector<scenario::Scenario>> load_scenarios(const std::vector<std::string>& paths, const std::string& fixtures,
                                                                     const std::vector<std::string>& tags) {
    std::vector<scenario::Diagnostic> problems;
    std::vector<scenario::Scenario> out;
    for (const auto& p : paths) {
        for (const auto& f : scenario::scenario_files(p, problems)) {
            auto sc = scenario::parse_scenario_file(f, fixtures);
            if (!sc) {
                problems.insert(problems.end(), sc.error().begin(), sc.error().end());
                continue;
            }
            const bool tagged = tags.empty() || std::any_of(sc->tags.begin(), sc->tags.end(), [&](const std::string& t) {
                                    return std::find(tags.begin(), tags.end(), t) != tags.end();
                                });
            if (tagged) out.push_back(std::move(*sc));
        }
    }
    for (const auto& d : problems) std::cerr << printable(scenario::format(d)) << "\n";
    if (!problems.empty()) return std::nullopt;
    return out;
}

}  // namespace pumprig::cli
