// The pump driver: ICD request/response rules over a byte stream. Sequence numbers, deadlines,
// retries with the byte-identical frame, BUSY back-off, event queueing, de-duplication and
// acknowledgement, and one typed call per verb of the ICD. The codec (pump/codec) does the
// framing; the transport does the bytes; this class does the conversation.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "pump/codec/fields.hpp"
#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "pump/driver/link_trace.hpp"
#include "pump/driver/pump_key.hpp"
#include "transport/byte_stream.hpp"

namespace pumprig::pump {

struct DriverOptions {
    // Wall time to wait for a response after each send (the ICD promises the first byte within
    // 100 ms; the rest is margin for the host and the bridge).
    Millis response_timeout{300};
    // Re-sends of the byte-identical frame after a timeout with nothing heard.
    int retries = 3;
    // Further re-sends after an attempt that met line noise: a 0,ERR,code=CRC answer, or a line
    // dropped for its CRC or framing while waiting. A noisy link is alive, and the same frame
    // (same SEQ) is never executed twice, so this is safe for every verb; it keeps a request
    // going through 1 % corrupted bytes (docs/reliability.md).
    int noise_retries = 20;
    // BUSY answers tolerated for one request (1 s of bench time apart) before giving up, so a
    // pump stuck in BUSY cannot hold the harness forever.
    int busy_limit = 10;
    // Seed of the generator that picks the first SEQ; nullopt: std::random_device.
    std::optional<std::uint64_t> seed;
    // Forces the first SEQ (tests of the 65535 -> 1 wrap); nullopt: random from the seed.
    std::optional<std::uint32_t> first_seq;
    // Bench clock used to stamp events on receipt; may be null (events are then unstamped).
    const Clock* clock = nullptr;
    // The AUTH macs this driver sends, scrubbed from its received text and errors; shared with
    // the link's wire trace (TracedLink, link_trace.hpp). Null: the driver's own.
    std::shared_ptr<SecretScrubber> secrets;
    // After RESET: bench time allowed for the BOOT event (the ICD says 2 s; 0.5 s margin),
    // waited in slices through the wait hook, each followed by a short wall-time read.
    Millis boot_bench_wait{2500};
    Millis boot_slice{100};
    Millis boot_slice_wall_read{20};
};

// Counters for the run record.
struct DriverCounters {
    std::uint64_t requests = 0;          // distinct requests (a re-send is not a new request)
    std::uint64_t retries = 0;           // re-sends after a timeout or 0,ERR,code=CRC
    std::uint64_t busy = 0;              // BUSY answers
    std::uint64_t crc_errors = 0;        // lines from the pump with a bad CRC, plus 0,ERR,code=CRC
    std::uint64_t timeouts = 0;          // response waits that ran out (each attempt)
    std::uint64_t events = 0;            // distinct events received
    std::uint64_t duplicate_events = 0;  // events seen again (same n and t)
    std::uint64_t discarded_lines = 0;   // lines dropped: framing rules, stale SEQ, unparseable
};

struct PumpIdentity {
    std::string model;
    std::string serial;
    std::string firmware;
    std::uint32_t proto = 0;
    std::string nonce;
};

enum class PumpState { Stopped, Running, Priming, Suspended };
enum class BolusKind { None, Clinician, Periodic, Ptm };
const char* to_string(PumpState s);
const char* to_string(BolusKind k);

struct PumpStatus {
    PumpState state = PumpState::Stopped;
    double pump_t = 0;          // pump clock, Unix seconds
    double res_ml = 0;
    std::uint32_t conc_ug_ml = 0;
    double rate_ml_day = 0;
    BolusKind bolus = BolusKind::None;
    double deliv_ml = 0;
    std::uint32_t step = 0;
    std::uint32_t batt_pct = 0;
    std::vector<std::string> alarms;  // empty for NONE
    codec::Fields raw;                // every key=value as received, unknown keys included

    Volume reservoir() const { return Volume::from_ml(res_ml); }
    Volume delivered() const { return Volume::from_ml(deliv_ml); }
    FlowRate basal_rate() const { return FlowRate::from_ml_per_day(rate_ml_day); }
    bool has_alarm(std::string_view code) const;
};

struct ProgramSummary {  // PROG.COMMIT and PROG.READ
    std::uint32_t steps = 0;
    std::uint32_t boluses = 0;
    bool ptm = false;  // PROG.READ only
    double daily_ug = 0;
};
struct ProgramStep {
    std::uint32_t index = 0;
    int start_min = 0;  // minutes after midnight
    double dose_ug_day = 0;
};
struct ProgramBolus {
    std::uint32_t index = 0;
    int start_min = 0;
    double dose_ug = 0;
    std::uint32_t dur_min = 0;
};
struct PtmSettings {
    double dose_ug = 0;
    std::uint32_t dur_min = 0;
    std::uint32_t lockout_min = 0;
    std::uint32_t max_day = 0;
};

// An event as received: the pump's own fields, and the bench time it arrived (if the driver
// has a clock).
struct PumpEvent {
    codec::Event event;
    std::optional<BenchTime> received_at;
};

// A read-only request (STATUS, CLOCK, PROG.READ) that failed this way is a lost reading, not a
// lost link: no answer in time after every re-send, or the pump refusing each re-send as
// corrupted (0,ERR,code=CRC). Asking again later is safe.
bool lost_reading(const Error& e);

class PumpDriver {
public:
    PumpDriver(std::unique_ptr<transport::ByteStream> link, DriverOptions options = {});
    PumpDriver(const PumpDriver&) = delete;
    PumpDriver& operator=(const PumpDriver&) = delete;

    // Called when bench time must pass (BUSY back-off, waiting for BOOT). The default sleeps
    // that long on the wall clock; in virtual time the bench advances the simulator instead.
    void set_wait_hook(std::function<void(Millis)> hook);

    // Session (ICD section 3).
    Result<PumpIdentity> hello();
    // HELLO, then AUTH with the HMAC of "NONCE:SERIAL". Returns the identity from the HELLO.
    Result<PumpIdentity> authenticate(const PumpKey& key);
    bool session_active() const { return session_active_; }

    Result<PumpStatus> status();
    Result<double> clock();                 // pump clock, Unix seconds
    Result<void> set_clock(double unix_s);  // sent with 3 decimals

    // Programs (section 6). Times of day are minutes after midnight.
    Result<void> prog_begin();
    Result<void> prog_step(int start_min, double dose_ug_day);
    Result<void> prog_bolus(int start_min, double dose_ug, int dur_min);
    Result<void> prog_ptm(double dose_ug, int dur_min, int lockout_min, int max_day);
    Result<ProgramSummary> prog_commit();
    Result<ProgramSummary> prog_read();
    Result<ProgramStep> prog_read_step(int index);
    Result<ProgramBolus> prog_read_bolus(int index);
    Result<PtmSettings> prog_read_ptm();

    // Therapy (section 7).
    Result<void> start();
    Result<void> stop();
    Result<void> bolus(double dose_ug, int dur_min);
    Result<void> bolus_cancel();
    Result<void> ptm();
    Result<void> prime(double vol_ml);
    Result<void> refill(double res_ml, int conc_ug_ml);
    Result<void> alarm_cfg(double low_res_ml);
    // RESET, its OK, then the BOOT event (waited for through the wait hook). RESET is never
    // re-sent. The session is gone afterwards.
    Result<void> reset();
    Result<void> evack(std::uint32_t n);

    // Reads what arrives within wall_wait, queues new events and acknowledges every event
    // seen (duplicates too: the pump re-sends until acknowledged).
    Result<void> poll_events(Millis wall_wait);
    // The distinct events received since the last call, in order of arrival.
    std::vector<PumpEvent> take_events();

    // After a lost link: carry on over a newly opened stream. The session is gone (the pump
    // may have been reset meanwhile); SEQ goes on from where it was, so a pump that kept its
    // last SEQ never mistakes the next request for a retry. Pending acknowledgements are
    // dropped: unacknowledged events come again.
    void replace_link(std::unique_ptr<transport::ByteStream> link);

    const DriverCounters& counters() const { return counters_; }
    std::string describe_link() const { return link_->describe(); }
    // The SEQ the next request will carry.
    std::uint32_t next_seq() const { return next_seq_; }

private:
    struct Exchange {
        bool boot_is_confirmation = false;  // RESET: the BOOT event also confirms it
        bool got_boot = false;
    };
    Result<codec::Response> transact(std::string_view verb, codec::Fields args, Exchange* exchange = nullptr);
    // transact, then acknowledge the events that came in meanwhile.
    Result<codec::Response> call(std::string_view verb, codec::Fields args = {});
    Result<void> call_ok(std::string_view verb, codec::Fields args = {});
    Result<void> flush_acks();
    // Reads one chunk (up to `wait`) into the decoder. Empty result: nothing came.
    Result<bool> read_into_decoder(Millis wait, const std::string& sent, std::string& received);
    // Reads for up to wall_wait with no request open, handling events (stale responses are
    // dropped); stops early after a new BOOT event when stop_on_boot.
    Result<void> pump_incoming(Millis wall_wait, bool stop_on_boot, bool& boot_seen, std::string& received);
    // Events are handled wherever they arrive; returns true for a BOOT event.
    bool handle_event(const codec::Event& event);
    // The AUTH mac is a secret: replaced by <redacted> wherever the pump sends it back, in
    // lines (so in responses, events and errors) and in received text.
    void scrub(std::string& text) const { options_.secrets->scrub(text); }
    std::optional<codec::DecodedLine> next_line();  // the decoder's next line, scrubbed
    void sync_decoder_discards();
    std::uint32_t take_seq();
    void wait_bench(Millis d);

    std::unique_ptr<transport::ByteStream> link_;
    DriverOptions options_;
    std::function<void(Millis)> wait_hook_;
    codec::FrameDecoder decoder_{true};  // broken lines too: evidence of noise
    std::size_t decoder_discards_seen_ = 0;
    std::uint32_t next_seq_ = 1;
    bool session_active_ = false;
    DriverCounters counters_;
    std::set<std::pair<std::uint32_t, std::string>> seen_events_;  // (n, t as sent)
    std::deque<std::uint32_t> pending_acks_;
    // The last answered request (redacted) and its response line, for errors of typed parsing.
    std::string last_sent_;
    std::string last_received_;
    std::vector<PumpEvent> new_events_;
};

}  // namespace pumprig::pump
