// Register blocks as a misbehaving meter could return them, decoded with both fixture
// profiles (LF-2000: integer nL total that wraps, status bits; the other make: floats in mL),
// and with a wrong number of words. Properties: no crash; a block of the wrong size is refused;
// a reading that decodes re-encodes to registers that decode to the same status and sample.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "meter/profile.hpp"

using namespace pumprig;
using namespace pumprig::meter;

namespace {

MeterProfile load(const char* name) {
    auto p = load_meter_profile(std::string(PUMPRIG_SOURCE_DIR) + "/fixtures/meters/" + name);
    FUZZ_CHECK(p.has_value());
    return *p;
}

void exercise(const MeterProfile& profile, std::span<const std::uint16_t> words) {
    auto r = decode_reading(profile, words);
    if (words.size() != static_cast<std::size_t>(profile.block_count)) {
        FUZZ_CHECK(!r.has_value());
        return;
    }
    if (!r) return;  // refusing a reading (NaN flow, ...) is allowed; crashing is not
    (void)profile.accuracy_at(r->flow);
    const auto again = encode_reading(profile, *r);
    FUZZ_CHECK(again.size() == static_cast<std::size_t>(profile.block_count));
    const auto back = decode_reading(profile, again);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->status == r->status);
    FUZZ_CHECK(back->sample == r->sample);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const MeterProfile lf2000 = load("lf-2000.json");
    static const MeterProfile other = load("example-float-ml.json");
    std::vector<std::uint16_t> words(size / 2);
    for (std::size_t i = 0; i < words.size(); ++i)
        words[i] = static_cast<std::uint16_t>(data[2 * i] << 8 | data[2 * i + 1]);  // Modbus: big-endian words
    exercise(lf2000, words);
    exercise(other, words);
    // The same bytes as exactly one block of each profile (padded with zeros or cut).
    for (const MeterProfile* p : {&lf2000, &other}) {
        std::vector<std::uint16_t> block(words);
        block.resize(static_cast<std::size_t>(p->block_count));
        exercise(*p, block);
    }
    return 0;
}
