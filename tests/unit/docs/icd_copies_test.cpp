// The vendors' ICDs kept in docs/icd/ are exact copies: each file's SHA-256 is the one recorded
// in docs/icd/SHA256SUMS (always checked), and where the vendors' folder ../shared/icd sits
// beside the checkout (CI has it) each copy is byte-for-byte that file.
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <sstream>

#include "support/files.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using pumprig::test::read_file;

namespace {

// The hash as coreutils' sha256sum computes it: a tool independent of pumprig's code.
std::string sha256_hex(const fs::path& file) {
    const auto r = pumprig::test::run_command({"/usr/bin/sha256sum", file.string()}, std::chrono::seconds(30));
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find(' '));
}

const fs::path kIcdDir = fs::path(PUMPRIG_SOURCE_DIR) / "docs" / "icd";

// "HASH  NAME" lines, as sha256sum writes them.
std::map<std::string, std::string> manifest() {
    std::map<std::string, std::string> sums;
    std::istringstream in(read_file(kIcdDir / "SHA256SUMS"));
    std::string hash, name;
    while (in >> hash >> name) sums[name] = hash;
    return sums;
}

}  // namespace

TEST_CASE("docs icd: every copy matches the SHA-256 recorded in docs/icd/SHA256SUMS") {
    const auto sums = manifest();
    // Both ICDs are listed: the pump's serial protocol and the meter's Modbus map.
    REQUIRE(sums.size() == 2);
    CHECK(sums.count("pump-bench-protocol.md") == 1);
    CHECK(sums.count("flow-sensor-modbus.md") == 1);
    for (const auto& [name, hash] : sums) {
        CAPTURE(name);
        REQUIRE(fs::exists(kIcdDir / name));
        CHECK(sha256_hex(kIcdDir / name) == hash);
    }
    // Every document in the folder is covered by the manifest (none added without its hash).
    for (const auto& e : fs::directory_iterator(kIcdDir))
        if (e.path().extension() == ".md") {
            CAPTURE(e.path().filename().string());
            CHECK(sums.count(e.path().filename().string()) == 1);
        }
}

TEST_CASE("docs icd: copies equal the vendors' documents in ../shared/icd when that folder is beside the checkout") {
    const fs::path shared = fs::path(PUMPRIG_SOURCE_DIR).parent_path() / "shared" / "icd";
    if (!fs::is_directory(shared)) {
        MESSAGE("skipped: " << shared.string() << " is not beside this checkout (only the SHA256SUMS check applies)");
        return;
    }
    std::size_t compared = 0;
    for (const auto& e : fs::directory_iterator(shared)) {
        if (e.path().extension() != ".md") continue;
        CAPTURE(e.path().filename().string());
        const fs::path copy = kIcdDir / e.path().filename();
        REQUIRE(fs::exists(copy));
        CHECK(read_file(copy) == read_file(e.path()));
        ++compared;
    }
    CHECK(compared == manifest().size());
}
