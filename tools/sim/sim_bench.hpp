// The simulated bench: pump model -> fluid line -> meter model, on one simulated clock, served
// over pseudo-terminals (and Modbus TCP), with a control channel for virtual time and faults.
#pragma once
#include <memory>
#include <string>

#include "core/units.hpp"
#include "pty.hpp"
#include "variant.hpp"

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
};

}  // namespace pumprig::sim
