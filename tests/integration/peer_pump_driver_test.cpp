// The pump driver against the Python pump peer (tests/peers/pump_peer.py), a second pump written
// from the ICD alone, over a pseudo-terminal. The peer answers BUSY now and then, sends events
// before the response of the request that caused them and adds keys the driver does not know:
// variations the ICD allows and the C++ simulator does not show.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "peer_support.hpp"
#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "pump/driver/pump_driver.hpp"
#include "transport/byte_stream.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

constexpr double kSpeed = 60.0;  // bench seconds per wall second in the peer
const char* kTestKeyHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

std::unique_ptr<transport::ByteStream> open_pty(const std::string& path) {
    auto link = transport::open_termios(path, transport::SerialSettings{115200, 8, 'N', 1});
    REQUIRE_MESSAGE(link.has_value(), (link ? "" : link.error().describe()));
    return std::move(*link);
}

bool has_event(const std::vector<pump::PumpEvent>& events, const std::string& type) {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.event.type == type; });
}

// Polls (bench time passes in the peer meanwhile) until an event of `type` came, within a
// wall-time bound.
std::optional<pump::PumpEvent> wait_event(pump::PumpDriver& d, const std::string& type, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        REQUIRE(d.poll_events(Millis{50}));
        for (auto& e : d.take_events())
            if (e.event.type == type) return e;
    }
    return std::nullopt;
}

// Raw request/response over the link, for what the driver never does on purpose.
struct RawLink {
    std::unique_ptr<transport::ByteStream> link;
    pump::codec::FrameDecoder decoder;
    std::vector<std::string> events;

    // Sends `bytes`, returns the first response body (events are kept aside).
    std::string exchange(const std::string& bytes) {
        REQUIRE(link->write(bytes));
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (std::chrono::steady_clock::now() < deadline) {
            while (auto line = decoder.next()) {
                if (line->status != pump::codec::DecodedLine::Status::Ok) continue;
                if (line->body.starts_with("EV,")) {
                    events.push_back(line->raw);
                    continue;
                }
                return line->body;
            }
            auto got = link->read_some(100ms);
            REQUIRE(got.has_value());
            decoder.feed(*got);
        }
        FAIL("no response to " << bytes);
        return {};
    }
    std::string request(const std::string& body) { return exchange(pump::codec::encode_frame(body)); }
};

}  // namespace

TEST_CASE("pump driver conversation with the Python pump peer over a pty") {
    PeerProcess peer("pump_peer.py", {"--speed", "60", "--seed", "11", "--busy-every", "6"});
    pump::DriverOptions opt;
    opt.seed = 3;
    pump::PumpDriver driver(open_pty(peer.at("pump")), opt);
    // Bench time passes at the peer's speed: BUSY back-off and the wait for BOOT.
    driver.set_wait_hook([](Millis d) {
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(static_cast<double>(d.count()) / kSpeed));
    });
    auto key = pump::PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);

    auto id = driver.authenticate(*key);
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().describe()));
    CHECK(id->model == "ITB-40");
    CHECK(id->serial == "PYP0001");
    CHECK(id->proto == 1);
    CHECK(id->nonce.size() == 16);
    CHECK(driver.session_active());

    auto st = driver.status();
    REQUIRE(st);
    CHECK(st->state == pump::PumpState::Stopped);
    CHECK(st->raw.has("temp_c"));  // a key the driver does not know, kept but ignored

    const double ten_am = 1767261600.0;  // 2026-01-01T10:00:00Z
    REQUIRE(driver.set_clock(ten_am));
    auto t = driver.clock();
    REQUIRE(t);
    CHECK(*t >= ten_am);
    CHECK(*t < ten_am + 60.0);

    REQUIRE(driver.refill(20.0, 500));
    REQUIRE(driver.alarm_cfg(2.0));
    REQUIRE(driver.prog_begin());
    REQUIRE(driver.prog_step(0, 6000.0));
    auto commit = driver.prog_commit();
    REQUIRE(commit);
    CHECK(commit->steps == 1);
    CHECK(commit->daily_ug == doctest::Approx(6000.0));
    auto step = driver.prog_read_step(1);
    REQUIRE(step);
    CHECK(step->start_min == 0);
    CHECK(step->dose_ug_day == doctest::Approx(6000.0));
    auto missing = driver.prog_read_step(2);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == "RANGE");

    // The peer sends STATE and STEP before START's OK: the driver keeps them.
    REQUIRE(driver.start());
    auto started = driver.take_events();
    CHECK(has_event(started, "STATE"));
    CHECK(has_event(started, "STEP"));

    // 5 ug over 1 min at 500 ug/mL: 0.010 mL at 0.6 mL/h.
    REQUIRE(driver.bolus(5.0, 1));
    auto second = driver.bolus(5.0, 1);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == "STATE");
    auto end = wait_event(driver, "BOLUS_END", 10s);
    REQUIRE(end.has_value());
    CHECK(end->event.values.get("kind") == "CLINICIAN");
    CHECK(std::stod(std::string(end->event.values.get("vol_ml").value_or("0"))) == doctest::Approx(0.010));

    // Every event was acknowledged: nothing comes again over more than the 10 s resend period.
    const auto dups_before = driver.counters().duplicate_events;
    REQUIRE(driver.poll_events(Millis{static_cast<long long>(15'000 / kSpeed)}));
    CHECK(driver.counters().duplicate_events == dups_before);

    REQUIRE(driver.stop());
    st = driver.status();
    REQUIRE(st);
    CHECK(st->state == pump::PumpState::Stopped);
    CHECK(st->deliv_ml >= 0.010);
    CHECK(st->res_ml < 20.0);

    // RESET: OK, then the BOOT event confirms it; the session is gone and a new one works.
    auto reset = driver.reset();
    REQUIRE_MESSAGE(reset.has_value(), (reset ? "" : reset.error().describe()));
    CHECK_FALSE(driver.session_active());
    auto refused = driver.start();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == "AUTH");
    REQUIRE(driver.authenticate(*key));
    st = driver.status();
    REQUIRE(st);
    CHECK(st->conc_ug_ml == 500);  // the reset keeps refill and program
    CHECK(driver.counters().busy > 0);  // the peer's BUSY answers were waited out
}

TEST_CASE("the Python pump peer keeps retry safety, resends events and locks AUTH out") {
    PeerProcess peer("pump_peer.py", {"--speed", "60", "--seed", "12"});
    RawLink raw{open_pty(peer.at("pump")), {}, {}};
    // The power-on BOOT event comes again, byte for byte, until acknowledged.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (raw.events.size() < 2 && std::chrono::steady_clock::now() < deadline) {
        auto got = raw.link->read_some(100ms);
        REQUIRE(got.has_value());
        raw.decoder.feed(*got);
        while (auto line = raw.decoder.next()) raw.events.push_back(line->raw);
    }
    REQUIRE(raw.events.size() >= 2);
    CHECK(raw.events[0] == raw.events[1]);
    CHECK(raw.events[0].find("type=BOOT,reason=POWER") != std::string::npos);

    CHECK(raw.request("100,EVACK,n=1") == "100,OK");
    // Same SEQ and body: the stored answer; same SEQ, another body: SEQ, not executed.
    CHECK(raw.request("100,EVACK,n=1") == "100,OK");
    CHECK(raw.request("100,STATUS") == "100,ERR,code=SEQ");
    CHECK(raw.request("101,CLOCK") == "101,ERR,code=AUTH");
    CHECK(raw.request("102,FLY") == "102,ERR,code=UNKNOWN");
    CHECK(raw.request("103,HELLO,x=1") == "103,ERR,code=ARG");
    CHECK(raw.exchange("$104,STATUS*0000\r\n") == "0,ERR,code=CRC");
    CHECK(raw.request("x,STATUS") == "0,ERR,code=SYNTAX");

    // Three wrong MACs (each after a fresh HELLO), then LOCKED even for the right one.
    const std::string wrong(64, '0');
    for (int i = 0; i < 3; ++i) {
        REQUIRE(raw.request(std::to_string(110 + 2 * i) + ",HELLO").starts_with(std::to_string(110 + 2 * i) + ",OK"));
        CHECK(raw.request(std::to_string(111 + 2 * i) + ",AUTH,mac=" + wrong) == std::to_string(111 + 2 * i) + ",ERR,code=AUTH");
    }
    REQUIRE(raw.request("120,HELLO").starts_with("120,OK"));
    CHECK(raw.request("121,AUTH,mac=" + wrong) == "121,ERR,code=LOCKED");
    // LOCKED answers do not count as failures and the lockout holds.
    CHECK(raw.request("122,AUTH,mac=" + wrong) == "122,ERR,code=LOCKED");
}
