// Every tests/data/rigs_bad/<name>.json must be refused by load_rig with the message written in
// <name>.expected (the message after "<file>", which it always starts with), and every rig
// description shipped in rig/ must still load.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/rig.hpp"

namespace {

std::filesystem::path source_dir() {
    const char* dir = std::getenv("PUMPRIG_SOURCE_DIR");
    return dir && *dir ? dir : PUMPRIG_SOURCE_DIR;  // compiled in; the environment overrides
}

std::vector<std::filesystem::path> json_files(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST_CASE("rig bad files: each is refused with the message its .expected file names") {
    const auto files = json_files(source_dir() / "tests" / "data" / "rigs_bad");
    REQUIRE(files.size() >= 30);
    for (const auto& file : files) {
        CAPTURE(file);
        std::ifstream in(std::filesystem::path(file).replace_extension(".expected"));
        REQUIRE(in.good());
        std::string expected;
        std::getline(in, expected);
        REQUIRE_FALSE(expected.empty());
        const auto rig = pumprig::bench::load_rig(file, source_dir());
        REQUIRE_FALSE(rig.has_value());
        CHECK(rig.error().kind == pumprig::ErrorKind::BadInput);
        const std::string& message = rig.error().message;
        REQUIRE(message.starts_with(file.string()));
        CHECK(message.substr(file.string().size()) == expected);
    }
}

TEST_CASE("rig bad files: the rig descriptions shipped in rig/ all load") {
    const auto files = json_files(source_dir() / "rig");
    REQUIRE_FALSE(files.empty());
    for (const auto& file : files) {
        CAPTURE(file);
        const auto rig = pumprig::bench::load_rig(file, source_dir());
        CHECK_MESSAGE(rig.has_value(), (rig ? std::string() : rig.error().describe()));
    }
}
