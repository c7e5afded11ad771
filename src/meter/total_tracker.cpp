#include "meter/total_tracker.hpp"

namespace pumprig::meter {

TotalTracker::TotalTracker(const MeterProfile& profile)
    : field_(profile.total), has_sample_(profile.sample.has_value()) {}

void TotalTracker::restart() {
    last_raw_ = 0;
    raw_total_ = 0;
    last_sample_.reset();
    total_ = {};
    stale_streak_ = 0;
}

TotalTracker::Update TotalTracker::update(const MeterReading& reading) {
    Update u;
    if (field_.wraps) {
        // ICD: the change of a wrapping total between two reads, modulo 2^bits, as a signed
        // number: correct as long as less than half the range passes between two reads.
        const int bits = field_.count() * 16;
        const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
        const std::uint64_t diff = (reading.total_raw - last_raw_) & mask;
        const std::int64_t signed_diff = diff >= (std::uint64_t{1} << (bits - 1))
                                             ? static_cast<std::int64_t>(diff) - static_cast<std::int64_t>(mask + 1)
                                             : static_cast<std::int64_t>(diff);
        // Counted in raw steps so that a long run adds no rounding.
        raw_total_ += signed_diff;
        last_raw_ = reading.total_raw;
        const Volume before = total_;
        total_ = Volume::from_ul(static_cast<double>(raw_total_) * field_.scale * field_.unit_factor);
        u.delta = total_ - before;
    } else {
        // A float or non-wrapping total is taken as shown.
        u.delta = reading.total - total_;
        total_ = reading.total;
    }
    u.total = total_;
    if (has_sample_) {
        u.stale = last_sample_ && *last_sample_ == reading.sample;
        last_sample_ = reading.sample;
    }
    stale_streak_ = u.stale ? stale_streak_ + 1 : 0;
    u.stale_streak = stale_streak_;
    return u;
}

}  // namespace pumprig::meter
