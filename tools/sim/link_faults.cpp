#include "link_faults.hpp"

#include "pump/codec/messages.hpp"

namespace pumprig::sim {

LinkFaults::LinkFaults(const LinkFaultOptions& o, std::uint64_t seed)
    : o_(o), rng_(seed ^ 0xFA17FA17ULL), corrupt_(o.corrupt_rate), drop_(o.drop_rate), delay_(o.late_rate) {}

std::string LinkFaults::corrupt(std::string_view bytes) {
    std::string out(bytes);
    if (o_.corrupt_rate <= 0) return out;
    for (char& c : out) {
        if (!corrupt_(rng_)) continue;
        c = static_cast<char>(static_cast<unsigned char>(c) ^ (1u << std::uniform_int_distribution<int>(0, 7)(rng_)));
        ++counters_.corrupted;
    }
    return out;
}

std::string LinkFaults::pump_output(std::string_view bytes) {
    if (o_.drop_rate <= 0 && o_.late_rate <= 0) return std::string(bytes);
    std::string out;
    decoder_.feed(bytes);
    while (auto line = decoder_.next()) {
        std::string frame = line->raw + "\r\n";
        // Only responses are dropped or delayed: a dropped event is the same as a corrupted one,
        // which corrupt() already covers, and the pump sends it again.
        if (pump::codec::classify(line->body) == pump::codec::LineKind::Response) {
            if (drop_(rng_)) {
                ++counters_.dropped;
                continue;
            }
            if (delay_(rng_)) {
                ++counters_.late;
                late_.emplace_back(std::chrono::steady_clock::now() + std::chrono::milliseconds(400), std::move(frame));
                continue;
            }
        }
        out += frame;
    }
    return out;
}

std::string LinkFaults::due(std::chrono::steady_clock::time_point now) {
    std::string out;
    while (!late_.empty() && late_.front().first <= now) {
        out += late_.front().second;
        late_.pop_front();
    }
    return out;
}

}  // namespace pumprig::sim
