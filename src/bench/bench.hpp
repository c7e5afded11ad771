// A bench: the pump link, the meter link and the bench clock, built once from a rig
// description. With a simulator rig, pumprig starts pumprig-sim, reads its port names and
// drives its virtual time; above this class nothing knows whether the bench is real.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bench/probe_stream.hpp"
#include "bench/rig.hpp"
#include "bench/sim_process.hpp"
#include "core/clock.hpp"
#include "meter/meter_driver.hpp"
#include "pump/driver/pump_driver.hpp"
#include "transport/byte_stream.hpp"

namespace pumprig::bench {

struct BenchOptions {
    std::uint64_t seed = 1;                 // simulator seed and the pump driver's first SEQ
    std::filesystem::path sim_binary;       // default: pumprig-sim beside this executable
    std::vector<std::string> sim_extra_args;
    // Wire trace of the pump link (bytes, secrets redacted) and of the meter link.
    std::function<void(bool to_device, std::string_view bytes)> pump_trace;
};

// What pumprig could do to leave the pump safe at the end of a run.
struct SafeStopReport {
    bool attempted = false;
    bool stop_answered = false;     // STOP answered OK
    bool confirmed_stopped = false; // a following STATUS said state=STOPPED
    std::string detail;
};

class Bench {
public:
    static Result<std::unique_ptr<Bench>> open(const RigDescription& rig, const BenchOptions& options);
    ~Bench();

    const RigDescription& rig() const { return rig_; }
    const Clock& clock() const { return *clock_; }
    bool virtual_time() const { return virtual_clock_ != nullptr; }
    // Bench seconds per wall second (real-time benches; 1 for hardware).
    double time_scale() const;
    pump::PumpDriver& pump() { return *pump_; }
    meter::MeterDriver& meter() { return *meter_; }
    SimProcess* simulator() { return sim_ ? &*sim_ : nullptr; }
    // The retry and resend probes on the pump link (probe_stream.hpp); pass-through unless armed.
    ProbeStream* probes() { return probes_; }

    // HELLO + AUTH with the rig's key. The key is loaded here and kept only in memory.
    Result<pump::PumpIdentity> authenticate_pump();

    // Lets bench time pass until t: advances the simulator in virtual time, sleeps otherwise.
    Result<void> wait_until(BenchTime t);

    // Tries to leave the pump stopped: re-authenticates if needed, STOP, then STATUS.
    SafeStopReport safe_stop();

    // After a lost pump link (unplugged adapter, ser2net restart, simulator link fault):
    // opens the link again, with back-off between attempts, and authenticates again.
    // `attempts` tries, waiting 1, 2, 4, ... s of wall time between them (capped at 30 s).
    Result<pump::PumpIdentity> reconnect_pump(int attempts = 6);

private:
    Bench() = default;
    Result<std::unique_ptr<transport::ByteStream>> open_pump_stream() const;
    RigDescription rig_;
    PumpLinkConfig pump_link_;  // the link as opened (simulator ports filled in)
    std::optional<SimProcess> sim_;
    std::unique_ptr<Clock> clock_;
    VirtualClock* virtual_clock_ = nullptr;
    std::unique_ptr<pump::PumpDriver> pump_;
    std::unique_ptr<meter::MeterDriver> meter_;
    ProbeStream* probes_ = nullptr;  // owned by the pump driver's link
};

// The path of pumprig-sim: $PUMPRIG_SIM_BINARY, else beside the running executable.
std::filesystem::path default_sim_binary();

}  // namespace pumprig::bench
