// The simulated pump against ICD sections 6 to 9 over time: schedules, boluses, priming,
// refills, alarms, battery, reset, and events with their resending.
#include <cmath>
#include <random>

#include "sim_support.hpp"

namespace pumprig::pump::sim::test {

namespace {

using Summaries = std::vector<std::string>;

// A host whose pump was switched on at the given time of day on 2026-01-01 (UTC).
Host host_at(Millis time_of_day, PumpModelConfig config = {}) { return Host(std::move(config), kDefaultVirtualEpoch + time_of_day); }

std::vector<std::string> times_of(const std::vector<codec::Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.t_text);
    return out;
}

}  // namespace

TEST_CASE("pump sim: the daily schedule changes step at HH:MM across midnight, with STEP events") {
    Host host = host_at(22h);
    host.ready("20.000", "500", "240.0");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=240.0") == "OK");
    REQUIRE(host.code("PROG.STEP,start=23:00,dose_ug_day=480.0") == "OK");
    REQUIRE(host.code("PROG.COMMIT") == "OK");
    REQUIRE(host.code("START") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=STATE,state=RUNNING", "type=STEP,step=1,dose_ug_day=240.0"});
    CHECK(host.status("rate_ml_day") == "0.480");
    CHECK(host.status("step") == "1");

    // 22:00 to 23:00 at 0.48 mL/day is 20 uL, 80 strokes.
    CHECK(host.pump.advance(3'599'999ms).ul == doctest::Approx(20.0 - 0.25));
    CHECK(host.fresh(host.pump.take_output()).empty());
    CHECK(host.pump.advance(1ms).ul == doctest::Approx(0.25));
    auto at_23 = host.fresh(host.pump.take_output());
    REQUIRE(at_23.size() == 1);
    CHECK(summary(at_23[0]) == "type=STEP,step=2,dose_ug_day=480.0");
    CHECK(at_23[0].t_text == pump_time(23h));
    CHECK(host.status("rate_ml_day") == "0.960");
    CHECK(host.status("step") == "2");

    auto at_midnight = host.fresh(host.advance(1h));
    REQUIRE(at_midnight.size() == 1);
    CHECK(summary(at_midnight[0]) == "type=STEP,step=1,dose_ug_day=240.0");
    CHECK(at_midnight[0].t_text == pump_time(24h));
    CHECK(host.status("step") == "1");
    CHECK(host.status("deliv_ml") == "0.060");  // 20 uL then 40 uL
}

TEST_CASE("pump sim: a day delivers dose over concentration within one stroke, whatever the advance steps") {
    auto make = [] {
        Host host;
        host.login();
        REQUIRE(host.code("REFILL,res_ml=20.000,conc_ug_ml=450") == "OK");
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=250.0") == "OK");
        REQUIRE(host.code("PROG.STEP,start=08:00,dose_ug_day=300.0") == "OK");
        REQUIRE(host.code("PROG.STEP,start=20:00,dose_ug_day=100.0") == "OK");
        REQUIRE(host.code("PROG.BOLUS,start=12:00,dose_ug=50.0,dur_min=10") == "OK");
        REQUIRE(host.ask_plain("PROG.COMMIT") == "OK,steps=3,boluses=1,daily_ug=300.0");
        REQUIRE(host.code("START") == "OK");
        host.fresh(host.last_output);
        return host;
    };
    // 300 ug at 450 ug/mL is 666.67 uL: the pump counts whole strokes, never ahead of the plan.
    const double planned_ul = 300.0 / 450.0 * 1000.0;

    Host one = make();
    const Volume whole_day = one.pump.advance(24h);
    const std::string whole_day_bytes = one.pump.take_output();
    CHECK(whole_day.ul <= planned_ul);
    CHECK(whole_day.ul > planned_ul - 0.25);
    CHECK(one.pump.snapshot().delivered.ul == doctest::Approx(whole_day.ul));
    CHECK(one.pump.snapshot().reservoir.ul == doctest::Approx(20'000.0 - whole_day.ul));
    const auto events = one.fresh(whole_day_bytes);
    Summaries kinds;
    for (const auto& e : events) kinds.push_back(summary(e));
    CHECK(kinds == Summaries{"type=STEP,step=2,dose_ug_day=300.0", "type=BOLUS_START,kind=PERIODIC,dose_ug=50.0,vol_ml=0.111",
                             "type=BOLUS_END,kind=PERIODIC,dose_ug=50.0,vol_ml=0.111", "type=STEP,step=3,dose_ug_day=100.0",
                             "type=STEP,step=1,dose_ug_day=250.0"});
    CHECK(times_of(events) == std::vector<std::string>{pump_time(8h), pump_time(12h), pump_time(12h + 10min),
                                                       pump_time(20h), pump_time(24h)});

    // Seeded random steps, and 100 ms steps (the simulator's period): the same bytes, the same volume.
    Host chunks = make();
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> step_ms(1, 600'000);
    Volume chunked{};
    std::string chunked_bytes;
    for (std::int64_t left = 86'400'000; left > 0;) {
        const std::int64_t dt = std::min(left, step_ms(rng));
        chunked += chunks.pump.advance(Millis{dt});
        chunked_bytes += chunks.pump.take_output();
        left -= dt;
    }
    CHECK(chunked.ul == whole_day.ul);
    CHECK(chunked_bytes == whole_day_bytes);

    Host fine = make();
    Volume fine_total{};
    std::string fine_bytes;
    for (int i = 0; i < 864'000; ++i) {
        fine_total += fine.pump.advance(100ms);
        fine_bytes += fine.pump.take_output();
    }
    CHECK(fine_total.ul == whole_day.ul);
    CHECK(fine_bytes == whole_day_bytes);
}

TEST_CASE("pump sim: a periodic bolus due during a clinician bolus waits for its end") {
    Host host = host_at(11h + 50min);
    host.login();
    REQUIRE(host.code("REFILL,res_ml=20.000,conc_ug_ml=500") == "OK");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=500.0") == "OK");
    REQUIRE(host.code("PROG.BOLUS,start=12:00,dose_ug=50.0,dur_min=10") == "OK");
    REQUIRE(host.code("PROG.COMMIT") == "OK");
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    host.advance(5min);
    REQUIRE(host.code("BOLUS,dose_ug=25.0,dur_min=10") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=BOLUS_START,kind=CLINICIAN,dose_ug=25.0,vol_ml=0.050"});
    CHECK(host.fresh(host.advance(5min)).empty());  // 12:00: the periodic bolus waits
    CHECK(host.pump.snapshot().boluses_waiting == 1);
    CHECK(host.status("bolus") == "CLINICIAN");

    SUBCASE("it starts when the clinician bolus ends") {
        const auto events = host.fresh(host.advance(5min));
        Summaries kinds;
        for (const auto& e : events) kinds.push_back(summary(e));
        CHECK(kinds == Summaries{"type=BOLUS_END,kind=CLINICIAN,dose_ug=25.0,vol_ml=0.050",
                                 "type=BOLUS_START,kind=PERIODIC,dose_ug=50.0,vol_ml=0.100"});
        CHECK(times_of(events) == std::vector<std::string>{pump_time(12h + 5min), pump_time(12h + 5min)});
        CHECK(host.status("bolus") == "PERIODIC");
        CHECK(host.fresh_summaries(host.advance(10min)) == Summaries{"type=BOLUS_END,kind=PERIODIC,dose_ug=50.0,vol_ml=0.100"});
        CHECK(host.status("bolus") == "NONE");
    }
    SUBCASE("it starts when the clinician bolus is cancelled") {
        host.advance(1min);
        REQUIRE(host.code("BOLUS.CANCEL") == "OK");
        CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=BOLUS_END,kind=CLINICIAN,dose_ug=25.0,vol_ml=0.030",
                                                                  "type=BOLUS_START,kind=PERIODIC,dose_ug=50.0,vol_ml=0.100"});
        CHECK(host.code("BOLUS.CANCEL") == "OK");
        CHECK(host.code("BOLUS.CANCEL") == "OK");  // none under way: still OK
    }
    SUBCASE("STOP drops it, and it is not made up after START") {
        host.advance(1min);
        REQUIRE(host.code("STOP") == "OK");
        CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=BOLUS_END,kind=CLINICIAN,dose_ug=25.0,vol_ml=0.030",
                                                                  "type=STATE,state=STOPPED"});
        REQUIRE(host.code("START") == "OK");
        CHECK(host.pump.snapshot().boluses_waiting == 0);
        for (const auto& e : host.fresh(host.advance(1h))) CHECK(e.type != "BOLUS_START");
    }
    SUBCASE("a good commit drops it") {
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=400.0") == "OK");
        REQUIRE(host.code("PROG.COMMIT") == "OK");
        CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=STEP,step=1,dose_ug_day=400.0"});
        CHECK(host.pump.snapshot().boluses_waiting == 0);
        CHECK(host.status("bolus") == "CLINICIAN");  // the bolus under way goes on
        CHECK(host.fresh_summaries(host.advance(5min)) == Summaries{"type=BOLUS_END,kind=CLINICIAN,dose_ug=25.0,vol_ml=0.050"});
    }
}

TEST_CASE("pump sim: patient boluses respect the lockout and the daily limit, across resets") {
    Host host;
    host.login();
    REQUIRE(host.code("REFILL,res_ml=20.000,conc_ug_ml=500") == "OK");
    auto commit_with_ptm = [&] {
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=500.0") == "OK");
        REQUIRE(host.code("PROG.PTM,dose_ug=10.0,dur_min=5,lockout_min=60,max_day=3") == "OK");
        REQUIRE(host.code("PROG.COMMIT") == "OK");
    };
    commit_with_ptm();
    CHECK(host.code("PTM") == "STATE");  // not RUNNING
    REQUIRE(host.code("START") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=STATE,state=RUNNING", "type=STEP,step=1,dose_ug_day=500.0"});
    CHECK(host.code("PTM") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=BOLUS_START,kind=PTM,dose_ug=10.0,vol_ml=0.020"});
    host.advance(1min);
    CHECK(host.code("PTM") == "STATE");  // its own bolus is still under way
    host.advance(9min);
    CHECK(host.code("PTM") == "LOCKOUT");
    host.advance(49min + 59s + 999ms);
    CHECK(host.code("PTM") == "LOCKOUT");
    host.advance(1ms);
    CHECK(host.code("PTM") == "OK");  // 60 min after the first start
    host.advance(1h);
    CHECK(host.code("PTM") == "OK");
    host.advance(1h);
    CHECK(host.code("PTM") == "LIMIT");  // three started in the last 24 h

    // The history is kept across a commit and a reset.
    REQUIRE(host.code("RESET") == "OK");
    host.advance(1s);
    host.login();
    commit_with_ptm();
    REQUIRE(host.code("START") == "OK");
    CHECK(host.code("PTM") == "LIMIT");
    // The first start leaves the 24 h window just after 24 h (a start exactly 24 h ago counts).
    host.advance(24h - 3h - 1s);
    CHECK(host.code("PTM") == "LIMIT");
    host.advance(1ms);
    CHECK(host.code("PTM") == "OK");
}

TEST_CASE("pump sim: PRIME delivers its volume at 1.0 mL/h, only while STOPPED") {
    Host host;
    host.login();
    CHECK(host.code("PRIME,vol_ml=0.1") == "RANGE");  // empty reservoir: no volume allowed
    REQUIRE(host.code("REFILL,res_ml=20.000,conc_ug_ml=500") == "OK");
    CHECK(host.code("PRIME,vol_ml=0.0009") == "RANGE");
    CHECK(host.code("PRIME,vol_ml=19.500001") == "RANGE");
    REQUIRE(host.code("PRIME,vol_ml=0.1") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=STATE,state=PRIMING"});
    CHECK(host.status("state") == "PRIMING");
    CHECK(host.code("START") == "STATE");
    CHECK(host.code("PRIME,vol_ml=0.1") == "STATE");
    CHECK(host.code("REFILL,res_ml=20.000,conc_ug_ml=500") == "STATE");
    // 0.1 mL at 1.0 mL/h takes 6 minutes.
    CHECK(host.fresh(host.advance(359'999ms)).empty());
    const auto end = host.fresh(host.advance(1ms));
    REQUIRE(end.size() == 2);
    CHECK(summary(end[0]) == "type=PRIME_END,vol_ml=0.100");
    CHECK(summary(end[1]) == "type=STATE,state=STOPPED");
    CHECK(end[0].t_text == pump_time(6min));
    CHECK(host.status("deliv_ml") == "0.100");
    CHECK(host.status("res_ml") == "19.900");
    CHECK(host.status("rate_ml_day") == "0.000");

    // The range follows the estimate; STOP ends priming with what was delivered.
    CHECK(host.code("PRIME,vol_ml=19.401") == "RANGE");
    REQUIRE(host.code("PRIME,vol_ml=19.4") == "OK");
    host.advance(90s);  // 25 uL
    REQUIRE(host.code("STOP") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=PRIME_END,vol_ml=0.025", "type=STATE,state=STOPPED"});
    CHECK(host.pump.advance(1h).ul == 0.0);
}

TEST_CASE("pump sim: REFILL checks volume, concentration and the program in force") {
    Host host;
    host.login();
    CHECK(host.code("REFILL,res_ml=40.001,conc_ug_ml=500") == "RANGE");
    CHECK(host.code("REFILL,res_ml=20.0,conc_ug_ml=49") == "RANGE");
    CHECK(host.code("REFILL,res_ml=20.0,conc_ug_ml=4001") == "RANGE");
    CHECK(host.code("REFILL,res_ml=40.000,conc_ug_ml=500") == "OK");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=24.0") == "OK");  // 0.048 mL/day at 500
    REQUIRE(host.code("PROG.COMMIT") == "OK");
    CHECK(host.code("REFILL,res_ml=10.0,conc_ug_ml=501") == "RANGE");  // rate would fall below 0.048 mL/day
    CHECK(host.status("conc_ug_ml") == "500");
    CHECK(host.status("res_ml") == "40.000");
    CHECK(host.code("REFILL,res_ml=10.0,conc_ug_ml=480") == "OK");
    CHECK(host.status("conc_ug_ml") == "480");
    REQUIRE(host.code("START") == "OK");
    CHECK(host.code("REFILL,res_ml=10.0,conc_ug_ml=480") == "STATE");

    PumpModelConfig itb20;
    itb20.model = "ITB-20";
    Host small(itb20);
    small.login();
    CHECK(small.code("REFILL,res_ml=20.001,conc_ug_ml=500") == "RANGE");
    CHECK(small.code("REFILL,res_ml=20.000,conc_ug_ml=500") == "OK");
}

TEST_CASE("pump sim: LOW_RES is set as delivery reaches the threshold, and only a refill clears it") {
    Host host;
    host.ready("2.010", "500", "12000.0");  // 24 mL/day: one stroke every 900 ms
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    CHECK(host.fresh(host.advance(35'999ms)).empty());
    const auto low = host.fresh(host.advance(1ms));  // the 40th stroke leaves 2.000 mL
    REQUIRE(low.size() == 1);
    CHECK(summary(low[0]) == "type=ALARM,code=LOW_RES,state=SET");
    CHECK(low[0].t_text == pump_time(36s));
    CHECK(host.status("state") == "RUNNING");  // delivery goes on
    CHECK(host.code("ALARM.CFG,low_res_ml=1.0") == "OK");
    CHECK(host.status("alarms") == "LOW_RES");  // a lower threshold does not clear it
    CHECK(host.code("ALARM.CFG,low_res_ml=0.9") == "RANGE");
    CHECK(host.code("ALARM.CFG,low_res_ml=5.01") == "RANGE");
    REQUIRE(host.code("STOP") == "OK");
    host.fresh(host.last_output);
    REQUIRE(host.code("REFILL,res_ml=1.5,conc_ug_ml=500") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=ALARM,code=LOW_RES,state=CLEARED"});
    REQUIRE(host.code("ALARM.CFG,low_res_ml=2.0") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=ALARM,code=LOW_RES,state=SET"});
}

TEST_CASE("pump sim: at power-on no reservoir alarm is set, and ALARM.CFG checks LOW_RES only") {
    Host host;
    host.login();
    CHECK(host.status("alarms") == "NONE");
    CHECK(host.status("res_ml") == "0.000");
    REQUIRE(host.code("ALARM.CFG,low_res_ml=1.0") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=ALARM,code=LOW_RES,state=SET"});
    CHECK(host.status("alarms") == "LOW_RES");
}

TEST_CASE("pump sim: EMPTY_RES ends the bolus, keeps the minimum rate, and the estimate stops at zero") {
    Host host;
    host.ready("0.600", "500", "6000.0");  // 12 mL/day = 0.5 mL/h; LOW_RES set by the refill
    CHECK(host.status("alarms") == "LOW_RES");
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    REQUIRE(host.code("BOLUS,dose_ug=250.0,dur_min=60") == "OK");  // 0.5 mL/h on top
    host.fresh(host.last_output);
    // 0.1 mL at 1.0 mL/h: the 400th stroke, at 6 minutes, leaves 0.500 mL.
    CHECK(host.fresh(host.advance(359'999ms)).empty());
    const auto empty = host.fresh(host.advance(1ms));
    Summaries kinds;
    for (const auto& e : empty) kinds.push_back(summary(e));
    CHECK(kinds == Summaries{"type=ALARM,code=EMPTY_RES,state=SET", "type=BOLUS_END,kind=CLINICIAN,dose_ug=250.0,vol_ml=0.050"});
    CHECK(times_of(empty) == std::vector<std::string>{pump_time(6min), pump_time(6min)});
    CHECK(host.status("state") == "RUNNING");
    CHECK(host.status("rate_ml_day") == "0.048");
    CHECK(host.status("bolus") == "NONE");
    CHECK(host.status("res_ml") == "0.500");
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=10") == "STATE");
    host.ack_all();

    // 0.048 mL/day is 192 strokes a day; after 11 days 0.528 mL more went out, the estimate
    // stopped at 0.000.
    const Volume later = host.pump.advance(11 * 24h);
    CHECK(later.ul == doctest::Approx(528.0).epsilon(0.0005));
    CHECK(host.status("res_ml") == "0.000");
    CHECK(host.pump.snapshot().reservoir.ul == 0.0);
    CHECK(host.status("rate_ml_day") == "0.048");

    REQUIRE(host.code("STOP") == "OK");
    CHECK(host.code("START") == "STATE");
    REQUIRE(host.code("REFILL,res_ml=0.5,conc_ug_ml=500") == "OK");
    CHECK(host.status("alarms") == "LOW_RES+EMPTY_RES");
    host.fresh(host.advance(1s));
    REQUIRE(host.code("REFILL,res_ml=0.501,conc_ug_ml=500") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=ALARM,code=EMPTY_RES,state=CLEARED"});
    CHECK(host.code("START") == "OK");
    CHECK(host.status("rate_ml_day") == "12.000");
}

TEST_CASE("pump sim: the battery drains with time to ERI and then EOS, which stops the pump for good") {
    PumpModelConfig config;
    config.initial_batt_pct = 11;
    config.batt_drain_pct_per_day = 1;
    config.batt_drain_pct_per_ml = 0;
    Host host(config);
    host.ready();
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    CHECK(host.status("batt_pct") == "11");
    // batt_pct is rounded: ERI (batt_pct <= 10) comes once the charge is below 10.5 %.
    CHECK(host.fresh(host.advance(12h)).empty());
    const auto eri = host.fresh(host.advance(1ms));
    REQUIRE(eri.size() == 1);
    CHECK(summary(eri[0]) == "type=ALARM,code=ERI,state=SET");
    CHECK(eri[0].t_text == pump_time(12h + 1ms));
    CHECK(host.status("batt_pct") == "10");
    CHECK(host.status("state") == "RUNNING");
    host.ack_all();

    CHECK(host.fresh(host.advance(10 * 24h - 1ms)).empty());  // 10.5 days: charge exactly 0.5 %
    CHECK(host.status("state") == "RUNNING");
    const auto eos = host.fresh(host.advance(1ms));
    Summaries kinds;
    for (const auto& e : eos) kinds.push_back(summary(e));
    CHECK(kinds == Summaries{"type=ALARM,code=EOS,state=SET", "type=STATE,state=STOPPED"});
    CHECK(host.status("batt_pct") == "0");
    CHECK(host.status("alarms") == "ERI+EOS");
    CHECK(host.pump.advance(1h).ul == 0.0);
    for (const char* verb : {"START", "STOP", "CLOCK", "PROG.READ", "RESET", "AUTH,mac=00"})
        CHECK_MESSAGE(host.code(verb) == "STATE", verb);
    CHECK(host.code("HELLO") == "OK");
    CHECK(host.code("STATUS") == "OK");
    CHECK(host.code("EVACK,n=1") == "OK");
}

TEST_CASE("pump sim: the battery drains with pumped volume too") {
    PumpModelConfig config;
    config.initial_batt_pct = 20;
    config.batt_drain_pct_per_day = 0;
    config.batt_drain_pct_per_ml = 10;
    Host host(config);
    host.ready("20.000", "500", "12000.0");  // one stroke every 900 ms
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    // 0.95 mL (3800 strokes) brings the charge to 10.5 %; the 3801st crosses it.
    CHECK(host.fresh(host.advance(3'800 * 900ms)).empty());
    const auto eri = host.fresh(host.advance(900ms));
    REQUIRE(eri.size() == 1);
    CHECK(summary(eri[0]) == "type=ALARM,code=ERI,state=SET");
    host.pump.set_battery_pct(0);
    CHECK(host.fresh_summaries(host.pump.take_output()) == Summaries{"type=ALARM,code=EOS,state=SET", "type=STATE,state=STOPPED"});
}

TEST_CASE("pump sim: a stalled rotor suspends delivery until STOP") {
    Host host;
    host.ready();  // 1 mL/day: one stroke every 21.6 s
    REQUIRE(host.code("START") == "OK");
    host.fresh(host.last_output);
    host.pump.inject_motor_stall();
    CHECK(host.fresh(host.advance(21'599ms)).empty());
    const auto stall = host.fresh(host.advance(1ms));
    Summaries kinds;
    for (const auto& e : stall) kinds.push_back(summary(e));
    CHECK(kinds == Summaries{"type=ALARM,code=MOTOR_STALL,state=SET", "type=STATE,state=SUSPENDED"});
    CHECK(times_of(stall) == std::vector<std::string>{pump_time(21'600ms), pump_time(21'600ms)});
    CHECK(host.pump.snapshot().delivered.ul == 0.0);
    CHECK(host.status("rate_ml_day") == "0.000");
    CHECK(host.status("step") == "0");
    CHECK(host.code("START") == "STATE");
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=10") == "STATE");
    CHECK(host.pump.advance(1h).ul == 0.0);
    REQUIRE(host.code("STOP") == "OK");
    CHECK(host.fresh_summaries(host.last_output) == Summaries{"type=ALARM,code=MOTOR_STALL,state=CLEARED", "type=STATE,state=STOPPED"});
    REQUIRE(host.code("START") == "OK");
    CHECK(host.pump.advance(21'600ms).ul == 0.25);  // the rotor turns again
}

TEST_CASE("pump sim: a stall during a bolus ends it before the state changes") {
    Host host;
    host.ready();
    REQUIRE(host.code("START") == "OK");
    REQUIRE(host.code("BOLUS,dose_ug=50.0,dur_min=10") == "OK");  // 0.1 mL over 10 min
    host.fresh(host.last_output);
    host.advance(1min);
    host.pump.inject_motor_stall();
    CHECK(host.fresh_summaries(host.advance(1s)) == Summaries{"type=ALARM,code=MOTOR_STALL,state=SET",
                                                              "type=BOLUS_END,kind=CLINICIAN,dose_ug=50.0,vol_ml=0.010",
                                                              "type=STATE,state=SUSPENDED"});
}

TEST_CASE("pump sim: RESET answers OK, is silent, then sends BOOT and the alarms still set") {
    Host host;
    host.ready("1.500", "500", "500.0");  // LOW_RES set by the refill
    REQUIRE(host.code("START") == "OK");
    REQUIRE(host.code("BOLUS,dose_ug=10.0,dur_min=10") == "OK");
    REQUIRE(host.code("PROG.BEGIN") == "OK");  // an edit left open
    host.advance(1min);
    const auto before = host.pump.snapshot();

    const std::string reset_frame = codec::encode_frame(std::to_string(++host.seq) + ",RESET");
    host.pump.receive(reset_frame + codec::encode_frame("999,STATUS"));  // the STATUS is never read
    CHECK(host.pump.take_output() == codec::encode_frame(std::to_string(host.seq) + ",OK"));
    CHECK(host.pump.snapshot().resetting);
    host.pump.receive(codec::encode_frame("998,STATUS"));
    CHECK(host.pump.take_output().empty());
    CHECK(host.pump.advance(999ms).ul == 0.0);  // nothing delivered while restarting
    CHECK(host.pump.take_output().empty());
    host.pump.advance(1ms);
    const std::string boot = host.pump.take_output();
    CHECK(bodies(boot) == std::vector<std::string>{"EV,n=1,t=" + pump_time(1min + 1s) + ",type=BOOT,reason=RESET",
                                                   "EV,n=2,t=" + pump_time(1min + 1s) + ",type=ALARM,code=LOW_RES,state=SET"});

    const auto after = host.pump.snapshot();
    CHECK(after.state == PumpState::Stopped);
    CHECK(!after.bolus);
    CHECK(after.delivered.ul == before.delivered.ul);
    CHECK(after.reservoir.ul == before.reservoir.ul);
    CHECK(after.conc_ug_ml == 500);
    CHECK(after.program.has_value());
    CHECK(!after.session);
    CHECK(!after.edit_open);
    CHECK(after.unacked_events == 2);
    // The pump forgot the last SEQ: the same RESET frame is executed anew (refused for want
    // of a session) rather than answered with the kept OK.
    host.pump.receive(reset_frame);
    CHECK(bodies(host.pump.take_output()).front().starts_with(std::to_string(host.seq) + ",ERR,code=AUTH"));
    CHECK(!host.pump.snapshot().resetting);
    CHECK(host.code("CLOCK") == "AUTH");  // the session is gone
    host.login();
    CHECK(host.code("PROG.STEP,start=00:00,dose_ug_day=1.0") == "STATE");  // the edit is gone
    CHECK(host.ask_plain("PROG.READ") == "OK,steps=1,boluses=0,ptm=0,daily_ug=500.0");
}

TEST_CASE("pump sim: RESET clears MOTOR_STALL") {
    Host host;
    host.ready();
    REQUIRE(host.code("START") == "OK");
    host.pump.inject_motor_stall();
    host.advance(1min);
    REQUIRE(host.status("state") == "SUSPENDED");
    REQUIRE(host.code("RESET") == "OK");
    CHECK(event_types(host.advance(1s)) == std::vector<std::string>{"BOOT"});
    CHECK(host.status("alarms") == "NONE");
    CHECK(host.status("state") == "STOPPED");
}

TEST_CASE("pump sim: an unacknowledged event is sent again every 10 s, byte for byte, until EVACK") {
    PumpModel pump({}, kDefaultVirtualEpoch);
    const std::string boot = pump.take_output();
    CHECK(boot == codec::encode_frame("EV,n=1,t=1767225600.000,type=BOOT,reason=POWER"));
    pump.advance(9'999ms);
    CHECK(pump.take_output().empty());
    pump.advance(1ms);
    CHECK(pump.take_output() == boot);
    pump.advance(10s);
    CHECK(pump.take_output() == boot);
    pump.advance(25s);
    CHECK(pump.take_output() == boot + boot);
    pump.receive(codec::encode_frame("1,EVACK,n=1"));
    CHECK(pump.take_output() == codec::encode_frame("1,OK"));
    pump.advance(1min);
    CHECK(pump.take_output().empty());
    CHECK(pump.snapshot().unacked_events == 0);
}

TEST_CASE("pump sim: at most 64 events are kept, the oldest non-ALARM dropped first") {
    Host host;
    host.ready("1.500");  // event 2: ALARM LOW_RES
    REQUIRE(host.code("START") == "OK");  // events 3 and 4
    for (int i = 0; i < 40; ++i) {  // events 5 to 84
        REQUIRE(host.code("BOLUS,dose_ug=1.0,dur_min=1") == "OK");
        REQUIRE(host.code("BOLUS.CANCEL") == "OK");
    }
    CHECK(host.pump.snapshot().unacked_events == 64);
    std::set<std::uint32_t> resent;
    for (const auto& e : events_in(host.advance(10s))) resent.insert(e.n);
    std::set<std::uint32_t> expected{2};
    for (std::uint32_t n = 22; n <= 84; ++n) expected.insert(n);
    CHECK(resent == expected);
}

}  // namespace pumprig::pump::sim::test
