// The simulated bench's fault names and options as pumprig checks them in a rig (issue 15:
// a mistake there is pumprig's bad input, not a simulator failure later).
#include <doctest/doctest.h>

#include "sim_catalogue/faults.hpp"

using namespace pumprig::sim_catalogue;

TEST_CASE("sim catalogue: meter faults with and without a value") {
    CHECK(is_meter_fault("zero_drift"));
    CHECK(is_meter_fault("frozen=600"));
    CHECK(is_meter_fault("air_bursts=0"));
    CHECK_FALSE(is_meter_fault("frozen=-1"));
    CHECK_FALSE(is_meter_fault("frozen=10s"));
    CHECK_FALSE(is_meter_fault("frozen="));
    CHECK_FALSE(is_meter_fault("stuck"));
}

TEST_CASE("sim catalogue: scheduled faults need a known name and the argument it takes") {
    CHECK_FALSE(scheduled_fault_problem("3600:pump_reset"));
    CHECK_FALSE(scheduled_fault_problem("1800.5:pump_link_down:2000"));
    CHECK_FALSE(scheduled_fault_problem("60:battery:0"));
    CHECK(scheduled_fault_problem("3600:pump_explodes"));
    CHECK(scheduled_fault_problem("3600:pump_reset:5"));
    CHECK(scheduled_fault_problem("1800:pump_link_down"));
    CHECK(scheduled_fault_problem("1800:meter_silent:-5"));
    CHECK(scheduled_fault_problem("60:battery:101"));
    CHECK(scheduled_fault_problem("soon:pump_reset"));
    CHECK(scheduled_fault_problem("-1:pump_reset"));
    CHECK(*scheduled_fault_problem("1800:pump_link_down") == "pump_link_down:MS with MS a number above 0");
}

TEST_CASE("sim catalogue: a rig's faults list is pumprig-sim's fault options with valid values") {
    CHECK_FALSE(fault_options_problem({}));
    CHECK_FALSE(fault_options_problem({"--corrupt-rate", "0.001", "--fault-at", "3600:pump_reset"}));
    CHECK_FALSE(fault_options_problem({"--drop-rate=0.05", "--fault-at", "2@600:meter_silent:30000"}));
    auto p = fault_options_problem({"--corrupt-rate", "0.001", "--corupt-rate", "0.1"});
    REQUIRE(p);
    CHECK(p->index == 2);
    p = fault_options_problem({"--late-rate", "1.5"});
    REQUIRE(p);
    CHECK(p->index == 1);
    CHECK(p->expected == "a probability from 0 to 1 after --late-rate");
    p = fault_options_problem({"--fault-at"});
    REQUIRE(p);
    CHECK(p->index == 0);
    p = fault_options_problem({"--fault-at", "100:unplug"});
    REQUIRE(p);
    CHECK(p->index == 1);
    // Options that are not faults (the seed, the channel count) belong to the rig's own fields.
    CHECK(fault_options_problem({"--seed", "7"}));
}
