// The simulator applies every control line before any device request written after it
// (docs/simulator.md, "Control channel"). It is what lets pumprig send a sample's ADVANCE and
// its meter read without waiting in between (bench::SimProcess::send_advance), and the clock
// pumprig predicts for an ADVANCE it has not had the answer to must be the simulator's.
#include <doctest/doctest.h>

#include "bench/sim_process.hpp"
#include "meter/meter_driver.hpp"
#include "meter/profile.hpp"
#include "meter_fixtures.hpp"
#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

meter::MeterDriver open_meter(const std::string& pty) {
    auto profile = meter::load_meter_profile(source() + "/fixtures/meters/lf-2000.json");
    REQUIRE(profile);
    meter::MeterLink link;
    link.kind = meter::MeterLink::Rtu;
    link.device = pty;
    link.parity = 'N';
    link.response_timeout = Millis{20000};  // the simulator first advances an hour of its models
    auto driver = meter::MeterDriver::open(link, std::move(*profile));
    REQUIRE(driver);
    return std::move(*driver);
}

}  // namespace

TEST_CASE("sim control: a meter request sent after queued control lines is answered after every one of them") {
    meter::itest::Child sim({sim_binary(), "--seed", "3"}, false, /*stdin_pipe=*/true);
    const auto ready = sim.wait_for("READY", false, 20s);
    REQUIRE(ready);
    const auto kv = parse_ready(*ready);
    CHECK(kv.at("tick_ms") == "100");
    const long long clock0 = std::stoll(kv.at("clock_ms"));
    auto meter = open_meter(kv.at("meter"));
    // An hour to advance keeps the simulator busy while the rest is queued behind it: more
    // control input than one read takes (it read 1 KiB a turn of its loop), the last line an
    // ADVANCE, then the meter request, sent without waiting for any answer.
    const std::string first = "ADVANCE 3600000\n";
    std::string rest;
    constexpr int kClocks = 400;
    for (int i = 0; i < kClocks; ++i) rest += "CLOCK\n";
    rest += "ADVANCE 1000\n";
    REQUIRE(sim.write_stdin(first));
    REQUIRE(sim.write_stdin(rest));
    const auto during = meter.read();
    REQUIRE(during);
    // The answers, in order: the clock after the hour, then after the last second.
    const std::string after_hour = "OK clock_ms=" + std::to_string(clock0 + 3'600'000);
    for (int i = 0; i <= kClocks; ++i) {
        const auto line = sim.line(false, 60s);
        REQUIRE(line);
        CHECK(*line == after_hour);
    }
    const auto last = sim.line(false, 60s);
    REQUIRE(last);
    CHECK(*last == "OK clock_ms=" + std::to_string(clock0 + 3'601'000));
    // Time has not moved since: a read now sees the measurement the queued request saw.
    const auto after = meter.read();
    REQUIRE(after);
    CHECK(during->sample == after->sample);
    CHECK(during->total_raw == after->total_raw);
    CHECK(during->total.ul == after->total.ul);
}

TEST_CASE("sim control: an ADVANCE sent unconfirmed leads to the clock the simulator then reports") {
    auto sim = bench::SimProcess::start(sim_binary(), {"--seed", "4", "--channels", "2"});
    REQUIRE(sim);
    const BenchTime t0 = sim->clock();
    auto meter1 = open_meter(sim->ready().at("meter.1"));
    auto meter2 = open_meter(sim->ready().at("meter.2"));
    const auto before1 = meter1.read(), before2 = meter2.read();
    REQUIRE(before1);
    REQUIRE(before2);
    // The models move in whole 100 ms steps; what is left over is carried to the next ADVANCE.
    const std::vector<std::pair<long long, long long>> steps{{50, 0}, {50, 100}, {1234, 1300}, {66, 1400}, {1, 1400}, {99, 1500}, {700, 2200}};
    for (const auto& [ms, clock_after] : steps) {
        CAPTURE(ms);
        const auto predicted = sim->send_advance(Millis{ms});
        REQUIRE(predicted);
        CHECK(*predicted == t0 + Millis{clock_after});
    }
    // Each channel's meter, read without waiting for the answers, has made 22 measurements.
    const auto after1 = meter1.read(), after2 = meter2.read();
    REQUIRE(after1);
    REQUIRE(after2);
    CHECK(static_cast<std::uint16_t>(after1->sample - before1->sample) == 22);
    CHECK(static_cast<std::uint16_t>(after2->sample - before2->sample) == 22);
    REQUIRE(sim->settle());  // every answer read, each the clock predicted
    const auto clock = sim->command("CLOCK");
    REQUIRE(clock);
    CHECK(*clock == "clock_ms=" + std::to_string((t0 + Millis{2200}).time_since_epoch().count()));
    // A confirmed ADVANCE goes on from the carried 0 ms.
    const auto now = sim->advance(Millis{150});
    REQUIRE(now);
    CHECK(*now == t0 + Millis{2300});
    const auto next = sim->send_advance(Millis{50});
    REQUIRE(next);
    CHECK(*next == t0 + Millis{2400});
    REQUIRE(sim->settle());
}
