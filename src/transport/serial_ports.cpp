#include "transport/serial_ports.hpp"

#include <libserialport.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace pumprig::transport {

namespace fs = std::filesystem;

std::string by_id_link(const fs::path& device, const fs::path& by_id_dir) {
    std::error_code ec;
    const auto target = fs::canonical(device, ec);
    if (ec) return {};
    std::vector<std::string> links;
    for (const auto& e : fs::directory_iterator(by_id_dir, ec)) {
        std::error_code ec2;
        if (fs::canonical(e.path(), ec2) == target && !ec2) links.push_back(e.path().string());
    }
    std::sort(links.begin(), links.end());
    return links.empty() ? std::string() : links.front();
}

Result<std::vector<SerialPortInfo>> list_serial_ports(const fs::path& by_id_dir) {
    sp_port** list = nullptr;
    if (sp_list_ports(&list) != SP_OK) {
        char* text = sp_last_error_message();
        std::string why = text ? text : "unknown error";
        sp_free_error_message(text);
        return fail(ErrorKind::Io, "cannot list the serial ports (libserialport): " + why);
    }
    auto text = [](const char* s) { return s ? std::string(s) : std::string(); };
    std::vector<SerialPortInfo> ports;
    for (sp_port** p = list; *p; ++p) {
        SerialPortInfo info;
        info.name = text(sp_get_port_name(*p));
        info.description = text(sp_get_port_description(*p));
        switch (sp_get_port_transport(*p)) {
            case SP_TRANSPORT_USB: info.transport = "usb"; break;
            case SP_TRANSPORT_BLUETOOTH: info.transport = "bluetooth"; break;
            default: info.transport = "native"; break;
        }
        if (info.transport == "usb") {
            int vid = 0, pid = 0;
            if (sp_get_port_usb_vid_pid(*p, &vid, &pid) == SP_OK) {
                info.usb_vid = vid;
                info.usb_pid = pid;
            }
            info.usb_serial = text(sp_get_port_usb_serial(*p));
            info.usb_manufacturer = text(sp_get_port_usb_manufacturer(*p));
            info.usb_product = text(sp_get_port_usb_product(*p));
        }
        info.by_id = by_id_link(info.name, by_id_dir);
        ports.push_back(std::move(info));
    }
    sp_free_port_list(list);
    std::sort(ports.begin(), ports.end(), [](const SerialPortInfo& a, const SerialPortInfo& b) { return a.name < b.name; });
    return ports;
}

std::string format_ports(const std::vector<SerialPortInfo>& ports) {
    if (ports.empty()) return "no serial ports on this host (libserialport lists none; pseudo-terminals are not listed)\n";
    std::string out;
    char ids[16];
    for (const auto& p : ports) {
        out += p.name + "  " + p.transport;
        if (p.usb_vid && p.usb_pid) {
            std::snprintf(ids, sizeof ids, "%04x:%04x", *p.usb_vid & 0xffff, *p.usb_pid & 0xffff);
            out += "  usb " + std::string(ids);
        }
        if (!p.usb_serial.empty()) out += "  serial " + p.usb_serial;
        if (!p.description.empty()) out += "  \"" + p.description + "\"";
        out += "\n";
        if (!p.usb_manufacturer.empty() || !p.usb_product.empty())
            out += "    " + p.usb_manufacturer + (p.usb_manufacturer.empty() || p.usb_product.empty() ? "" : " ") + p.usb_product + "\n";
        out += "    by-id: " + (p.by_id.empty() ? std::string("(none: name the port by ") + p.name + ")" : p.by_id) + "\n";
    }
    return out;
}

const SerialPortInfo* find_port(const std::vector<SerialPortInfo>& ports, const std::string& which) {
    for (const auto& p : ports)
        if (p.name == which || (!p.by_id.empty() && (p.by_id == which || fs::path(p.by_id).filename() == which))) return &p;
    return nullptr;
}

std::string rig_snippet(const SerialPortInfo& port, LinkRole role) {
    const std::string device = port.by_id.empty() ? port.name : port.by_id;
    nlohmann::ordered_json link;
    if (role == LinkRole::Pump) {
        link = {{"backend", "serialport"}, {"device", device}, {"baud", 115200}, {"parity", "none"},
                {"response_timeout_ms", 300}, {"retries", 3}, {"key", {{"file", "/etc/pumprig/KEY-FILE.key"}}}};
    } else {
        link = {{"link", "rtu"}, {"device", device}, {"baud", 19200}, {"parity", "even"}, {"stop_bits", 1}, {"unit_id", 1},
                {"profile", "fixtures/meters/lf-2000.json"}};
    }
    return "\"" + std::string(role == LinkRole::Pump ? "pump" : "meter") + "\": " + link.dump(2) + "\n";
}

}  // namespace pumprig::transport
