#include <doctest/doctest.h>

#include <vector>

#include "record/json.hpp"
#include "record/run_record.hpp"

using namespace pumprig;
using namespace pumprig::record;

namespace {

Sample at(long long ms) {
    Sample s;
    s.t = BenchTime{Millis{ms}};
    return s;
}

}  // namespace

TEST_CASE("the largest gap between samples is the widest step between consecutive ones") {
    CHECK_FALSE(max_sample_gap(std::vector<Sample>{}));
    CHECK_FALSE(max_sample_gap(std::vector<Sample>{at(1000)}));
    CHECK(max_sample_gap(std::vector<Sample>{at(1000), at(2000), at(6500), at(7000)}) == Millis{4500});
    CHECK(max_sample_gap(std::vector<Sample>{at(0), at(1000), at(2000)}) == Millis{1000});
}

TEST_CASE("max_sample_gap_ms is written when known, read back, and absent in older records") {
    RunRecord r;
    r.start = BenchTime{Millis{1767225600000}};
    CHECK_FALSE(to_json(r).contains("max_sample_gap_ms"));
    auto old = run_record_from_json(to_json(r), "old");
    REQUIRE(old);
    CHECK_FALSE(old->max_sample_gap);
    r.max_sample_gap = Millis{1042};
    const auto j = to_json(r);
    CHECK(j.at("max_sample_gap_ms") == 1042);
    auto back = run_record_from_json(nlohmann::json::parse(j.dump()), "x");
    REQUIRE(back);
    CHECK(back->max_sample_gap == Millis{1042});
}
