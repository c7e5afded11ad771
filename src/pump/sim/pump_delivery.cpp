// The simulated pump, time side: delivery, alarms, events and their resending (ICD sections 4
// to 9). Everything here runs on whole milliseconds of elapsed time; see pump_model.hpp.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "pump/codec/fields.hpp"
#include "pump/sim/pump_model.hpp"

namespace pumprig::pump::sim {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kEventResendMs = 10'000;
constexpr std::size_t kMaxKeptEvents = 64;
// Battery thresholds on the exact charge; batt_pct is it rounded half up (see snapshot()).
constexpr double kEriBelowPct = 10.5;
constexpr double kEosBelowPct = 0.5;
// Planned volumes are sums of doubles; a stroke that is due "exactly" must not be lost to a
// rounding error of 1e-12 of a stroke.
constexpr double kStrokeSlack = 1e-9;
// Priming runs at 1.0 mL/h: 1e6 nL in 3.6e6 ms, i.e. one 0.25 uL stroke every 900 ms.
constexpr double kPrimeMsPerStroke = 900.0;

std::int64_t floor_mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

// The first tick after `after` where pred holds, starting from an estimate of it (from a
// linear formula): correct the estimate by a few ticks each way, since a double estimate can
// be one tick off. If it is still short, the tick returned is a harmless early re-check.
template <class Pred>
std::int64_t first_tick(std::int64_t after, double estimate, Pred pred) {
    if (!(estimate < 4e18)) return kNever;
    std::int64_t t = std::max(after + 1, static_cast<std::int64_t>(std::ceil(estimate)));
    for (int i = 0; i < 4 && t > after + 1 && pred(t - 1); ++i) --t;
    for (int i = 0; i < 4 && !pred(t); ++i) ++t;
    return t;
}

}  // namespace

double PumpModel::Run::contribution(std::int64_t t) const {
    if (t >= end_ms) return planned_strokes;  // exact at the end, whatever the rounding on the way
    return std::min(planned_strokes, strokes_per_ms * static_cast<double>(t - start_ms));
}

// ---- behaviour a defect catalogue may bend later -------------------------------------------

double PumpModel::basal_nl_per_day() const {
    if (state_ != PumpState::Running || !program_) return 0;
    if (alarm_set(Alarm::EmptyRes) && !defect(Defect::EmptyResNoMinimumRate))
        return static_cast<double>(ItbLimits::kMinBasalNlPerDay);
    const double nl = dose_to_nl(program_->steps[current_step_].dose_ug_day, conc_ug_ml_);
    return defect(Defect::RateError) ? nl * (1.0 + magnitude(Defect::RateError) / 100.0) : nl;
}

std::size_t PumpModel::step_in_force() const {
    // schedule_late: the schedule reads a clock M minutes behind (a time-zone slip).
    const std::int64_t slip = defect(Defect::ScheduleLate) ? std::llround(magnitude(Defect::ScheduleLate) * 60'000.0) : 0;
    return program_->step_index_at(floor_mod(ms_of_day(elapsed_ms_) - slip, kMsPerDay));
}

bool PumpModel::periodic_bolus_given_now() const {
    return state_ == PumpState::Running && !alarm_set(Alarm::EmptyRes);
}

double PumpModel::bolus_planned_nl(BolusKind kind, MicroUg dose_ug) const {
    const double nl = dose_to_nl(dose_ug, conc_ug_ml_);
    return kind == BolusKind::Clinician && defect(Defect::ClinicianBolusShort)
               ? nl * (1.0 - magnitude(Defect::ClinicianBolusShort) / 100.0)
               : nl;
}

bool PumpModel::low_res_reached() const {
    if (defect(Defect::LowResNever)) return false;
    const std::int64_t late = defect(Defect::LowResLate) ? std::llround(magnitude(Defect::LowResLate) * 1e6) : 0;
    return reservoir_nl_ <= low_res_threshold_nl_ - late;
}

// ---- time -----------------------------------------------------------------------------------

std::int64_t PumpModel::clock_elapsed(std::int64_t elapsed) const {
    if (clock_ppm_ == 0) return elapsed;
    // Whole milliseconds, never backwards (clock_ppm_ > -1e6).
    return elapsed + static_cast<std::int64_t>(std::floor(static_cast<double>(elapsed) * clock_ppm_ / 1e6));
}

std::int64_t PumpModel::ms_of_day(std::int64_t elapsed) const {
    return floor_mod(clock_offset_ms_ + clock_elapsed(elapsed), kMsPerDay);
}

std::string PumpModel::clock_text() const {
    const std::int64_t ms = clock_ms();
    const std::int64_t whole = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    const std::string frac = std::to_string(ms - whole * 1000);
    return std::to_string(whole) + "." + std::string(3 - frac.size(), '0') + frac;
}

Volume PumpModel::advance(Millis dt) {
    if (dt.count() < 0) throw std::invalid_argument("PumpModel::advance: time does not go backwards");
    const std::int64_t target = elapsed_ms_ + dt.count();
    const std::int64_t out_before = volume_out_strokes_;
    while (elapsed_ms_ < target) {
        elapsed_ms_ = std::min(target, next_boundary());
        process_tick();
    }
    // Jittered strokes whose liquid has left by now (released by time, so that advance(a) then
    // advance(b) still gives what advance(a + b) gives).
    while (!strokes_in_flight_.empty() && strokes_in_flight_.front() <= elapsed_ms_) {
        std::pop_heap(strokes_in_flight_.begin(), strokes_in_flight_.end(), std::greater<>{});
        strokes_in_flight_.pop_back();
        ++volume_out_strokes_;
    }
    // The unit's mechanical error (or the delivery_error defect in its place): the pump counts
    // and reports 0.25 uL strokes, the rotor pushes a little more or less.
    const double error = defect(Defect::DeliveryError) ? magnitude(Defect::DeliveryError) / 100.0 : config_.stroke_volume_error;
    return Volume::from_nl(static_cast<double>((volume_out_strokes_ - out_before) * ItbLimits::kStrokeNl) * (1.0 + error));
}

std::int64_t PumpModel::next_boundary() const {
    if (resetting_) return boot_at_ms_;
    std::int64_t next = next_stroke_tick();
    if (bolus_) next = std::min(next, bolus_->end_ms);
    if (prime_) next = std::min(next, prime_->end_ms);
    const auto next_at_time_of_day = [&](int start_min) {
        std::int64_t d = floor_mod(start_min * 60'000LL - ms_of_day(elapsed_ms_), kMsPerDay);
        if (d == 0) d = kMsPerDay;
        // A fast clock reaches a time of day sooner in elapsed time (a tick too early is a
        // harmless re-check).
        if (clock_ppm_ != 0)
            d = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(static_cast<double>(d) * 1e6 / (1e6 + clock_ppm_))));
        return elapsed_ms_ + d;
    };
    if (state_ == PumpState::Running && program_) {
        if (program_->steps.size() > 1)
            for (const auto& s : program_->steps) next = std::min(next, next_at_time_of_day(s.start_min));
        if (periodic_bolus_given_now())
            for (const auto& b : program_->boluses) next = std::min(next, next_at_time_of_day(b.start_min));
    }
    next = std::min(next, next_battery_tick());
    if (!defect(Defect::EventsNotResent))
        for (const auto& e : pending_events_) next = std::min(next, e.last_sent_ms + kEventResendMs);
    return next;
}

// Everything due at the tick elapsed_ms_, in a fixed order: strokes first (with the rates in
// force up to this tick), then ends, then starts, then alarms, then resends.
void PumpModel::process_tick() {
    if (resetting_) {
        if (elapsed_ms_ >= boot_at_ms_) finish_reset();
        return;
    }
    deliver_due_strokes();
    if (bolus_ && elapsed_ms_ >= bolus_->end_ms) {
        finish_bolus();
        start_next_waiting_bolus();
    }
    if (prime_ && elapsed_ms_ >= prime_->end_ms) stop_delivery(PumpState::Stopped);  // PRIME_END, STATE
    if (state_ == PumpState::Running) check_step_change();
    start_due_periodic_boluses();
    check_battery();
    resend_due_events();
    last_tick_ms_ = elapsed_ms_;
}

// ---- the rotor -------------------------------------------------------------------------------

double PumpModel::planned_strokes_at(std::int64_t t) const {
    double planned = base_strokes_ + basal_.strokes_per_ms * static_cast<double>(t - basal_.since_ms);
    if (bolus_) planned += bolus_->contribution(t);
    if (prime_) planned += prime_->contribution(t);
    return planned;
}

// Strokes: the planned volume accumulates exactly, and the rotor makes a stroke each time it
// passes the next whole 0.25 uL, so every volume the pump counts is whole strokes and the total
// never falls more than one stroke behind the plan.
std::int64_t PumpModel::strokes_due_at(std::int64_t t) const {
    return static_cast<std::int64_t>(std::floor(planned_strokes_at(t) + kStrokeSlack));
}

double PumpModel::delivery_strokes_per_ms() const {
    double rate = basal_.strokes_per_ms;
    if (bolus_ && elapsed_ms_ < bolus_->end_ms) rate += bolus_->strokes_per_ms;
    if (prime_ && elapsed_ms_ < prime_->end_ms) rate += prime_->strokes_per_ms;
    return rate;
}

std::int64_t PumpModel::next_stroke_tick() const {
    const double rate = delivery_strokes_per_ms();
    if (rate <= 0) return kNever;
    const std::int64_t wanted = strokes_total_ + 1;
    const double estimate =
        static_cast<double>(elapsed_ms_) + (static_cast<double>(wanted) - kStrokeSlack - planned_strokes_at(elapsed_ms_)) / rate;
    return first_tick(elapsed_ms_, estimate, [&](std::int64_t t) { return strokes_due_at(t) >= wanted; });
}

void PumpModel::deliver_due_strokes() {
    // stop_keeps_bolus: a bolus goes on delivering after STOP.
    while (state_ == PumpState::Running || state_ == PumpState::Priming || (bolus_ && defect(Defect::StopKeepsBolus))) {
        if (strokes_total_ >= strokes_due_at(elapsed_ms_)) return;
        if (stall_pending_) {
            on_motor_stall();  // the rotor did not turn: no stroke counted
            return;
        }
        one_stroke();
    }
}

void PumpModel::one_stroke() {
    ++strokes_total_;
    // stall: from the 40th stroke on, M % of the strokes do not turn the rotor, unnoticed; the
    // lost ones are spread evenly (stroke k is lost when floor(k M / 100) steps up).
    bool pushed = true;
    if (defect(Defect::Stall) && strokes_total_ >= 40) {
        const double f = magnitude(Defect::Stall) / 100.0;
        ++stall_strokes_;
        pushed = std::floor(static_cast<double>(stall_strokes_) * f + kStrokeSlack) ==
                 std::floor(static_cast<double>(stall_strokes_ - 1) * f + kStrokeSlack);
    }
    if (pushed && config_.stroke_jitter_ms > 0) {
        // splitmix64: one draw per stroke, so the jitter does not depend on how time is advanced.
        std::uint64_t z = (jitter_state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        strokes_in_flight_.push_back(elapsed_ms_ + static_cast<std::int64_t>(z % static_cast<std::uint64_t>(config_.stroke_jitter_ms + 1)));
        std::push_heap(strokes_in_flight_.begin(), strokes_in_flight_.end(), std::greater<>{});
    } else if (pushed) {
        ++volume_out_strokes_;
    }
    // bolus_not_deducted: strokes that make up the bolus's own share are not counted off.
    if (defect(Defect::BolusNotDeducted) && bolus_ &&
        static_cast<std::int64_t>(std::floor(bolus_->contribution(elapsed_ms_) + kStrokeSlack)) > bolus_strokes_undeducted_) {
        ++bolus_strokes_undeducted_;
        check_battery();
        return;
    }
    // The estimate stops at 0.000, never below (EMPTY_RES delivery goes on from whatever is left).
    reservoir_nl_ = std::max<std::int64_t>(0, reservoir_nl_ - ItbLimits::kStrokeNl);
    check_reservoir_alarms();
    check_battery();
}

void PumpModel::update_basal_rate() {
    // Re-anchor: what the basal planned so far stays planned, the new rate runs from now.
    base_strokes_ += basal_.strokes_per_ms * static_cast<double>(elapsed_ms_ - basal_.since_ms);
    basal_.since_ms = elapsed_ms_;
    basal_.strokes_per_ms = basal_nl_per_day() / static_cast<double>(ItbLimits::kStrokeNl) / static_cast<double>(kMsPerDay);
}

void PumpModel::drop_partial_stroke() {
    // When delivery stops, a partial stroke planned but not made is dropped, so the next
    // delivery (a priming above all) starts from a whole stroke and counts only its own volume.
    base_strokes_ = static_cast<double>(strokes_total_);
}

// ---- therapy ---------------------------------------------------------------------------------

void PumpModel::announce_step() {
    const auto& step = program_->steps[current_step_];
    emit_event("STEP", {{"step", std::to_string(current_step_ + 1)},
                        {"dose_ug_day", codec::format_fixed(micro_to_ug(step.dose_ug_day), 1)}});
}

void PumpModel::start_running() {
    state_ = PumpState::Running;
    emit_event("STATE", {{"state", to_string(state_)}});
    current_step_ = step_in_force();
    update_basal_rate();
    announce_step();
}

void PumpModel::check_step_change() {
    const std::size_t step = step_in_force();
    if (step == current_step_) return;  // one step only: midnight brings no other step
    // step_after_midnight_skipped: the step starting at midnight never comes into force from
    // another step; the pump stays on the one before until the next change.
    if (step == 0 && defect(Defect::StepAfterMidnightSkipped)) return;
    // step_waits_for_bolus: the change waits for the bolus under way to end.
    if (bolus_ && defect(Defect::StepWaitsForBolus)) return;
    current_step_ = step;
    update_basal_rate();
    announce_step();
}

void PumpModel::start_bolus(BolusKind kind, MicroUg dose_ug, int dur_min) {
    const double planned_nl = bolus_planned_nl(kind, dose_ug);
    BolusRun run;
    run.kind = kind;
    run.dose_ug = dose_ug;
    run.planned_strokes = planned_nl / static_cast<double>(ItbLimits::kStrokeNl);
    run.start_ms = elapsed_ms_;
    run.end_ms = elapsed_ms_ + dur_min * 60'000LL;
    if (defect(Defect::BolusSlow))
        run.end_ms = elapsed_ms_ + std::llround(static_cast<double>(dur_min) * 60'000.0 * (1.0 + magnitude(Defect::BolusSlow) / 100.0));
    bolus_strokes_undeducted_ = 0;
    run.strokes_per_ms = run.planned_strokes / static_cast<double>(run.end_ms - run.start_ms);
    run.strokes_at_start = strokes_total_;
    bolus_ = run;
    emit_event("BOLUS_START", {{"kind", to_string(kind)},
                               {"dose_ug", codec::format_fixed(micro_to_ug(dose_ug), 1)},
                               {"vol_ml", codec::format_fixed(planned_nl / 1e6, 3)}});
}

void PumpModel::finish_bolus() {
    const double contribution = bolus_->contribution(elapsed_ms_);
    base_strokes_ += contribution;
    // What the bolus delivered: its own share of the plan in whole strokes, and never more
    // than the rotor actually made since it started (a stalled stroke is not delivered).
    const std::int64_t strokes = std::min(static_cast<std::int64_t>(std::floor(contribution + kStrokeSlack)),
                                          strokes_total_ - bolus_->strokes_at_start);
    const BolusRun run = *bolus_;
    bolus_.reset();
    emit_event("BOLUS_END", {{"kind", to_string(run.kind)},
                             {"dose_ug", codec::format_fixed(micro_to_ug(run.dose_ug), 1)},
                             {"vol_ml", codec::format_fixed(static_cast<double>(strokes * ItbLimits::kStrokeNl) / 1e6, 3)}});
}

void PumpModel::start_next_waiting_bolus() {
    if (bolus_ || waiting_boluses_.empty() || !periodic_bolus_given_now()) return;
    const PeriodicBolus next = waiting_boluses_.front();
    waiting_boluses_.pop_front();
    start_bolus(BolusKind::Periodic, next.dose_ug, next.dur_min);
}

void PumpModel::start_due_periodic_boluses() {
    if (!program_ || !periodic_bolus_given_now()) return;  // one missed is not made up
    const std::int64_t now = ms_of_day(elapsed_ms_);
    const std::int64_t before = ms_of_day(last_tick_ms_);
    for (const auto& b : program_->boluses) {
        const std::int64_t at = b.start_min * 60'000LL;
        // A drifting clock does not land on every millisecond: take the crossing instead.
        const bool due = clock_ppm_ != 0 && elapsed_ms_ > last_tick_ms_
                             ? floor_mod(at - before - 1, kMsPerDay) < floor_mod(now - before, kMsPerDay)
                             : at == now;
        if (!due) continue;
        if (defect(Defect::PeriodicBolusSkipped) && periodic_due_count_++ % 2 == 0) continue;
        if (defect(Defect::PeriodicBolusTwice)) waiting_boluses_.push_back(b);
        if (bolus_) {
            if (defect(Defect::WaitingBolusDropped)) continue;
            waiting_boluses_.push_back(b);  // starts when the one under way ends
        } else {
            start_bolus(BolusKind::Periodic, b.dose_ug, b.dur_min);
        }
    }
}

void PumpModel::start_priming(std::int64_t vol_nl) {
    if (defect(Defect::PrimingExcess)) vol_nl = std::llround(static_cast<double>(vol_nl) * (1.0 + magnitude(Defect::PrimingExcess) / 100.0));
    drop_partial_stroke();
    Run run;
    run.planned_strokes = static_cast<double>(vol_nl) / static_cast<double>(ItbLimits::kStrokeNl);
    run.strokes_per_ms = 1.0 / kPrimeMsPerStroke;
    run.start_ms = elapsed_ms_;
    // vol_nl at 1.0 mL/h takes 3.6 ms per nL; the end is the first tick at or after that.
    run.end_ms = elapsed_ms_ + (18 * vol_nl + 4) / 5;
    run.strokes_at_start = strokes_total_;
    prime_ = run;
    state_ = PumpState::Priming;
    emit_event("STATE", {{"state", to_string(state_)}});
}

void PumpModel::finish_priming() {
    base_strokes_ += prime_->contribution(elapsed_ms_);
    const std::int64_t strokes = strokes_total_ - prime_->strokes_at_start;
    prime_.reset();
    emit_event("PRIME_END", {{"vol_ml", codec::format_fixed(static_cast<double>(strokes * ItbLimits::kStrokeNl) / 1e6, 3)}});
}

// Ends all delivery: a bolus or priming under way ends with its event before the STATE event;
// waiting boluses are dropped.
void PumpModel::stop_delivery(PumpState new_state) {
    if (bolus_) finish_bolus();
    waiting_boluses_.clear();
    if (prime_) finish_priming();
    const bool changed = state_ != new_state;
    state_ = new_state;
    update_basal_rate();
    drop_partial_stroke();
    if (changed) emit_event("STATE", {{"state", to_string(state_)}});
}

// ---- alarms ----------------------------------------------------------------------------------

bool PumpModel::alarm_set(Alarm a) const { return std::find(alarms_.begin(), alarms_.end(), a) != alarms_.end(); }

void PumpModel::set_alarm(Alarm a) {
    if (alarm_set(a)) return;
    alarms_.push_back(a);
    emit_event("ALARM", {{"code", to_string(a)}, {"state", "SET"}});
}

void PumpModel::clear_alarm(Alarm a) {
    if (!alarm_set(a)) return;
    std::erase(alarms_, a);
    emit_event("ALARM", {{"code", to_string(a)}, {"state", "CLEARED"}});
}

void PumpModel::check_reservoir_alarms() {
    // Compared with the estimate in nL, more decimals than STATUS prints.
    if (low_res_reached()) set_alarm(Alarm::LowRes);
    if (reservoir_nl_ <= ItbLimits::kEmptyResNl && !alarm_set(Alarm::EmptyRes)) on_empty_reservoir();
}

void PumpModel::on_empty_reservoir() {
    set_alarm(Alarm::EmptyRes);
    // A bolus under way ends, waiting ones are dropped, basal goes to the minimum rate.
    if (bolus_) finish_bolus();
    waiting_boluses_.clear();
    // Priming is not described under EMPTY_RES; stopping it is the conservative reading (PRIME's
    // own range keeps 0.5 mL back, so this only happens on its very last stroke).
    if (prime_) stop_delivery(PumpState::Stopped);
    update_basal_rate();
}

void PumpModel::on_motor_stall() {
    stall_pending_ = false;
    set_alarm(Alarm::MotorStall);
    stop_delivery(PumpState::Suspended);
}

double PumpModel::battery_at(std::int64_t elapsed, std::int64_t strokes) const {
    const double days = static_cast<double>(elapsed - batt_anchor_ms_) / static_cast<double>(kMsPerDay);
    const double ml = static_cast<double>((strokes - batt_anchor_strokes_) * ItbLimits::kStrokeNl) / 1e6;
    return std::max(0.0, batt_anchor_pct_ - config_.batt_drain_pct_per_day * days - config_.batt_drain_pct_per_ml * ml);
}

std::int64_t PumpModel::next_battery_tick() const {
    const double per_ms = config_.batt_drain_pct_per_day / static_cast<double>(kMsPerDay);
    if (per_ms <= 0) return kNever;
    const double now = battery_at(elapsed_ms_, strokes_total_);
    std::int64_t next = kNever;
    for (const auto& [done, below] : {std::pair{alarm_set(Alarm::Eri), kEriBelowPct},
                                      std::pair{end_of_service_, kEosBelowPct}}) {
        if (done || now < below) continue;
        const double estimate = static_cast<double>(elapsed_ms_) + (now - below) / per_ms;
        next = std::min(next, first_tick(elapsed_ms_, estimate, [&](std::int64_t t) {
                            return battery_at(t, strokes_total_) < below;
                        }));
    }
    return next;
}

void PumpModel::check_battery() {
    if (resetting_) return;  // looked at again at BOOT
    const double pct = battery_at(elapsed_ms_, strokes_total_);
    if (pct < kEriBelowPct) set_alarm(Alarm::Eri);
    if (pct < kEosBelowPct && !end_of_service_) enter_end_of_service();
}

void PumpModel::set_battery_pct(double pct) {
    if (!(pct >= 0 && pct <= 100)) throw std::invalid_argument("battery charge must be 0 to 100 percent");
    batt_anchor_pct_ = pct;
    batt_anchor_ms_ = elapsed_ms_;
    batt_anchor_strokes_ = strokes_total_;
    // A bench may put a fresh battery back (not a pump's doing): ERI then clears, EOS never does.
    if (pct >= kEriBelowPct && !end_of_service_) clear_alarm(Alarm::Eri);
    check_battery();
}

void PumpModel::enter_end_of_service() {
    end_of_service_ = true;
    set_alarm(Alarm::Eos);
    if (defect(Defect::EosKeepsRunning)) return;
    stop_delivery(PumpState::Stopped);  // for good: START is refused from now on
}

// ---- events ----------------------------------------------------------------------------------

void PumpModel::emit_event(std::string_view type, std::vector<std::pair<std::string, std::string>> fields) {
    if (resetting_) return;  // a restarting pump sends nothing
    std::string body = "EV,n=" + std::to_string(next_evseq_) + ",t=" + clock_text() + ",type=" + std::string(type);
    for (const auto& [k, v] : fields) body += "," + k + "=" + v;
    std::string frame = codec::encode_frame(body);
    output_ += frame;
    pending_events_.push_back({next_evseq_++, std::move(frame), elapsed_ms_, type == "ALARM"});
    if (pending_events_.size() > kMaxKeptEvents) {
        // Drop the oldest that is not an ALARM (possibly the new one, already sent once). With
        // only ALARMs kept, which five alarm codes make unlikely, the oldest goes: the cap holds.
        auto victim = std::find_if(pending_events_.begin(), pending_events_.end(),
                                   [](const PendingEvent& e) { return !e.alarm; });
        if (victim == pending_events_.end() || defect(Defect::EventOverflowDropsAlarms)) victim = pending_events_.begin();
        pending_events_.erase(victim);
    }
}

void PumpModel::resend_due_events() {
    if (defect(Defect::EventsNotResent)) return;
    for (auto& e : pending_events_) {
        if (e.last_sent_ms + kEventResendMs > elapsed_ms_) continue;
        output_ += e.frame;  // byte for byte the same line
        e.last_sent_ms = elapsed_ms_;
    }
}

// ---- reset -----------------------------------------------------------------------------------

void PumpModel::begin_reset() {
    resetting_ = true;  // from here nothing is sent: delivery ends without its events
    stop_delivery(PumpState::Stopped);
    std::erase(alarms_, Alarm::MotorStall);
    pending_events_.clear();
    next_evseq_ = 1;
    last_request_.reset();
    session_ = false;
    nonce_fresh_ = false;
    edit_.reset();
    auth_failures_ = 0;
    // Kept: program, reservoir, concentration, clock, threshold, PTM history, deliv_ml, and an
    // AUTH lockout under way (conservative: a reset does not shorten it).
    if (defect(Defect::ResetForgetsProgram)) {
        program_.reset();
        deliv_zero_strokes_ = strokes_total_;
    }
    // The ICD: BOOT "within 2 s of elapsed time"; the unit's own time (1 s for the exact pump).
    boot_at_ms_ = elapsed_ms_ + config_.reset_duration_ms;
}

void PumpModel::inject_watchdog_reset() {
    if (resetting_) return;
    boot_reason_ = "WATCHDOG";
    begin_reset();
}

void PumpModel::finish_reset() {
    resetting_ = false;
    emit_event("BOOT", {{"reason", boot_reason_}});
    boot_reason_ = "RESET";
    // Battery thresholds crossed while restarting are taken now, without their own events: the
    // ALARM SET events below report every alarm still set.
    const double pct = battery_at(elapsed_ms_, strokes_total_);
    if (pct < kEriBelowPct && !alarm_set(Alarm::Eri)) alarms_.push_back(Alarm::Eri);
    if (pct < kEosBelowPct && !end_of_service_) {
        end_of_service_ = true;
        alarms_.push_back(Alarm::Eos);
    }
    for (Alarm a : alarms_) emit_event("ALARM", {{"code", to_string(a)}, {"state", "SET"}});
}

}  // namespace pumprig::pump::sim
