// Shared helpers for the scenario unit tests: where the fixtures are, and a scenario from text.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "scenario/scenario.hpp"

namespace pumprig::scenario::test {

// The source tree: compiled in, the environment overrides it.
inline std::filesystem::path source_dir() {
    const char* dir = std::getenv("PUMPRIG_SOURCE_DIR");
    return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(PUMPRIG_SOURCE_DIR);
}
inline std::filesystem::path fixtures_dir() { return source_dir() / "fixtures"; }

// A scenario on an ITB-40 with the given steps (a JSON array text) and extra top-level members.
inline std::string scenario_text(const std::string& steps, const std::string& extra = "") {
    return R"({"name": "t", "pump_profile": "itb-40", "requirements": ["REQ-1"], )" + extra +
           R"("steps": )" + steps + "}";
}

inline Scenario parse_ok(const std::string& text) {
    auto r = parse_scenario_text(text, "test.json", fixtures_dir());
    if (!r) {
        for (const auto& d : r.error()) MESSAGE(format(d));
    }
    REQUIRE(r.has_value());
    return *r;
}

inline std::vector<Diagnostic> parse_errors(const std::string& text) {
    auto r = parse_scenario_text(text, "test.json", fixtures_dir());
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

}  // namespace pumprig::scenario::test
