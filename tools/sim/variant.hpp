// Variant mode: the pump link exercises every freedom the pump ICD gives a device, so that
// pumprig is proven against more than its own simulator's habits. A filter between the pump
// model and the pseudo-terminal, using the same codec:
//   - requests answered BUSY now and then (never kept as the previous response: the model
//     does not see them);
//   - RESET confirmed only by its BOOT event (the OK is not sent);
//   - unknown keys added to responses and events ("ignore keys it does not know");
//   - CRC in lower case ("receivers accept either case");
//   - decimals printed with fewer or more digits ("compare numbers, not text");
//   - alarms listed in another order ("in no set order");
//   - events sent again unasked, and held back to come in bursts with a later line
//     ("an event line may arrive at any moment", "a host sees duplicates");
//   - answers slowed to near the 100 ms limit.
// Line transformations are chosen from a hash of the line, so an event the model re-sends
// stays byte-identical, as the ICD requires; BUSY and delays come from a seeded generator.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pump/codec/frame.hpp"

namespace pumprig::sim {

class VariantLink {
public:
    explicit VariantLink(std::uint64_t seed);

    struct FromHost {
        std::string to_model;  // request lines to pass on
        std::string reply;     // answers given here (BUSY), to send to the host at once
    };
    FromHost from_host(std::string_view bytes);

    struct ToHost {
        std::string bytes;
        int delay_ms = 0;  // wall time to wait before sending (a slow answer)
    };
    ToHost to_host(std::string_view model_output);

    struct Counters {
        std::uint64_t busy = 0, dropped_reset_ok = 0, extra_keys = 0, lower_crc = 0, reformatted = 0,
                      reordered_alarms = 0, repeated_events = 0, held_events = 0, slowed = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    std::string transform(const std::string& body, bool is_event);
    pump::codec::FrameDecoder from_host_, from_model_;
    std::mt19937_64 rng_;
    std::vector<std::uint32_t> reset_seqs_;  // RESET requests whose OK is not sent
    std::vector<std::string> held_;          // event lines waiting for a burst
    std::vector<std::string> recent_events_; // lines to repeat unasked
    Counters counters_;
};

}  // namespace pumprig::sim
