#include "pump/driver/pump_driver.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace pumprig::pump {
namespace {

using steady = std::chrono::steady_clock;
using codec::Fields;
using codec::Response;

constexpr Millis kBusyBackoff{1000};   // ICD section 10: BUSY, "try again after 1 s"
constexpr std::size_t kReceivedKept = 600;  // characters of received text kept in an error
constexpr int kMaxAcksPerFlush = 256;  // the pump keeps 64 unacknowledged events: ample

// Received bytes as they can be shown in a log line: printable ASCII kept, the rest escaped.
void append_printable(std::string& out, std::string_view bytes) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char c : bytes) {
        if (out.size() >= kReceivedKept) {
            if (!out.ends_with("...")) out += "...";
            return;
        }
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c >= 0x20 && c <= 0x7E) out += static_cast<char>(c);
        else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
}

std::string without_line_end(std::string_view frame) {
    while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
    return std::string(frame);
}

bool valid_quantity(double v) { return std::isfinite(v) && v >= 0; }

Result<void> check_quantity(std::string_view verb, std::string_view key, double v) {
    if (valid_quantity(v)) return {};
    return fail(ErrorKind::BadInput, std::string(verb) + ": " + std::string(key) +
                                         " must be a finite number at or above 0 (the ICD has no sign)");
}

Result<void> check_count(std::string_view verb, std::string_view key, long long v) {
    if (v >= 0 && v <= 999999999) return {};
    return fail(ErrorKind::BadInput, std::string(verb) + ": " + std::string(key) +
                                         " must be a whole number from 0 to 999999999");
}

Result<void> check_time_of_day(std::string_view verb, int minutes) {
    if (minutes >= 0 && minutes < 1440) return {};
    return fail(ErrorKind::BadInput, std::string(verb) +
                                         ": start must be a time of day, 0 to 1439 minutes after midnight");
}

// Reads typed values out of a response, with errors naming the verb, the key and the format.
class ResponseReader {
public:
    ResponseReader(const Response& r, std::string_view verb, const std::string& sent, const std::string& received)
        : r_(r), verb_(verb), sent_(sent), received_(received) {}

    Result<std::string> text(std::string_view key) const {
        const auto v = r_.values.get(key);
        if (!v || v->empty()) return missing(key, "a value");
        return std::string(*v);
    }
    Result<double> decimal(std::string_view key) const {
        const auto v = r_.values.get(key);
        if (!v) return missing(key, "a decimal number");
        const auto d = codec::parse_decimal(*v);
        if (!d) return malformed(key, *v, "a decimal number");
        return *d;
    }
    Result<std::uint32_t> whole(std::string_view key) const {
        const auto v = r_.values.get(key);
        if (!v) return missing(key, "a whole number");
        const auto w = codec::parse_whole(*v);
        if (!w) return malformed(key, *v, "a whole number");
        return *w;
    }
    Result<int> time_of_day(std::string_view key) const {
        const auto v = r_.values.get(key);
        if (!v) return missing(key, "a time of day HH:MM");
        const auto t = codec::parse_time_of_day(*v);
        if (!t) return malformed(key, *v, "a time of day HH:MM");
        return *t;
    }
    std::unexpected<Error> bad(std::string_view key, std::string_view value, std::string_view expected) const {
        return malformed(key, value, expected);
    }

private:
    std::unexpected<Error> missing(std::string_view key, std::string_view expected) const {
        return fail(ErrorKind::Protocol,
                    "response to " + std::string(verb_) + " lacks key " + std::string(key) + " (expected " +
                        std::string(expected) + ")",
                    {}, sent_, received_);
    }
    std::unexpected<Error> malformed(std::string_view key, std::string_view value, std::string_view expected) const {
        return fail(ErrorKind::Protocol,
                    "response to " + std::string(verb_) + ": " + std::string(key) + "=" + std::string(value) +
                        " is not " + std::string(expected),
                    {}, sent_, received_);
    }
    const Response& r_;
    std::string_view verb_;
    const std::string& sent_;
    const std::string& received_;
};

}  // namespace

const char* to_string(PumpState s) {
    switch (s) {
        case PumpState::Stopped: return "STOPPED";
        case PumpState::Running: return "RUNNING";
        case PumpState::Priming: return "PRIMING";
        case PumpState::Suspended: return "SUSPENDED";
    }
    return "?";
}

const char* to_string(BolusKind k) {
    switch (k) {
        case BolusKind::None: return "NONE";
        case BolusKind::Clinician: return "CLINICIAN";
        case BolusKind::Periodic: return "PERIODIC";
        case BolusKind::Ptm: return "PTM";
    }
    return "?";
}

bool lost_reading(const Error& e) {
    return e.kind == ErrorKind::Timeout || (e.kind == ErrorKind::DeviceError && e.code == "CRC");
}

bool PumpStatus::has_alarm(std::string_view code) const {
    return std::find(alarms.begin(), alarms.end(), code) != alarms.end();
}

void PumpDriver::replace_link(std::unique_ptr<transport::ByteStream> link) {
    if (!link) throw std::invalid_argument("PumpDriver::replace_link needs a byte stream");
    link_ = std::move(link);
    decoder_.reset();
    pending_acks_.clear();
    session_active_ = false;
}

PumpDriver::PumpDriver(std::unique_ptr<transport::ByteStream> link, DriverOptions options)
    : link_(std::move(link)), options_(std::move(options)) {
    if (!link_) throw std::invalid_argument("PumpDriver needs a byte stream");
    if (!options_.secrets) options_.secrets = std::make_shared<SecretScrubber>();
    if (options_.first_seq) {
        if (*options_.first_seq < 1 || *options_.first_seq > codec::kMaxSeq)
            throw std::invalid_argument("DriverOptions::first_seq must be 1 to 65535");
        next_seq_ = *options_.first_seq;
    } else {
        // A random start, so a restarted host does not reuse the pump's last SEQ (ICD section 2).
        std::mt19937_64 generator(options_.seed ? *options_.seed : std::random_device{}());
        next_seq_ = std::uniform_int_distribution<std::uint32_t>(1, codec::kMaxSeq)(generator);
    }
    wait_hook_ = [](Millis d) { std::this_thread::sleep_for(d); };
}

void PumpDriver::set_wait_hook(std::function<void(Millis)> hook) {
    if (hook) wait_hook_ = std::move(hook);
}

void PumpDriver::wait_bench(Millis d) { wait_hook_(d); }

std::uint32_t PumpDriver::take_seq() {
    const std::uint32_t seq = next_seq_;
    next_seq_ = seq >= codec::kMaxSeq ? 1 : seq + 1;  // after 65535 comes 1
    return seq;
}

void PumpDriver::sync_decoder_discards() {
    counters_.discarded_lines += decoder_.discarded() - decoder_discards_seen_;
    decoder_discards_seen_ = decoder_.discarded();
}

Result<bool> PumpDriver::read_into_decoder(Millis wait, const std::string& sent, std::string& received) {
    auto chunk = link_->read_some(wait);
    if (!chunk) {
        Error e = chunk.error();
        e.sent = sent;
        e.received = received;
        return std::unexpected(std::move(e));
    }
    if (chunk->empty()) return false;
    append_printable(received, *chunk);
    scrub(received);
    decoder_.feed(*chunk);
    sync_decoder_discards();
    return true;
}

std::optional<codec::DecodedLine> PumpDriver::next_line() {
    auto line = decoder_.next();
    if (line) {
        scrub(line->body);
        scrub(line->raw);
    }
    return line;
}

bool PumpDriver::handle_event(const codec::Event& event) {
    const bool is_new = seen_events_.emplace(event.n, event.t_text).second;
    const bool new_boot = is_new && event.type == "BOOT";
    if (new_boot) {
        // The pump restarted: it forgot its events, SEQ and session. Acknowledging an EVSEQ
        // from before the boot would acknowledge a different, new event with that number.
        pending_acks_.clear();
        session_active_ = false;
    }
    if (is_new) {
        ++counters_.events;
        PumpEvent received{event, std::nullopt};
        if (options_.clock != nullptr) received.received_at = options_.clock->now();
        new_events_.push_back(std::move(received));
    } else {
        ++counters_.duplicate_events;
    }
    // Duplicates are acknowledged too: the pump re-sends until it gets the EVACK.
    if (std::find(pending_acks_.begin(), pending_acks_.end(), event.n) == pending_acks_.end())
        pending_acks_.push_back(event.n);
    return new_boot;
}

Result<Response> PumpDriver::transact(std::string_view verb, Fields args, Exchange* exchange) {
    codec::Request request;
    request.seq = take_seq();
    request.verb = std::string(verb);
    request.args = std::move(args);
    const std::string body = request.body();
    const std::string frame = codec::encode_frame(body);
    const std::string sent = codec::redact(without_line_end(frame));
    if (!codec::is_valid_body(body))
        return fail(ErrorKind::BadInput,
                    std::string(verb) + ": request body is not valid (expected 1 to 240 printable characters "
                                        "other than $ and *)",
                    {}, sent);
    ++counters_.requests;
    std::string received;
    int retries_used = 0;
    int noisy_resends = 0;  // re-sends after an attempt that met line noise
    int busy_answers = 0;
    bool malformed_seen = false;
    const std::string seq_text = std::to_string(request.seq);
    // RESET is never re-sent: a pump that did reset forgot the SEQ and would reset again.
    const bool may_resend_frame = exchange == nullptr || !exchange->boot_is_confirmation;

    while (true) {  // one send of the same frame per pass
        // Lines dropped for a bad CRC or broken framing during this attempt: evidence of a noisy
        // but living link (the answer was probably among them).
        const auto noise_before = counters_.crc_errors + counters_.discarded_lines;
        // May this attempt, gone wrong, be followed by another send of the same frame?
        auto may_resend_after = [&](bool noisy) {
            if (noisy && noisy_resends < options_.noise_retries) return true;
            return retries_used - noisy_resends < options_.retries;
        };
        if (auto w = link_->write(frame); !w) {
            Error e = w.error();
            e.sent = sent;
            e.received = received;
            return std::unexpected(std::move(e));
        }
        const auto deadline = steady::now() + options_.response_timeout;

        enum class Next { Wait, Resend, Busy, Timeout } next = Next::Wait;
        while (next == Next::Wait) {
            while (auto line = next_line()) {
                if (line->status != codec::DecodedLine::Status::Ok) {
                    // A line we cannot trust is dropped; the pump re-sends events, and a lost
                    // response is covered by the timeout and the retry.
                    if (line->status == codec::DecodedLine::Status::BadCrc) {
                        ++counters_.crc_errors;
                        ++counters_.discarded_lines;  // a Dropped line was counted by the decoder
                    }
                    // Unless it is an event, it reads as the answer to this request, damaged
                    // (in its CRC, or by a byte the receiving rules refuse, even in its SEQ):
                    // send the same frame again now rather than wait out the timeout. Always
                    // safe: the pump answers a repeat with its previous response, and a second
                    // answer that comes later is dropped as stale.
                    if (may_resend_frame && !line->raw.starts_with("$EV,") && may_resend_after(true)) {
                        next = Next::Resend;
                        break;
                    }
                    continue;
                }
                const auto kind = codec::classify(line->body);
                if (kind == codec::LineKind::Event) {
                    const auto event = codec::parse_event(line->body);
                    if (!event) {
                        ++counters_.discarded_lines;
                        malformed_seen = true;
                        continue;
                    }
                    const bool boot = handle_event(*event);
                    if (boot && exchange != nullptr && exchange->boot_is_confirmation) {
                        // RESET whose OK was lost: the BOOT confirms it (ICD section 7).
                        exchange->got_boot = true;
                        Response confirmed;
                        confirmed.seq = request.seq;
                        return confirmed;
                    }
                    continue;
                }
                const auto response = kind == codec::LineKind::Response ? codec::parse_response(line->body)
                                                                        : std::nullopt;
                if (!response) {
                    // Well framed but not a response: ours only if it carries our SEQ.
                    if (line->body.starts_with(seq_text + ","))
                        return fail(ErrorKind::Protocol,
                                    std::string(verb) + ": response is not SEQ,OK[,key=value]... or "
                                                        "SEQ,ERR,code=CODE",
                                    {}, sent, line->raw);
                    ++counters_.discarded_lines;
                    malformed_seen = true;
                    continue;
                }
                if (response->seq == 0 && !response->ok) {
                    // SEQ 0: the pump could not read ours; it refers to the open request.
                    if (response->code == "CRC") {
                        ++counters_.crc_errors;
                        if (!may_resend_after(true))
                            return fail(ErrorKind::DeviceError,
                                        std::string(verb) + ": the pump answered CRC to every re-send",
                                        "CRC", sent, line->raw);
                        next = Next::Resend;
                        break;
                    }
                    return fail(ErrorKind::DeviceError,
                                std::string(verb) + ": the pump refused the request with " + response->code,
                                response->code, sent, line->raw);
                }
                if (response->seq != request.seq) {
                    ++counters_.discarded_lines;  // a late answer to a request given up on
                    continue;
                }
                if (!response->ok && response->code == "BUSY") {
                    ++counters_.busy;
                    if (++busy_answers > options_.busy_limit)
                        return fail(ErrorKind::DeviceError,
                                    std::string(verb) + ": the pump stayed BUSY for " +
                                        std::to_string(options_.busy_limit) + " re-sends",
                                    "BUSY", sent, line->raw);
                    next = Next::Busy;
                    break;
                }
                last_sent_ = sent;
                last_received_ = line->raw;
                if (!response->ok) {
                    const auto msg = response->values.get("msg");
                    return fail(ErrorKind::DeviceError,
                                std::string(verb) + ": the pump answered ERR code=" + response->code +
                                    (msg ? " (" + std::string(*msg) + ")" : ""),
                                response->code, sent, line->raw);
                }
                return *response;
            }
            if (next != Next::Wait) break;
            const auto left = std::chrono::duration_cast<Millis>(deadline - steady::now());
            if (left <= Millis{0}) {
                next = Next::Timeout;
                break;
            }
            auto got = read_into_decoder(left, sent, received);
            if (!got) return std::unexpected(got.error());
            if (!*got) next = Next::Timeout;  // read_some waited the whole remaining time
        }

        if (next == Next::Busy) {
            wait_bench(kBusyBackoff);  // BUSY is never kept as the previous response: re-send as is
            continue;
        }
        if (next == Next::Timeout) {
            ++counters_.timeouts;
            if (!may_resend_frame || !may_resend_after(counters_.crc_errors + counters_.discarded_lines > noise_before)) {
                const std::string tail = " to " + std::string(verb) + " (SEQ " + seq_text + ") within " +
                                         std::to_string(options_.response_timeout.count()) + " ms after " +
                                         std::to_string(retries_used) + " re-sends";
                if (malformed_seen)
                    return fail(ErrorKind::Protocol, "no well-formed response" + tail +
                                                         " (the pump sent lines that are neither responses nor events)",
                                {}, sent, received);
                return fail(ErrorKind::Timeout, "no response" + tail, {}, sent, received);
            }
        }
        if ((next == Next::Resend || counters_.crc_errors + counters_.discarded_lines > noise_before) &&
            noisy_resends < options_.noise_retries)
            ++noisy_resends;
        ++retries_used;
        ++counters_.retries;
    }
}

Result<Response> PumpDriver::call(std::string_view verb, Fields args) {
    auto r = transact(verb, std::move(args));
    // The request is closed once answered (well or not): now the events may be acknowledged.
    // An EVACK that fails is not this call's failure: the pump re-sends the event, and it is
    // acknowledged on a later pass.
    if (r || r.error().kind == ErrorKind::DeviceError || r.error().kind == ErrorKind::Protocol)
        (void)flush_acks();
    return r;
}

Result<void> PumpDriver::call_ok(std::string_view verb, Fields args) {
    auto r = call(verb, std::move(args));
    if (!r) return std::unexpected(r.error());
    return {};
}

Result<void> PumpDriver::flush_acks() {
    for (int i = 0; i < kMaxAcksPerFlush && !pending_acks_.empty(); ++i) {
        const std::uint32_t n = pending_acks_.front();
        pending_acks_.pop_front();
        Fields args;
        args.values.emplace_back("n", std::to_string(n));
        auto r = transact("EVACK", std::move(args));
        if (!r && r.error().kind != ErrorKind::DeviceError) return std::unexpected(r.error());
    }
    return {};
}

Result<void> PumpDriver::pump_incoming(Millis wall_wait, bool stop_on_boot, bool& boot_seen, std::string& received) {
    const auto deadline = steady::now() + wall_wait;
    auto drain = [&] {
        while (auto line = next_line()) {
            if (line->status == codec::DecodedLine::Status::Dropped) continue;  // counted by the decoder
            if (line->status == codec::DecodedLine::Status::BadCrc) {
                ++counters_.crc_errors;
                ++counters_.discarded_lines;
                continue;
            }
            const auto event = codec::classify(line->body) == codec::LineKind::Event ? codec::parse_event(line->body)
                                                                                      : std::nullopt;
            if (!event) {
                ++counters_.discarded_lines;  // no request is open: any response is stale
                continue;
            }
            if (handle_event(*event)) boot_seen = true;
        }
    };
    while (true) {
        drain();
        if (stop_on_boot && boot_seen) return {};
        const auto left = std::max(std::chrono::duration_cast<Millis>(deadline - steady::now()), Millis{0});
        auto got = read_into_decoder(left, {}, received);
        if (!got) return std::unexpected(got.error());
        if (!*got || left == Millis{0}) {  // nothing more in time (a zero wait reads once)
            drain();
            return {};
        }
    }
}

Result<void> PumpDriver::poll_events(Millis wall_wait) {
    bool boot = false;
    std::string received;
    if (auto r = pump_incoming(wall_wait, false, boot, received); !r) return r;
    return flush_acks();
}

std::vector<PumpEvent> PumpDriver::take_events() {
    std::vector<PumpEvent> out;
    out.swap(new_events_);
    return out;
}

// ---- typed calls ----

Result<PumpIdentity> PumpDriver::hello() {
    auto r = call("HELLO");
    if (!r) return std::unexpected(r.error());
    session_active_ = false;  // HELLO ends any earlier session
    const ResponseReader in(*r, "HELLO", last_sent_, last_received_);
    PumpIdentity id;
    auto model = in.text("model");
    if (!model) return std::unexpected(model.error());
    auto sn = in.text("sn");
    if (!sn) return std::unexpected(sn.error());
    auto fw = in.text("fw");
    if (!fw) return std::unexpected(fw.error());
    auto proto = in.whole("proto");
    if (!proto) return std::unexpected(proto.error());
    auto nonce = in.text("nonce");
    if (!nonce) return std::unexpected(nonce.error());
    id.model = std::move(*model);
    id.serial = std::move(*sn);
    id.firmware = std::move(*fw);
    id.proto = *proto;
    id.nonce = std::move(*nonce);
    return id;
}

Result<PumpIdentity> PumpDriver::authenticate(const PumpKey& key) {
    auto id = hello();
    if (!id) return id;
    Fields args;
    std::string mac = auth_mac(key, id->nonce, id->serial);
    // Kept to be scrubbed from whatever the pump sends back (an echo must not leak it).
    options_.secrets->remember(mac);
    args.values.emplace_back("mac", std::move(mac));
    auto r = call_ok("AUTH", std::move(args));
    if (!r) return std::unexpected(r.error());
    session_active_ = true;
    return id;
}

Result<PumpStatus> PumpDriver::status() {
    auto r = call("STATUS");
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "STATUS", last_sent_, last_received_);
    PumpStatus s;
    auto state = in.text("state");
    if (!state) return std::unexpected(state.error());
    if (*state == "STOPPED") s.state = PumpState::Stopped;
    else if (*state == "RUNNING") s.state = PumpState::Running;
    else if (*state == "PRIMING") s.state = PumpState::Priming;
    else if (*state == "SUSPENDED") s.state = PumpState::Suspended;
    else return in.bad("state", *state, "STOPPED, RUNNING, PRIMING or SUSPENDED");
    auto bolus = in.text("bolus");
    if (!bolus) return std::unexpected(bolus.error());
    if (*bolus == "NONE") s.bolus = BolusKind::None;
    else if (*bolus == "CLINICIAN") s.bolus = BolusKind::Clinician;
    else if (*bolus == "PERIODIC") s.bolus = BolusKind::Periodic;
    else if (*bolus == "PTM") s.bolus = BolusKind::Ptm;
    else return in.bad("bolus", *bolus, "NONE, CLINICIAN, PERIODIC or PTM");
    auto t = in.decimal("t");
    auto res = in.decimal("res_ml");
    auto conc = in.whole("conc_ug_ml");
    auto rate = in.decimal("rate_ml_day");
    auto deliv = in.decimal("deliv_ml");
    auto step = in.whole("step");
    auto batt = in.whole("batt_pct");
    auto alarms = in.text("alarms");
    for (const Error* e : {t ? nullptr : &t.error(), res ? nullptr : &res.error(), conc ? nullptr : &conc.error(),
                           rate ? nullptr : &rate.error(), deliv ? nullptr : &deliv.error(),
                           step ? nullptr : &step.error(), batt ? nullptr : &batt.error(),
                           alarms ? nullptr : &alarms.error()})
        if (e != nullptr) return std::unexpected(*e);
    s.pump_t = *t;
    s.res_ml = *res;
    s.conc_ug_ml = *conc;
    s.rate_ml_day = *rate;
    s.deliv_ml = *deliv;
    s.step = *step;
    s.batt_pct = *batt;
    if (*alarms != "NONE") {
        std::string_view rest = *alarms;
        while (true) {
            const auto plus = rest.find('+');
            const auto code = rest.substr(0, plus);
            if (code.empty()) return in.bad("alarms", *alarms, "NONE or alarm codes joined by +");
            s.alarms.emplace_back(code);
            if (plus == std::string_view::npos) break;
            rest.remove_prefix(plus + 1);
        }
    }
    s.raw = r->values;
    return s;
}

Result<double> PumpDriver::clock() {
    auto r = call("CLOCK");
    if (!r) return std::unexpected(r.error());
    return ResponseReader(*r, "CLOCK", last_sent_, last_received_).decimal("t");
}

Result<void> PumpDriver::set_clock(double unix_s) {
    if (auto c = check_quantity("CLOCK", "set", unix_s); !c) return c;
    Fields args;
    args.values.emplace_back("set", codec::format_fixed(unix_s, 3));
    return call_ok("CLOCK", std::move(args));
}

Result<void> PumpDriver::prog_begin() { return call_ok("PROG.BEGIN"); }

Result<void> PumpDriver::prog_step(int start_min, double dose_ug_day) {
    if (auto c = check_time_of_day("PROG.STEP", start_min); !c) return c;
    if (auto c = check_quantity("PROG.STEP", "dose_ug_day", dose_ug_day); !c) return c;
    Fields args;
    args.values.emplace_back("start", codec::format_time_of_day(start_min));
    args.values.emplace_back("dose_ug_day", codec::format_fixed(dose_ug_day, 1));
    return call_ok("PROG.STEP", std::move(args));
}

Result<void> PumpDriver::prog_bolus(int start_min, double dose_ug, int dur_min) {
    if (auto c = check_time_of_day("PROG.BOLUS", start_min); !c) return c;
    if (auto c = check_quantity("PROG.BOLUS", "dose_ug", dose_ug); !c) return c;
    if (auto c = check_count("PROG.BOLUS", "dur_min", dur_min); !c) return c;
    Fields args;
    args.values.emplace_back("start", codec::format_time_of_day(start_min));
    args.values.emplace_back("dose_ug", codec::format_fixed(dose_ug, 1));
    args.values.emplace_back("dur_min", std::to_string(dur_min));
    return call_ok("PROG.BOLUS", std::move(args));
}

Result<void> PumpDriver::prog_ptm(double dose_ug, int dur_min, int lockout_min, int max_day) {
    if (auto c = check_quantity("PROG.PTM", "dose_ug", dose_ug); !c) return c;
    if (auto c = check_count("PROG.PTM", "dur_min", dur_min); !c) return c;
    if (auto c = check_count("PROG.PTM", "lockout_min", lockout_min); !c) return c;
    if (auto c = check_count("PROG.PTM", "max_day", max_day); !c) return c;
    Fields args;
    args.values.emplace_back("dose_ug", codec::format_fixed(dose_ug, 1));
    args.values.emplace_back("dur_min", std::to_string(dur_min));
    args.values.emplace_back("lockout_min", std::to_string(lockout_min));
    args.values.emplace_back("max_day", std::to_string(max_day));
    return call_ok("PROG.PTM", std::move(args));
}

Result<ProgramSummary> PumpDriver::prog_commit() {
    auto r = call("PROG.COMMIT");
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "PROG.COMMIT", last_sent_, last_received_);
    auto steps = in.whole("steps");
    if (!steps) return std::unexpected(steps.error());
    auto boluses = in.whole("boluses");
    if (!boluses) return std::unexpected(boluses.error());
    auto daily = in.decimal("daily_ug");
    if (!daily) return std::unexpected(daily.error());
    return ProgramSummary{*steps, *boluses, false, *daily};
}

Result<ProgramSummary> PumpDriver::prog_read() {
    auto r = call("PROG.READ");
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "PROG.READ", last_sent_, last_received_);
    auto steps = in.whole("steps");
    if (!steps) return std::unexpected(steps.error());
    auto boluses = in.whole("boluses");
    if (!boluses) return std::unexpected(boluses.error());
    auto ptm = in.whole("ptm");
    if (!ptm) return std::unexpected(ptm.error());
    if (*ptm > 1) return in.bad("ptm", std::to_string(*ptm), "0 or 1");
    auto daily = in.decimal("daily_ug");
    if (!daily) return std::unexpected(daily.error());
    return ProgramSummary{*steps, *boluses, *ptm == 1, *daily};
}

Result<ProgramStep> PumpDriver::prog_read_step(int index) {
    if (auto c = check_count("PROG.READ", "step", index); !c) return std::unexpected(c.error());
    Fields args;
    args.values.emplace_back("step", std::to_string(index));
    auto r = call("PROG.READ", std::move(args));
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "PROG.READ,step", last_sent_, last_received_);
    auto i = in.whole("step");
    if (!i) return std::unexpected(i.error());
    auto start = in.time_of_day("start");
    if (!start) return std::unexpected(start.error());
    auto dose = in.decimal("dose_ug_day");
    if (!dose) return std::unexpected(dose.error());
    return ProgramStep{*i, *start, *dose};
}

Result<ProgramBolus> PumpDriver::prog_read_bolus(int index) {
    if (auto c = check_count("PROG.READ", "bolus", index); !c) return std::unexpected(c.error());
    Fields args;
    args.values.emplace_back("bolus", std::to_string(index));
    auto r = call("PROG.READ", std::move(args));
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "PROG.READ,bolus", last_sent_, last_received_);
    auto i = in.whole("bolus");
    if (!i) return std::unexpected(i.error());
    auto start = in.time_of_day("start");
    if (!start) return std::unexpected(start.error());
    auto dose = in.decimal("dose_ug");
    if (!dose) return std::unexpected(dose.error());
    auto dur = in.whole("dur_min");
    if (!dur) return std::unexpected(dur.error());
    return ProgramBolus{*i, *start, *dose, *dur};
}

Result<PtmSettings> PumpDriver::prog_read_ptm() {
    Fields args;
    args.values.emplace_back("ptm", "1");
    auto r = call("PROG.READ", std::move(args));
    if (!r) return std::unexpected(r.error());
    const ResponseReader in(*r, "PROG.READ,ptm", last_sent_, last_received_);
    auto dose = in.decimal("dose_ug");
    if (!dose) return std::unexpected(dose.error());
    auto dur = in.whole("dur_min");
    if (!dur) return std::unexpected(dur.error());
    auto lockout = in.whole("lockout_min");
    if (!lockout) return std::unexpected(lockout.error());
    auto max_day = in.whole("max_day");
    if (!max_day) return std::unexpected(max_day.error());
    return PtmSettings{*dose, *dur, *lockout, *max_day};
}

Result<void> PumpDriver::start() { return call_ok("START"); }
Result<void> PumpDriver::stop() { return call_ok("STOP"); }

Result<void> PumpDriver::bolus(double dose_ug, int dur_min) {
    if (auto c = check_quantity("BOLUS", "dose_ug", dose_ug); !c) return c;
    if (auto c = check_count("BOLUS", "dur_min", dur_min); !c) return c;
    Fields args;
    args.values.emplace_back("dose_ug", codec::format_fixed(dose_ug, 1));
    args.values.emplace_back("dur_min", std::to_string(dur_min));
    return call_ok("BOLUS", std::move(args));
}

Result<void> PumpDriver::bolus_cancel() { return call_ok("BOLUS.CANCEL"); }
Result<void> PumpDriver::ptm() { return call_ok("PTM"); }

Result<void> PumpDriver::prime(double vol_ml) {
    if (auto c = check_quantity("PRIME", "vol_ml", vol_ml); !c) return c;
    Fields args;
    args.values.emplace_back("vol_ml", codec::format_fixed(vol_ml, 3));
    return call_ok("PRIME", std::move(args));
}

Result<void> PumpDriver::refill(double res_ml, int conc_ug_ml) {
    if (auto c = check_quantity("REFILL", "res_ml", res_ml); !c) return c;
    if (auto c = check_count("REFILL", "conc_ug_ml", conc_ug_ml); !c) return c;
    Fields args;
    args.values.emplace_back("res_ml", codec::format_fixed(res_ml, 3));
    args.values.emplace_back("conc_ug_ml", std::to_string(conc_ug_ml));
    return call_ok("REFILL", std::move(args));
}

Result<void> PumpDriver::alarm_cfg(double low_res_ml) {
    if (auto c = check_quantity("ALARM.CFG", "low_res_ml", low_res_ml); !c) return c;
    Fields args;
    args.values.emplace_back("low_res_ml", codec::format_fixed(low_res_ml, 3));
    return call_ok("ALARM.CFG", std::move(args));
}

Result<void> PumpDriver::evack(std::uint32_t n) {
    Fields args;
    args.values.emplace_back("n", std::to_string(n));
    return call_ok("EVACK", std::move(args));
}

Result<void> PumpDriver::reset() {
    Exchange exchange;
    exchange.boot_is_confirmation = true;
    auto r = transact("RESET", {}, &exchange);
    // A timeout is not the end: the OK may have been lost while the pump did reset, and the
    // BOOT event is the confirmation the ICD asks a host to take. Other errors are final.
    if (!r && r.error().kind != ErrorKind::Timeout) return std::unexpected(r.error());
    const std::string sent = r ? last_sent_ : r.error().sent;
    session_active_ = false;
    bool boot = exchange.got_boot;
    std::string received;
    // The pump reads nothing until BOOT, which comes within 2 s of its elapsed time: let bench
    // time pass in slices and look at the link after each.
    for (Millis waited{0}; !boot && waited < options_.boot_bench_wait; waited += options_.boot_slice) {
        wait_bench(options_.boot_slice);
        if (auto p = pump_incoming(options_.boot_slice_wall_read, true, boot, received); !p) return p;
    }
    if (!boot) {
        if (auto p = pump_incoming(options_.response_timeout, true, boot, received); !p) return p;
    }
    if (!boot)
        return fail(ErrorKind::Timeout,
                    "RESET: no BOOT event within " + std::to_string(options_.boot_bench_wait.count()) +
                        " ms of bench time" + (r ? "" : " (and no OK to the RESET)"),
                    {}, sent, received);
    (void)flush_acks();  // as after any call: an EVACK that fails is retried when the event comes again
    return {};
}

}  // namespace pumprig::pump
