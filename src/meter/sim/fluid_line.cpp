#include "meter/sim/fluid_line.hpp"

#include <cmath>
#include <stdexcept>

namespace pumprig::meter::sim {

namespace {
// Below this the remainder leaves at once: an exponential never empties, and "everything in
// comes out eventually" must hold exactly. 1 pL is far below the meter's 1 nL resolution.
constexpr double kDrainBelowUl = 1e-6;
}  // namespace

FluidLine::FluidLine(Millis time_constant) : tau_(time_constant) {
    if (tau_ < Millis{0}) throw std::invalid_argument("FluidLine: negative time constant");
}

void FluidLine::push(Volume in) { in_ += in; }

Volume FluidLine::advance(Millis dt) {
    if (dt <= Millis{0}) return {};
    const Volume held_now = held();
    Volume out = held_now;
    if (tau_ > Millis{0} && std::abs(held_now.ul) >= kDrainBelowUl)
        out = held_now * (1.0 - std::exp(-static_cast<double>(dt.count()) / static_cast<double>(tau_.count())));
    // Computed from the totals: out_ then equals in_ exactly when the line drains.
    const Volume before = out_;
    out_ = (out == held_now) ? in_ : out_ + out;
    return out_ - before;
}

}  // namespace pumprig::meter::sim
