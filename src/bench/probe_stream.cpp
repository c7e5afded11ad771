#include "bench/probe_stream.hpp"

#include <cstdio>
#include <thread>

#include "pump/codec/fields.hpp"

namespace pumprig::bench {

namespace {

bool is_event(const std::string& body) { return body.starts_with("EV,"); }

// BUSY is never kept as the previous response (ICD section 2): neither answer counts.
bool is_busy(const std::string& body) { return body.find(",ERR,code=BUSY") != std::string::npos; }

std::string seconds_text(Millis d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace

ProbeStream::ProbeStream(std::unique_ptr<transport::ByteStream> inner, const Clock* clock,
                         std::function<void(std::string_view)> note)
    : inner_(std::move(inner)), clock_(clock), note_(std::move(note)) {}

Result<void> ProbeStream::write(std::string_view bytes) {
    if (!retry_armed_ && !held_) return inner_->write(bytes);
    // The driver writes whole frames; look at each.
    pump::codec::FrameDecoder dec;
    dec.feed(bytes);
    std::string forward;
    bool swallowed = false;
    while (auto line = dec.next()) {
        const auto fields = line->status == pump::codec::DecodedLine::Status::Ok ? pump::codec::split_fields(line->body) : std::nullopt;
        const std::string seq = fields && !fields->leading.empty() ? fields->leading[0] : "";
        const std::string verb = fields && fields->leading.size() > 1 ? fields->leading[1] : "";
        if (held_ && !held_->resent && verb == "EVACK" && fields->get("n") == std::to_string(held_->n)) {
            // Held back: answered here, so the pump does not hear of it and must send it again.
            local_replies_ += pump::codec::encode_frame(seq + ",OK");
            swallowed = true;
            note("probe.resend: EVACK n=" + std::to_string(held_->n) + " (SEQ " + seq + ") held back, not sent; answered " +
                 seq + ",OK to the driver by pumprig, not by the pump");
            continue;
        }
        if (retry_armed_ && (verb == "BOLUS" || verb == "PTM")) {
            retry_armed_ = false;
            retry_seq_ = seq;
            retry_body_ = line->body;
            retry_at_ = now();
        }
        forward += line->raw + "\r\n";
    }
    if (!swallowed) return inner_->write(bytes);
    return forward.empty() ? Result<void>{} : inner_->write(forward);
}

void ProbeStream::observe_incoming(const std::string& bytes) {
    in_watch_.feed(bytes);
    while (auto line = in_watch_.next()) {
        if (line->status != pump::codec::DecodedLine::Status::Ok) continue;
        if (!is_event(line->body)) {
            if (retry_seq_ && line->body.starts_with(*retry_seq_ + ",") && !is_busy(line->body)) {
                retry_first_answer_ = line->body;
                retry_seq_.reset();
            }
            continue;
        }
        const auto f = pump::codec::split_fields(line->body);
        if (!f) continue;
        const auto n = f->get("n"), t = f->get("t"), type = f->get("type");
        if (!n || !t) continue;
        const auto num = pump::codec::parse_whole(*n);
        if (!num) continue;
        if (resend_armed_ && !held_) {
            resend_armed_ = false;
            held_ = Held{static_cast<std::uint32_t>(*num), std::string(*t), std::string(type.value_or("?")), now(), false};
        } else if (held_ && !held_->resent && *num == held_->n && *t == held_->t) {
            held_->resent = true;
            const Millis after = std::chrono::duration_cast<Millis>(now() - held_->first_seen);
            record::CommandRecord c;
            c.bench_t = held_->first_seen;
            c.step_label = "probe: event " + held_->type + " n=" + std::to_string(held_->n) + " left unacknowledged";
            c.verb = "probe.resend";
            // What pumprig saw, not an ICD answer: the event came again (OK), after_s after it
            // was first received; check_probe_resends judges the time (no invented error code).
            c.answer = record::Answer::ok();
            c.answer.values["after_s"] = seconds_text(after);
            records_.push_back(c);
        }
    }
}

Result<void> ProbeStream::do_retry(std::string& out) {
    const std::string first = std::exchange(retry_first_answer_, {});
    const std::string seq = first.substr(0, first.find(','));
    if (auto w = resend_request(); !w) return w;
    int busy_left = 5;
    record::CommandRecord c;
    c.bench_t = retry_at_;
    c.step_label = "probe: " + retry_body_.substr(retry_body_.find(',') + 1) + " sent again with the same SEQ";
    c.verb = "probe.retry";
    // The first answer's text as the pump sent it, parsed once into a value.
    c.expected = record::Answer::parse(first);
    bool answered = false;
    // Whatever else comes meanwhile (events) goes on to the driver; the repeated answer does not
    // (the driver has its answer already). Through line noise the same frame is sent again as
    // the driver would (a damaged answer, CRC refused, or silence for 300 ms): each is the same
    // retry the probe makes, so the pump must answer each with its first answer.
    pump::codec::FrameDecoder dec(true);
    int resends_left = 20;
    auto sent_at = std::chrono::steady_clock::now();
    auto send_again = [&]() -> Result<void> {
        if (resends_left-- <= 0) return {};
        sent_at = std::chrono::steady_clock::now();
        return inner_->write(pump::codec::encode_frame(retry_body_));
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(10000);
    while (!answered && std::chrono::steady_clock::now() < deadline) {
        auto got = inner_->read_some(std::chrono::milliseconds(100));
        if (!got) return std::unexpected(got.error());
        if (got->empty() && std::chrono::steady_clock::now() - sent_at > std::chrono::milliseconds(300))
            if (auto w = send_again(); !w) return w;
        dec.feed(*got);
        while (auto line = dec.next()) {
            if (line->status != pump::codec::DecodedLine::Status::Ok || line->body.starts_with("0,ERR,code=CRC")) {
                if (!line->raw.starts_with("$EV,") && !answered)
                    if (auto w = send_again(); !w) return w;
                continue;
            }
            if (!is_event(line->body) && line->body.starts_with(seq + ",") && !answered) {
                if (is_busy(line->body) && busy_left-- > 0) {
                    // "Try again after 1 s": the same frame again, as any retry.
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    if (auto w = resend_request(); !w) return w;
                    continue;
                }
                c.answer = record::Answer::parse(line->body);
                answered = true;
                note("probe.retry: the answer to the repeated SEQ " + seq + " kept from the driver (it has its answer)");
                continue;
            }
            const std::string frame = pump::codec::encode_frame(line->body);
            observe_incoming(frame);
            out += frame;
        }
    }
    records_.push_back(c);  // still none: the pump did not answer the repeated request
    return {};
}

Result<void> ProbeStream::resend_request() {
    note("probe.retry: " + retry_body_ + " sent again byte for byte by pumprig, as after a lost answer");
    return inner_->write(pump::codec::encode_frame(retry_body_));
}

Result<std::string> ProbeStream::read_some(std::chrono::milliseconds timeout) {
    if (!local_replies_.empty()) return std::exchange(local_replies_, {});
    auto got = inner_->read_some(timeout);
    if (!got) return got;
    observe_incoming(*got);
    if (!retry_first_answer_.empty()) {
        std::string out = *got;
        if (auto r = do_retry(out); !r) return std::unexpected(r.error());
        return out;
    }
    return got;
}

void ProbeStream::flush_input() {
    local_replies_.clear();
    inner_->flush_input();
}

std::vector<record::CommandRecord> ProbeStream::take_records() {
    if (held_ && !held_->resent && now() - held_->first_seen >= kResendLimit) {
        record::CommandRecord c;
        c.bench_t = held_->first_seen;
        c.step_label = "probe: event " + held_->type + " n=" + std::to_string(held_->n) + " left unacknowledged";
        c.verb = "probe.resend";
        // The event did not come again: no answer, and how long pumprig waited for it.
        c.answer = record::Answer::none();
        c.answer.values["after_s"] = seconds_text(std::chrono::duration_cast<Millis>(now() - held_->first_seen));
        records_.push_back(c);
        held_->resent = true;  // reported once
    }
    return std::exchange(records_, {});
}

}  // namespace pumprig::bench
