// The simulated bench: pump model -> fluid line -> meter model, on one simulated clock, served
// over pseudo-terminals (and Modbus TCP), with a control channel for virtual time and faults.
#pragma once
#include <memory>
#include <string>

#include "core/units.hpp"
#include "pty.hpp"
#include "variant.hpp"
#include "link_faults.hpp"
#include <chrono>
#include <filesystem>
#include <vector>

namespace pumprig::pump::sim { class PumpModel; }
namespace pumprig::meter::sim { class FluidLine; class Lf2000Model; class MeterServer; }

namespace pumprig::sim {

struct SimOptions {
    bool realtime = false;
    double speed = 1.0;
    std::uint64_t seed = 1;
    BenchTime start{};
    std::string pump_model = "ITB-40";
    std::string pump_serial = "SIM0001";
    std::string meter_serial = "LF0001";
    std::string meter_profile;
    int meter_unit_id = 1;
    int meter_tcp_port = -1;  // -1: no TCP server
    double line_tau_s = 20.0;
    double battery_pct = 100.0;
    bool variant = false;  // exercise every freedom of the pump ICD on the pump link (variant.hpp)
    LinkFaultOptions link_faults;
    // Faults at set bench times from the start: (offset, "pump_link_down 2000"), ... (FAULT names)
    std::vector<std::pair<Millis, std::string>> scheduled_faults;
    // Pump defects by catalogue name (src/pump/sim/defects.hpp); none: a conforming pump.
    std::vector<std::string> defects;
    // Meter faults for the whole run (docs/defects.md).
    double meter_zero_drift_per_h = 0;  // uL/h the meter's zero moves per hour, from the start
    int meter_air_burst = 0;            // measurements of AIR every 10 min of bench time (0: none)
    double meter_freeze_at_s = -1;      // the meter freezes this many bench seconds after the start
};

class SimBench {
public:
    explicit SimBench(const SimOptions& options);
    ~SimBench();
    // Runs until QUIT or end of input on in_fd; returns the process exit code.
    int serve(int in_fd, int out_fd);

private:
    void tick();  // one 100 ms measurement period of every model
    void advance(Millis dt);
    void pump_io(bool readable);
    void flush_pump();     // model output (through the variant filter) to the pty
    void flush_pending();  // write what the pty takes now
    std::string control(const std::string& line);

    SimOptions opt_;
    BenchTime now_;
    Millis carry_{0};  // virtual time asked for but not yet a whole measurement period
    Pty pump_pty_, meter_pty_;
    std::string pump_pending_;  // bytes for the host not yet written (non-blocking pty)
    std::unique_ptr<pump::sim::PumpModel> pump_;
    std::unique_ptr<meter::sim::FluidLine> line_;
    std::unique_ptr<meter::sim::Lf2000Model> meter_;
    std::unique_ptr<meter::sim::MeterServer> meter_server_;
    std::unique_ptr<VariantLink> variant_;  // set in variant mode
    // Link faults.
    void run_due_faults();
    void pump_link_down(Millis wall);
    void pump_link_up();
    void relay_meter();
    LinkFaults faults_;
    std::vector<std::pair<BenchTime, std::string>> due_faults_;
    std::filesystem::path link_dir_;       // holds the stable pump link name when it may go away
    std::string pump_path_;                // what READY publishes for the pump
    bool pump_down_ = false;
    std::chrono::steady_clock::time_point pump_up_at_{};
    BenchTime meter_silent_until_{};
    BenchTime next_air_burst_{};
    Pty meter_inner_;                      // with corruption: the server's side of a relay
};

}  // namespace pumprig::sim
