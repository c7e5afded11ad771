// The simulated bench: one or more channels, each a pump model -> fluid line -> meter model
// served over its own pseudo-terminals (and Modbus TCP), all on one simulated clock, with one
// control channel for virtual time and faults.
#pragma once
#include <poll.h>

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/population.hpp"

#include "core/units.hpp"
#include "link_faults.hpp"
#include "pty.hpp"
#include "variant.hpp"

namespace pumprig::pump::sim { class PumpModel; }
namespace pumprig::meter::sim { class FluidLine; class Lf2000Model; class MeterServer; }

namespace pumprig::sim {

// What differs from one channel to the next.
struct ChannelOptions {
    std::uint64_t seed = 1;  // every random source of the channel derives from it
    std::string pump_serial = "SIM0001";
    std::string meter_serial = "LF0001";
    int meter_tcp_port = -1;  // -1: no TCP server; 0: any free port
    // Faults at set bench times from the start: (offset, "pump_link_down 2000"), ... (FAULT names)
    std::vector<std::pair<Millis, std::string>> scheduled_faults;
    // Pump defects by catalogue name (src/pump/sim/defects.hpp); none: a conforming pump.
    std::vector<std::string> defects;
    // Meter faults for the whole run (docs/defects.md).
    double meter_zero_drift_per_h = 0;  // uL/h the meter's zero moves per hour, from the start
    int meter_air_burst = 0;            // measurements of AIR every 10 min of bench time (0: none)
    double meter_freeze_at_s = -1;      // the meter freezes this many bench seconds after the start
    // The unit of the population this channel plays: parameters pinned (bench/population.hpp).
    bench::UnitPins unit_pins;
};

// What all channels share.
struct SimOptions {
    bool realtime = false;
    double speed = 1.0;
    BenchTime start{};
    std::string pump_model = "ITB-40";
    std::string meter_profile;
    int meter_unit_id = 1;
    double line_tau_s = 20.0;                // the line's nominal time constant
    double line_tau_uncertainty_pct = 30.0;  // the real one is drawn within this of it
    bool ideal = false;  // the exact world: exact pump, line and meter total, no latency
    double battery_pct = 100.0;
    bool variant = false;  // exercise every freedom of the pump ICD on the pump link (variant.hpp)
    LinkFaultOptions link_faults;
    std::vector<ChannelOptions> channels{ChannelOptions{}};  // channel K at index K-1; at least one
};

// One channel of the bench: a pump and its meter, on their own links, with their own models,
// random sources and faults. Shares only the bench clock (read through `now`).
class SimChannel {
public:
    SimChannel(int number, const SimOptions& bench, const ChannelOptions& options, const BenchTime& now);
    ~SimChannel();
    SimChannel(const SimChannel&) = delete;
    SimChannel& operator=(const SimChannel&) = delete;

    int number() const { return number_; }
    const bench::UnitValues& unit() const { return unit_; }
    // The published link names, for READY.
    const std::string& pump_path() const { return pump_path_; }
    const std::string& meter_path() const { return meter_pty_.slave_path; }
    std::string meter_tcp() const;  // "127.0.0.1:PORT" or "-"

    // One 100 ms measurement period, in two halves around the bench clock's step: the models
    // move (measure), then what falls due at the new time happens (after_step).
    void measure(Millis period);
    void after_step();
    void flush_pump();  // model output (through the variant filter) to the pty

    // A fault by its FAULT name; `args` holds what follows the name. "OK" or "ERR <why>".
    std::string fault(const std::string& name, std::istream& args);

    // The poll loop's part: descriptors to watch (appended to fds), then what they showed.
    struct PollSlots {
        std::size_t pump = 0, first_server = 0, end = 0;
        bool relaying = false;
    };
    PollSlots add_poll_fds(std::vector<pollfd>& fds) const;
    void on_poll(const std::vector<pollfd>& fds, const PollSlots& slots);
    // Wall milliseconds until this channel needs the loop again (-1: no need).
    long long wake_in_ms() const;
    // Called between reading a request (pump or meter, either link) and acting on it: applies
    // the control lines that came before it (SimBench::apply_control).
    void set_before_request(std::function<void()> hook) { before_request_ = std::move(hook); }
    void after_poll();  // brings a lost pump link back when its outage is over, flushes output

private:
    void pump_io(bool readable);
    void flush_pending();  // write what the pty takes now
    void run_due_faults();
    void pump_link_down(Millis wall);
    void pump_link_up();
    void relay_meter();
    void act_late();                // the pump acts on a request up to answer_latency_ms late
    std::string take_pump_output();  // the model's output, events held up to event_latency_ms
    long long draw_ms(double max_ms);

    int number_;
    const SimOptions& bench_;
    ChannelOptions opt_;
    const BenchTime& now_;
    Pty pump_pty_, meter_pty_;
    std::string pump_pending_;  // bytes for the host not yet written (non-blocking pty)
    std::unique_ptr<pump::sim::PumpModel> pump_;
    std::unique_ptr<meter::sim::FluidLine> line_;
    std::unique_ptr<meter::sim::Lf2000Model> meter_;
    std::unique_ptr<meter::sim::MeterServer> meter_server_;
    std::unique_ptr<VariantLink> variant_;  // set in variant mode
    bench::UnitValues unit_;
    std::mt19937_64 latency_rng_;
    long long lead_ms_ = 0;  // how far the pump model is ahead of the bench clock (answer latency)
    Volume lead_volume_;     // what the pump pushed out while ahead, for the next measurement
    struct HeldEvent {
        BenchTime at;
        std::string line;
    };
    std::deque<HeldEvent> held_events_;  // event latency: lines not yet sent, in order
    LinkFaults faults_;
    std::vector<std::pair<BenchTime, std::string>> due_faults_;
    std::filesystem::path link_dir_;  // holds the stable pump link name when it may go away
    std::string pump_path_;           // what READY publishes for the pump
    bool pump_down_ = false;
    std::chrono::steady_clock::time_point pump_up_at_{};
    BenchTime meter_silent_until_{};
    BenchTime next_air_burst_{};
    Pty meter_inner_;  // with corruption: the server's side of a relay
    // Variant mode's slow answers. One channel waits for them in place, as it always did; with
    // several channels a wait would hold up every other channel's links, so the answer (and
    // whatever follows it) is held back here until its time instead.
    bool defer_slow_answers_ = false;
    std::string held_;
    std::chrono::steady_clock::time_point held_until_{};
    bool holding_ = false;
    std::function<void()> before_request_ = [] {};
};

class SimBench {
public:
    explicit SimBench(const SimOptions& options);
    ~SimBench();
    SimBench(const SimBench&) = delete;  // the channels refer to its options and clock
    SimBench& operator=(const SimBench&) = delete;
    // Runs until QUIT or end of input on in_fd; returns the process exit code.
    int serve(int in_fd, int out_fd);

private:
    void tick();  // one 100 ms measurement period of every model of every channel
    void advance(Millis dt);
    void flush_pumps();
    std::string control(const std::string& line);
    std::string ready_line() const;
    bool say(const std::string& line);
    // Reads whatever the controller has sent and applies every complete line, in order. Called
    // when the control channel is readable and, before any request on a device link is acted
    // on, by every channel: a controller may send ADVANCE and then, without waiting for the
    // answer, a request that must see the advanced models (docs/simulator.md, "Control channel").
    void apply_control();

    SimOptions opt_;
    BenchTime now_;
    Millis carry_{0};  // virtual time asked for but not yet a whole measurement period
    std::vector<std::unique_ptr<SimChannel>> channels_;
    int in_fd_ = -1, out_fd_ = -1;  // the control channel, while serve() runs
    std::string control_buf_;       // what came on it, not yet a whole line
    bool done_ = false;             // QUIT, the end of the control input, or it cannot be answered
};

}  // namespace pumprig::sim
