// pumprig ports: this host's serial ports (libserialport) with their /dev/serial/by-id names,
// USB ids and serial numbers, so a rig file can name the right adapter; --snippet PORT prints
// the rig "pump" or "meter" member for one of them. docs/benches.md.
#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "transport/serial_ports.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_ports(int argc, char** argv) {
    std::string snippet, role = "pump";
    po::options_description desc("pumprig ports: the serial ports of this host\nOptions");
    desc.add_options()("help,h", "show this help")
        ("snippet", po::value(&snippet), "print the rig member for this port (its name, by-id path or by-id file name)")
        ("as", po::value(&role), "with --snippet: pump (default) or meter");
    std::vector<std::string> positional;
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "ports", desc, positional, vm, 0)) return *done;
    if (role != "pump" && role != "meter") {
        std::cerr << "pumprig ports: --as " << role << ": expected pump or meter\n";
        return kExitBadInput;
    }
    auto ports = transport::list_serial_ports();
    if (!ports) {
        std::cerr << "pumprig ports: " << ports.error().message << "\n";
        return kExitBenchError;
    }
    if (snippet.empty()) {
        std::cout << transport::format_ports(*ports);
        return kExitPass;
    }
    const auto* port = transport::find_port(*ports, snippet);
    if (!port) {
        std::cerr << "pumprig ports: --snippet " << snippet << ": expected one of this host's serial ports";
        if (ports->empty()) std::cerr << " (it has none)";
        for (const auto& p : *ports) std::cerr << "\n  " << p.name << (p.by_id.empty() ? "" : "  " + p.by_id);
        std::cerr << "\n";
        return kExitBadInput;
    }
    std::cout << transport::rig_snippet(*port, role == "pump" ? transport::LinkRole::Pump : transport::LinkRole::Meter);
    return kExitPass;
}

}  // namespace pumprig::cli
