// Pump profiles (fixtures/pumps/*.json) go through the core JSON reader like every input file:
// each problem names the file, line, column and JSON pointer.
#include <doctest/doctest.h>

#include <string>

#include "scenario/profile.hpp"
#include "scenario_test_helpers.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"

using namespace pumprig;

namespace {

// fixtures/pumps/itb-40.json with one text replaced.
std::string edited(const std::string& from, const std::string& to) {
    std::string text = test::read_file(scenario::test::fixtures_dir() / "pumps" / "itb-40.json");
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

std::string load_error(const test::TempDir& tmp, const std::string& text) {
    const auto f = tmp.path / "itb-x.json";
    test::write_file(f, text);
    const auto p = scenario::load_pump_profile(f);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind == ErrorKind::BadInput);
    const std::string prefix = "pump profile " + f.string();
    REQUIRE(p.error().message.starts_with(prefix));
    return p.error().message.substr(prefix.size());
}

}  // namespace

TEST_CASE("pump profile: the shipped profiles load") {
    for (const char* id : {"itb-20", "itb-40"}) {
        CAPTURE(id);
        CHECK(scenario::find_pump_profile(scenario::test::fixtures_dir(), id));
    }
}

TEST_CASE("pump profile: problems name line, column and pointer") {
    test::TempDir tmp;
    CHECK(load_error(tmp, edited(R"("stroke": "0.25 uL")", R"("stroke": "0.25 uL", "stroke": "0.5 uL")")) ==
          ":9:24: at /stroke: key written twice; expected each key once");
    CHECK(load_error(tmp, edited(R"("max_steps": 10)", R"("max_steps": 1e999)")) ==
          ":13:16: invalid JSON: number 1e999 is out of range; expected a number that fits a double (about 1e308)");
    CHECK(load_error(tmp, edited(R"("max_steps": 10)", R"("max_steps": 10, "max_stpes": 10)")) ==
          ":13:20: at /max_stpes: unknown key \"max_stpes\"");
    CHECK(load_error(tmp, edited(R"("max_steps": 10)", R"("max_steps": 4294967297)")) == ":13:16: at /max_steps: expected a whole number");
    CHECK(load_error(tmp, edited(R"("accuracy": "15 %")", R"("accuracy": 15)")) == ":8:15: at /accuracy: expected a string with a unit");
    CHECK(load_error(tmp, edited(R"("ptm_max_per_day": { "min": 1, "max": 24 })", R"("ptm_max_per_day": { "min": 25, "max": 24 })")) ==
          ":17:22: at /ptm_max_per_day: min is above max");
}
