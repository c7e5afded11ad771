// The simulated ITB-20/ITB-40 pump: a pure, deterministic model of everything the pump bench
// ICD (docs/icd/pump-bench-protocol.md) says the pump does. No I/O and no real clock:
// bytes go in with receive(), bytes come out of take_output(), and time moves only by
// advance(). The simulator process serves it on a pseudo-terminal; unit tests drive it directly.
//
// Time model: the pump works in whole milliseconds of elapsed time since power-on (the pump
// clock prints milliseconds). Everything that happens by itself (a stroke of the rotor, a step
// change, a bolus start or end, an event resend, the BOOT after RESET, a battery threshold) is
// placed on the first millisecond tick at or after its exact time, so advance(a) then
// advance(b) gives the same bytes and volumes as advance(a + b).
//
// Where the ICD leaves room, the model takes the conservative reading; each such place says so
// in a comment in the .cpp files. Behaviour that a later defect catalogue may want to change
// (basal rate, the step in force, whether a periodic bolus is given, bolus volumes) sits in
// small private functions named for what they decide.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/units.hpp"
#include "pump/codec/frame.hpp"
#include "pump/sim/auth.hpp"
#include "pump/sim/defects.hpp"
#include "pump/sim/program.hpp"

namespace pumprig::pump::sim {

enum class PumpState { Stopped, Running, Priming, Suspended };
enum class Alarm { LowRes, EmptyRes, Eri, Eos, MotorStall };
enum class BolusKind { Clinician, Periodic, Ptm };

const char* to_string(PumpState state);
const char* to_string(Alarm alarm);
const char* to_string(BolusKind kind);

struct PumpModelConfig {
    std::string model = "ITB-40";  // ITB-20: 20 mL reservoir, ITB-40: 40 mL
    std::string serial = "SIM0001";
    std::string firmware = "2.4.1";
    PumpKey key = itb_test_key();  // the ICD's test key 00 01 .. 1F
    double initial_batt_pct = 100;
    double batt_drain_pct_per_day = 0.02;  // idle drain, with elapsed time
    double batt_drain_pct_per_ml = 0.05;   // per mL pumped (whole strokes)
    std::uint64_t seed = 1;                // nonces come from a generator seeded with this
    // Test-only: nonces handed out by the next HELLOs before the generator's (16 upper-case
    // hexadecimal digits each), so a test can replay the ICD's example session.
    std::deque<std::string> forced_nonces;
    // Defects from the catalogue (defects.hpp); none: a conforming pump.
    PumpDefects defects;
    // This unit's place in the production population (docs/simulator.md, "A realistic bench");
    // the defaults are the exact pump.
    double stroke_volume_error = 0;      // fraction: each stroke pushes 0.25 uL x (1 + this)
    std::int64_t stroke_jitter_ms = 0;   // each stroke's liquid leaves up to this much late
    double clock_ppm = 0;                // the pump clock's rate error, parts per million
    std::int64_t reset_duration_ms = 1000;  // RESET to BOOT (the ICD allows up to 2 s)
};

class PumpModel {
public:
    // Throws std::invalid_argument for a configuration the ICD does not allow (unknown model,
    // serial or firmware that cannot be sent as a field value, malformed forced nonce).
    PumpModel(PumpModelConfig config, BenchTime clock_at_power_on);

    // Bytes from the host: frames are decoded and each complete request is answered at once.
    // Events the request causes are queued before its response, as in the ICD's example.
    void receive(std::string_view bytes_from_host);
    // Bytes for the host (responses and events), in order; the buffer is emptied.
    std::string take_output();
    // Elapsed time and pump clock move by dt (dt >= 0); returns the volume the rotor pushed
    // out during dt, in whole 0.25 uL strokes.
    Volume advance(Millis dt);

    // Fault injection: the next stroke finds the rotor stalled (MOTOR_STALL, SUSPENDED). One
    // stall per call: after STOP and START the rotor turns again.
    void inject_motor_stall();
    // Fault injection: the pump restarts by itself now (a watchdog), as RESET does but without
    // a request: BOOT reason=WATCHDOG about 1 s later.
    void inject_watchdog_reset();
    // Battery charge in percent (0 to 100); ERI and EOS follow as if the battery drained there.
    void set_battery_pct(double pct);

    struct Snapshot {
        PumpState state = PumpState::Stopped;
        bool end_of_service = false;
        bool resetting = false;  // between RESET's OK and its BOOT event
        bool session = false;
        bool auth_locked = false;
        bool edit_open = false;
        BenchTime clock{};
        Millis elapsed{0};
        Volume reservoir;        // the pump's estimate, never below 0
        Volume delivered;        // deliv_ml: whole strokes since power-on
        std::uint32_t conc_ug_ml = 0;
        FlowRate basal_rate;     // rate_ml_day as STATUS reports it
        std::optional<BolusKind> bolus;
        std::size_t boluses_waiting = 0;
        int step = 0;            // 1 based, 0 unless RUNNING
        double battery_pct = 0;  // exact charge; batt_pct is it rounded
        int batt_pct = 0;
        std::vector<Alarm> alarms;
        Volume low_res_threshold;
        std::optional<Program> program;
        std::size_t unacked_events = 0;
        bool has(Alarm a) const;
    };
    Snapshot snapshot() const;

private:
    struct Reply {
        bool ok = true;
        std::string code;
        std::string msg;
        std::vector<std::pair<std::string, std::string>> values;
    };
    struct Args;
    using Handler = Reply (PumpModel::*)(const Args&);
    struct VerbRule {
        std::string_view verb;
        bool needs_session;
        bool allowed_at_end_of_service;
        Handler handler;
    };
    static const VerbRule* find_verb(std::string_view verb);

    // Requests (pump_model.cpp).
    void handle_line(const codec::DecodedLine& line);
    void send_body(const std::string& body);
    Reply dispatch(const VerbRule& rule, const Args& args);
    Reply on_hello(const Args&);
    Reply on_auth(const Args&);
    Reply on_status(const Args&);
    Reply on_evack(const Args&);
    Reply on_clock(const Args&);
    Reply on_prog_begin(const Args&);
    Reply on_prog_step(const Args&);
    Reply on_prog_bolus(const Args&);
    Reply on_prog_ptm(const Args&);
    Reply on_prog_commit(const Args&);
    Reply on_prog_read(const Args&);
    Reply on_start(const Args&);
    Reply on_stop(const Args&);
    Reply on_bolus(const Args&);
    Reply on_bolus_cancel(const Args&);
    Reply on_ptm(const Args&);
    Reply on_prime(const Args&);
    Reply on_refill(const Args&);
    Reply on_alarm_cfg(const Args&);
    Reply on_reset(const Args&);
    bool auth_locked() const;

    // Time and delivery (pump_delivery.cpp).
    std::int64_t clock_ms() const { return clock_offset_ms_ + clock_elapsed(elapsed_ms_); }
    // Elapsed time as the pump clock counts it (differs with a clock rate error, clock_ppm_).
    std::int64_t clock_elapsed(std::int64_t elapsed) const;
    bool defect(Defect d) const { return config_.defects.has(d); }
    double magnitude(Defect d) const { return config_.defects.magnitude(d); }
    std::int64_t ms_of_day(std::int64_t elapsed) const;
    std::string clock_text() const;
    std::int64_t next_boundary() const;
    void process_tick();
    void deliver_due_strokes();
    void one_stroke();
    double planned_strokes_at(std::int64_t t) const;
    std::int64_t strokes_due_at(std::int64_t t) const;
    double delivery_strokes_per_ms() const;
    std::int64_t next_stroke_tick() const;
    std::int64_t next_battery_tick() const;
    double battery_at(std::int64_t elapsed, std::int64_t strokes) const;
    void check_battery();
    void check_reservoir_alarms();
    void set_alarm(Alarm a);
    void clear_alarm(Alarm a);
    bool alarm_set(Alarm a) const;
    void emit_event(std::string_view type, std::vector<std::pair<std::string, std::string>> fields);
    void resend_due_events();
    void start_running();
    void update_basal_rate();
    void check_step_change();
    void announce_step();
    void start_bolus(BolusKind kind, MicroUg dose_ug, int dur_min);
    void finish_bolus();
    void start_next_waiting_bolus();
    void start_due_periodic_boluses();
    void start_priming(std::int64_t vol_nl);
    void finish_priming();
    void stop_delivery(PumpState new_state);
    void drop_partial_stroke();
    void on_empty_reservoir();
    void on_motor_stall();
    void enter_end_of_service();
    void begin_reset();
    void finish_reset();
    std::int64_t ptm_starts_within_day() const;
    std::int64_t delivered_strokes() const { return strokes_total_ - deliv_zero_strokes_; }

    // Behaviour a defect catalogue may bend later.
    double basal_nl_per_day() const;                // the basal rate delivered now
    std::size_t step_in_force() const;              // by the clock's time of day
    bool periodic_bolus_given_now() const;          // RUNNING without EMPTY_RES
    double bolus_planned_nl(BolusKind kind, MicroUg dose_ug) const; // dose at the concentration in force
    bool low_res_reached() const;                   // the estimate at or below the threshold

    PumpModelConfig config_;
    std::int64_t reservoir_size_nl_ = 0;
    std::int64_t clock_offset_ms_ = 0;  // pump clock = offset + elapsed
    std::int64_t elapsed_ms_ = 0;

    codec::FrameDecoder decoder_;
    std::string output_;
    struct LastRequest {
        std::uint32_t seq = 0;
        std::string body;
        std::string response_frame;
    };
    std::optional<LastRequest> last_request_;
    bool reset_requested_ = false;
    const char* boot_reason_ = "RESET";  // of the reset under way

    NonceSource nonces_;
    std::string nonce_;
    bool nonce_fresh_ = false;
    bool session_ = false;
    int auth_failures_ = 0;
    std::int64_t auth_locked_until_ms_ = -1;

    struct PendingEvent {
        std::uint32_t n = 0;
        std::string frame;
        std::int64_t last_sent_ms = 0;
        bool alarm = false;
    };
    std::deque<PendingEvent> pending_events_;
    std::uint32_t next_evseq_ = 1;

    PumpState state_ = PumpState::Stopped;
    bool end_of_service_ = false;
    bool resetting_ = false;
    std::int64_t boot_at_ms_ = 0;
    std::vector<Alarm> alarms_;  // in the order they were set

    std::optional<Program> program_;
    std::optional<Program> edit_;
    std::uint32_t conc_ug_ml_ = 0;
    std::int64_t reservoir_nl_ = 0;
    std::int64_t low_res_threshold_nl_ = 2'000'000;
    std::size_t current_step_ = 0;
    std::deque<std::int64_t> ptm_starts_ms_;  // elapsed time of every patient bolus start

    // Rotor: the planned volume (in strokes) is base + the contribution of each channel under
    // way; a stroke happens each time it passes the next whole stroke.
    double base_strokes_ = 0;
    std::int64_t strokes_total_ = 0;
    struct Basal {
        double strokes_per_ms = 0;
        std::int64_t since_ms = 0;
    } basal_;
    struct Run {  // a bolus or a priming: a capped volume delivered evenly until end_ms
        double planned_strokes = 0;
        double strokes_per_ms = 0;
        std::int64_t start_ms = 0, end_ms = 0;
        std::int64_t strokes_at_start = 0;
        double contribution(std::int64_t t) const;
    };
    struct BolusRun : Run {
        BolusKind kind = BolusKind::Clinician;
        MicroUg dose_ug = 0;
    };
    std::optional<BolusRun> bolus_;
    std::optional<Run> prime_;
    std::deque<PeriodicBolus> waiting_boluses_;
    bool stall_pending_ = false;

    // Defect bookkeeping (defects.hpp).
    std::int64_t periodic_due_count_ = 0;      // periodic boluses that came due
    std::int64_t bolus_strokes_undeducted_ = 0;  // bolus_not_deducted: strokes of the bolus under way
    std::int64_t volume_out_strokes_ = 0;      // strokes that really pushed liquid out
    std::int64_t last_tick_ms_ = 0;            // a drifting clock: the previous tick, for crossings
    std::int64_t stall_strokes_ = 0;           // stall: strokes counted since the stall began
    std::int64_t deliv_zero_strokes_ = 0;      // reset_forgets_program: deliv_ml counts from here
    std::optional<Program> deferred_program_;  // commit_running_deferred: waits for START
    std::deque<std::int64_t> ptm_start_clocks_ms_;  // pump clock of each patient bolus start

    // The unit's mechanics (PumpModelConfig): clock rate, stroke jitter.
    double clock_ppm_ = 0;                     // the unit's rate error plus clock_drift
    std::uint64_t jitter_state_ = 0;           // splitmix64 state, one draw per stroke
    std::vector<std::int64_t> strokes_in_flight_;  // min-heap: when each jittered stroke's liquid leaves
    std::int64_t strokes_out_pending_ = 0;     // strokes whose liquid left, not yet returned by advance

    double batt_anchor_pct_ = 100;
    std::int64_t batt_anchor_ms_ = 0;
    std::int64_t batt_anchor_strokes_ = 0;
};

}  // namespace pumprig::pump::sim
