#include "bench/probe_stream.hpp"

#include <algorithm>
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
    if (!retry_armed_ && !held_ && !overflow_.armed) return inner_->write(bytes);
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
        const auto evseq = verb == "EVACK" ? pump::codec::parse_whole(fields->get("n").value_or("")) : std::nullopt;
        if (evseq && holds_evack(static_cast<std::uint32_t>(*evseq))) {
            // Held back like the resend probe's, but kept: the probe sends it itself later.
            local_replies_ += pump::codec::encode_frame(seq + ",OK");
            swallowed = true;
            overflow_.held.try_emplace(static_cast<std::uint32_t>(*evseq), line->raw + "\r\n");
            note("probe.overflow: EVACK n=" + std::to_string(*evseq) + " (SEQ " + seq + ") held back, not sent; answered " + seq +
                 ",OK to the driver by pumprig, not by the pump");
            continue;
        }
        if (evseq) overflow_.held.erase(static_cast<std::uint32_t>(*evseq));  // the driver's own EVACK goes out
        if (overflow_.armed && !seq.empty()) {
            open_seq_ = seq;
            open_since_ = std::chrono::steady_clock::now();
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
            if (open_seq_ && line->body.starts_with(*open_seq_ + ",")) open_seq_.reset();
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
        if (overflow_.armed)
            observe_overflow_event(static_cast<std::uint32_t>(*num), std::string(*t), std::string(type.value_or("?")),
                                   std::string(f->get("code").value_or("?")));
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
    // Whatever else comes meanwhile (events) goes on to the driver; the repeated answer does not
    // (the driver has its answer already).
    Result<void> resent{};
    auto r = keep_answer(seq, pump::codec::encode_frame(retry_body_), out, [&](const std::string& body) {
        if (is_busy(body) && busy_left-- > 0) {
            // "Try again after 1 s": the same frame again, as any retry.
            std::this_thread::sleep_for(std::chrono::seconds(1));
            resent = resend_request();
            return !resent;  // a failed write ends the wait
        }
        c.answer = record::Answer::parse(body);
        note("probe.retry: the answer to the repeated SEQ " + seq + " kept from the driver (it has its answer)");
        return true;
    });
    if (!r) return r;
    if (!resent) return resent;
    records_.push_back(c);  // still none: the pump did not answer the repeated request
    return {};
}

Result<void> ProbeStream::keep_answer(const std::string& seq, const std::string& request, std::string& out,
                                      const std::function<bool(const std::string& body)>& answered) {
    // Through line noise the same frame is sent again as the driver would (a damaged answer, CRC
    // refused, or silence for 300 ms): each is the same request, so the pump must answer each
    // alike.
    pump::codec::FrameDecoder dec(true);
    bool done = false;
    int resends_left = 20;
    auto sent_at = std::chrono::steady_clock::now();
    auto send_again = [&]() -> Result<void> {
        if (resends_left-- <= 0) return {};
        sent_at = std::chrono::steady_clock::now();
        return inner_->write(request);
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(10000);
    while (!done && std::chrono::steady_clock::now() < deadline) {
        auto got = inner_->read_some(std::chrono::milliseconds(100));
        if (!got) return std::unexpected(got.error());
        if (got->empty() && std::chrono::steady_clock::now() - sent_at > std::chrono::milliseconds(300))
            if (auto w = send_again(); !w) return w;
        dec.feed(*got);
        while (auto line = dec.next()) {
            if (line->status != pump::codec::DecodedLine::Status::Ok || line->body.starts_with("0,ERR,code=CRC")) {
                if (!line->raw.starts_with("$EV,") && !done)
                    if (auto w = send_again(); !w) return w;
                continue;
            }
            if (!done && !is_event(line->body) && line->body.starts_with(seq + ",")) {
                done = answered(line->body);
                continue;
            }
            const std::string frame = pump::codec::encode_frame(line->body);
            observe_incoming(frame);
            out += frame;
        }
    }
    return {};
}

Result<void> ProbeStream::resend_request() {
    note("probe.retry: " + retry_body_ + " sent again byte for byte by pumprig, as after a lost answer");
    return inner_->write(pump::codec::encode_frame(retry_body_));
}

bool ProbeStream::holds_evack(std::uint32_t n) const {
    if (!overflow_.armed) return false;
    if (overflow_.holding) return true;
    return std::any_of(overflow_.alarms.begin(), overflow_.alarms.end(), [&](const HeldAlarm& a) { return a.n == n && !a.judged; });
}

void ProbeStream::observe_overflow_event(std::uint32_t n, const std::string& t, const std::string& type, const std::string& code) {
    auto& o = overflow_;
    const auto held_alarm = [&](std::uint32_t k) {
        return std::find_if(o.alarms.begin(), o.alarms.end(), [&](const HeldAlarm& a) { return a.n == k; });
    };
    if (!o.holding && !o.overflowed_at) {
        if (type != "ALARM") return;
        o.holding = true;
        o.first_alarm = n;
        o.alarms.push_back({n, t, code, false});
        note("probe.overflow: ALARM " + code + " n=" + std::to_string(n) + " came; every EVACK is held back until " +
             std::to_string(kOverflowEvents) + " newer events have come");
        return;
    }
    if (o.holding) {
        if (type == "ALARM" && held_alarm(n) == o.alarms.end()) o.alarms.push_back({n, t, code, false});
        if (n > o.first_alarm) o.newer.insert(n);
        if (o.newer.size() < kOverflowEvents) return;
        o.holding = false;
        o.overflowed_at = now();
        std::size_t others = 0;
        for (auto it = o.held.begin(); it != o.held.end();) {
            if (held_alarm(it->first) != o.alarms.end()) {
                ++it;
                continue;
            }
            o.to_send.push_back(it->second);
            it = o.held.erase(it);
            ++others;
        }
        note("probe.overflow: " + std::to_string(o.newer.size()) + " events newer than ALARM n=" + std::to_string(o.first_alarm) +
             " came; acknowledgements go through again, pumprig sends the " + std::to_string(others) +
             " held EVACKs of the other events; each held ALARM must come again");
        return;
    }
    const auto a = held_alarm(n);
    if (a == o.alarms.end() || a->judged || a->t != t) return;
    // What pumprig saw, not an ICD answer: the pump kept the ALARM and sent it again after_s
    // after the last of the newer events (check_probe_resends judges the time).
    judge_held_alarm(*a, record::Answer::ok());
}

void ProbeStream::judge_late_alarms() {
    if (!overflow_.overflowed_at || now() - *overflow_.overflowed_at < kResendLimit) return;
    for (auto& a : overflow_.alarms)
        // The ALARM did not come again: the pump dropped it. No answer, and how long pumprig waited.
        if (!a.judged) judge_held_alarm(a, record::Answer::none());
}

void ProbeStream::judge_held_alarm(HeldAlarm& a, record::Answer answer) {
    auto& o = overflow_;
    a.judged = true;
    record::CommandRecord c;
    c.bench_t = *o.overflowed_at;
    c.step_label = "probe: ALARM " + a.code + " n=" + std::to_string(a.n) + " left unacknowledged past " +
                   std::to_string(kOverflowEvents) + " newer events";
    c.verb = "probe.overflow";
    c.answer = std::move(answer);
    c.answer.values["after_s"] = seconds_text(std::chrono::duration_cast<Millis>(now() - *o.overflowed_at));
    records_.push_back(std::move(c));
    // Judged: its held EVACK goes out now.
    if (auto h = o.held.find(a.n); h != o.held.end()) {
        o.to_send.push_back(h->second);
        o.held.erase(h);
    }
}

Result<void> ProbeStream::send_held_evacks(std::string& out) {
    auto& o = overflow_;
    while (!o.to_send.empty()) {
        // ICD: one request open at a time; a driver that got no answer gives up well within 3 s.
        if (open_seq_ && std::chrono::steady_clock::now() - open_since_ < std::chrono::seconds(3)) return {};
        open_seq_.reset();
        const std::string frame = o.to_send.front();
        o.to_send.pop_front();
        const std::string body = frame.substr(1, frame.find('*') - 1);
        const std::string seq = body.substr(0, body.find(','));
        note("probe.overflow: held EVACK " + body + " sent now by pumprig; its answer is kept from the driver (it had one)");
        if (auto w = inner_->write(frame); !w) return w;
        // Its answer stays here; events that come meanwhile go on to the driver.
        if (auto r = keep_answer(seq, frame, out, [](const std::string&) { return true; }); !r) return r;
    }
    return {};
}

Result<std::string> ProbeStream::read_some(std::chrono::milliseconds timeout) {
    if (!local_replies_.empty()) return std::exchange(local_replies_, {});
    judge_late_alarms();
    if (!overflow_.to_send.empty()) {
        std::string out;
        if (auto r = send_held_evacks(out); !r) return std::unexpected(r.error());
        if (!out.empty()) return out;
    }
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
    judge_late_alarms();
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
