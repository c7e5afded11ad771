// Shared by the meter tests: where the fixtures are, and the profiles loaded from them.
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "meter/profile.hpp"

namespace pumprig::meter::test {

inline std::string source_dir() {
    const char* dir = std::getenv("PUMPRIG_SOURCE_DIR");
    return dir && *dir ? dir : PUMPRIG_SOURCE_DIR;  // compiled in; the environment overrides
}

inline std::string fixture(const std::string& name) { return source_dir() + "/fixtures/meters/" + name; }

inline MeterProfile load_fixture(const std::string& name) {
    auto p = load_meter_profile(fixture(name));
    if (!p) throw std::runtime_error(p.error().describe());
    return *p;
}

inline MeterProfile lf2000() { return load_fixture("lf-2000.json"); }
inline MeterProfile other_make() { return load_fixture("example-float-ml.json"); }

}  // namespace pumprig::meter::test
