// MeterDriver against an LF-2000 register map served by python3-pymodbus (tests/peers), a Modbus
// server nobody here wrote, over a socat pseudo-terminal pair. The fixture owns socat's and
// python's pids, learns the pty names from socat's stderr and waits for the server's READY line.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>

#include "meter/meter_driver.hpp"
#include "meter/total_tracker.hpp"
#include "meter_fixtures.hpp"

using namespace pumprig;
using namespace pumprig::meter;
using namespace std::chrono_literals;

namespace {

std::string profile_text() {
    std::ifstream in(itest::source_dir() + "/fixtures/meters/lf-2000.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

struct PymodbusMeter {
    std::unique_ptr<itest::Child> socat, python;
    std::string server_pty, client_pty;

    explicit PymodbusMeter(std::vector<std::string> values) {
        socat = std::make_unique<itest::Child>(
            std::vector<std::string>{"socat", "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"});
        static const std::regex pty_line(R"(PTY is (\S+))");
        std::vector<std::string> ptys;
        while (ptys.size() < 2) {
            auto line = socat->line(/*from_stderr=*/true, 10s);
            REQUIRE_MESSAGE(line.has_value(), "socat did not report its ptys: " << socat->captured());
            std::smatch m;
            if (std::regex_search(*line, m, pty_line)) ptys.push_back(m[1]);
        }
        REQUIRE_MESSAGE(socat->wait_for("starting data transfer loop", true, 10s).has_value(),
                        "socat did not start: " << socat->captured());
        server_pty = ptys[0];
        client_pty = ptys[1];
        std::vector<std::string> argv{itest::env_or("PUMPRIG_PYTHON", "/usr/bin/python3"),
                                      itest::source_dir() + "/tests/peers/lf2000_pymodbus_server.py", "--port",
                                      server_pty};
        argv.insert(argv.end(), values.begin(), values.end());
        python = std::make_unique<itest::Child>(argv, /*merge_stderr=*/true);
        auto ready = python->wait_for("READY", false, 30s);
        REQUIRE_MESSAGE(ready.has_value(), "the pymodbus server did not start (python3-pymodbus and "
                                           "python3-serial-asyncio needed): " << python->captured());
    }
    ~PymodbusMeter() {
        python.reset();  // killed by pid
        socat.reset();
    }
};

MeterLink link_to(const std::string& pty) {
    MeterLink l;
    l.kind = MeterLink::Rtu;
    l.device = pty;
    l.parity = 'N';  // 8N1 on pseudo-terminals on both ends (docs/platform.md)
    l.response_timeout = 1000ms;  // python answers slower than a meter
    return l;
}

}  // namespace

TEST_CASE("meter driver reads the LF-2000 map served by pymodbus over socat ptys") {
    PymodbusMeter peer({"--flow", "12.5", "--total-nl", "4294967000", "--status", "1", "--temperature", "21.5",
                        "--sample", "65535", "--period", "100"});
    auto profile = parse_meter_profile(profile_text(), "lf-2000.json");
    REQUIRE(profile.has_value());
    auto driver = MeterDriver::open(link_to(peer.client_pty), *profile);
    REQUIRE_MESSAGE(driver.has_value(), driver.error().describe());
    auto r = driver->read();
    REQUIRE_MESSAGE(r.has_value(), r.error().describe());
    CHECK(r->flow.ul_per_h == doctest::Approx(12.5));
    CHECK(r->total_raw == 4294967000u);
    CHECK(r->valid);
    CHECK_FALSE(r->air);
    CHECK(r->temperature_c == doctest::Approx(21.5));
    CHECK(r->sample == 65535);
    CHECK(r->period == Millis{100});
    // The host's reading of a wrapped total: 2^32 - 296 nL is 296 nL backwards from the reset.
    TotalTracker tracker(*profile);
    CHECK(tracker.update(*r).total.nl() == doctest::Approx(-296.0));
}

TEST_CASE("meter driver gets exception 02 from pymodbus for a read past address 7") {
    PymodbusMeter peer({"--flow", "1.0"});
    std::string text = profile_text();
    const auto at = text.find(R"("count": 8)");
    REQUIRE(at != std::string::npos);
    text.replace(at, 10, R"("count": 9)");
    auto wide = parse_meter_profile(text, "wide.json");
    REQUIRE(wide.has_value());
    auto driver = MeterDriver::open(link_to(peer.client_pty), *wide);
    REQUIRE(driver.has_value());
    auto r = driver->read();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::DeviceError);
    CHECK(r.error().code == "MODBUS_EXCEPTION_02");
}
