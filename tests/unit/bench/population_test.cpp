// The simulated bench's population (src/bench/population.hpp) and the rig's description of it
// (src/bench/rig_population.hpp): reproducible draws, pins, the exact world, bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "bench/population.hpp"
#include "bench/rig_population.hpp"

using namespace pumprig::bench;

TEST_CASE("population: a unit is the same for the same seed and serial, another for another serial or seed") {
    const auto a = draw_unit(7, "SIM0001", {}, false, 30);
    CHECK(a.v == draw_unit(7, "SIM0001", {}, false, 30).v);
    CHECK(a.v != draw_unit(7, "SIM0002", {}, false, 30).v);
    CHECK(a.v != draw_unit(8, "SIM0001", {}, false, 30).v);
    CHECK(a.meter_total_noise);
}

TEST_CASE("population: every drawn unit is inside every requirement, over 2000 units") {
    double lowest = 0, highest = 0;
    for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
        const auto u = draw_unit(seed, "SIM0001", {}, false, 30);
        for (const auto& p : unit_params()) {
            CAPTURE(p.name);
            CHECK(u[p.param] >= p.min);
            CHECK(u[p.param] <= p.max);
        }
        CHECK(std::abs(u[UnitParam::DeliveryErrorPct]) <= 14.9);
        CHECK(std::abs(u[UnitParam::LineTauErrorPct]) <= 30);
        CHECK(std::abs(u[UnitParam::MeterGainErrorPct]) <= 0.25);
        CHECK(u[UnitParam::AnswerLatencyMs] <= 100);
        CHECK(u[UnitParam::ResetDurationMs] <= 2000);
        lowest = std::min(lowest, u[UnitParam::DeliveryErrorPct]);
        highest = std::max(highest, u[UnitParam::DeliveryErrorPct]);
    }
    // The population really spreads over the requirement (sigma 5 %: 2000 units reach 2.5 sigma).
    CHECK(lowest < -12);
    CHECK(highest > 12);
}

TEST_CASE("population: a pin replaces one parameter and leaves the others as drawn") {
    const auto drawn = draw_unit(3, "SIM0001", {}, false, 30);
    const auto pinned = draw_unit(3, "SIM0001", {{"delivery_error_pct", -14.9}}, false, 30);
    CHECK(pinned[UnitParam::DeliveryErrorPct] == -14.9);
    for (const auto& p : unit_params())
        if (p.param != UnitParam::DeliveryErrorPct) CHECK(pinned[p.param] == drawn[p.param]);
}

TEST_CASE("population: the ideal world is exact, pins still apply") {
    const auto u = draw_unit(3, "SIM0001", {{"clock_ppm", 50}}, true, 30);
    for (const auto& p : unit_params())
        if (p.param != UnitParam::ClockPpm) CHECK(u[p.param] == p.ideal);
    CHECK(u[UnitParam::ClockPpm] == 50);
    CHECK_FALSE(u.meter_total_noise);
    CHECK(u[UnitParam::ResetDurationMs] == 1000);
}

TEST_CASE("population: a pin is NAME=VALUE within the requirement, else refused with the range") {
    std::string why;
    CHECK(parse_unit_pin("delivery_error_pct=-14.9", &why) == std::pair<std::string, double>{"delivery_error_pct", -14.9});
    CHECK_FALSE(parse_unit_pin("delivery_error_pct=-16", &why));
    CHECK(why.find("-15 to 15") != std::string::npos);
    CHECK_FALSE(parse_unit_pin("delivery_error_pct", &why));
    CHECK(why.find("NAME=VALUE") != std::string::npos);
    CHECK_FALSE(parse_unit_pin("colour=1", &why));
    CHECK(why.find("clock_ppm") != std::string::npos);
    CHECK_FALSE(parse_unit_pin("clock_ppm=5x", &why));
}

TEST_CASE("rig population: line and unit fields read, errors name the JSON pointer") {
    const auto j = nlohmann::json::parse(R"({"line": {"tau_s": 12, "tau_uncertainty_pct": 20},
        "simulator": {"ideal": true, "unit": {"clock_ppm": -50, "meter_offset_ul_h": 0.1}}})");
    auto r = read_rig_population(j, "", "rig.json");
    REQUIRE(r.has_value());
    CHECK(r->line_tau_s == 12);
    CHECK(r->line_tau_uncertainty_pct == 20);
    CHECK(r->ideal);
    CHECK(r->unit_pins == UnitPins{{"clock_ppm", -50}, {"meter_offset_ul_h", 0.1}});

    auto bad = [](const char* text) {
        auto res = read_rig_population(nlohmann::json::parse(text), "", "rig.json");
        REQUIRE_FALSE(res.has_value());
        return res.error().message;
    };
    CHECK(bad(R"({"line": {"tau_s": -1}})").find("rig.json: at /line/tau_s: expected") != std::string::npos);
    CHECK(bad(R"({"line": {"tau": 20}})").find("at /line/tau: expected tau_s or tau_uncertainty_pct") != std::string::npos);
    CHECK(bad(R"({"line": {"tau_uncertainty_pct": 95}})").find("at /line/tau_uncertainty_pct") != std::string::npos);
    CHECK(bad(R"({"line": {"tau_s": 20}, "line_tau_s": 20})").find("at /line_tau_s") != std::string::npos);
    CHECK(bad(R"({"simulator": {"ideal": 1}})").find("at /simulator/ideal") != std::string::npos);
    CHECK(bad(R"({"simulator": {"unit": {"clock_ppm": 500}}})").find("at /simulator/unit/clock_ppm: expected a number from -50") !=
          std::string::npos);
    CHECK(bad(R"({"simulator": {"unit": {"clock": 5}}})").find("at /simulator/unit/clock: expected one of delivery_error_pct") !=
          std::string::npos);
}
