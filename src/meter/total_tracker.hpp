// Turns the totals a meter shows into one unwrapped total for the run, and notices frozen data.
#pragma once
#include <cstdint>
#include <optional>

#include "core/units.hpp"
#include "meter/profile.hpp"

namespace pumprig::meter {

class TotalTracker {
public:
    explicit TotalTracker(const MeterProfile& profile);

    struct Update {
        Volume total;        // unwrapped total since the baseline (the last restart)
        Volume delta;        // change since the previous reading
        bool stale = false;  // the sample counter did not move since the previous reading
        int stale_streak = 0;  // consecutive stale readings, this one included
    };

    // Feed readings in the order they were taken.
    Update update(const MeterReading& reading);
    // The meter's total was reset (or a run starts on a fresh meter): the next reading is
    // measured from zero. A wrapping total right after a reset may already be "negative"
    // (backward flow), so the first delta is taken from raw 0 as a signed number too.
    void restart();

    Volume total() const { return total_; }

private:
    TotalField field_;
    bool has_sample_;
    std::uint64_t last_raw_ = 0;
    std::int64_t raw_total_ = 0;
    std::optional<std::uint16_t> last_sample_;
    Volume total_;
    int stale_streak_ = 0;
};

}  // namespace pumprig::meter
