// A bench: the pump link, the meter link and the bench clock, built once from a rig
// description. With a simulator rig, pumprig starts pumprig-sim, reads its port names and
// drives its virtual time; above this class nothing knows whether the bench is real.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bench/probe_stream.hpp"
#include "bench/rig.hpp"
#include "bench/sim_process.hpp"
#include "core/clock.hpp"
#include "meter/meter_driver.hpp"
#include "record/run_record.hpp"
#include "pump/driver/pump_driver.hpp"
#include "transport/byte_stream.hpp"

namespace pumprig::bench {

struct BenchOptions {
    std::uint64_t seed = 1;                 // simulator seed and the pump driver's first SEQ
    std::filesystem::path sim_binary;       // default: pumprig-sim beside this executable
    std::vector<std::string> sim_extra_args;
    // Wire trace of the pump link, tapped at the link (pump::TracedLink): the bytes written and
    // read (AUTH mac redacted), and pumprig's own notes (the probes) apart from them.
    pump::TraceSink pump_trace;
    // The same for a bench of several channels: told which channel (index) the bytes are on.
    std::function<void(std::size_t channel, pump::TraceKind kind, std::string_view bytes)> channel_pump_trace;
};

// What pumprig could do to leave the pump safe at the end of a run: the record's own struct.
using SafeStopReport = record::SafeStopInfo;

// What the pump was doing when a run began, and what pumprig did about it (record.json
// "initial_state"). A pump left running (a run before was killed) is stopped first.
struct InitialState {
    std::string state;              // STATUS state= before anything else was sent; "" if unread
    bool stop_sent = false;         // it was not STOPPED: STOP was sent
    bool confirmed_stopped = false; // a STATUS said STOPPED (at once, or after the STOP)
    Millis settled{0};              // bench time let pass after the STOP for the line to empty
    std::string detail;
};

// How long pumprig keeps trying to stop the pump (STOP, then a STATUS saying STOPPED) through
// a noisy or lost link before it reports the pump NOT confirmed stopped: wall time, the same
// on every bench (docs/reliability.md).
inline constexpr std::chrono::seconds kSafeStopTime{10};

class Bench;

// One channel of a bench as opened: its description and its bench, or why it could not be
// opened (the other channels go on without it).
struct ChannelBench {
    RigDescription rig;  // this channel alone (channel_rigs())
    Result<std::unique_ptr<Bench>> bench;
};

class Bench {
public:
    // A single-channel bench (a rig with channels: its first channel alone).
    static Result<std::unique_ptr<Bench>> open(const RigDescription& rig, const BenchOptions& options);
    // Every channel of a bench. Fails as a whole only when the simulator cannot start; a
    // channel whose links do not open carries its error.
    static Result<std::vector<ChannelBench>> open_channels(const RigDescription& rig, const BenchOptions& options);
    ~Bench();

    const RigDescription& rig() const { return rig_; }
    const Clock& clock() const { return *clock_; }
    bool virtual_time() const { return virtual_time_; }
    // Bench seconds per wall second (real-time benches; 1 for hardware).
    double time_scale() const;
    pump::PumpDriver& pump() { return *pump_; }
    meter::MeterDriver& meter() { return *meter_; }
    SharedSimulator* simulator() { return sim_.get(); }
    // A simulated bench: the unit of the population this channel plays, as the simulator's
    // READY line announced it (unit.K.NAME=VALUE, bench/population.hpp's names); else unset.
    const std::optional<std::map<std::string, double>>& simulated_unit() const { return simulated_unit_; }
    // The retry and resend probes on the pump link (probe_stream.hpp); pass-through unless armed.
    ProbeStream* probes() { return probes_; }

    // HELLO + AUTH with the rig's key. The key is loaded here and kept only in memory.
    Result<pump::PumpIdentity> authenticate_pump();

    // Lets bench time pass until t: advances the simulator in virtual time, sleeps otherwise.
    Result<void> wait_until(BenchTime t);
    // The same without waiting for the simulator to confirm a virtual-time move: it applies the
    // move before the next request sent on either link (SimProcess::send_advance), so a reading
    // taken next sees the models at t. Pump events, which come unasked, may lag until a device
    // has answered or confirm_time() has returned.
    Result<void> wait_until_unconfirmed(BenchTime t);
    // Virtual time: returns once the simulator has applied every move (at once otherwise).
    Result<void> confirm_time();
    // Real-time benches: the steady-clock instant at which the bench clock reads t.
    std::chrono::steady_clock::time_point wall_deadline(BenchTime t) const;

    // Tries to leave the pump stopped: re-authenticates if needed, STOP, then STATUS, again
    // and again (STOP is allowed in every state and idempotent) for up to kSafeStopTime.
    SafeStopReport safe_stop();
    // The start of a run (session open): STATUS and, if the pump is not STOPPED, STOP confirmed
    // as safe_stop() does, then 6 line time constants of bench time for the line to empty.
    InitialState stop_at_start();
    // A simulated bench whose simulator ended by itself: why (code kSimExited); else nullopt.
    std::optional<Error> simulator_gone();

    // After a lost pump link (unplugged adapter, ser2net restart, simulator link fault):
    // opens the link again, with back-off between attempts, and authenticates again.
    // `attempts` tries, waiting 1, 2, 4, ... s of wall time between them (capped at 30 s).
    Result<pump::PumpIdentity> reconnect_pump(int attempts = 6);

private:
    Bench() = default;
    // One channel's bench; `sim` is the simulator serving it (null for hardware).
    static Result<std::unique_ptr<Bench>> open_channel(const RigDescription& channel_rig, const BenchOptions& options,
                                                       std::shared_ptr<SharedSimulator> sim);
    Result<std::unique_ptr<transport::ByteStream>> open_pump_stream() const;
    // The pump link as the driver gets it: the transport, traced (TracedLink), under the probes.
    Result<std::unique_ptr<ProbeStream>> open_pump_link();
    RigDescription rig_;
    PumpLinkConfig pump_link_;  // the link as opened (simulator ports filled in)
    std::shared_ptr<SharedSimulator> sim_;
    std::optional<std::map<std::string, double>> simulated_unit_;
    std::unique_ptr<Clock> clock_;
    bool virtual_time_ = false;
    WallClock* wall_clock_ = nullptr;
    std::unique_ptr<pump::PumpDriver> pump_;
    std::unique_ptr<meter::MeterDriver> meter_;
    ProbeStream* probes_ = nullptr;  // owned by the pump driver's link
    pump::TraceSink pump_trace_;
    std::shared_ptr<pump::SecretScrubber> secrets_ = std::make_shared<pump::SecretScrubber>();  // the driver's and the trace's
};

// A pump key as the rig says to find it: its environment variable, else its file, else the
// ICD's test key if the rig allows it.
Result<pump::PumpKey> load_pump_key(const PumpKeySource& source);
// Every channel's key, loaded once before anything is started: a key file that is missing,
// unreadable, open to others or owned by another user is bad input found before the
// simulator starts or a link opens (the error names the file and what is wrong).
Result<void> check_pump_keys(const RigDescription& rig);

// The path of pumprig-sim: $PUMPRIG_SIM_BINARY, else beside the running executable.
std::filesystem::path default_sim_binary();

}  // namespace pumprig::bench
