// Where the tests find the source tree and the programs under test: compiled in
// (PUMPRIG_SOURCE_DIR, PUMPRIG_BUILD_DIR), the environment overriding them (tests/CMakeLists.txt).
// Shared by the unit, integration and peer tests instead of a copy in each file.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_command.hpp"

namespace pumprig::test {

namespace fs = std::filesystem;

inline const std::string kSource = env_or("PUMPRIG_SOURCE_DIR", PUMPRIG_SOURCE_DIR);
inline const std::string kPumprig = env_or("PUMPRIG_BINARY", PUMPRIG_BUILD_DIR "/pumprig");
inline const std::string kSim = env_or("PUMPRIG_SIM_BINARY", PUMPRIG_BUILD_DIR "/pumprig-sim");
inline const std::string kPython = env_or("PUMPRIG_PYTHON", "/usr/bin/python3");

inline void write_file(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

}  // namespace pumprig::test
