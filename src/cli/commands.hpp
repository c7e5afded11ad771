#pragma once
#include "run/suite.hpp"

#include "record/version.hpp"

namespace pumprig::cli {

inline constexpr const char* kVersion = kToolVersion;  // CMake's project version

// Exit codes, as documented in the README (one rule for every bench command: src/run/suite.hpp).
inline constexpr int kExitPass = run::kExitPass;
inline constexpr int kExitCheckFailed = run::kExitCheckFailed;
inline constexpr int kExitBadInput = run::kExitBadInput;
inline constexpr int kExitBenchError = run::kExitBenchError;

int cmd_probe(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_validate(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_eol(int argc, char** argv);
int cmd_history(int argc, char** argv);
int cmd_stats(int argc, char** argv);
int cmd_ports(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_verify_record(int argc, char** argv);

}  // namespace pumprig::cli
