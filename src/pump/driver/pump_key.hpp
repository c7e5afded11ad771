// The pump's 32-byte AUTH key (ICD section 3). Deliberately hard to leak: no stream operator,
// no to_string, no accessor returning text; error messages never quote the key material. The
// bytes are wiped when the object dies.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pumprig::pump {

class PumpKey {
public:
    static constexpr std::size_t kBytes = 32;

    // Exactly 64 hexadecimal digits (either case), surrounding whitespace allowed.
    static Result<PumpKey> from_hex(std::string_view hex);
    // The hex text in environment variable `var`.
    static Result<PumpKey> from_env(const char* var);
    // A file holding the hex text; refused when group or others have any access to it, or
    // when it is owned by another user than the one running pumprig (the error names the
    // file and what is wrong).
    static Result<PumpKey> from_file(const std::filesystem::path& path);

    PumpKey(const PumpKey&) = default;
    PumpKey& operator=(const PumpKey&) = default;
    ~PumpKey();

    std::span<const std::uint8_t, kBytes> bytes() const { return bytes_; }

private:
    PumpKey() = default;
    std::array<std::uint8_t, kBytes> bytes_{};
};

// HMAC-SHA256 keyed with the pump key of the ASCII text "NONCE:SERIAL", as 64 upper-case
// hexadecimal digits (the AUTH mac, ICD section 3).
std::string auth_mac(const PumpKey& key, std::string_view nonce, std::string_view serial);

}  // namespace pumprig::pump
