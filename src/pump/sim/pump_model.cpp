// The simulated pump, request side: frames in, ICD rules, responses out (ICD sections 2 to 7).
#include "pump/sim/pump_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "pump/codec/fields.hpp"
#include "pump/codec/messages.hpp"

namespace pumprig::pump::sim {

namespace {

constexpr std::int64_t kAuthLockoutMs = 60'000;
constexpr int kAuthFailuresBeforeLockout = 3;
constexpr std::int64_t kMinPrimeNl = 1'000;  // 0.001 mL
constexpr std::int64_t kMinLowResNl = 1'000'000, kMaxLowResNl = 5'000'000;
// Any dose or volume this large (1e11 ug, 1e11 mL) is outside every limit; capping here keeps
// the exact integer limit checks inside 64 bits.
constexpr std::int64_t kHugeMicro = 100'000'000'000'000'000LL;

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A decimal value (ICD section 2) as an exact count of millionths. A well-formed number too
// long for the codec's double is not malformed, only huge: it comes back capped, so the caller
// answers RANGE, not ARG.
std::optional<std::int64_t> decimal_micro(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = text.substr(0, dot);
    const auto frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    const bool well_formed = all_digits(whole) && (dot == std::string_view::npos ||
                                                    (frac.size() >= 1 && frac.size() <= 6 && all_digits(frac)));
    if (!well_formed) return std::nullopt;
    if (whole.size() <= 15 && !codec::parse_decimal(text)) return std::nullopt;  // the codec's rule
    const auto first = whole.find_first_not_of('0');
    if (first != std::string_view::npos && whole.size() - first > 11) return kHugeMicro;
    std::int64_t v = 0;
    for (char c : whole) v = v * 10 + (c - '0');
    std::int64_t f = 0;
    for (std::size_t i = 0; i < 6; ++i) f = f * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    return std::min(kHugeMicro, v * 1'000'000 + f);
}

// A whole number (counts, minutes, percent, concentration). Well-formed but beyond 32 bits
// reads as UINT32_MAX so that it fails its range check (RANGE), not its format (ARG).
std::optional<std::uint32_t> whole_number(std::string_view text) {
    if (!all_digits(text)) return std::nullopt;
    if (auto v = codec::parse_whole(text)) return v;
    return UINT32_MAX;
}

std::string fixed_from_micro(std::int64_t micro, int decimals) {
    return codec::format_fixed(static_cast<double>(micro) / 1e6, decimals);
}

// nL as mL with 3 decimals, rounded half up on whole microlitres with integers (a double would
// round x.xxx5 one way or the other depending on its binary value).
std::string ml_from_nl(std::int64_t nl) {
    const std::int64_t ul = (nl + 500) / 1000;
    std::string frac = std::to_string(ul % 1000);
    return std::to_string(ul / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
}

bool is_field_value(std::string_view v) {
    if (v.empty()) return false;
    for (unsigned char c : v)
        if (c < 0x20 || c > 0x7E || c == ',' || c == '$' || c == '*' || c == '=') return false;
    return true;
}

}  // namespace

// The key=value fields of a request, with the ICD's ARG rules: a key the verb does not know, a
// key given twice, or a key it needs and did not get.
struct PumpModel::Args {
    const codec::Fields& fields;
    std::string_view get(std::string_view key) const { return fields.get(key).value_or(std::string_view{}); }
    bool has(std::string_view key) const { return fields.has(key); }
    std::optional<std::string> key_problem(std::initializer_list<std::string_view> required,
                                           std::initializer_list<std::string_view> optional = {}) const {
        for (std::size_t i = 0; i < fields.values.size(); ++i) {
            const auto& key = fields.values[i].first;
            const bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                               std::find(optional.begin(), optional.end(), key) != optional.end();
            if (!known) return "unknown key " + key;
            for (std::size_t j = 0; j < i; ++j)
                if (fields.values[j].first == key) return "key " + key + " given twice";
        }
        for (auto key : required)
            if (!fields.has(key)) return "missing key " + std::string(key);
        return std::nullopt;
    }
};

const char* to_string(PumpState state) {
    switch (state) {
        case PumpState::Stopped: return "STOPPED";
        case PumpState::Running: return "RUNNING";
        case PumpState::Priming: return "PRIMING";
        case PumpState::Suspended: return "SUSPENDED";
    }
    return "?";
}

const char* to_string(Alarm alarm) {
    switch (alarm) {
        case Alarm::LowRes: return "LOW_RES";
        case Alarm::EmptyRes: return "EMPTY_RES";
        case Alarm::Eri: return "ERI";
        case Alarm::Eos: return "EOS";
        case Alarm::MotorStall: return "MOTOR_STALL";
    }
    return "?";
}

const char* to_string(BolusKind kind) {
    switch (kind) {
        case BolusKind::Clinician: return "CLINICIAN";
        case BolusKind::Periodic: return "PERIODIC";
        case BolusKind::Ptm: return "PTM";
    }
    return "?";
}

bool PumpModel::Snapshot::has(Alarm a) const {
    return std::find(alarms.begin(), alarms.end(), a) != alarms.end();
}

PumpModel::PumpModel(PumpModelConfig config, BenchTime clock_at_power_on)
    : config_(std::move(config)), nonces_(config_.seed, config_.forced_nonces) {
    clock_ppm_ = config_.clock_ppm + (defect(Defect::ClockDrift) ? magnitude(Defect::ClockDrift) : 0.0);
    jitter_state_ = config_.seed ^ 0x5DEECE66DULL;
    if (!(clock_ppm_ > -1e6)) throw std::invalid_argument("the pump clock cannot run backwards");
    if (config_.reset_duration_ms < 0 || config_.stroke_jitter_ms < 0 || !(config_.stroke_volume_error > -1))
        throw std::invalid_argument("pump mechanics out of range");
    const auto size = reservoir_size_nl(config_.model);
    if (!size) throw std::invalid_argument("pump model must be ITB-20 or ITB-40, not '" + config_.model + "'");
    reservoir_size_nl_ = *size;
    if (!is_field_value(config_.serial)) throw std::invalid_argument("pump serial must be printable ASCII without , $ * =");
    if (!is_field_value(config_.firmware)) throw std::invalid_argument("pump firmware must be printable ASCII without , $ * =");
    for (const auto& n : config_.forced_nonces)
        if (!is_nonce_text(n)) throw std::invalid_argument("forced nonce must be 16 upper-case hexadecimal digits");
    if (!(config_.initial_batt_pct >= 0 && config_.initial_batt_pct <= 100))
        throw std::invalid_argument("initial battery charge must be 0 to 100 percent");
    if (!(config_.batt_drain_pct_per_day >= 0) || !(config_.batt_drain_pct_per_ml >= 0))
        throw std::invalid_argument("battery drain rates must not be negative");
    clock_offset_ms_ = clock_at_power_on.time_since_epoch().count();
    batt_anchor_pct_ = config_.initial_batt_pct;
    // At power-on the reservoir estimate is 0 with no alarm set (the ICD's example STATUS says
    // alarms=NONE): reservoir alarms are first checked by a refill or by delivery.
    emit_event("BOOT", {{"reason", "POWER"}});
    check_battery();
}

void PumpModel::receive(std::string_view bytes) {
    if (resetting_) return;  // a restarting pump reads nothing until its BOOT
    decoder_.feed(bytes);
    while (auto line = decoder_.next()) {
        handle_line(*line);
        if (resetting_) {
            decoder_ = codec::FrameDecoder{};  // whatever followed RESET was never read
            return;
        }
    }
}

std::string PumpModel::take_output() { return std::exchange(output_, {}); }

void PumpModel::inject_motor_stall() { stall_pending_ = true; }

void PumpModel::send_body(const std::string& body) { output_ += codec::encode_frame(body); }

void PumpModel::handle_line(const codec::DecodedLine& line) {
    if (line.status == codec::DecodedLine::Status::BadCrc) {
        send_body("0,ERR,code=CRC");
        return;
    }
    const std::string& body = line.body;
    // SEQ is the first field; read it on its own so that a malformed rest of the body can
    // still be answered with the request's SEQ.
    const auto seq_text = std::string_view(body).substr(0, body.find(','));
    const auto seq = codec::parse_whole(seq_text);
    if (!seq || *seq < 1 || *seq > codec::kMaxSeq) {
        send_body("0,ERR,code=SYNTAX");
        return;
    }
    const std::string seq_str = std::to_string(*seq);
    const auto fields = codec::split_fields(body);
    if (!fields || fields->leading.size() != 2) {
        send_body(seq_str + ",ERR,code=SYNTAX");
        return;
    }
    // Retry safety (section 2): same SEQ and same body as the last executed request gets the
    // same answer again, without executing; same SEQ with another body is refused.
    // retry_executed_again: the defect skips this and executes the repeated request again.
    if (last_request_ && last_request_->seq == *seq &&
        !(defect(Defect::RetryExecutedAgain) && last_request_->body == body)) {
        if (last_request_->body == body) {
            output_ += last_request_->response_frame;
        } else {
            send_body(seq_str + ",ERR,code=SEQ,msg=SEQ of the last request with another body");
        }
        return;
    }

    Reply reply;
    const VerbRule* rule = find_verb(fields->leading[1]);
    const Args args{*fields};
    if (!rule) {
        reply = {false, "UNKNOWN", "no verb " + fields->leading[1], {}};
    } else {
        reply = dispatch(*rule, args);
    }

    codec::Fields out;
    out.leading = {seq_str, reply.ok ? "OK" : "ERR"};
    if (!reply.ok) {
        out.values.emplace_back("code", reply.code);
        std::string msg = reply.msg;
        std::replace_if(msg.begin(), msg.end(), [](char c) { return c == ',' || c == '$' || c == '*' || c == '='; }, ' ');
        if (!msg.empty()) out.values.emplace_back("msg", msg.substr(0, 120));
    }
    for (auto& kv : reply.values) out.values.push_back(std::move(kv));
    const std::string frame = codec::encode_frame(out.join());
    output_ += frame;

    if (reset_requested_) {
        reset_requested_ = false;
        begin_reset();  // forgets the last SEQ, so nothing is kept
        return;
    }
    // Every answered request counts as executed, errors included: a retry of a refused request
    // gets the same refusal (the pump never answers BUSY, so none is kept by mistake).
    last_request_ = LastRequest{*seq, body, frame};
}

const PumpModel::VerbRule* PumpModel::find_verb(std::string_view verb) {
    // Without a session only HELLO, AUTH, STATUS and EVACK (section 3); at end of service only
    // HELLO, STATUS and EVACK (section 8).
    static const VerbRule rules[] = {
        {"HELLO", false, true, &PumpModel::on_hello},
        {"AUTH", false, false, &PumpModel::on_auth},
        {"STATUS", false, true, &PumpModel::on_status},
        {"EVACK", false, true, &PumpModel::on_evack},
        {"CLOCK", true, false, &PumpModel::on_clock},
        {"PROG.BEGIN", true, false, &PumpModel::on_prog_begin},
        {"PROG.STEP", true, false, &PumpModel::on_prog_step},
        {"PROG.BOLUS", true, false, &PumpModel::on_prog_bolus},
        {"PROG.PTM", true, false, &PumpModel::on_prog_ptm},
        {"PROG.COMMIT", true, false, &PumpModel::on_prog_commit},
        {"PROG.READ", true, false, &PumpModel::on_prog_read},
        {"START", true, false, &PumpModel::on_start},
        {"STOP", true, false, &PumpModel::on_stop},
        {"BOLUS", true, false, &PumpModel::on_bolus},
        {"BOLUS.CANCEL", true, false, &PumpModel::on_bolus_cancel},
        {"PTM", true, false, &PumpModel::on_ptm},
        {"PRIME", true, false, &PumpModel::on_prime},
        {"REFILL", true, false, &PumpModel::on_refill},
        {"ALARM.CFG", true, false, &PumpModel::on_alarm_cfg},
        {"RESET", true, false, &PumpModel::on_reset},
    };
    for (const auto& r : rules)
        if (r.verb == verb) return &r;
    return nullptr;
}

PumpModel::Reply PumpModel::dispatch(const VerbRule& rule, const Args& args) {
    // Precedence (section 2): UNKNOWN (done), AUTH, STATE at end of service; the handlers then
    // check ARG, STATE, RANGE, LOCKOUT, LIMIT in that order.
    if (rule.needs_session && !session_) return {false, "AUTH", "authenticate first (HELLO then AUTH)", {}};
    if (end_of_service_ && !rule.allowed_at_end_of_service)
        return {false, "STATE", "end of service: only HELLO STATUS and EVACK", {}};
    return (this->*rule.handler)(args);
}

// An error reply: code and a short message naming what was expected.
#define PUMP_ERR(code, msg) Reply{false, code, msg, {}}

bool PumpModel::auth_locked() const { return elapsed_ms_ < auth_locked_until_ms_; }

PumpModel::Reply PumpModel::on_hello(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    session_ = false;
    edit_.reset();
    nonce_ = nonces_.next();
    nonce_fresh_ = true;
    return {true, {}, {}, {{"model", config_.model}, {"sn", config_.serial}, {"fw", config_.firmware},
                           {"proto", "1"}, {"nonce", nonce_}}};
}

PumpModel::Reply PumpModel::on_auth(const Args& args) {
    // Every AUTH uses up the nonce, whatever its answer (section 3: "after any AUTH, right or
    // wrong, the host sends HELLO again"); conservative for LOCKED and ARG answers too.
    const bool fresh = std::exchange(nonce_fresh_, false);
    // LOCKED goes to "every AUTH" during the lockout, so it comes before the ARG check.
    if (auth_locked()) return PUMP_ERR("LOCKED", "too many failed AUTH, wait 60 s");
    if (auto p = args.key_problem({"mac"})) return PUMP_ERR("ARG", *p);
    if (fresh && mac_matches(config_.key, nonce_, config_.serial, args.get("mac"))) {
        session_ = true;
        auth_failures_ = 0;
        return {};
    }
    if (++auth_failures_ >= kAuthFailuresBeforeLockout) {
        auth_failures_ = 0;  // the count starts again after the lockout
        auth_locked_until_ms_ = elapsed_ms_ + kAuthLockoutMs;
    }
    // A failed AUTH leaves an established session as it was.
    return PUMP_ERR("AUTH", fresh ? "mac does not match" : "no fresh nonce: send HELLO first");
}

PumpModel::Reply PumpModel::on_status(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    const auto s = snapshot();
    std::string alarms;
    for (Alarm a : alarms_) {
        if (!alarms.empty()) alarms += '+';
        alarms += to_string(a);
    }
    if (alarms.empty()) alarms = "NONE";
    const bool running = state_ == PumpState::Running;
    return {true, {}, {}, {
        {"state", to_string(state_)},
        {"t", clock_text()},
        {"res_ml", ml_from_nl(reservoir_nl_)},
        {"conc_ug_ml", std::to_string(conc_ug_ml_)},
        {"rate_ml_day", codec::format_fixed(running ? basal_nl_per_day() / 1e6 : 0.0, 3)},
        {"bolus", bolus_ ? to_string(bolus_->kind) : "NONE"},
        {"deliv_ml", ml_from_nl(delivered_strokes() * ItbLimits::kStrokeNl)},
        {"step", std::to_string(running ? current_step_ + 1 : 0)},
        {"batt_pct", std::to_string(s.batt_pct)},
        {"alarms", alarms},
    }};
}

PumpModel::Reply PumpModel::on_evack(const Args& args) {
    if (auto p = args.key_problem({"n"})) return PUMP_ERR("ARG", *p);
    const auto n = whole_number(args.get("n"));
    if (!n) return PUMP_ERR("ARG", "n must be a whole number");
    std::erase_if(pending_events_, [&](const PendingEvent& e) { return e.n == *n; });
    return {};  // OK also for an event that is not waiting
}

PumpModel::Reply PumpModel::on_clock(const Args& args) {
    if (auto p = args.key_problem({}, {"set"})) return PUMP_ERR("ARG", *p);
    if (!args.has("set")) return {true, {}, {}, {{"t", clock_text()}}};
    const auto micro = decimal_micro(args.get("set"));
    const auto dot = args.get("set").find('.');
    if (!micro || (dot != std::string_view::npos && args.get("set").size() - dot - 1 > 3))
        return PUMP_ERR("ARG", "set must be Unix seconds with at most 3 decimals");
    if (state_ != PumpState::Stopped) return PUMP_ERR("STATE", "the clock is set only while STOPPED");
    if (*micro >= kHugeMicro) return PUMP_ERR("RANGE", "set is beyond the pump clock");
    clock_offset_ms_ = *micro / 1000 - clock_elapsed(elapsed_ms_);
    return {};
}

PumpModel::Reply PumpModel::on_prog_begin(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    edit_ = Program{};  // discards an edit not committed
    return {};
}

PumpModel::Reply PumpModel::on_prog_step(const Args& args) {
    if (auto p = args.key_problem({"start", "dose_ug_day"})) return PUMP_ERR("ARG", *p);
    const auto start = codec::parse_time_of_day(args.get("start"));
    if (!start) return PUMP_ERR("ARG", "start must be HH:MM");
    const auto dose = decimal_micro(args.get("dose_ug_day"));
    if (!dose) return PUMP_ERR("ARG", "dose_ug_day must be a decimal number");
    if (!edit_) return PUMP_ERR("STATE", "no program edit open (PROG.BEGIN)");
    if (edit_->steps.size() >= kMaxSteps) return PUMP_ERR("RANGE", "at most 10 steps");
    edit_->steps.push_back({*start, *dose});
    return {};
}

PumpModel::Reply PumpModel::on_prog_bolus(const Args& args) {
    if (auto p = args.key_problem({"start", "dose_ug", "dur_min"})) return PUMP_ERR("ARG", *p);
    const auto start = codec::parse_time_of_day(args.get("start"));
    if (!start) return PUMP_ERR("ARG", "start must be HH:MM");
    const auto dose = decimal_micro(args.get("dose_ug"));
    if (!dose) return PUMP_ERR("ARG", "dose_ug must be a decimal number");
    const auto dur = whole_number(args.get("dur_min"));
    if (!dur) return PUMP_ERR("ARG", "dur_min must be a whole number");
    if (!edit_) return PUMP_ERR("STATE", "no program edit open (PROG.BEGIN)");
    if (*dur < 1 || *dur > kMinutesPerDay) return PUMP_ERR("RANGE", "dur_min must be 1 to 1440");
    if (edit_->boluses.size() >= kMaxPeriodicBoluses) return PUMP_ERR("RANGE", "at most 4 periodic boluses");
    edit_->boluses.push_back({*start, *dose, static_cast<int>(*dur)});
    return {};
}

PumpModel::Reply PumpModel::on_prog_ptm(const Args& args) {
    if (auto p = args.key_problem({"dose_ug", "dur_min", "lockout_min", "max_day"})) return PUMP_ERR("ARG", *p);
    const auto dose = decimal_micro(args.get("dose_ug"));
    if (!dose) return PUMP_ERR("ARG", "dose_ug must be a decimal number");
    const auto dur = whole_number(args.get("dur_min"));
    const auto lockout = whole_number(args.get("lockout_min"));
    const auto max_day = whole_number(args.get("max_day"));
    if (!dur || !lockout || !max_day) return PUMP_ERR("ARG", "dur_min lockout_min and max_day must be whole numbers");
    if (!edit_) return PUMP_ERR("STATE", "no program edit open (PROG.BEGIN)");
    if (*dur < 1 || *dur > kMinutesPerDay) return PUMP_ERR("RANGE", "dur_min must be 1 to 1440");
    if (*lockout > kMinutesPerDay) return PUMP_ERR("RANGE", "lockout_min must be 0 to 1440");
    if (*max_day < 1 || *max_day > 24) return PUMP_ERR("RANGE", "max_day must be 1 to 24");
    edit_->ptm = PatientBolus{*dose, static_cast<int>(*dur), static_cast<int>(*lockout), static_cast<int>(*max_day)};
    return {};
}

PumpModel::Reply PumpModel::on_prog_commit(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    if (!edit_) return PUMP_ERR("STATE", "no program edit open (PROG.BEGIN)");
    Program edit = std::move(*edit_);
    edit_.reset();  // every commit, good or failed, closes the edit
    if (conc_ug_ml_ == 0) return PUMP_ERR("STATE", "no concentration set yet (REFILL first)");
    if (auto problem = program_problem(edit, conc_ug_ml_); !problem.empty()) return PUMP_ERR("RANGE", problem);
    if (state_ == PumpState::Running && defect(Defect::CommitRunningDeferred)) {
        // The answer is the new program's; the old one goes on until the next START.
        deferred_program_ = std::move(edit);
        return {true, {}, {}, {{"steps", std::to_string(deferred_program_->steps.size())},
                               {"boluses", std::to_string(deferred_program_->boluses.size())},
                               {"daily_ug", codec::format_fixed(deferred_program_->daily_ug(), 1)}}};
    }
    program_ = std::move(edit);
    deferred_program_.reset();
    if (state_ == PumpState::Running) {
        // A bolus under way goes on; boluses waiting are dropped; the new step is announced.
        waiting_boluses_.clear();
        current_step_ = step_in_force();
        update_basal_rate();
        announce_step();
    }
    return {true, {}, {}, {{"steps", std::to_string(program_->steps.size())},
                           {"boluses", std::to_string(program_->boluses.size())},
                           {"daily_ug", codec::format_fixed(program_->daily_ug(), 1)}}};
}

PumpModel::Reply PumpModel::on_prog_read(const Args& args) {
    if (auto p = args.key_problem({}, {"step", "bolus", "ptm"})) return PUMP_ERR("ARG", *p);
    if (args.fields.values.size() > 1) return PUMP_ERR("ARG", "at most one of step bolus ptm");
    if (args.fields.values.empty()) {
        if (!program_) return {true, {}, {}, {{"steps", "0"}, {"boluses", "0"}, {"ptm", "0"}, {"daily_ug", "0.0"}}};
        return {true, {}, {}, {{"steps", std::to_string(program_->steps.size())},
                               {"boluses", std::to_string(program_->boluses.size())},
                               {"ptm", program_->ptm ? "1" : "0"},
                               {"daily_ug", codec::format_fixed(program_->daily_ug(), 1)}}};
    }
    const auto& [key, value] = args.fields.values.front();
    const auto index = whole_number(value);
    if (!index) return PUMP_ERR("ARG", key + " must be a whole number");
    if (key == "ptm") {
        // Only ptm=1 is described; another number is not a well-formed request.
        if (*index != 1) return PUMP_ERR("ARG", "ptm must be 1");
        if (!program_ || !program_->ptm) return PUMP_ERR("STATE", "the program allows no patient bolus");
        const auto& p = *program_->ptm;
        return {true, {}, {}, {{"dose_ug", fixed_from_micro(p.dose_ug, 1)}, {"dur_min", std::to_string(p.dur_min)},
                               {"lockout_min", std::to_string(p.lockout_min)}, {"max_day", std::to_string(p.max_day)}}};
    }
    if (key == "step") {
        if (!program_ || *index < 1 || *index > program_->steps.size()) return PUMP_ERR("RANGE", "no such step");
        const auto& s = program_->steps[*index - 1];
        return {true, {}, {}, {{"step", std::to_string(*index)}, {"start", codec::format_time_of_day(s.start_min)},
                               {"dose_ug_day", fixed_from_micro(s.dose_ug_day, 1)}}};
    }
    if (!program_ || *index < 1 || *index > program_->boluses.size()) return PUMP_ERR("RANGE", "no such bolus");
    const auto& b = program_->boluses[*index - 1];
    return {true, {}, {}, {{"bolus", std::to_string(*index)}, {"start", codec::format_time_of_day(b.start_min)},
                           {"dose_ug", fixed_from_micro(b.dose_ug, 1)}, {"dur_min", std::to_string(b.dur_min)}}};
}

PumpModel::Reply PumpModel::on_start(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    if (state_ != PumpState::Stopped) return PUMP_ERR("STATE", std::string("START only while STOPPED, not ") + to_string(state_));
    if (!program_) return PUMP_ERR("STATE", "no program in force");
    if (conc_ug_ml_ == 0) return PUMP_ERR("STATE", "no concentration set");
    if (alarm_set(Alarm::EmptyRes)) return PUMP_ERR("STATE", "EMPTY_RES is set");
    if (deferred_program_) program_ = *std::exchange(deferred_program_, std::nullopt);
    start_running();
    return {};
}

PumpModel::Reply PumpModel::on_stop(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    // OK also when already STOPPED. From SUSPENDED, STOP is what clears MOTOR_STALL.
    // stall_not_cleared: the alarm stays and the pump stays SUSPENDED.
    if (alarm_set(Alarm::MotorStall) && defect(Defect::StallNotCleared)) return {};
    // stop_ignored, stop_refused: a pump that will not stop (the ICD allows STOP in every state).
    if (state_ == PumpState::Running || state_ == PumpState::Priming) {
        if (defect(Defect::StopIgnored)) return {};
        if (defect(Defect::StopRefused)) return PUMP_ERR("STATE", std::string("STOP not taken while ") + to_string(state_));
    }
    clear_alarm(Alarm::MotorStall);
    if (bolus_ && defect(Defect::StopKeepsBolus)) {
        // The basal stops, the bolus under way is left running to its end.
        const BolusRun kept = *bolus_;
        bolus_.reset();
        stop_delivery(PumpState::Stopped);
        base_strokes_ -= kept.contribution(elapsed_ms_);  // the plan goes on from what was made
        bolus_ = kept;
        return {};
    }
    stop_delivery(PumpState::Stopped);  // BOLUS_END / PRIME_END, then STATE
    return {};
}

PumpModel::Reply PumpModel::on_bolus(const Args& args) {
    if (auto p = args.key_problem({"dose_ug", "dur_min"})) return PUMP_ERR("ARG", *p);
    const auto dose = decimal_micro(args.get("dose_ug"));
    if (!dose) return PUMP_ERR("ARG", "dose_ug must be a decimal number");
    const auto dur = whole_number(args.get("dur_min"));
    if (!dur) return PUMP_ERR("ARG", "dur_min must be a whole number");
    if (state_ != PumpState::Running) return PUMP_ERR("STATE", "BOLUS only while RUNNING");
    if (alarm_set(Alarm::EmptyRes)) return PUMP_ERR("STATE", "EMPTY_RES is set");
    if (bolus_) return PUMP_ERR("STATE", "another bolus is under way");
    if (*dur < 1 || *dur > kMinutesPerDay) return PUMP_ERR("RANGE", "dur_min must be 1 to 1440");
    if (!bolus_within_rate_limit(*dose, static_cast<int>(*dur), conc_ug_ml_))
        return PUMP_ERR("RANGE", "bolus faster than 1.0 mL/h");
    start_bolus(BolusKind::Clinician, *dose, static_cast<int>(*dur));
    return {};
}

PumpModel::Reply PumpModel::on_bolus_cancel(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    if (bolus_) {
        finish_bolus();
        start_next_waiting_bolus();  // a waiting periodic bolus starts when this one ends
    }
    return {};
}

std::int64_t PumpModel::ptm_starts_within_day() const {
    // "K have started in the last 24 hours": a start exactly 24 h ago still counts (the
    // conservative reading: it refuses rather than allows at the boundary).
    return std::count_if(ptm_starts_ms_.begin(), ptm_starts_ms_.end(),
                         [&](std::int64_t s) { return elapsed_ms_ - s <= 86'400'000; });
}

PumpModel::Reply PumpModel::on_ptm(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    if (state_ != PumpState::Running) return PUMP_ERR("STATE", "PTM only while RUNNING");
    if (!program_ || !program_->ptm) return PUMP_ERR("STATE", "the program allows no patient bolus");
    if (alarm_set(Alarm::EmptyRes)) return PUMP_ERR("STATE", "EMPTY_RES is set");
    if (bolus_) return PUMP_ERR("STATE", "another bolus is under way");
    const auto& ptm = *program_->ptm;
    // ptm_lockout_short: the lockout ends M minutes early; ptm_lockout_on_clock: it is timed
    // on the settable clock instead of elapsed time.
    const std::int64_t lockout_ms =
        std::max<std::int64_t>(0, ptm.lockout_min * 60'000LL -
                                      (defect(Defect::PtmLockoutShort) ? std::llround(magnitude(Defect::PtmLockoutShort) * 60'000.0) : 0));
    const std::int64_t since_last = defect(Defect::PtmLockoutOnClock) && !ptm_start_clocks_ms_.empty()
                                        ? clock_ms() - ptm_start_clocks_ms_.back()
                                        : (ptm_starts_ms_.empty() ? 0 : elapsed_ms_ - ptm_starts_ms_.back());
    if (!ptm_starts_ms_.empty() && since_last < lockout_ms)
        return PUMP_ERR("LOCKOUT", "less than lockout_min since the last patient bolus");
    // ptm_limit_calendar_day: only starts on the pump clock's day count.
    const std::int64_t counted =
        defect(Defect::PtmLimitCalendarDay)
            ? std::count_if(ptm_start_clocks_ms_.begin(), ptm_start_clocks_ms_.end(),
                            [&](std::int64_t c) { return c / 86'400'000 == clock_ms() / 86'400'000; })
            : ptm_starts_within_day();
    if (counted >= ptm.max_day + (defect(Defect::PtmLimitOffByOne) ? 1 : 0)) return PUMP_ERR("LIMIT", "max_day patient boluses in the last 24 h");
    while (!ptm_starts_ms_.empty() && elapsed_ms_ - ptm_starts_ms_.front() > 86'400'000) {
        ptm_starts_ms_.pop_front();
        ptm_start_clocks_ms_.pop_front();
    }
    ptm_starts_ms_.push_back(elapsed_ms_);
    ptm_start_clocks_ms_.push_back(clock_ms());
    start_bolus(BolusKind::Ptm, ptm.dose_ug, ptm.dur_min);
    return {};
}

PumpModel::Reply PumpModel::on_prime(const Args& args) {
    if (auto p = args.key_problem({"vol_ml"})) return PUMP_ERR("ARG", *p);
    const auto vol = decimal_micro(args.get("vol_ml"));  // mL x 1e6 = nL
    if (!vol) return PUMP_ERR("ARG", "vol_ml must be a decimal number");
    if (state_ != PumpState::Stopped) return PUMP_ERR("STATE", "PRIME only while STOPPED");
    if (*vol < kMinPrimeNl || *vol > reservoir_nl_ - ItbLimits::kEmptyResNl)
        return PUMP_ERR("RANGE", "vol_ml must be 0.001 to the reservoir less 0.5 mL");
    start_priming(*vol);
    return {};
}

PumpModel::Reply PumpModel::on_refill(const Args& args) {
    if (auto p = args.key_problem({"res_ml", "conc_ug_ml"})) return PUMP_ERR("ARG", *p);
    const auto res = decimal_micro(args.get("res_ml"));
    if (!res) return PUMP_ERR("ARG", "res_ml must be a decimal number");
    const auto conc = whole_number(args.get("conc_ug_ml"));
    if (!conc) return PUMP_ERR("ARG", "conc_ug_ml must be a whole number");
    if (state_ != PumpState::Stopped) return PUMP_ERR("STATE", "REFILL only while STOPPED");
    if (*res > reservoir_size_nl_) return PUMP_ERR("RANGE", "res_ml beyond the reservoir size");
    if (*conc < ItbLimits::kMinConcUgPerMl || *conc > ItbLimits::kMaxConcUgPerMl)
        return PUMP_ERR("RANGE", "conc_ug_ml must be 50 to 4000");
    if (program_) {
        if (auto problem = program_problem(*program_, *conc); !problem.empty())
            return PUMP_ERR("RANGE", "program outside limits at this concentration: " + problem);
    }
    // refill_adds: the volume is added to what the pump believes is left.
    reservoir_nl_ = defect(Defect::RefillAdds) ? std::min<std::int64_t>(reservoir_size_nl_, reservoir_nl_ + *res) : *res;
    if (!(defect(Defect::RefillConcentrationIgnored) && conc_ug_ml_ != 0)) conc_ug_ml_ = *conc;
    // A refill is the only thing that clears the reservoir alarms, and it can set them too.
    if (reservoir_nl_ > low_res_threshold_nl_) clear_alarm(Alarm::LowRes);
    if (reservoir_nl_ > ItbLimits::kEmptyResNl) clear_alarm(Alarm::EmptyRes);
    check_reservoir_alarms();
    return {};
}

PumpModel::Reply PumpModel::on_alarm_cfg(const Args& args) {
    if (auto p = args.key_problem({"low_res_ml"})) return PUMP_ERR("ARG", *p);
    const auto thr = decimal_micro(args.get("low_res_ml"));
    if (!thr) return PUMP_ERR("ARG", "low_res_ml must be a decimal number");
    if (*thr < kMinLowResNl || *thr > kMaxLowResNl) return PUMP_ERR("RANGE", "low_res_ml must be 1.0 to 5.0");
    low_res_threshold_nl_ = *thr;
    // LOW_RES is checked here (only it: EMPTY_RES is checked as delivery goes and at REFILL),
    // but a threshold now below the reservoir does not clear it: only a refill does.
    if (low_res_reached()) set_alarm(Alarm::LowRes);
    return {};
}

PumpModel::Reply PumpModel::on_reset(const Args& args) {
    if (auto p = args.key_problem({})) return PUMP_ERR("ARG", *p);
    reset_requested_ = true;  // done after the OK is queued
    return {};
}

#undef PUMP_ERR

PumpModel::Snapshot PumpModel::snapshot() const {
    Snapshot s;
    s.state = state_;
    s.end_of_service = end_of_service_;
    s.resetting = resetting_;
    s.session = session_;
    s.auth_locked = auth_locked();
    s.edit_open = edit_.has_value();
    s.clock = BenchTime{Millis{clock_ms()}};
    s.elapsed = Millis{elapsed_ms_};
    s.reservoir = Volume::from_nl(static_cast<double>(reservoir_nl_));
    s.delivered = Volume::from_nl(static_cast<double>(delivered_strokes() * ItbLimits::kStrokeNl));
    s.conc_ug_ml = conc_ug_ml_;
    s.basal_rate = state_ == PumpState::Running ? FlowRate::from_ml_per_day(basal_nl_per_day() / 1e6) : FlowRate{};
    if (bolus_) s.bolus = bolus_->kind;
    s.boluses_waiting = waiting_boluses_.size();
    s.step = state_ == PumpState::Running ? static_cast<int>(current_step_) + 1 : 0;
    s.battery_pct = battery_at(elapsed_ms_, strokes_total_);
    // batt_pct is the charge rounded to the nearest whole percent (half up): ERI (<= 10) and
    // EOS (0) then come when the exact charge is below 10.5 and 0.5, never later than it
    // reaching 10 and 0 (the conservative side), and a fresh battery reads 100.
    s.batt_pct = static_cast<int>(s.battery_pct + 0.5);
    s.alarms = alarms_;
    s.low_res_threshold = Volume::from_nl(static_cast<double>(low_res_threshold_nl_));
    s.program = program_;
    s.unacked_events = pending_events_.size();
    return s;
}

}  // namespace pumprig::pump::sim
