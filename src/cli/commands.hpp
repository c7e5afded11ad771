#pragma once

#include "record/version.hpp"

namespace pumprig::cli {

inline constexpr const char* kVersion = kToolVersion;  // CMake's project version

// Exit codes, as documented in the README.
inline constexpr int kExitPass = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitBenchError = 3;

int cmd_probe(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_validate(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_eol(int argc, char** argv);
int cmd_history(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_verify_record(int argc, char** argv);

}  // namespace pumprig::cli
