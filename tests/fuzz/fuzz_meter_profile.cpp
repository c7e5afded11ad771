// Meter profiles (fixtures/meters/*.json) as a user could edit them: the profile parser and its
// checks. An accepted profile then decodes and encodes register blocks: a profile that lets a
// field point outside its block must be refused by the parser, never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "meter/profile.hpp"

using namespace pumprig;
using namespace pumprig::meter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto profile = parse_meter_profile(text, "fuzz.json");
    if (!profile) {
        FUZZ_CHECK(!profile.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(profile->block_count > 0);
    // A block of a fixed pattern: every field decodes from inside it.
    std::vector<std::uint16_t> block(static_cast<std::size_t>(profile->block_count));
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<std::uint16_t>(0x3F80 + 37 * i);
    if (auto r = decode_reading(*profile, block)) {
        const auto again = encode_reading(*profile, *r);
        FUZZ_CHECK(again.size() == block.size());
        (void)decode_reading(*profile, again);
        (void)profile->accuracy_at(r->flow);
    }
    (void)status_word(*profile, true, true, true, true);
    return 0;
}
