#include <doctest/doctest.h>

#include "scenario/quantity.hpp"

using namespace pumprig;
using namespace pumprig::scenario;

TEST_CASE("scenario quantity: volumes in every unit") {
    CHECK(parse_volume("50 uL")->ul == doctest::Approx(50));
    CHECK(parse_volume("50uL")->ul == doctest::Approx(50));
    CHECK(parse_volume("20 mL")->ul == doctest::Approx(20000));
    CHECK(parse_volume("20 ml")->ul == doctest::Approx(20000));
    CHECK(parse_volume("0.5 \xC2\xB5L")->ul == doctest::Approx(0.5));  // micro sign
    CHECK(parse_volume("0.5 \xCE\xBCL")->ul == doctest::Approx(0.5));  // Greek mu
    CHECK(parse_volume("250 nL")->ul == doctest::Approx(0.25));
}

TEST_CASE("scenario quantity: flow rates in every unit") {
    CHECK(parse_flow_rate("0.5 mL/day")->ul_per_h == doctest::Approx(500.0 / 24));
    CHECK(parse_flow_rate("0.5 mL/d")->ul_per_h == doctest::Approx(500.0 / 24));
    CHECK(parse_flow_rate("1 mL/h")->ul_per_h == doctest::Approx(1000));
    CHECK(parse_flow_rate("2 mL/min")->ul_per_h == doctest::Approx(120000));
    CHECK(parse_flow_rate("20 uL/h")->ul_per_h == doctest::Approx(20));
    CHECK(parse_flow_rate("1 uL/min")->ul_per_h == doctest::Approx(60));
    CHECK(parse_flow_rate("24 uL/day")->ul_per_h == doctest::Approx(1));
}

TEST_CASE("scenario quantity: durations, single and compound") {
    CHECK(*parse_duration("90 s") == Millis{90'000});
    CHECK(*parse_duration("250 ms") == Millis{250});
    CHECK(*parse_duration("10 min") == Millis{600'000});
    CHECK(*parse_duration("2 h 30 min") == Millis{9'000'000});
    CHECK(*parse_duration("2h30min") == Millis{9'000'000});
    CHECK(*parse_duration("1 d") == Millis{86'400'000});
    CHECK(*parse_duration("0.5 s") == Millis{500});
    CHECK_FALSE(parse_duration("2 h 3 h").has_value());
    CHECK_FALSE(parse_duration("2 h 30").has_value());
}

TEST_CASE("scenario quantity: doses, dose rates, concentrations, percentages, times of day") {
    CHECK(parse_dose("50 ug")->ug == doctest::Approx(50));
    CHECK(parse_dose("50 \xC2\xB5g")->ug == doctest::Approx(50));
    CHECK(parse_dose("1.5 mg")->ug == doctest::Approx(1500));
    CHECK(parse_dose_rate("250 ug/day")->ug_per_day == doctest::Approx(250));
    CHECK(parse_dose_rate("250 \xC2\xB5g/day")->ug_per_day == doctest::Approx(250));
    CHECK(parse_dose_rate("10 ug/h")->ug_per_day == doctest::Approx(240));
    CHECK(parse_dose_rate("1 mg/day")->ug_per_day == doctest::Approx(1000));
    CHECK(parse_concentration("500 ug/mL")->ug_per_ml == doctest::Approx(500));
    CHECK(parse_concentration("2 mg/mL")->ug_per_ml == doctest::Approx(2000));
    CHECK(parse_percent("15 %")->value == doctest::Approx(15));
    CHECK(parse_percent("15%")->value == doctest::Approx(15));
    CHECK(parse_percent("-10 %")->value == doctest::Approx(-10));
    CHECK(parse_time_of_day("08:00")->minutes == 480);
    CHECK(parse_time_of_day("23:59")->minutes == 1439);
    CHECK(parse_time_of_day("00:00")->minutes == 0);
    CHECK(format_time_of_day(TimeOfDay{485}) == "08:05");
}

TEST_CASE("scenario quantity: bad text names what was expected") {
    auto r = parse_volume("50");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::BadInput);
    CHECK(r.error().message == "expected a volume (nL, uL, µL, mL), got \"50\" (no unit)");
    CHECK(parse_volume("fifty uL").error().message ==
          "expected a volume (nL, uL, µL, mL), got \"fifty uL\" (no number where one belongs)");
    CHECK(parse_volume("5 gallons").error().message ==
          "expected a volume (nL, uL, µL, mL), got \"5 gallons\" (unknown unit \"gallons\")");
    CHECK(parse_volume("").error().message == "expected a volume (nL, uL, µL, mL), got \"\" (empty)");
    CHECK_FALSE(parse_volume("-5 uL").has_value());
    CHECK_FALSE(parse_time_of_day("8:00").has_value());
    CHECK_FALSE(parse_time_of_day("24:00").has_value());
    CHECK_FALSE(parse_time_of_day("12:60").has_value());
    CHECK(parse_time_of_day("25:00").error().message ==
          "expected a time of day (HH:MM from 00:00 to 23:59), got \"25:00\" (out of range)");
}

TEST_CASE("scenario quantity: a known unit of the wrong dimension is named") {
    CHECK(parse_flow_rate("50 uL").error().message ==
          "expected a flow rate (uL/h, uL/min, uL/day, mL/h, mL/min, mL/day), got \"50 uL\" (uL is a volume)");
    CHECK(parse_dose_rate("250 ug").error().message ==
          "expected a dose rate (ug/day, µg/day, ug/h, mg/day), got \"250 ug\" (ug is a dose)");
    CHECK(parse_duration("2 h 5 mL").error().message.find("mL is a volume") != std::string::npos);
    CHECK_FALSE(parse_volume("1 mL/day").has_value());
    CHECK_FALSE(parse_concentration("500 ug").has_value());
    CHECK_FALSE(parse_dose("500 ug/mL").has_value());
}
