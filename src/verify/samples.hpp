// What the checks read: the meter samples of a run and the delivery the scenario expects.
// Plain data, produced upstream (run engine, scenario expansion), consumed here; nothing in
// verify/ talks to a device.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace pumprig::verify {

// One meter reading as recorded by the sampler.
struct Sample {
    BenchTime t;             // bench time of the read
    Volume total;            // meter total since the run's reset, unwrapped (nL resolution)
    FlowRate flow;           // filtered flow, as the meter reports it
    std::uint16_t status = 0;   // raw status bits (bit 0 VALID, 1 AIR, 2 OVERRANGE, 3 FAULT)
    std::uint16_t counter = 0;  // the meter's sample counter
    bool valid = false;      // VALID bit set, and the counter moved since the previous read
    bool stale = false;      // the counter did not move: the meter's data is frozen
};

// Expected delivery as piecewise-constant rate segments (basal steps, boluses overlaid and
// split where they overlap), computed by pumprig from the scenario, never from the pump.
struct ExpectedSegment {
    BenchTime start;
    BenchTime end;
    FlowRate rate;
    std::string label;  // "basal step 2", "periodic bolus 1", "clinician bolus", ...
};

}  // namespace pumprig::verify
