// pumprig-sim: the simulated bench. A pump model served on a pseudo-terminal, speaking the pump
// ICD, and an LF-2000 meter model served as a Modbus RTU server on another pseudo-terminal and
// optionally as Modbus TCP on a loopback port, both fed by one fluid line. Every byte takes the
// same path as on a real bench.
//
// Control channel (stdin/stdout, one line each way), used by pumprig and by test fixtures:
//   on start:   READY pump=<pty> meter=<pty> meter_tcp=<host:port|-> clock_ms=<bench ms> mode=<virtual|realtime>
//   ADVANCE <ms>     (virtual time) advance the models by <ms>; answers "OK clock_ms=<ms>"
//   CLOCK            answers "OK clock_ms=<ms>"
//   FAULT <name> [args]  inject a fault (motor_stall, air <n>, freeze, battery <pct>); "OK" or "ERR <why>"
//   QUIT             exit 0 (end of stdin does the same)
//
// Defects (--defect NAME, repeatable; --list-defects) make the pump misbehave as real firmware
// or mechanics can; meter faults (--meter-fault NAME[=VALUE]) make the meter misbehave.
// docs/defects.md.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <iostream>
#include <vector>
#include <string>

#include "core/clock.hpp"
#include "pump/sim/defects.hpp"
#include "sim_bench.hpp"

namespace po = boost::program_options;
using namespace pumprig;

int main(int argc, char** argv) {
    sim::SimOptions opt;
    std::string time_mode = "virtual";
    double start_unix_s = to_unix_seconds(kDefaultVirtualEpoch);
    std::vector<std::string> fault_at, meter_faults;
    po::options_description desc(
        "pumprig-sim: simulated pump and flow meter over pseudo-terminals (and loopback TCP).\n"
        "Prints a READY line on stdout, then takes control commands on stdin.\nOptions");
    desc.add_options()
        ("help,h", "show this help")
        ("time", po::value(&time_mode)->default_value("virtual"), "virtual (advanced by ADVANCE commands) or realtime")
        ("speed", po::value(&opt.speed)->default_value(1.0), "realtime only: bench seconds per wall second")
        ("seed", po::value(&opt.seed)->default_value(1), "seed for every random source (meter noise, pump nonces)")
        ("start", po::value(&start_unix_s), "bench clock at start, Unix seconds (default 2026-01-01T00:00:00Z)")
        ("pump-model", po::value(&opt.pump_model)->default_value("ITB-40"), "ITB-20 or ITB-40")
        ("pump-serial", po::value(&opt.pump_serial)->default_value("SIM0001"), "pump serial number")
        ("meter-serial", po::value(&opt.meter_serial)->default_value("LF0001"), "meter serial number")
        ("meter-profile", po::value(&opt.meter_profile), "meter register map (default fixtures/meters/lf-2000.json)")
        ("meter-unit", po::value(&opt.meter_unit_id)->default_value(1), "Modbus unit id of the meter")
        ("meter-tcp", po::value(&opt.meter_tcp_port)->default_value(-1), "also serve Modbus TCP on 127.0.0.1:PORT (0: any free port)")
        ("line-tau", po::value(&opt.line_tau_s)->default_value(20.0), "fluid line time constant, seconds")
        ("battery", po::value(&opt.battery_pct)->default_value(100.0), "initial battery charge, percent")
        ("corrupt-rate", po::value(&opt.link_faults.corrupt_rate)->default_value(0.0), "probability that a byte on either link, either way, has a bit flipped")
        ("drop-rate", po::value(&opt.link_faults.drop_rate)->default_value(0.0), "probability that a pump response is not sent")
        ("late-rate", po::value(&opt.link_faults.late_rate)->default_value(0.0), "probability that a pump response comes 400 ms late")
        ("fault-at", po::value(&fault_at), "schedule a fault: BENCH_SECONDS:NAME[:ARG] from the start (e.g. 3600:pump_link_down:2000, 7200:pump_reset, 600:meter_silent:30000); repeatable")
        ("defect", po::value(&opt.defects), "give the pump a defect from the catalogue (--list-defects); repeatable")
        ("list-defects", "list the pump defects and meter faults, then exit")
        ("meter-fault", po::value(&meter_faults), "give the meter a fault: zero_drift[=UL_PER_H_PER_H] (default 2), "
                                                 "air_bursts[=MEASUREMENTS] every 10 min (default 20), frozen[=BENCH_SECONDS] (default 600); repeatable")
        ("variant", po::bool_switch(&opt.variant), "exercise every freedom the pump ICD allows on the pump link (BUSY, extra keys, lower-case CRC, ...)");
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
        for (const auto& d : pump::sim::defect_catalogue()) std::cout << d.name << "\t" << d.description << "\n";
        std::cout << "meter:zero_drift\tthe meter's zero drifts (uL/h per hour)\n"
                     "meter:air_bursts\tAIR status for a burst of measurements every 10 min\n"
                     "meter:frozen\tthe meter's readings freeze (sample counter stops)\n";
        return 0;
    }
    try {
        (void)pump::sim::PumpDefects::from_names(opt.defects);
    } catch (const std::exception& e) {
        std::cerr << "pumprig-sim: --defect: " << e.what() << "\n";
        return 2;
    }
    for (const auto& f : meter_faults) {
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
                std::cerr << "pumprig-sim: --meter-fault '" << f << "': expected NAME=NUMBER (a number >= 0)\n";
                return 2;
            }
        }
        if (name == "zero_drift") {
            opt.meter_zero_drift_per_h = eq == std::string::npos ? 2.0 : value;
        } else if (name == "air_bursts") {
            opt.meter_air_burst = eq == std::string::npos ? 20 : static_cast<int>(value);
        } else if (name == "frozen") {
            opt.meter_freeze_at_s = eq == std::string::npos ? 600.0 : value;
        } else {
            std::cerr << "pumprig-sim: --meter-fault '" << f << "': expected zero_drift, air_bursts or frozen\n";
            return 2;
        }
    }
    if (time_mode != "virtual" && time_mode != "realtime") {
        std::cerr << "pumprig-sim: --time must be virtual or realtime, not '" << time_mode << "'\n";
        return 2;
    }
    opt.realtime = time_mode == "realtime";
    for (const auto& f : fault_at) {
        const auto c1 = f.find(':');
        double secs = -1;
        try {
            secs = c1 == std::string::npos ? -1 : std::stod(f.substr(0, c1));
        } catch (const std::exception&) {
        }
        if (secs < 0) {
            std::cerr << "pumprig-sim: --fault-at '" << f << "': expected BENCH_SECONDS:NAME[:ARG]\n";
            return 2;
        }
        std::string what = f.substr(c1 + 1);
        std::replace(what.begin(), what.end(), ':', ' ');
        opt.scheduled_faults.emplace_back(Millis{static_cast<long long>(secs * 1000.0)}, what);
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
