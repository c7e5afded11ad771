// Link faults the simulated bench injects on demand (issue: faults survived, nothing lost):
// corrupted bytes at a set rate on both links, dropped and late pump responses, a pump link
// that goes away for a while, a meter that stops answering. All random choices come from one
// seeded generator, so a faulty run is as reproducible as a clean one.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>

#include "pump/codec/frame.hpp"

namespace pumprig::sim {

struct LinkFaultOptions {
    double corrupt_rate = 0.0;  // probability that a byte (either link, either way) has a bit flipped
    double drop_rate = 0.0;     // probability that a pump response line is not sent
    double late_rate = 0.0;     // probability that a pump response is sent 400 ms late
};

class LinkFaults {
public:
    LinkFaults(const LinkFaultOptions& options, std::uint64_t seed);
    bool active() const { return o_.corrupt_rate > 0 || o_.drop_rate > 0 || o_.late_rate > 0; }

    // Flips one random bit in each byte picked at corrupt_rate.
    std::string corrupt(std::string_view bytes);
    // Pump output: drops or holds back response lines; returns what goes out now.
    std::string pump_output(std::string_view bytes);
    // Held-back responses whose time has come.
    std::string due(std::chrono::steady_clock::time_point now);
    bool holding() const { return !late_.empty(); }

    struct Counters {
        std::uint64_t corrupted = 0, dropped = 0, late = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    LinkFaultOptions o_;
    std::mt19937_64 rng_;
    std::bernoulli_distribution corrupt_, drop_, delay_;
    pump::codec::FrameDecoder decoder_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> late_;
    Counters counters_;
};

}  // namespace pumprig::sim
