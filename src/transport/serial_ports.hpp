// The serial ports of this host, as libserialport sees them, for `pumprig ports`: what a rig
// file's device should name. Listing is one small function over libserialport; everything
// else (table, rig snippet) works on plain structs, so it is tested with made-up ports.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pumprig::transport {

struct SerialPortInfo {
    std::string name;          // /dev/ttyUSB0
    std::string by_id;         // /dev/serial/by-id/usb-FTDI_...-if00-port0, or empty
    std::string transport;     // "usb", "native", "bluetooth"
    std::string description;   // libserialport's
    std::optional<int> usb_vid, usb_pid;
    std::string usb_serial, usb_manufacturer, usb_product;
};

// Every port libserialport lists, sorted by name, each with the /dev/serial/by-id link (under
// `by_id_dir`) that points to it. No port is no error.
Result<std::vector<SerialPortInfo>> list_serial_ports(const std::filesystem::path& by_id_dir = "/dev/serial/by-id");

// The link under `by_id_dir` that resolves to `device`, or empty.
std::string by_id_link(const std::filesystem::path& device, const std::filesystem::path& by_id_dir);

// The table `pumprig ports` prints ("no serial ports" line when there is none).
std::string format_ports(const std::vector<SerialPortInfo>& ports);

// The port a user named: its name, its by-id path, or the by-id link's file name.
const SerialPortInfo* find_port(const std::vector<SerialPortInfo>& ports, const std::string& which);

enum class LinkRole { Pump, Meter };
// A rig "pump" or "meter" member for this port (docs/benches.md), by-id path preferred: it
// survives re-plugging. The pump at the ICD's 115200 8N1, the LF-2000 at 19200 8E1.
std::string rig_snippet(const SerialPortInfo& port, LinkRole role);

}  // namespace pumprig::transport
