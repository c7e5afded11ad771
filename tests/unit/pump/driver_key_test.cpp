// PumpKey: loading from hex, environment and file, and refusing what would leak it.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pump/driver/pump_key.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::pump;

namespace {

const std::string kKeyHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

// A key file with the given permissions in a temporary folder.
std::filesystem::path write_key_file(const pumprig::test::TempDir& dir, const std::string& text, mode_t mode) {
    const auto file = dir.path / "pump.key";
    std::ofstream(file) << text;
    REQUIRE(::chmod(file.c_str(), mode) == 0);
    return file;
}

void check_no_key_text(const Error& e) {
    const auto text = e.describe();
    CAPTURE(text);
    CHECK(text.find("0001020304") == std::string::npos);
    CHECK(text.find("1C1D1E1F") == std::string::npos);
}

}  // namespace

TEST_CASE("pump key from hex takes 64 digits in either case") {
    const auto upper = PumpKey::from_hex(kKeyHex);
    REQUIRE(upper);
    CHECK(upper->bytes()[0] == 0x00);
    CHECK(upper->bytes()[31] == 0x1F);
    std::string lower = kKeyHex;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto from_lower = PumpKey::from_hex(lower);
    REQUIRE(from_lower);
    CHECK(std::equal(upper->bytes().begin(), upper->bytes().end(), from_lower->bytes().begin()));
    CHECK(PumpKey::from_hex("  " + kKeyHex + "\n"));
}

TEST_CASE("pump key from hex refuses wrong length and non-hex without quoting the key") {
    const auto short_key = PumpKey::from_hex(kKeyHex.substr(0, 62));
    REQUIRE_FALSE(short_key);
    CHECK(short_key.error().kind == ErrorKind::BadInput);
    CHECK(short_key.error().message.find("64 hexadecimal digits") != std::string::npos);
    check_no_key_text(short_key.error());
    std::string bad = kKeyHex;
    bad[40] = 'G';
    const auto non_hex = PumpKey::from_hex(bad);
    REQUIRE_FALSE(non_hex);
    CHECK(non_hex.error().message.find("41") != std::string::npos);
    check_no_key_text(non_hex.error());
}

TEST_CASE("pump key file with mode 0644 is refused naming the file and mode") {
    pumprig::test::TempDir dir;
    const auto file = write_key_file(dir, kKeyHex + "\n", 0644);
    const auto key = PumpKey::from_file(file);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::BadInput);
    CHECK(key.error().message.find(file.string()) != std::string::npos);
    CHECK(key.error().message.find("0644") != std::string::npos);
    check_no_key_text(key.error());
}

TEST_CASE("pump key file with mode 0600 owned by another user is refused naming the file and the owner") {
    pumprig::test::TempDir dir;
    std::filesystem::path file;
    if (::geteuid() == 0) {
        // root can give a file away: a 0600 key owned by nobody (uid 65534).
        file = write_key_file(dir, kKeyHex + "\n", 0600);
        REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    } else {
        file = "/etc/passwd";  // a regular file every system has, owned by root
    }
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    REQUIRE(st.st_uid != ::geteuid());
    const auto key = PumpKey::from_file(file);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::BadInput);
    CHECK(key.error().message.find(file.string()) != std::string::npos);
    CHECK(key.error().message.find("owned by uid " + std::to_string(st.st_uid)) != std::string::npos);
}

TEST_CASE("pump key file with mode 0600 is accepted with surrounding whitespace") {
    pumprig::test::TempDir dir;
    const auto file = write_key_file(dir, "\n  " + kKeyHex + "  \n\n", 0600);
    const auto key = PumpKey::from_file(file);
    REQUIRE(key);
    CHECK(key->bytes()[16] == 0x10);
}

TEST_CASE("pump key file with bad content names the file but not the content") {
    pumprig::test::TempDir dir;
    const auto file = write_key_file(dir, kKeyHex + "00", 0600);
    const auto key = PumpKey::from_file(file);
    REQUIRE_FALSE(key);
    CHECK(key.error().message.find(file.string()) != std::string::npos);
    check_no_key_text(key.error());
    const auto missing = PumpKey::from_file(dir.path / "absent.key");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("absent.key") != std::string::npos);
}

TEST_CASE("pump key from the environment") {
    ::setenv("PUMPRIG_TEST_KEY_A", kKeyHex.c_str(), 1);
    CHECK(PumpKey::from_env("PUMPRIG_TEST_KEY_A"));
    ::unsetenv("PUMPRIG_TEST_KEY_A");
    const auto unset = PumpKey::from_env("PUMPRIG_TEST_KEY_A");
    REQUIRE_FALSE(unset);
    CHECK(unset.error().message.find("PUMPRIG_TEST_KEY_A") != std::string::npos);
}
