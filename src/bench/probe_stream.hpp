// Probes of two pump behaviours that a well-behaved host never provokes by itself (docs/defects.md):
// - retry safety (ICD section 2): the next BOLUS or PTM request, once answered, is sent again
//   byte for byte, as a host does when a response is lost; the pump must answer it with its
//   previous response and not execute it again;
// - event resending (ICD section 2): the acknowledgement of the next event is held back (the
//   driver's EVACK is answered here, not sent), and the pump must send the event again within
//   10 s;
// - event overflow (ICD section 2: the pump keeps up to 64 unacknowledged events and, past them,
//   drops the oldest that is not an ALARM): from the first ALARM on, every EVACK is held back
//   (answered here) until 65 events newer than that ALARM have come (distinct EVSEQ); then the
//   held EVACKs of the other events are sent by the probe itself (real bytes, one at a time when
//   the driver has no request open), and each held ALARM must still come again within the resend
//   limit, after which its EVACK is sent too.
// A ByteStream between the pump driver and the link, so neither the driver nor the pump knows.
// Each probe gives one record, judged like a command answer ("probe.retry.N", "probe.resend.N"),
// the overflow probe one per held ALARM ("probe.overflow.N", judged like probe.resend).
// The wire trace is tapped below it (pump::TracedLink): the held EVACK and the answer given here
// are not in it, the re-sent request is; what the probe did is told through `note` instead.
#pragma once
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pump/codec/frame.hpp"
#include "transport/byte_stream.hpp"
#include "record/data.hpp"

namespace pumprig::bench {

class ProbeStream : public transport::ByteStream {
public:
    // `note` gets what the probe did on the link, in words (the trace's notes); may be empty.
    ProbeStream(std::unique_ptr<transport::ByteStream> inner, const Clock* clock,
                std::function<void(std::string_view)> note = {});

    void arm_retry() { retry_armed_ = true; }
    void arm_resend() { resend_armed_ = true; }
    void arm_overflow() { overflow_.armed = true; }
    // ICD: past 64 unacknowledged events the pump drops one; 65 newer events make sure that an
    // ALARM would have gone if the pump dropped the oldest whatever it is.
    static constexpr std::size_t kOverflowEvents = 65;
    // The probes' results so far; a held event not re-sent yet is reported as not re-sent when
    // at least `resend_limit` has passed since it was first received, else left out.
    std::vector<record::CommandRecord> take_records();

    Result<void> write(std::string_view bytes) override;
    Result<std::string> read_some(std::chrono::milliseconds timeout) override;
    void flush_input() override;
    std::string describe() const override { return inner_->describe(); }

    // ICD: an unacknowledged event comes again 10 s after it was sent; 2 s more for reading it
    // (the engine reads the link once a sample period in virtual time).
    static constexpr Millis kResendLimit{12'000};

private:
    BenchTime now() const { return clock_ ? clock_->now() : BenchTime{}; }
    void observe_incoming(const std::string& bytes);
    Result<void> do_retry(std::string& out);

    void note(const std::string& text) const {
        if (note_) note_(text);
    }
    Result<void> resend_request();
    // Reads for up to 10 s until `answered` takes a response with `seq` (it may ask to wait on),
    // sending `request` again through line noise; that answer stays here, other lines are
    // observed and go on to the driver through `out`.
    Result<void> keep_answer(const std::string& seq, const std::string& request, std::string& out,
                             const std::function<bool(const std::string& body)>& answered);

    std::unique_ptr<transport::ByteStream> inner_;
    const Clock* clock_;
    std::function<void(std::string_view)> note_;
    pump::codec::FrameDecoder in_watch_;
    std::string local_replies_;  // answers given here (held EVACKs), for the next read

    bool retry_armed_ = false;
    std::optional<std::string> retry_seq_;  // the armed request's SEQ, until its answer came
    std::string retry_body_;
    std::string retry_first_answer_;  // set when the armed request's answer came: retry now
    BenchTime retry_at_{};

    bool resend_armed_ = false;
    struct Held {
        std::uint32_t n = 0;
        std::string t, type;
        BenchTime first_seen{};
        bool resent = false;
    };
    std::optional<Held> held_;

    // The overflow probe (see the top).
    struct HeldAlarm {
        std::uint32_t n = 0;
        std::string t, code;
        bool judged = false;
    };
    struct Overflow {
        bool armed = false;
        bool holding = false;  // from the first ALARM until kOverflowEvents newer ones
        std::uint32_t first_alarm = 0;
        std::set<std::uint32_t> newer;                  // distinct EVSEQ newer than first_alarm
        std::map<std::uint32_t, std::string> held;      // EVSEQ -> the driver's EVACK frame, not sent yet
        std::vector<HeldAlarm> alarms;
        std::optional<BenchTime> overflowed_at;         // when the last of the newer events came
        std::deque<std::string> to_send;                // held EVACK frames the probe sends itself
    } overflow_;
    // The driver's open request (ICD: one at a time, EVACK included): the probe sends its own
    // EVACKs only while none is open (or the driver gave up on it).
    std::optional<std::string> open_seq_;
    std::chrono::steady_clock::time_point open_since_{};
    bool holds_evack(std::uint32_t n) const;
    void observe_overflow_event(std::uint32_t n, const std::string& t, const std::string& type, const std::string& code);
    void judge_late_alarms();
    // Records the probe.overflow answer for `a` (came again: OK; not: none) and releases its EVACK.
    void judge_held_alarm(HeldAlarm& a, record::Answer answer);
    Result<void> send_held_evacks(std::string& out);
    std::vector<record::CommandRecord> records_;
};

}  // namespace pumprig::bench
