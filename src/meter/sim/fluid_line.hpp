// The catheter and tubing between the pump outlet and the meter: the pump pushes strokes in,
// the line's compliance (a first-order lag) smooths them before they reach the meter.
#pragma once
#include "core/units.hpp"

namespace pumprig::meter::sim {

class FluidLine {
public:
    // time_constant 0: no compliance, everything pushed in comes out at the next advance().
    explicit FluidLine(Millis time_constant = Millis{20000});

    void push(Volume in);  // a pump stroke (0.25 uL) or any volume, negative for backflow
    // Moves time forward; returns the volume that left the line during dt.
    Volume advance(Millis dt);

    Volume held() const { return in_ - out_; }  // in the line, not yet out
    Volume total_in() const { return in_; }
    Volume total_out() const { return out_; }
    Millis time_constant() const { return tau_; }

private:
    Millis tau_;
    Volume in_, out_;  // totals, so that conservation holds by construction
};

}  // namespace pumprig::meter::sim
