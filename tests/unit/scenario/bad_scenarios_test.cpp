// Every tests/data/scenarios_bad/<name>.json must be refused with the diagnostic written in
// <name>.expected ("line:column: pointer: message", the file name left out).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "scenario/scenario.hpp"
#include "scenario_test_helpers.hpp"

using namespace pumprig::scenario;
using namespace pumprig::scenario::test;

TEST_CASE("scenario bad files: each gives the diagnostic its .expected file names") {
    const auto dir = source_dir() / "tests" / "data" / "scenarios_bad";
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 10);
    for (const auto& file : files) {
        CAPTURE(file);
        std::ifstream in(std::filesystem::path(file).replace_extension(".expected"));
        REQUIRE(in.good());
        std::string expected;
        std::getline(in, expected);
        REQUIRE_FALSE(expected.empty());
        const auto ds = validate_path(file, fixtures_dir());
        std::vector<std::string> got;
        const std::string prefix = file.string() + ":";
        for (const auto& d : ds) {
            const std::string line = format(d);
            got.push_back(line.starts_with(prefix) ? line.substr(prefix.size()) : line);
        }
        CAPTURE(got);
        CHECK(std::find(got.begin(), got.end(), expected) != got.end());
    }
}
