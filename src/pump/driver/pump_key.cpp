#include "pump/driver/pump_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pumprig::pump {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n\v\f";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

std::string octal_mode(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
    return buf;
}

}  // namespace

PumpKey::~PumpKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<PumpKey> PumpKey::from_hex(std::string_view hex) {
    // Messages describe the shape of the text only, never its characters.
    hex = trim(hex);
    if (hex.size() != 2 * kBytes)
        return fail(ErrorKind::BadInput, "pump key: expected 64 hexadecimal digits, got " +
                                             std::to_string(hex.size()) + " characters");
    PumpKey key;
    for (std::size_t i = 0; i < kBytes; ++i) {
        const int hi = hex_digit(hex[2 * i]);
        const int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(ErrorKind::BadInput, "pump key: expected 64 hexadecimal digits, character " +
                                                 std::to_string(2 * i + (hi < 0 ? 1 : 2)) + " is not one");
        key.bytes_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return key;
}

Result<PumpKey> PumpKey::from_env(const char* var) {
    const char* value = var != nullptr ? std::getenv(var) : nullptr;
    if (value == nullptr)
        return fail(ErrorKind::BadInput, std::string("pump key: environment variable ") +
                                             (var != nullptr ? var : "(none)") + " is not set");
    auto key = from_hex(value);
    if (!key) key.error().message += std::string(" (from environment variable ") + var + ")";
    return key;
}

Result<PumpKey> PumpKey::from_file(const std::filesystem::path& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        return fail(ErrorKind::BadInput, "pump key file " + path.string() + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::BadInput, "pump key file " + path.string() + ": not a regular file");
    // A key someone else owns could be replaced by them: refused like ssh refuses such keys.
    if (st.st_uid != ::geteuid())
        return fail(ErrorKind::BadInput, "pump key file " + path.string() + " is owned by uid " + std::to_string(st.st_uid) +
                                             ", not by the user running pumprig (uid " + std::to_string(::geteuid()) +
                                             "): a key file must belong to its user");
    // Like ssh with private keys: a secret readable (or replaceable) by others is refused.
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return fail(ErrorKind::BadInput, "pump key file " + path.string() + " has mode " +
                                             octal_mode(st.st_mode) +
                                             ": group and others must have no access (chmod 600 it)");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorKind::BadInput, "pump key file " + path.string() + ": cannot read it");
    std::ostringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    auto key = from_hex(content);
    OPENSSL_cleanse(content.data(), content.size());
    if (!key) key.error().message += " (in file " + path.string() + ")";
    return key;
}

std::string auth_mac(const PumpKey& key, std::string_view nonce, std::string_view serial) {
    std::string message;
    message.reserve(nonce.size() + 1 + serial.size());
    message.append(nonce).append(":").append(serial);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const auto k = key.bytes();
    if (HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length) == nullptr)
        throw std::runtime_error("HMAC-SHA256 unavailable in libcrypto");  // a broken install, not input
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(2 * length);
    for (unsigned i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xF];
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return out;
}

}  // namespace pumprig::pump
