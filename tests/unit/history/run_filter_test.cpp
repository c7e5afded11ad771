// runs_matching: the selection pumprig stats reads (station, model, date range), in SQLite.
#include <doctest/doctest.h>

#include "history/results_store.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::history;

namespace {

RunRecord at(const std::string& serial, const std::string& station, const std::string& model, const std::string& started) {
    RunRecord r;
    r.serial = serial;
    r.model = model;
    r.station = station;
    r.operator_name = "Ana";
    r.started_at = started;
    r.ended_at = started;
    r.verdict = "PASS";
    r.tested = true;
    Measurement m;
    m.scenario = "eol-basic";
    m.check_id = "volume.1";
    m.measured = 100.0;
    m.verdict = "PASS";
    r.measurements.push_back(m);
    return r;
}

std::vector<std::string> serials(const Result<std::vector<RunRecord>>& runs) {
    std::vector<std::string> s;
    for (const auto& r : *runs) s.push_back(r.serial);
    return s;
}

}  // namespace

TEST_CASE("history runs_matching: station, model and an inclusive date range, in start order") {
    test::TempDir tmp;
    auto store = open_store("sqlite:" + (tmp.path / "h.sqlite").string());
    REQUIRE(store);
    // Recorded out of time order: the selection comes back in start order.
    REQUIRE((*store)->record_run(at("SN3", "EOL-1", "ITB-40", "2026-01-31T23:59:59.999Z")));
    REQUIRE((*store)->record_run(at("SN1", "EOL-1", "ITB-40", "2026-01-30T08:00:00.000Z")));
    REQUIRE((*store)->record_run(at("SN2", "EOL-2", "ITB-20", "2026-01-31T00:00:00.000Z")));
    REQUIRE((*store)->record_run(at("SN4", "EOL-1", "ITB-40", "2026-02-01T00:00:00.000Z")));

    auto all = (*store)->runs_matching({}, true);
    REQUIRE(all);
    CHECK(serials(all) == std::vector<std::string>{"SN1", "SN2", "SN3", "SN4"});
    CHECK((*all)[0].measurements.size() == 1);
    CHECK(serials((*store)->runs_matching({"EOL-1", "", "", ""}, false)) == std::vector<std::string>{"SN1", "SN3", "SN4"});
    CHECK(serials((*store)->runs_matching({"", "ITB-20", "", ""}, false)) == std::vector<std::string>{"SN2"});
    // A date alone covers its whole day, to its last millisecond.
    CHECK(serials((*store)->runs_matching({"", "", "2026-01-31", "2026-01-31"}, false)) == std::vector<std::string>{"SN2", "SN3"});
    CHECK(serials((*store)->runs_matching({"EOL-1", "ITB-40", "2026-01-31", ""}, false)) == std::vector<std::string>{"SN3", "SN4"});
    // A time: inclusive to the minute given; the day before has nothing.
    CHECK(serials((*store)->runs_matching({"", "", "", "2026-01-30T08:00"}, false)) == std::vector<std::string>{"SN1"});
    CHECK(serials((*store)->runs_matching({"", "", "", "2026-01-29"}, false)).empty());
    CHECK((*store)->runs_matching({"EOL-9", "", "", ""}, true)->empty());
}
