// Bench (rig) descriptions: plain data read from rig/*.json, validated once at start-up with
// errors naming the file and the JSON pointer. The description alone decides whether pumprig
// talks to hardware or starts the simulated bench (like ros2_control's hardware description).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"

namespace pumprig::bench {

struct PumpLinkConfig {
    enum class Backend { Termios, Serialport, Tcp };
    Backend backend = Backend::Termios;
    std::string device;        // serial device path (termios, serialport)
    int baud = 115200;
    char parity = 'N';
    int stop_bits = 1;
    std::string host;          // tcp (ser2net)
    int port = 0;
    int response_timeout_ms = 300;
    int retries = 3;
};

struct PumpKeySource {
    std::string env;           // name of an environment variable holding 64 hex digits
    std::string file;          // a file only its owner can read, holding 64 hex digits
    bool test_key = false;     // the ITB family's published test key (ICD section 3)
};

struct MeterLinkConfig {
    enum class Kind { Rtu, Tcp };
    Kind kind = Kind::Rtu;
    std::string device;
    int baud = 19200;
    char parity = 'E';
    int data_bits = 8;
    int stop_bits = 1;
    std::string host;
    int port = 502;
    int unit_id = 1;
    int response_timeout_ms = 100;
    std::filesystem::path profile;  // register map, e.g. fixtures/meters/lf-2000.json
    std::string calibration_due;    // "YYYY-MM-DD", empty when the rig does not say (bench/calibration.hpp)
};

struct SimulatorConfig {
    bool enabled = false;      // pumprig starts pumprig-sim itself and stops it at the end
    bool realtime = false;     // default virtual time
    double speed = 1.0;
    std::string pump_model = "ITB-40";
    std::string pump_serial = "SIM0001";
    bool meter_over_tcp = false;  // read the simulated meter over Modbus TCP instead of RTU
    double line_tau_s = 20.0;
    double battery_pct = 100.0;
    bool variant = false;      // the simulator uses every freedom of the pump ICD (docs/simulator.md)
    // Pump defects by catalogue name and meter faults (NAME[=VALUE]) for the simulator
    // (docs/defects.md): passed as --defect and --meter-fault.
    std::vector<std::string> defects;
    std::vector<std::string> meter_faults;
    // The unit the simulator plays (docs/simulator.md): the exact world, or a unit of the
    // population drawn from (seed, serial) with these parameters pinned (--unit NAME=VALUE).
    bool ideal = false;
    std::vector<std::pair<std::string, double>> unit_pins;
};

// One channel of a multi-channel bench: a pump and its meter, each on a link of its own
// (like the channels of an infusion device analyzer). Its links start from the rig's own
// "pump" and "meter" and override what the channel names.
struct ChannelConfig {
    std::string name;          // unique within the rig: [A-Za-z0-9_-], shown in run folders and reports
    PumpLinkConfig pump;
    PumpKeySource key;
    MeterLinkConfig meter;
    // Simulated benches: this channel's pump serial, defects, meter faults and scheduled faults
    // (pumprig-sim --fault-at BENCH_SECONDS:NAME[:ARG]), besides the rig's own for every channel.
    std::string pump_serial;
    std::vector<std::string> defects;
    std::vector<std::string> meter_faults;
    std::vector<std::string> fault_at;
    std::vector<std::pair<std::string, double>> unit_pins;  // this channel's unit of the population, pinned (pumprig-sim --unit K@NAME=V)
};

struct RigDescription {
    std::filesystem::path file;
    std::string name;
    std::string description;
    double time_scale = 1.0;   // bench seconds per wall second, for a bench started separately
    double line_tau_s = 20.0;  // the bench's fluid line (catheter compliance) time constant, seconds
    double line_tau_uncertainty_pct = 30.0;  // how far the real constant may be from line_tau_s ("line" in the rig)
    std::vector<std::string> sim_args;  // extra pumprig-sim options (faults), simulator rigs only
    SimulatorConfig simulator;
    PumpLinkConfig pump;
    PumpKeySource key;
    MeterLinkConfig meter;
    std::filesystem::path lock_dir = "/tmp";
    // Several channels ("channels" in the rig file); empty: one channel, the rig's pump and meter.
    std::vector<ChannelConfig> channels;
    // Set on the per-channel descriptions channel_rigs() makes: which channel this is.
    std::string channel;
    std::size_t channel_index = 0;
};

// One description per channel, each a whole single-channel bench (pump, key, meter, channel
// name and index); a rig without channels gives itself.
std::vector<RigDescription> channel_rigs(const RigDescription& rig);

// Reads and validates a whole rig description (src/core/json_reader.hpp: duplicate keys, huge
// numbers; every field, the meter profiles it names, the simulator's defects, faults and
// options), so a mistake is bad input naming file, line, column and pointer before anything
// starts. Relative paths inside it (key file, profile) are resolved against the project root
// given (normally the source tree).
Result<RigDescription> load_rig(const std::filesystem::path& file, const std::filesystem::path& root);

}  // namespace pumprig::bench
