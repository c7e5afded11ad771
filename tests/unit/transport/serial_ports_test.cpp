// pumprig ports without hardware: by-id links resolved in a made-up /dev/serial/by-id, the
// table of made-up ports, and rig snippets that the rig loader itself accepts.
#include <doctest/doctest.h>

#include <fstream>

#include "bench/rig.hpp"
#include "support/files.hpp"
#include "transport/serial_ports.hpp"

using namespace pumprig;
using namespace pumprig::transport;
namespace fs = std::filesystem;

namespace {

SerialPortInfo ftdi() {
    SerialPortInfo p;
    p.name = "/dev/ttyUSB0";
    p.by_id = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0";
    p.transport = "usb";
    p.description = "FT232R USB UART - A50285BI";
    p.usb_vid = 0x0403;
    p.usb_pid = 0x6001;
    p.usb_serial = "A50285BI";
    p.usb_manufacturer = "FTDI";
    p.usb_product = "FT232R USB UART";
    return p;
}

}  // namespace

TEST_CASE("ports by-id: the link that resolves to the device, none when no link points to it") {
    test::TempDir tmp;
    const auto dev = tmp.path / "ttyUSB7";
    std::ofstream(dev) << "";
    fs::create_directories(tmp.path / "by-id");
    fs::create_symlink("../ttyUSB7", tmp.path / "by-id" / "usb-Prolific_PL2303-if00-port0");
    fs::create_symlink("../ttyOTHER", tmp.path / "by-id" / "usb-dangling-if00-port0");  // a link to nothing
    CHECK(by_id_link(dev, tmp.path / "by-id") == (tmp.path / "by-id" / "usb-Prolific_PL2303-if00-port0").string());
    const auto other = tmp.path / "ttyS0";
    std::ofstream(other) << "";
    CHECK(by_id_link(other, tmp.path / "by-id").empty());
    CHECK(by_id_link(tmp.path / "missing", tmp.path / "by-id").empty());
    CHECK(by_id_link(dev, tmp.path / "no-such-folder").empty());
}

TEST_CASE("ports table: name, transport, USB ids, serial number, description and by-id path") {
    SerialPortInfo uart;
    uart.name = "/dev/ttyS0";
    uart.transport = "native";
    uart.description = "ttyS0";
    const auto text = format_ports({ftdi(), uart});
    CHECK(text ==
          "/dev/ttyUSB0  usb  usb 0403:6001  serial A50285BI  \"FT232R USB UART - A50285BI\"\n"
          "    FTDI FT232R USB UART\n"
          "    by-id: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0\n"
          "/dev/ttyS0  native  \"ttyS0\"\n"
          "    by-id: (none: name the port by /dev/ttyS0)\n");
    CHECK(format_ports({}).rfind("no serial ports on this host", 0) == 0);
}

TEST_CASE("ports find: by name, by by-id path and by the by-id file name") {
    const std::vector<SerialPortInfo> ports = {ftdi()};
    CHECK(find_port(ports, "/dev/ttyUSB0") == &ports[0]);
    CHECK(find_port(ports, ports[0].by_id) == &ports[0]);
    CHECK(find_port(ports, "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0") == &ports[0]);
    CHECK(find_port(ports, "/dev/ttyUSB1") == nullptr);
}

TEST_CASE("ports snippet: the pump and meter members load as a rig with the by-id device") {
    test::TempDir tmp;
    auto meter_port = ftdi();
    meter_port.name = "/dev/ttyUSB1";
    meter_port.by_id.clear();  // no by-id link: the snippet names the port itself
    const auto pump = rig_snippet(ftdi(), LinkRole::Pump);
    const auto meter = rig_snippet(meter_port, LinkRole::Meter);
    CHECK(pump.rfind("\"pump\": {", 0) == 0);
    CHECK(meter.rfind("\"meter\": {", 0) == 0);
    const auto file = tmp.path / "bench.json";
    std::ofstream(file) << "{ \"name\": \"bench-x\",\n" << pump << ",\n" << meter << "}\n";
    const auto rig = bench::load_rig(file, PUMPRIG_SOURCE_DIR);
    INFO(test::read_file(file));
    REQUIRE_MESSAGE(rig, (rig ? std::string() : rig.error().message));
    CHECK(rig->pump.backend == bench::PumpLinkConfig::Backend::Serialport);
    CHECK(rig->pump.device == ftdi().by_id);
    CHECK(rig->pump.baud == 115200);
    CHECK(rig->pump.parity == 'N');
    CHECK(rig->meter.kind == bench::MeterLinkConfig::Kind::Rtu);
    CHECK(rig->meter.device == "/dev/ttyUSB1");
    CHECK(rig->meter.baud == 19200);
    CHECK(rig->meter.parity == 'E');
}
