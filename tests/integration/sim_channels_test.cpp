// pumprig-sim with several channels (--channels N): each channel a pump and its meter on their own
// pseudo-terminals, all on one clock and one control channel. The pumps are reached with the
// real pump driver, the meters with the real meter driver (Modbus RTU, and TCP), exactly as
// pumprig reaches a multi-channel bench. Virtual time only moves on ADVANCE, so nothing here
// waits on the wall clock except the bounded real-time case.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/population.hpp"
#include "bench/sim_process.hpp"
#include "meter/meter_driver.hpp"
#include "meter/profile.hpp"
#include "pump/driver/pump_driver.hpp"
#include "pump/driver/pump_key.hpp"
#include "support/run_command.hpp"
#include "transport/byte_stream.hpp"

using namespace pumprig;
using namespace std::chrono_literals;

namespace {

const char* kTestKeyHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

std::string sim_binary() { return test::env_or("PUMPRIG_SIM_BINARY", PUMPRIG_BUILD_DIR "/pumprig-sim"); }
std::string source_dir() { return test::env_or("PUMPRIG_SOURCE_DIR", PUMPRIG_SOURCE_DIR); }

bench::SimProcess start_sim(const std::vector<std::string>& args) {
    auto sim = bench::SimProcess::start(sim_binary(), args);
    REQUIRE_MESSAGE(sim.has_value(), (sim ? "" : sim.error().describe()));
    return std::move(*sim);
}

std::string ready(const bench::SimProcess& sim, const std::string& key) {
    const auto it = sim.ready().find(key);
    REQUIRE_MESSAGE(it != sim.ready().end(), "READY lacks " << key);
    return it->second;
}

std::unique_ptr<pump::PumpDriver> pump_on(const std::string& path, std::uint64_t seed = 21) {
    auto link = transport::open_termios(path, transport::SerialSettings{115200, 8, 'N', 1});
    REQUIRE_MESSAGE(link.has_value(), (link ? "" : link.error().describe()));
    pump::DriverOptions o;
    o.seed = seed;
    o.response_timeout = Millis{300};
    o.retries = 1;
    return std::make_unique<pump::PumpDriver>(std::move(*link), std::move(o));
}

meter::MeterProfile lf2000() {
    auto p = meter::load_meter_profile(source_dir() + "/fixtures/meters/lf-2000.json");
    REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().describe()));
    return *p;
}

meter::MeterDriver meter_rtu(const std::string& path) {
    meter::MeterLink l;
    l.kind = meter::MeterLink::Rtu;
    l.device = path;
    l.parity = 'N';  // a pseudo-terminal: 8N1
    l.unit_id = 1;
    l.response_timeout = 300ms;
    auto d = meter::MeterDriver::open(l, lf2000());
    REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().describe()));
    return std::move(*d);
}

meter::MeterDriver meter_tcp(const std::string& host_port) {
    const auto colon = host_port.rfind(':');
    REQUIRE(colon != std::string::npos);
    meter::MeterLink l;
    l.kind = meter::MeterLink::Tcp;
    l.host = host_port.substr(0, colon);
    l.port = std::stoi(host_port.substr(colon + 1));
    l.response_timeout = 500ms;
    auto d = meter::MeterDriver::open(l, lf2000());
    REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().describe()));
    return std::move(*d);
}

meter::MeterReading read_meter(meter::MeterDriver& m) {
    auto r = m.read();
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().describe()));
    return *r;
}

std::string hello_serial(const std::string& pump_path) {
    auto d = pump_on(pump_path);
    auto id = d->hello();
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    return id->serial;
}

std::string meter_id(const std::string& meter_path) {
    auto m = meter_rtu(meter_path);
    auto id = m.identify();
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    return *id;
}

std::string hello_nonce(const std::vector<std::string>& args, const std::string& pump_key) {
    auto sim = start_sim(args);
    auto d = pump_on(ready(sim, pump_key));
    auto id = d->hello();
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    sim.stop();
    return id->nonce;
}

}  // namespace

TEST_CASE("sim channels: --channels 3 publishes three pumps and three meters, each with its own serial") {
    auto sim = start_sim({"--channels", "3", "--seed", "3"});
    CHECK(ready(sim, "channels") == "3");
    std::set<std::string> paths;
    for (int k = 1; k <= 3; ++k) {
        const std::string K = std::to_string(k);
        paths.insert(ready(sim, "pump." + K));
        paths.insert(ready(sim, "meter." + K));
        CHECK(ready(sim, "meter_tcp." + K) == "-");
    }
    CHECK(paths.size() == 6);  // six distinct links
    // The channel-1 keys of a single-channel bench are channel 1's.
    CHECK(ready(sim, "pump") == ready(sim, "pump.1"));
    CHECK(ready(sim, "meter") == ready(sim, "meter.1"));
    CHECK(ready(sim, "meter_tcp") == ready(sim, "meter_tcp.1"));
    CHECK(ready(sim, "mode") == "virtual");

    for (int k = 1; k <= 3; ++k) {
        const std::string K = std::to_string(k);
        CAPTURE(k);
        CHECK(hello_serial(ready(sim, "pump." + K)) == "SIM000" + K);
        CHECK(meter_id(ready(sim, "meter." + K)) == "LF-2000,SN=LF000" + K + ",FW=1.00");
    }
    sim.stop();
}

TEST_CASE("sim channels: serial numbers count up from channel 1's, K@SERIAL overrides one channel") {
    auto sim = start_sim({"--channels", "3", "--pump-serial", "AB0099", "--pump-serial", "3@XYZ7", "--meter-serial", "METER",
                          "--meter-serial", "1@M1"});
    CHECK(hello_serial(ready(sim, "pump.1")) == "AB0099");
    CHECK(hello_serial(ready(sim, "pump.2")) == "AB0100");  // width kept, carried over
    CHECK(hello_serial(ready(sim, "pump.3")) == "XYZ7");
    CHECK(meter_id(ready(sim, "meter.1")) == "LF-2000,SN=M1,FW=1.00");
    CHECK(meter_id(ready(sim, "meter.2")) == "LF-2000,SN=METER-2,FW=1.00");  // no trailing number: -K
    CHECK(meter_id(ready(sim, "meter.3")) == "LF-2000,SN=METER-3,FW=1.00");
    sim.stop();
}

TEST_CASE("sim channels: channel K's seed is SEED + (K-1) * 1000003, channel 1's is SEED as on one channel") {
    const auto single = hello_nonce({"--seed", "5"}, "pump");
    const auto ch1 = hello_nonce({"--seed", "5", "--channels", "2"}, "pump.1");
    const auto ch2 = hello_nonce({"--seed", "5", "--channels", "2"}, "pump.2");
    const auto single2 = hello_nonce({"--seed", "1000008", "--pump-serial", "SIM0002"}, "pump");
    CHECK(ch1 == single);
    CHECK(ch2 == single2);
    CHECK(ch1 != ch2);
}

TEST_CASE("sim channels: delivery on channel 1 reaches only channel 1's meter") {
    // The exact world: a realistic meter's zero offset and noise move an idle total by a few nL.
    auto sim = start_sim({"--channels", "2", "--seed", "4", "--ideal"});
    auto pump1 = pump_on(ready(sim, "pump.1"));
    auto pump2 = pump_on(ready(sim, "pump.2"), 22);
    const auto key = pump::PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);
    auto id = pump1->authenticate(*key);
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    REQUIRE(pump1->refill(20.0, 500));
    REQUIRE(pump1->prime(0.01));  // 40 strokes of 0.25 uL, 0.9 s each
    auto m1 = meter_rtu(ready(sim, "meter.1"));
    auto m2 = meter_rtu(ready(sim, "meter.2"));
    const auto before1 = read_meter(m1), before2 = read_meter(m2);

    REQUIRE(sim.advance(Millis{180'000}));

    const auto after1 = read_meter(m1), after2 = read_meter(m2);
    CHECK(after1.total_raw > before1.total_raw + 5000);  // nL: most of the 10 uL primed
    CHECK(after2.total_raw == 0);
    CHECK(before2.total_raw == 0);
    // Both meters measured all along: one clock for both channels.
    CHECK(static_cast<std::uint16_t>(after1.sample - before1.sample) == 1800);
    CHECK(static_cast<std::uint16_t>(after2.sample - before2.sample) == 1800);

    REQUIRE(pump2->authenticate(*key));
    auto st2 = pump2->status();
    REQUIRE(st2);
    CHECK(st2->deliv_ml == doctest::Approx(0.0));
    CHECK(st2->state == pump::PumpState::Stopped);
    auto st1 = pump1->status();
    REQUIRE(st1);
    CHECK(st1->deliv_ml == doctest::Approx(0.01));
    sim.stop();
}

TEST_CASE("sim channels: faults on channel 2 leave channel 1's pump and meter alone") {
    // A scheduled link fault far in the future gives channel 2 (only) a stable pump link name.
    auto sim = start_sim({"--channels", "2", "--fault-at", "2@100000:pump_link_down:100"});
    CHECK(ready(sim, "pump.1").starts_with("/dev/pts/"));
    CHECK_FALSE(ready(sim, "pump.2").starts_with("/dev/pts/"));

    auto pump1 = pump_on(ready(sim, "pump.1"));
    auto pump2 = pump_on(ready(sim, "pump.2"), 22);
    REQUIRE(pump1->hello());
    REQUIRE(pump2->hello());
    auto m1 = meter_rtu(ready(sim, "meter.1"));
    auto m2 = meter_rtu(ready(sim, "meter.2"));

    // Channel 1 has no stable name: its link cannot be taken down, and the error says so.
    auto refused = sim.command("FAULT 1@pump_link_down 1000");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().received.find("stable link name") != std::string::npos);
    // Out-of-range and malformed channel numbers are refused.
    auto bad = sim.command("FAULT 3@freeze");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().received.find("ERR") != std::string::npos);
    CHECK_FALSE(sim.command("FAULT x@freeze"));
    CHECK_FALSE(sim.command("FAULT 0@freeze"));

    REQUIRE(sim.command("FAULT 2@freeze"));
    REQUIRE(sim.command("FAULT 2@pump_reset"));
    const auto a1 = read_meter(m1), a2 = read_meter(m2);
    REQUIRE(sim.advance(Millis{5000}));
    const auto b1 = read_meter(m1), b2 = read_meter(m2);
    CHECK(static_cast<std::uint16_t>(b1.sample - a1.sample) == 50);  // channel 1 measures on
    CHECK(b2.sample == a2.sample);                                    // channel 2 is frozen

    // Channel 2's pump restarted (BOOT reason=WATCHDOG), channel 1's did not.
    auto watchdog_boots = [](pump::PumpDriver& d) {
        REQUIRE(d.poll_events(Millis{100}));
        int n = 0;
        for (const auto& e : d.take_events())
            n += e.event.type == "BOOT" && e.event.values.get("reason") == std::optional<std::string_view>("WATCHDOG");
        return n;
    };
    CHECK(watchdog_boots(*pump2) == 1);
    CHECK(watchdog_boots(*pump1) == 0);

    // Channel 2's pump link goes away; channel 1's pump answers on.
    REQUIRE(sim.command("FAULT 2@pump_link_down 600000"));  // back long after this test
    CHECK_FALSE(pump2->hello());
    REQUIRE(pump1->hello());

    // A silent meter on channel 2; channel 1's goes on answering.
    REQUIRE(sim.command("FAULT 2@unfreeze"));
    REQUIRE(sim.command("FAULT 2@meter_silent 60000"));
    CHECK_FALSE(m2.read());
    const auto c1 = read_meter(m1);
    CHECK(c1.sample == b1.sample);  // no ADVANCE since: same measurement
    REQUIRE(sim.advance(Millis{1000}));
    CHECK(static_cast<std::uint16_t>(read_meter(m1).sample - c1.sample) == 10);
    sim.stop();
}

TEST_CASE("sim channels: defects and scheduled faults given with K@ reach one channel, without it every channel") {
    auto sim = start_sim({"--channels", "3", "--fault-at", "2@1:freeze", "--fault-at", "10:meter_silent:600000",
                          "--meter-fault", "3@frozen=2"});
    auto m1 = meter_rtu(ready(sim, "meter.1"));
    auto m2 = meter_rtu(ready(sim, "meter.2"));
    auto m3 = meter_rtu(ready(sim, "meter.3"));
    REQUIRE(sim.advance(Millis{5000}));
    CHECK(read_meter(m1).sample == 50);
    CHECK(read_meter(m2).sample == 10);  // frozen after 1 s
    CHECK(read_meter(m3).sample == 20);  // frozen after 2 s
    REQUIRE(sim.advance(Millis{10000}));  // past 10 s: every meter silent
    CHECK_FALSE(m1.read());
    CHECK_FALSE(m2.read());
    CHECK_FALSE(m3.read());
    sim.stop();
}

TEST_CASE("sim channels: --meter-tcp 0 gives each channel its own port") {
    auto sim = start_sim({"--channels", "2", "--meter-tcp", "0"});
    const auto t1 = ready(sim, "meter_tcp.1"), t2 = ready(sim, "meter_tcp.2");
    CHECK(t1 == ready(sim, "meter_tcp"));
    CHECK(t1.starts_with("127.0.0.1:"));
    CHECK(t2.starts_with("127.0.0.1:"));
    CHECK(t1 != t2);
    auto m2 = meter_tcp(t2);
    auto id = m2.identify();
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    CHECK(*id == "LF-2000,SN=LF0002,FW=1.00");
    sim.stop();
}

TEST_CASE("sim channels: real time runs every channel") {
    auto sim = start_sim({"--channels", "2", "--time", "realtime", "--speed", "20"});
    CHECK(ready(sim, "mode") == "realtime");
    auto m2 = meter_rtu(ready(sim, "meter.2"));
    const auto first = read_meter(m2).sample;
    // Bounded wait for a condition: the channel-2 meter's counter moves with the wall clock.
    bool moved = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!moved && std::chrono::steady_clock::now() < deadline) moved = read_meter(m2).sample != first;
    CHECK(moved);
    CHECK(hello_serial(ready(sim, "pump.2")) == "SIM0002");
    sim.stop();
}

TEST_CASE("sim channels: variant mode runs on every channel, each with its own filter") {
    auto sim = start_sim({"--channels", "3", "--variant", "--seed", "8"});
    const auto key = pump::PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);
    std::vector<std::unique_ptr<pump::PumpDriver>> pumps;
    for (int k = 1; k <= 3; ++k) {
        auto link = transport::open_termios(ready(sim, "pump." + std::to_string(k)), transport::SerialSettings{115200, 8, 'N', 1});
        REQUIRE(link);
        pump::DriverOptions o;
        o.seed = static_cast<std::uint64_t>(30 + k);
        pumps.push_back(std::make_unique<pump::PumpDriver>(std::move(*link), std::move(o)));
        pumps.back()->set_wait_hook([](Millis) {});  // BUSY: try again at once (virtual time)
    }
    // Requests on the three channels interleaved: each answers its own, none holds up another.
    for (int k = 1; k <= 3; ++k) {
        auto id = pumps[static_cast<std::size_t>(k - 1)]->authenticate(*key);
        REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
        CHECK(id->serial == "SIM000" + std::to_string(k));
    }
    for (int round = 0; round < 10; ++round)
        for (auto& p : pumps) {
            auto st = p->status();
            REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().describe()));
            CHECK(st->state == pump::PumpState::Stopped);
        }
    sim.stop();
}

TEST_CASE("sim channels: bad channel options exit 2 naming the option") {
    struct Case {
        std::vector<std::string> args;
        std::string names;
    };
    const std::vector<Case> cases = {
        {{"--channels", "0"}, "--channels"},
        {{"--channels", "9"}, "--channels"},
        {{"--channels", "3", "--defect", "4@x"}, "--defect"},
        {{"--channels", "3", "--fault-at", "0@1:pump_reset"}, "--fault-at"},
        {{"--fault-at", "2@1:pump_reset"}, "--fault-at"},
        {{"--channels", "2", "--meter-fault", "x@frozen"}, "--meter-fault"},
        {{"--channels", "2", "--pump-serial", "3@A"}, "--pump-serial"},
        {{"--channels", "2", "--meter-serial", "@A"}, "--meter-serial"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv{sim_binary()};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        const auto r = test::run_command(argv, 30s);
        CAPTURE(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.names) != std::string::npos);
        CHECK(r.out.find("READY") == std::string::npos);
    }
}

TEST_CASE("sim channels: one channel keeps the READY line of before, plus channels=1, the .1 keys and tick_ms") {
    // stdin is /dev/null: the simulator prints READY, sees the end of its input and exits 0.
    const auto r = test::run_command({sim_binary(), "--seed", "9"}, 30s);
    REQUIRE(r.exit_code == 0);
    INFO(r.out);
    REQUIRE(r.out.starts_with("READY pump="));
    std::vector<std::string> keys;
    std::map<std::string, std::string> kv;
    std::string line = r.out.substr(0, r.out.find('\n'));
    std::size_t pos = line.find(' ') + 1;
    while (pos > 0 && pos < line.size()) {
        const auto end = line.find(' ', pos);
        const std::string word = line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        const auto eq = word.find('=');
        REQUIRE(eq != std::string::npos);
        keys.push_back(word.substr(0, eq));
        kv[word.substr(0, eq)] = word.substr(eq + 1);
        pos = end == std::string::npos ? 0 : end + 1;
    }
    std::vector<std::string> expected_keys{"pump", "meter", "meter_tcp", "clock_ms", "mode", "channels", "pump.1", "meter.1", "meter_tcp.1", "tick_ms"};
    for (const auto& p : bench::unit_params()) expected_keys.push_back("unit.1." + std::string(p.name));  // the unit played, last
    CHECK(keys == expected_keys);
    CHECK(kv["tick_ms"] == "100");
    CHECK(kv["channels"] == "1");
    CHECK(kv["pump.1"] == kv["pump"]);
    CHECK(kv["meter.1"] == kv["meter"]);
    CHECK(kv["meter_tcp"] == "-");
    CHECK(kv["meter_tcp.1"] == "-");
    CHECK(kv["mode"] == "virtual");
    CHECK(kv["clock_ms"] == "1767225600000");

    auto sim = start_sim({"--seed", "9"});
    CHECK(ready(sim, "channels") == "1");
    CHECK(hello_serial(ready(sim, "pump")) == "SIM0001");
    CHECK(meter_id(ready(sim, "meter")) == "LF-2000,SN=LF0001,FW=1.00");
    auto refused = sim.command("FAULT 2@freeze");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().received.find("ERR") != std::string::npos);
    CHECK(sim.command("FAULT 1@freeze"));
    sim.stop();
}
