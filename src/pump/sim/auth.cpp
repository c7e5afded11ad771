#include "pump/sim/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace pumprig::pump::sim {

PumpKey itb_test_key() {
    PumpKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
    return key;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool mac_matches(const PumpKey& key, std::string_view nonce, std::string_view serial,
                 std::string_view mac_hex) {
    if (mac_hex.size() != 64) return false;
    std::array<unsigned char, 32> given{};
    for (std::size_t i = 0; i < given.size(); ++i) {
        const int hi = hex_digit(mac_hex[2 * i]), lo = hex_digit(mac_hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        given[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    std::string text;
    text.reserve(nonce.size() + 1 + serial.size());
    text.append(nonce).append(":").append(serial);
    std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(text.data()), text.size(), expected.data(), &len) ||
        len != given.size())
        return false;
    return CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
}

bool is_nonce_text(std::string_view text) {
    if (text.size() != 16) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

NonceSource::NonceSource(std::uint64_t seed, std::deque<std::string> forced)
    : rng_(seed), forced_(std::move(forced)) {}

std::string NonceSource::next() {
    if (!forced_.empty()) {
        std::string n = std::move(forced_.front());
        forced_.pop_front();
        return n;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    std::uint64_t v = rng_();
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = hex[v & 0xF];
    return out;
}

}  // namespace pumprig::pump::sim
