// The bench clock. Everything that schedules or stamps (sampler, scenario steps, the record)
// reads one Clock; whether it is the wall clock, virtual time driven by the controller, or a
// manual clock in a unit test is decided once when the bench is built.
#pragma once
#include "core/units.hpp"

namespace pumprig {

class Clock {
public:
    virtual ~Clock() = default;
    virtual BenchTime now() const = 0;
};

// A clock that only moves when told to: unit tests, and the in-process models.
class ManualClock final : public Clock {
public:
    explicit ManualClock(BenchTime start) : now_(start) {}
    BenchTime now() const override { return now_; }
    void advance(Millis d) { now_ += d; }
    void set(BenchTime t) { now_ = t; }

private:
    BenchTime now_;
};

// 2026-01-01 00:00:00 UTC, the pump ICD's example epoch: the default start of virtual time.
inline constexpr BenchTime kDefaultVirtualEpoch{Millis{1767225600000LL}};

}  // namespace pumprig
