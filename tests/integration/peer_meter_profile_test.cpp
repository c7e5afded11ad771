// The meter driver reads a foreign implementation of a meter map: tests/peers/meter_peer_server.py
// serves any profile with python3-pymodbus and its own encoder (no code shared with pumprig's
// profile functions). The second profile has another layout, low word first, a float32 total in
// mL and flow in mL/h; the LF-2000 map is read the same way for comparison.
#include <doctest/doctest.h>

#include "meter/meter_driver.hpp"
#include "meter/profile.hpp"
#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

meter::MeterDriver open_tcp_meter(const PeerProcess& peer, const std::string& profile_path) {
    auto profile = meter::load_meter_profile(profile_path);
    REQUIRE_MESSAGE(profile.has_value(), (profile ? "" : profile.error().describe()));
    const auto [host, port] = peer.host_port("meter_tcp");
    meter::MeterLink link;
    link.kind = meter::MeterLink::Tcp;
    link.host = host;
    link.port = port;
    link.response_timeout = Millis{500};
    auto driver = meter::MeterDriver::open(link, std::move(*profile));
    REQUIRE_MESSAGE(driver.has_value(), (driver ? "" : driver.error().describe()));
    return std::move(*driver);
}

// Reads until the total shows `want` (the reset lands at the next 100 ms measurement), within a
// wall-time bound.
bool total_reaches(meter::MeterDriver& m, double want_ul, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = m.read();
        REQUIRE(r);
        if (std::abs(r->total.ul - want_ul) < 1e-6) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("meter driver reads the example float mL profile served by the pymodbus meter peer over TCP") {
    const std::string profile = source() + "/fixtures/meters/example-float-ml.json";
    PeerProcess peer("meter_peer_server.py",
                     {"--profile", profile, "--tcp", "0", "--flow-ul-h", "512.5", "--total-ul", "1234.5", "--serial", "FM42"});
    auto m = open_tcp_meter(peer, profile);
    CHECK(m.profile().make == "EXAMPLE-FM");

    auto text = m.identify();
    REQUIRE_MESSAGE(text.has_value(), (text ? "" : text.error().describe()));
    CHECK(*text == "EXAMPLE-FM,SN=FM42,FW=1.0.0-py");

    auto r = m.read();
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().describe()));
    // float32 mL and mL/h, low word first: 1.2345 mL and 0.5125 mL/h as float32 values.
    CHECK(r->total.ul == doctest::Approx(1234.5).epsilon(1e-6));
    CHECK(r->flow.ul_per_h == doctest::Approx(512.5).epsilon(1e-6));
    CHECK(r->valid);
    CHECK(r->period == Millis{100});

    // The profile's command register (address 200, value 5) resets the total.
    REQUIRE(m.reset_total());
    CHECK(total_reaches(m, 0.0, 5s));
}

TEST_CASE("meter driver reads the LF-2000 map served by the pymodbus meter peer with a wrapping nL total") {
    const std::string profile = source() + "/fixtures/meters/lf-2000.json";
    // 4294968.796 uL is 2^32 nL + 1.5 uL: the uint32 nL total shows 1500 nL (modulo 2^32).
    PeerProcess peer("meter_peer_server.py", {"--profile", profile, "--tcp", "0", "--flow-ul-h", "-3.25", "--total-ul", "4294968.796"});
    auto m = open_tcp_meter(peer, profile);
    auto text = m.identify();
    REQUIRE(text);
    CHECK(text->starts_with("LF-2000,SN=PY0001"));
    auto r = m.read();
    REQUIRE(r);
    CHECK(r->total_raw == 1500);
    CHECK(r->total.ul == doctest::Approx(1.5));
    CHECK(r->flow.ul_per_h == doctest::Approx(-3.25));
}
