// What the checks read: the meter samples of a run (record/data.hpp) and the delivery the
// scenario expects. Plain data, produced upstream (run engine, scenario expansion), consumed
// here; nothing in verify/ talks to a device.
#pragma once
#include <string>
#include <vector>

#include "core/units.hpp"
#include "record/data.hpp"

namespace pumprig::verify {

using record::Sample;

// Expected delivery as piecewise-constant rate segments (basal steps, boluses overlaid and
// split where they overlap), computed by pumprig from the scenario, never from the pump.
struct ExpectedSegment {
    BenchTime start;
    BenchTime end;
    FlowRate rate;
    std::string label;  // "basal step 2", "periodic bolus 1", "clinician bolus", ...
};

}  // namespace pumprig::verify
