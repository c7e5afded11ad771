// The flow meter's calibration due date (rig file: "meter": {"calibration_due": "YYYY-MM-DD"}):
// a run with a meter past its calibration still runs, but says so in its log and the release
// report (docs/benches.md).
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "bench/rig.hpp"

namespace pumprig::bench {

// One line per meter of the rig (the rig's own, each channel's) whose calibration due date is
// past at `now`: "warning: the flow meter [ch2] was due for calibration on 2026-01-01 (rig FILE)".
std::vector<std::string> calibration_warnings(const RigDescription& rig, std::chrono::system_clock::time_point now);

}  // namespace pumprig::bench
