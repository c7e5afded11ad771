// record.json's simulated_unit: written and read back on a simulated bench, absent on a real one
// and in older records (schema 0 included), refused with its JSON pointer when malformed.
#include <doctest/doctest.h>

#include "record/json.hpp"
#include "record/run_record.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"

using namespace pumprig;
using namespace pumprig::record;

namespace {

RunRecord a_record() {
    RunRecord r;
    r.rig.name = "bench-3";
    r.scenario.name = "continuous";
    r.start = BenchTime{Millis{1767225600000}};
    return r;
}

}  // namespace

TEST_CASE("simulated unit: a simulated bench's unit is written and read back value for value") {
    RunRecord r = a_record();
    r.rig.simulated = true;
    r.simulated_unit = std::map<std::string, double>{{"clock_ppm", 37.5}, {"delivery_error_pct", -14.9}, {"meter_offset_ul_h", 0.0123456789012345}};
    const auto j = to_json(r);
    REQUIRE(j.contains("simulated_unit"));
    CHECK(j["simulated_unit"]["clock_ppm"] == 37.5);
    auto back = run_record_from_json(nlohmann::json::parse(j.dump()), "record.json");
    REQUIRE(back);
    REQUIRE(back->simulated_unit);
    CHECK(*back->simulated_unit == *r.simulated_unit);
}

TEST_CASE("simulated unit: a real bench's record has no simulated_unit and reads back without it") {
    RunRecord r = a_record();
    const auto j = to_json(r);
    CHECK_FALSE(j.contains("simulated_unit"));
    auto back = run_record_from_json(nlohmann::json::parse(j.dump()), "record.json");
    REQUIRE(back);
    CHECK_FALSE(back->simulated_unit);
}

TEST_CASE("simulated unit: the schema 0 record of pumprig 0.1.0 reads back without it") {
    const auto text = test::read_file(test::kSource + "/tests/data/record-v0/eol-basic/record.json");
    REQUIRE_FALSE(text.empty());
    auto back = run_record_from_json(nlohmann::json::parse(text), "record.json");
    REQUIRE(back);
    CHECK(back->schema_version == 0);
    CHECK_FALSE(back->simulated_unit);
}

TEST_CASE("simulated unit: a value that is not a number is refused, naming the place") {
    auto j = to_json(a_record());
    j["simulated_unit"] = {{"clock_ppm", "fast"}};
    auto back = run_record_from_json(j, "record.json");
    REQUIRE_FALSE(back);
    CHECK(back.error().message.find("/simulated_unit") != std::string::npos);
    CHECK(back.error().message.find("clock_ppm") != std::string::npos);
    j["simulated_unit"] = nlohmann::json::array({1, 2});
    CHECK_FALSE(run_record_from_json(j, "record.json"));
}
