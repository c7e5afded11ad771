// pumprig-sim: the simulated bench. One or more channels (--channels N), each a pump model
// served on its own pseudo-terminal, speaking the pump ICD, and an LF-2000 meter model served as
// a Modbus RTU server on another pseudo-terminal and optionally as Modbus TCP on a loopback
// port, both fed by the channel's fluid line. All channels run on one clock. Every byte takes
// the same path as on a real bench.
//
// Control channel (stdin/stdout, one line each way), used by pumprig and by test fixtures:
//   on start:   READY pump=<pty> meter=<pty> meter_tcp=<host:port|-> clock_ms=<bench ms> mode=<virtual|realtime>
//               channels=<N> pump.1=<pty> meter.1=<pty> meter_tcp.1=<host:port|-> ... pump.N=... meter.N=... meter_tcp.N=...
//               (pump=, meter=, meter_tcp= are channel 1's) tick_ms=<the models' step>, then
//               unit.K.NAME=VALUE for each channel's unit of the population (bench/population.hpp)
//   ADVANCE <ms>     (virtual time) advance the models of every channel by <ms>; answers "OK clock_ms=<ms>"
//                    (whole steps; the rest is carried to the next ADVANCE)
//   Every line is applied before any device request written after it, answered or not
//   (SimBench::apply_control; docs/simulator.md, "Control channel").
//   CLOCK            answers "OK clock_ms=<ms>"
//   FAULT [K@]<name> [args]  inject a fault into channel K (channel 1 without K@): motor_stall,
//                    battery <pct>, air <n>, freeze, unfreeze, pump_reset, pump_link_down <ms>,
//                    meter_silent <ms>; "OK" or "ERR <why>"
//   QUIT             exit 0 (end of stdin does the same)
//
// Defects (--defect [K@]NAME, repeatable; --list-defects) make a pump misbehave as real firmware
// or mechanics can; meter faults (--meter-fault [K@]NAME[=VALUE]) make a meter misbehave. Without
// K@ they apply to every channel. docs/defects.md, docs/simulator.md ("Several channels").
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench/population.hpp"
#include "core/clock.hpp"
#include "pump/sim/defects.hpp"
#include "sim_bench.hpp"

namespace po = boost::program_options;
using namespace pumprig;

namespace {

constexpr int kMaxChannels = 8;
constexpr std::uint64_t kChannelSeedStep = 1000003;  // channel K: seed + (K-1) * this

// A per-channel option value "K@REST" or "REST". channel 0: no prefix (every channel, or the
// option's own default rule).
struct ChannelValue {
    int channel = 0;
    std::string rest;
};

std::optional<ChannelValue> split_channel(const std::string& option, const std::string& value, int channels) {
    const auto at = value.find('@');
    if (at == std::string::npos) return ChannelValue{0, value};
    const std::string num = value.substr(0, at);
    const bool digits = !num.empty() && num.size() <= 3 &&
                        std::all_of(num.begin(), num.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    const int k = digits ? std::stoi(num) : -1;
    if (!digits) {
        std::cerr << "pumprig-sim: --" << option << " '" << value << "': the channel before '@' must be a number from 1 to "
                  << channels << "\n";
        return std::nullopt;
    }
    if (k < 1 || k > channels) {
        std::cerr << "pumprig-sim: --" << option << " '" << value << "': channel " << k << " is out of range (1 to " << channels
                  << " with --channels " << channels << ")\n";
        return std::nullopt;
    }
    return ChannelValue{k, value.substr(at + 1)};
}

// Channel K's serial from channel 1's: the trailing decimal number increased by K-1, keeping
// its width (SIM0001 -> SIM0002); with no trailing number, "-K" appended.
std::string nth_serial(const std::string& base, int k) {
    if (k == 1) return base;
    std::size_t i = base.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(base[i - 1]))) --i;
    if (i == base.size()) return base + "-" + std::to_string(k);
    std::string digits = base.substr(i);
    unsigned carry = static_cast<unsigned>(k - 1);
    for (std::size_t j = digits.size(); j-- > 0 && carry > 0;) {
        const unsigned d = static_cast<unsigned>(digits[j] - '0') + carry;
        digits[j] = static_cast<char>('0' + d % 10);
        carry = d / 10;
    }
    if (carry > 0) digits = std::to_string(carry) + digits;
    return base.substr(0, i) + digits;
}

// --pump-serial / --meter-serial: "X" for channel 1 (and the rule for the others), "K@X" for
// channel K. Returns false (message printed) on a bad value.
bool apply_serials(const std::string& option, const std::vector<std::string>& values, const std::string& fallback,
                   std::vector<sim::ChannelOptions>& channels, std::string sim::ChannelOptions::*field) {
    const int n = static_cast<int>(channels.size());
    std::optional<std::string> base;
    std::vector<std::optional<std::string>> explicit_(channels.size());
    for (const auto& v : values) {
        const auto cv = split_channel(option, v, n);
        if (!cv) return false;
        auto& slot = cv->channel == 0 ? base : explicit_[static_cast<std::size_t>(cv->channel - 1)];
        if (slot) {
            std::cerr << "pumprig-sim: --" << option << " given twice for "
                      << (cv->channel == 0 ? std::string("channel 1 (no K@)") : "channel " + std::to_string(cv->channel)) << "\n";
            return false;
        }
        if (cv->rest.empty()) {
            std::cerr << "pumprig-sim: --" << option << " '" << v << "': empty serial number\n";
            return false;
        }
        slot = cv->rest;
    }
    for (int k = 1; k <= n; ++k) {
        const auto& e = explicit_[static_cast<std::size_t>(k - 1)];
        channels[static_cast<std::size_t>(k - 1)].*field = e ? *e : nth_serial(base.value_or(fallback), k);
    }
    return true;
}

// The channels an option value applies to: one (K@) or all.
std::vector<sim::ChannelOptions*> targets(const ChannelValue& cv, std::vector<sim::ChannelOptions>& channels) {
    std::vector<sim::ChannelOptions*> out;
    if (cv.channel > 0) {
        out.push_back(&channels[static_cast<std::size_t>(cv.channel - 1)]);
    } else {
        for (auto& c : channels) out.push_back(&c);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    sim::SimOptions opt;
    std::string time_mode = "virtual";
    double start_unix_s = to_unix_seconds(kDefaultVirtualEpoch);
    int channel_count = 1;
    std::uint64_t seed = 1;
    int meter_tcp_port = -1;
    std::vector<std::string> fault_at, meter_faults, defects, pump_serials, meter_serials, unit_pins;
    po::options_description desc(
        "pumprig-sim: simulated pumps and flow meters over pseudo-terminals (and loopback TCP).\n"
        "Serves --channels N channels (a pump and its meter each) on one clock. Prints a READY line\n"
        "on stdout, then takes control commands on stdin (ADVANCE MS, CLOCK, FAULT [K@]NAME [ARGS],\n"
        "QUIT; FAULT without K@ goes to channel 1). Options marked [K@] take an optional channel\n"
        "prefix K@ (K from 1 to N): without it they apply to every channel.\nOptions");
    desc.add_options()
        ("help,h", "show this help")
        ("channels", po::value(&channel_count)->default_value(1), "number of channels (a pump and its meter each), 1 to 8")
        ("time", po::value(&time_mode)->default_value("virtual"), "virtual (advanced by ADVANCE commands) or realtime")
        ("speed", po::value(&opt.speed)->default_value(1.0), "realtime only: bench seconds per wall second")
        ("seed", po::value(&seed)->default_value(1), "seed for every random source (meter noise, pump nonces) of channel 1; channel K uses SEED + (K-1) * 1000003")
        ("start", po::value(&start_unix_s), "bench clock at start, Unix seconds (default 2026-01-01T00:00:00Z)")
        ("pump-model", po::value(&opt.pump_model)->default_value("ITB-40"), "ITB-20 or ITB-40")
        ("pump-serial", po::value(&pump_serials), "[K@]SERIAL pump serial number (default SIM0001). Without K@: channel 1's, "
                                                  "and channel K's is it with its trailing number increased by K-1 (SIM0001, SIM0002, ...)")
        ("meter-serial", po::value(&meter_serials), "[K@]SERIAL meter serial number (default LF0001), numbered like --pump-serial")
        ("meter-profile", po::value(&opt.meter_profile), "meter register map (default fixtures/meters/lf-2000.json)")
        ("meter-unit", po::value(&opt.meter_unit_id)->default_value(1), "Modbus unit id of the meters")
        ("meter-tcp", po::value(&meter_tcp_port)->default_value(-1), "also serve Modbus TCP on 127.0.0.1:PORT (0: any free port for each channel; "
                                                                      "PORT > 0: channel K on PORT+K-1)")
        ("line-tau", po::value(&opt.line_tau_s)->default_value(20.0), "fluid line nominal time constant, seconds")
        ("line-tau-uncertainty", po::value(&opt.line_tau_uncertainty_pct)->default_value(30.0),
         "percent: each unit's real line constant is drawn within this of --line-tau")
        ("ideal", po::bool_switch(&opt.ideal), "the exact world: exact pump, line at --line-tau, exact meter total, no latency "
                                               "(default: each channel a unit of the population, drawn from its seed and pump serial)")
        ("unit", po::value(&unit_pins), "[K@]NAME=VALUE pin a parameter of the unit (--show-unit lists them), e.g. delivery_error_pct=-14.9; repeatable")
        ("show-unit", "print each channel's unit (its drawn and pinned parameters), then exit")
        ("battery", po::value(&opt.battery_pct)->default_value(100.0), "initial battery charge, percent")
        ("corrupt-rate", po::value(&opt.link_faults.corrupt_rate)->default_value(0.0), "probability that a byte on either link, either way, has a bit flipped")
        ("drop-rate", po::value(&opt.link_faults.drop_rate)->default_value(0.0), "probability that a pump response is not sent")
        ("late-rate", po::value(&opt.link_faults.late_rate)->default_value(0.0), "probability that a pump response comes 400 ms late")
        ("fault-at", po::value(&fault_at), "[K@]BENCH_SECONDS:NAME[:ARG] schedule a fault from the start (e.g. 3600:pump_link_down:2000, 7200:pump_reset, "
                                           "2@600:meter_silent:30000); repeatable")
        ("defect", po::value(&defects), "[K@]NAME[=VALUE] give the pump a defect from the catalogue, with a magnitude (--list-defects); repeatable")
        ("list-defects", "list the pump defects and meter faults, then exit")
        ("meter-fault", po::value(&meter_faults), "[K@]NAME[=V] give the meter a fault: zero_drift[=UL_PER_H_PER_H] (default 2), "
                                                 "air_bursts[=MEASUREMENTS] every 10 min (default 20), frozen[=BENCH_SECONDS] (default 600); repeatable")
        ("variant", po::bool_switch(&opt.variant), "exercise every freedom the pump ICD allows on the pump links (BUSY, extra keys, lower-case CRC, ...)");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "pumprig-sim: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return 0;
    }
    if (vm.count("list-defects")) {
        for (const auto& d : pump::sim::defect_catalogue()) {
            std::cout << d.name << "\t" << d.description;
            if (!d.unit.empty())
                std::cout << " (" << d.name << "=M, M in " << d.unit << " from " << d.min << " to " << d.max << ", default " << d.default_magnitude << ")";
            std::cout << "\n";
        }
        for (const auto& a : pump::sim::defect_aliases())
            std::cout << "alias:" << a.name << "\t" << pump::sim::defect_name(a.defect) << "=" << a.magnitude << "\n";
        std::cout << "meter:zero_drift\tthe meter's zero drifts (uL/h per hour)\n"
                     "meter:air_bursts\tAIR status for a burst of measurements every 10 min\n"
                     "meter:frozen\tthe meter's readings freeze (sample counter stops)\n";
        return 0;
    }
    if (channel_count < 1 || channel_count > kMaxChannels) {
        std::cerr << "pumprig-sim: --channels must be 1 to " << kMaxChannels << ", not " << channel_count << "\n";
        return 2;
    }
    const auto n_channels = static_cast<std::size_t>(channel_count);
    opt.channels.assign(n_channels, sim::ChannelOptions{});
    for (std::size_t k = 0; k < n_channels; ++k) {
        auto& c = opt.channels[k];
        c.seed = seed + static_cast<std::uint64_t>(k) * kChannelSeedStep;
        if (meter_tcp_port > 0) {
            c.meter_tcp_port = meter_tcp_port + static_cast<int>(k);
        } else {
            c.meter_tcp_port = meter_tcp_port;
        }
    }
    if (meter_tcp_port > 0 && meter_tcp_port + channel_count - 1 > 65535) {
        std::cerr << "pumprig-sim: --meter-tcp " << meter_tcp_port << ": channel " << channel_count << " would need port "
                  << meter_tcp_port + channel_count - 1 << ", beyond 65535\n";
        return 2;
    }
    if (!apply_serials("pump-serial", pump_serials, "SIM0001", opt.channels, &sim::ChannelOptions::pump_serial)) return 2;
    if (!apply_serials("meter-serial", meter_serials, "LF0001", opt.channels, &sim::ChannelOptions::meter_serial)) return 2;

    for (const auto& d : defects) {
        const auto cv = split_channel("defect", d, channel_count);
        if (!cv) return 2;
        for (auto* c : targets(*cv, opt.channels)) c->defects.push_back(cv->rest);
    }
    for (std::size_t k = 0; k < n_channels; ++k) {
        try {
            (void)pump::sim::PumpDefects::from_names(opt.channels[k].defects);
        } catch (const std::exception& e) {
            std::cerr << "pumprig-sim: --defect: " << e.what() << "\n";
            return 2;
        }
    }
    for (const auto& given : unit_pins) {
        const auto cv = split_channel("unit", given, channel_count);
        if (!cv) return 2;
        std::string why;
        const auto pin = bench::parse_unit_pin(cv->rest, &why);
        if (!pin) {
            std::cerr << "pumprig-sim: --unit " << why << "\n";
            return 2;
        }
        for (auto* c : targets(*cv, opt.channels)) c->unit_pins.push_back(*pin);
    }
    if (!(opt.line_tau_uncertainty_pct >= 0 && opt.line_tau_uncertainty_pct <= 90)) {
        std::cerr << "pumprig-sim: --line-tau-uncertainty must be 0 to 90 percent\n";
        return 2;
    }
    if (vm.count("show-unit")) {
        for (std::size_t k = 0; k < n_channels; ++k) {
            const auto& c = opt.channels[k];
            std::cout << "unit." << k + 1 << " seed=" << c.seed << " serial=" << c.pump_serial << " "
                      << bench::draw_unit(c.seed, c.pump_serial, c.unit_pins, opt.ideal, opt.line_tau_uncertainty_pct).describe() << "\n";
        }
        return 0;
    }
    for (const auto& given : meter_faults) {
        const auto cv = split_channel("meter-fault", given, channel_count);
        if (!cv) return 2;
        const std::string& f = cv->rest;
        const auto eq = f.find('=');
        const std::string name = f.substr(0, eq);
        double value = -1;
        if (eq != std::string::npos) {
            try {
                std::size_t used = 0;
                value = std::stod(f.substr(eq + 1), &used);
                if (used != f.size() - eq - 1) value = -1;
            } catch (const std::exception&) {
                value = -1;
            }
            if (!(value >= 0)) {
                std::cerr << "pumprig-sim: --meter-fault '" << given << "': expected NAME=NUMBER (a number >= 0)\n";
                return 2;
            }
        }
        for (auto* c : targets(*cv, opt.channels)) {
            if (name == "zero_drift") {
                c->meter_zero_drift_per_h = eq == std::string::npos ? 2.0 : value;
            } else if (name == "air_bursts") {
                c->meter_air_burst = eq == std::string::npos ? 20 : static_cast<int>(value);
            } else if (name == "frozen") {
                c->meter_freeze_at_s = eq == std::string::npos ? 600.0 : value;
            } else {
                std::cerr << "pumprig-sim: --meter-fault '" << given << "': expected zero_drift, air_bursts or frozen\n";
                return 2;
            }
        }
    }
    if (time_mode != "virtual" && time_mode != "realtime") {
        std::cerr << "pumprig-sim: --time must be virtual or realtime, not '" << time_mode << "'\n";
        return 2;
    }
    opt.realtime = time_mode == "realtime";
    for (const auto& given : fault_at) {
        const auto cv = split_channel("fault-at", given, channel_count);
        if (!cv) return 2;
        const std::string& f = cv->rest;
        const auto c1 = f.find(':');
        double secs = -1;
        try {
            secs = c1 == std::string::npos ? -1 : std::stod(f.substr(0, c1));
        } catch (const std::exception&) {
        }
        if (secs < 0) {
            std::cerr << "pumprig-sim: --fault-at '" << given << "': expected [K@]BENCH_SECONDS:NAME[:ARG]\n";
            return 2;
        }
        std::string what = f.substr(c1 + 1);
        std::replace(what.begin(), what.end(), ':', ' ');
        for (auto* c : targets(*cv, opt.channels))
            c->scheduled_faults.emplace_back(Millis{static_cast<long long>(secs * 1000.0)}, what);
    }
    for (double r : {opt.link_faults.corrupt_rate, opt.link_faults.drop_rate, opt.link_faults.late_rate})
        if (r < 0 || r > 1) {
            std::cerr << "pumprig-sim: fault rates are probabilities from 0 to 1\n";
            return 2;
        }
    opt.start = BenchTime{Millis{static_cast<long long>(start_unix_s * 1000.0 + 0.5)}};
    if (opt.meter_profile.empty()) opt.meter_profile = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures/meters/lf-2000.json";

    try {
        sim::SimBench bench(opt);
        return bench.serve(STDIN_FILENO, STDOUT_FILENO);
    } catch (const std::exception& e) {
        std::cerr << "pumprig-sim: " << e.what() << "\n";
        return 3;
    }
}
