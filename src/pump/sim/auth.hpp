// ICD section 3 for the simulated pump: nonces and the AUTH check. The key stays inside: no
// function here returns or prints it.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>

namespace pumprig::pump::sim {

using PumpKey = std::array<std::uint8_t, 32>;

// The ITB family's published test key, 00 01 02 ... 1F (ICD section 3).
PumpKey itb_test_key();

// True when mac_hex is 64 hexadecimal digits (either case) equal to
// HMAC-SHA256(key, nonce ":" serial). Compared in constant time.
bool mac_matches(const PumpKey& key, std::string_view nonce, std::string_view serial,
                 std::string_view mac_hex);

// True for 16 upper-case hexadecimal digits, the ICD's nonce format.
bool is_nonce_text(std::string_view text);

// Nonces from a seeded generator, so a simulated session is reproducible; forced ones (tests
// reproducing the ICD's example) come first.
class NonceSource {
public:
    NonceSource(std::uint64_t seed, std::deque<std::string> forced);
    std::string next();

private:
    std::mt19937_64 rng_;
    std::deque<std::string> forced_;
};

}  // namespace pumprig::pump::sim
