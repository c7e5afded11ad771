// Probes of two pump behaviours that a well-behaved host never provokes by itself (docs/defects.md):
// - retry safety (ICD section 2): the next BOLUS or PTM request, once answered, is sent again
//   byte for byte, as a host does when a response is lost; the pump must answer it with its
//   previous response and not execute it again;
// - event resending (ICD section 2): the acknowledgement of the next event is held back (the
//   driver's EVACK is answered here, not sent), and the pump must send the event again within
//   10 s.
// A ByteStream between the pump driver and the link, so neither the driver nor the pump knows.
// Each probe gives one record, judged like a command answer ("probe.retry.N", "probe.resend.N").
// The wire trace is tapped below it (pump::TracedLink): the held EVACK and the answer given here
// are not in it, the re-sent request is; what the probe did is told through `note` instead.
#pragma once
#include <functional>
#include <memory>
#include <optional>
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
    std::vector<record::CommandRecord> records_;
};

}  // namespace pumprig::bench
