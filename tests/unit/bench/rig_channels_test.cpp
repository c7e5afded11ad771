// Multi-channel rig descriptions: what each channel inherits from the rig and what it names
// itself, and the single-channel bench each channel becomes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "bench/rig.hpp"

using namespace pumprig::bench;

namespace {
std::filesystem::path source_dir() {
    const char* dir = std::getenv("PUMPRIG_SOURCE_DIR");
    return dir && *dir ? dir : PUMPRIG_SOURCE_DIR;
}
}  // namespace

TEST_CASE("rig channels: a hardware bench's channels inherit the shared link settings and name their own devices and keys") {
    auto rig = load_rig(source_dir() / "rig" / "bench-4ch.example.json", source_dir());
    REQUIRE_MESSAGE(rig.has_value(), (rig ? "" : rig.error().describe()));
    REQUIRE(rig->channels.size() == 4);
    const auto per = channel_rigs(*rig);
    REQUIRE(per.size() == 4);
    for (std::size_t i = 0; i < per.size(); ++i) {
        CAPTURE(i);
        const auto n = std::to_string(i + 1);
        CHECK(per[i].channel == "ch" + n);
        CHECK(per[i].channel_index == i);
        CHECK(per[i].channels.empty());
        CHECK(per[i].pump.backend == PumpLinkConfig::Backend::Serialport);  // inherited
        CHECK(per[i].pump.baud == 115200);
        CHECK(per[i].pump.device == "/dev/serial/by-id/usb-FTDI_ITB_bridge_" + n + "-if00-port0");
        CHECK(per[i].key.file == "/etc/pumprig/bench-4ch-ch" + n + ".key");
        CHECK(per[i].meter.parity == 'E');  // inherited
        CHECK(per[i].meter.device == "/dev/serial/by-id/usb-FTDI_RS485_" + n + "-if00-port0");
        CHECK(per[i].meter.profile == source_dir() / "fixtures/meters/lf-2000.json");
        CHECK(per[i].name == "bench-4ch");
    }
}

TEST_CASE("rig channels: a simulated bench's channels carry their own serials, defects, meter faults and scheduled faults") {
    auto rig = load_rig(source_dir() / "rig" / "sim-3ch.json", source_dir());
    REQUIRE(rig.has_value());
    const auto per = channel_rigs(*rig);
    REQUIRE(per.size() == 3);
    CHECK(per[0].simulator.pump_serial == "SIM0101");
    CHECK(per[2].simulator.pump_serial == "SIM0103");
    CHECK(per[1].channel == "B");
    CHECK(per[1].key.test_key);
}

TEST_CASE("rig channels: a rig without channels is one bench, itself, with no channel name") {
    auto rig = load_rig(source_dir() / "rig" / "sim.json", source_dir());
    REQUIRE(rig.has_value());
    const auto per = channel_rigs(*rig);
    REQUIRE(per.size() == 1);
    CHECK(per[0].channel.empty());
    CHECK(per[0].channel_index == 0);
    CHECK(per[0].simulator.pump_serial == "SIM0001");
}
