// The meter's calibration due date: strict dates, and a warning only once the day is past.
#include <doctest/doctest.h>

#include "bench/calibration.hpp"
#include "core/calendar.hpp"

using namespace pumprig;
using namespace std::chrono;

TEST_CASE("calendar dates are YYYY-MM-DD and real days only") {
    CHECK(parse_calendar_date("2027-03-01") == year_month_day{year{2027}, March, day{1}});
    CHECK(parse_calendar_date("2028-02-29"));
    CHECK_FALSE(parse_calendar_date("2027-02-29"));
    CHECK_FALSE(parse_calendar_date("2027-13-01"));
    CHECK_FALSE(parse_calendar_date("2027-3-01"));
    CHECK_FALSE(parse_calendar_date("01.03.2027"));
    CHECK_FALSE(parse_calendar_date(""));
}

TEST_CASE("a meter is warned about the day after its calibration due date, per channel") {
    bench::RigDescription rig;
    rig.file = "rig/bench.json";
    rig.meter.calibration_due = "2026-06-30";
    const auto due_day = sys_days{year{2026} / June / 30};
    CHECK(bench::calibration_warnings(rig, due_day + hours{23}).empty());
    const auto late = bench::calibration_warnings(rig, due_day + days{1});
    REQUIRE(late.size() == 1);
    CHECK(late[0] == "warning: the flow meter was due for calibration on 2026-06-30 (rig rig/bench.json): its accuracy (meter ICD section 2) is not assured");
    rig.meter.calibration_due.clear();
    CHECK(bench::calibration_warnings(rig, due_day + days{400}).empty());
    // Channels: each meter on its own date.
    rig.channels.resize(2);
    rig.channels[0].name = "ch1";
    rig.channels[0].meter.calibration_due = "2027-01-01";
    rig.channels[1].name = "ch2";
    rig.channels[1].meter.calibration_due = "2026-01-01";
    const auto w = bench::calibration_warnings(rig, due_day);
    REQUIRE(w.size() == 1);
    CHECK(w[0].find("flow meter [ch2] was due for calibration on 2026-01-01") != std::string::npos);
}
