// The reference model of the pump ICD's delivery rules (sections 6 to 9), written from the ICD
// alone. It is a discrete-event simulation on bench time: between two instants where something
// changes (a command, a schedule step boundary, a periodic bolus coming due, a bolus or priming
// ending, the reservoir reaching a threshold) every rate is constant, which gives the
// piecewise-constant segments directly.
//
// Modelling choices (the ICD leaves them open; each is the reading that keeps the plan exact):
// - Volumes are continuous: the pump counts whole 0.25 uL strokes, but a meter sees the flow,
//   and the checks' tolerances are far above one stroke.
// - Pump elapsed time runs at bench rate (durations, lockout, the 24 h patient-bolus window).
// - Internal changes due at the very instant of a command happen before it; so a START at
//   12:00:00.000 does not give a periodic bolus due at 12:00 (missed, not made up).
// - A RESET takes effect at once (the pump is back, STOPPED, within 2 s; nothing is delivered
//   meanwhile).
// - "K started in the last 24 hours" counts starts later than now - 24 h; "less than L minutes
//   since the last start" is now - last < L.
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "scenario/expected.hpp"

namespace pumprig::scenario {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr double kMsPerHour = 3'600'000.0;
constexpr double kEpsUl = 1e-9;

std::int64_t ms(BenchTime t) { return t.time_since_epoch().count(); }
BenchTime at_ms(std::int64_t v) { return BenchTime{Millis{v}}; }
std::int64_t mod_day(std::int64_t v) { return ((v % kDayMs) + kDayMs) % kDayMs; }

struct ActiveBolus {
    std::size_t plan_index;  // into plan.boluses
    double rate_ul_h;
    std::int64_t end_ms;
};

struct WaitingBolus {
    int number;  // periodic bolus number, 1 based
    PeriodicBolus bolus;
};

class Model {
public:
    Model(const Scenario& s, const ExecutionTimes& times) : sc_(s), times_(times), p_(s.pump) {
        plan_.start = times.start;
        plan_.end = times.end;
        now_ = ms(times.start);
        last_tick_ = now_;
        offset_ = times.initial_pump_offset.count();
        low_res_threshold_ul_ = p_.low_res_default.ul;
        plan_.reservoir.push_back({times.start, Volume{0}});
    }

    std::int64_t pump_offset_ms() const { return offset_; }

    ExpectedPlan run() {
        const std::int64_t end = ms(times_.end);
        for (std::size_t i = 0; i < sc_.steps.size() && i < times_.steps.size(); ++i) {
            const auto& exec = times_.steps[i];
            if (!exec.at) continue;
            // Steps happen in order; a time earlier than the previous step's is taken as equal.
            const std::int64_t t = std::max(ms(*exec.at), now_);
            if (t > end) break;
            advance_to(t);
            command(i, exec);
        }
        advance_to(end);
        return std::move(plan_);
    }

private:
    // ------------------------------------------------------------------ rates

    bool running() const { return state_ == "RUNNING"; }

    std::int64_t pump_tod(std::int64_t bench_ms) const { return mod_day(bench_ms + offset_); }

    // Schedule step in force (0 based) at a bench instant.
    std::size_t step_in_force(std::int64_t bench_ms) const {
        const std::int64_t tod = pump_tod(bench_ms);
        std::size_t k = 0;
        for (std::size_t i = 0; i < program_->steps.size(); ++i)
            if (program_->steps[i].start.minutes * 60'000LL <= tod) k = i;
        return k;
    }

    double basal_ul_h() const {
        if (!running()) return 0;
        if (empty_res_) return p_.minimum_rate.ul_per_h;
        return to_flow_rate(program_->steps[current_step_].dose, *conc_).ul_per_h;
    }

    double total_ul_h() const {
        double r = basal_ul_h();
        if (bolus_) r += bolus_->rate_ul_h;
        if (state_ == "PRIMING") r += p_.bolus_max_rate.ul_per_h;
        return r;
    }

    std::string label() const {
        std::string l;
        if (state_ == "PRIMING") l = "priming";
        else if (running()) l = empty_res_ ? "minimum rate (EMPTY_RES)" : "basal step " + std::to_string(current_step_ + 1);
        else l = "stopped";
        if (bolus_) l += " + " + plan_.boluses[bolus_->plan_index].label;
        return l;
    }

    // ------------------------------------------------------------------ time

    // Next instant after the last clock tick handled at which the pump clock shows a time of day.
    std::int64_t next_tod(int minutes) const {
        std::int64_t delta = mod_day(minutes * 60'000LL - pump_tod(last_tick_));
        if (delta == 0) delta = kDayMs;
        return last_tick_ + delta;
    }

    std::int64_t crossing(double threshold_ul, double rate_ul_h) const {
        const double above = reservoir_ul_ - threshold_ul;
        if (rate_ul_h <= 0) return std::numeric_limits<std::int64_t>::max();
        return now_ + std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(above / rate_ul_h * kMsPerHour)));
    }

    // What can change the rates by itself, in the order handled when several fall on one instant.
    enum class Due { None, PrimeEnd, BolusEnd, EmptyRes, LowRes, ClockTick };

    void advance_to(std::int64_t target) {
        for (;;) {
            std::int64_t when = target;
            Due what = Due::None;
            auto consider = [&](std::int64_t t, Due d) {
                if (t <= target && (what == Due::None ? t <= when : t < when)) {
                    when = t;
                    what = d;
                }
            };
            if (state_ == "PRIMING") consider(prime_end_ms_, Due::PrimeEnd);
            if (bolus_) consider(bolus_->end_ms, Due::BolusEnd);
            const double rate = total_ul_h();
            if (!empty_res_ && rate > 0 && reservoir_ul_ > p_.empty_res.ul + kEpsUl)
                consider(crossing(p_.empty_res.ul, rate), Due::EmptyRes);
            if (!low_res_ && rate > 0 && reservoir_ul_ > low_res_threshold_ul_ + kEpsUl)
                consider(crossing(low_res_threshold_ul_, rate), Due::LowRes);
            if (running()) {
                for (const auto& st : program_->steps) consider(next_tod(st.start.minutes), Due::ClockTick);
                for (const auto& b : program_->boluses) consider(next_tod(b.start.minutes), Due::ClockTick);
            }
            integrate_to(when);
            switch (what) {
                case Due::None:
                    // Not running, the clock's times of day pass unheeded (missed boluses are not made up).
                    last_tick_ = std::max(last_tick_, target);
                    return;
                case Due::PrimeEnd: end_prime(false); break;
                case Due::BolusEnd: end_bolus(false); break;
                case Due::EmptyRes: set_empty_res(); break;
                case Due::LowRes: set_alarm("LOW_RES", true); break;
                case Due::ClockTick: clock_tick(); break;
            }
        }
    }

    // A time of day named by the program has come: the step in force may change, and periodic
    // boluses due now come due (the first starts, the others wait, in program order).
    void clock_tick() {
        last_tick_ = now_;
        const std::size_t k = step_in_force(now_);
        if (k != current_step_) {
            current_step_ = k;
            announce_step();
        }
        if (empty_res_) return;
        for (std::size_t b = 0; b < program_->boluses.size(); ++b)
            if (program_->boluses[b].start.minutes * 60'000LL == pump_tod(now_))
                periodic_due(int(b) + 1, program_->boluses[b]);
    }

    void integrate_to(std::int64_t t) {
        if (t <= now_) return;
        const double rate = total_ul_h();
        const double delivered = rate * static_cast<double>(t - now_) / kMsPerHour;
        push_segment(now_, t, rate, label());
        reservoir_ul_ = std::max(0.0, reservoir_ul_ - delivered);
        now_ = t;
        plan_.reservoir.push_back({at_ms(now_), Volume::from_ul(reservoir_ul_)});
    }

    void push_segment(std::int64_t from, std::int64_t to, double rate, std::string l) {
        auto& segs = plan_.segments;
        if (!segs.empty() && ms(segs.back().end) == from && segs.back().rate.ul_per_h == rate &&
            segs.back().label == l) {
            segs.back().end = at_ms(to);
            return;
        }
        segs.push_back({at_ms(from), at_ms(to), FlowRate::from_ul_per_h(rate), std::move(l)});
    }

    void mark_reservoir() {
        if (!plan_.reservoir.empty() && ms(plan_.reservoir.back().t) == now_)
            plan_.reservoir.back().volume = Volume::from_ul(reservoir_ul_);
        else
            plan_.reservoir.push_back({at_ms(now_), Volume::from_ul(reservoir_ul_)});
    }

    // ------------------------------------------------------------------ happenings

    void set_state(std::string s) {
        if (s == state_) return;
        state_ = std::move(s);
        plan_.states.push_back({at_ms(now_), state_});
    }

    void set_alarm(const std::string& code, bool set) {
        bool& flag = code == "LOW_RES" ? low_res_ : empty_res_;
        if (flag == set) return;
        flag = set;
        plan_.alarms.push_back({at_ms(now_), code, set});
        if (set && code == "LOW_RES" && !plan_.low_res_at) plan_.low_res_at = at_ms(now_);
        if (set && code == "EMPTY_RES" && !plan_.empty_res_at) plan_.empty_res_at = at_ms(now_);
    }

    void set_empty_res() {
        set_alarm("EMPTY_RES", true);
        // A bolus under way ends, waiting ones are dropped; the basal falls to the minimum rate.
        if (bolus_) end_bolus(true);
        waiting_.clear();
    }

    void announce_step() {
        plan_.step_changes.push_back({at_ms(now_), int(current_step_) + 1, program_->steps[current_step_].dose});
    }

    void start_bolus(BolusKind kind, int number, std::size_t step_index, Dose dose, Millis duration,
                     std::string l) {
        ExpectedBolus b;
        b.kind = kind;
        b.number = number;
        b.step_index = step_index;
        b.start = at_ms(now_);
        b.planned_duration = duration;
        b.end = at_ms(now_ + duration.count());
        b.dose = dose;
        b.planned_volume = to_volume(dose, *conc_);
        b.volume = b.planned_volume;
        b.label = std::move(l);
        plan_.boluses.push_back(b);
        bolus_ = ActiveBolus{plan_.boluses.size() - 1,
                             b.planned_volume.ul / (static_cast<double>(duration.count()) / kMsPerHour),
                             now_ + duration.count()};
    }

    void end_bolus(bool cut) {
        auto& b = plan_.boluses[bolus_->plan_index];
        if (cut && now_ < bolus_->end_ms) {
            b.end = at_ms(now_);
            b.volume = Volume::from_ul(bolus_->rate_ul_h * static_cast<double>(now_ - ms(b.start)) / kMsPerHour);
            b.cut_short = true;
        }
        bolus_.reset();
        // A waiting periodic bolus starts as soon as the one under way ends.
        if (running() && !empty_res_ && !waiting_.empty()) {
            const auto w = waiting_.front();
            waiting_.pop_front();
            start_bolus(BolusKind::Periodic, w.number, program_step_index_, w.bolus.dose, w.bolus.duration,
                        "periodic bolus " + std::to_string(w.number));
        }
    }

    void periodic_due(int number, const PeriodicBolus& pb) {
        if (!running() || empty_res_) return;
        if (bolus_) waiting_.push_back({number, pb});
        else start_bolus(BolusKind::Periodic, number, program_step_index_, pb.dose, pb.duration,
                         "periodic bolus " + std::to_string(number));
    }

    void end_prime(bool cut) {
        auto& pr = plan_.primes.back();
        if (cut && now_ < prime_end_ms_) {
            pr.end = at_ms(now_);
            pr.volume = Volume::from_ul(p_.bolus_max_rate.ul_per_h * static_cast<double>(now_ - ms(pr.start)) / kMsPerHour);
        }
        set_state("STOPPED");
    }

    // Stops everything delivering (STOP, RESET).
    void halt() {
        if (bolus_) {
            waiting_.clear();  // dropped, not started by the end of the one under way
            end_bolus(true);
        }
        waiting_.clear();
        if (state_ == "PRIMING") end_prime(true);
        set_state("STOPPED");
    }

    // ------------------------------------------------------------------ pump limits

    bool bolus_rate_ok(Dose dose, Millis duration, Concentration c) const {
        const double ml_per_h = dose.ug / c.ug_per_ml / (static_cast<double>(duration.count()) / kMsPerHour);
        return ml_per_h <= p_.bolus_max_rate.ml_per_h() + 1e-9;
    }

    bool whole_minutes_in(Millis d, IntRange r) const {
        return d.count() % 60'000 == 0 && r.contains(static_cast<int>(d.count() / 60'000));
    }

    // Why PROG.COMMIT (or a REFILL changing the concentration) is refused with RANGE, or "".
    std::string program_range_problem(const Program& prog, Concentration c) const {
        if (prog.steps.empty()) return "no schedule step";
        if (static_cast<int>(prog.steps.size()) > p_.max_steps) return "too many schedule steps";
        if (static_cast<int>(prog.boluses.size()) > p_.max_boluses) return "too many periodic boluses";
        if (prog.steps.front().start.minutes != 0) return "first step does not start at 00:00";
        for (std::size_t i = 1; i < prog.steps.size(); ++i)
            if (prog.steps[i].start <= prog.steps[i - 1].start) return "starts do not strictly increase";
        for (const auto& s : prog.steps) {
            const double r = to_flow_rate(s.dose, c).ml_per_day();
            if (r < p_.basal_min.ml_per_day() - 1e-9 || r > p_.basal_max.ml_per_day() + 1e-9)
                return "basal rate outside the pump's range";
        }
        for (const auto& b : prog.boluses)
            if (!whole_minutes_in(b.duration, p_.bolus_duration_min) || !bolus_rate_ok(b.dose, b.duration, c))
                return "periodic bolus outside the pump's limits";
        if (const auto& ptm = prog.patient_bolus) {
            if (!whole_minutes_in(ptm->duration, p_.bolus_duration_min) ||
                !whole_minutes_in(ptm->lockout, p_.ptm_lockout_min) || !p_.ptm_max_per_day.contains(ptm->max_per_day) ||
                !bolus_rate_ok(ptm->dose, ptm->duration, c))
                return "patient bolus outside the pump's limits";
        }
        return "";
    }

    // ------------------------------------------------------------------ commands

    struct Prediction {
        std::string code = "OK";
        std::string reason;
    };
    static Prediction refuse(std::string code, std::string reason) { return {std::move(code), std::move(reason)}; }

    Prediction predict(const Step& step) const {
        const bool stopped = state_ == "STOPPED";
        return std::visit(
            [&](const auto& a) -> Prediction {
                using A = std::decay_t<decltype(a)>;
                if constexpr (std::is_same_v<A, SetClockStep>) {
                    if (!stopped) return refuse("STATE", "CLOCK,set only while STOPPED");
                } else if constexpr (std::is_same_v<A, RefillStep>) {
                    if (!stopped) return refuse("STATE", "REFILL only while STOPPED");
                    if (a.concentration.ug_per_ml != std::floor(a.concentration.ug_per_ml))
                        return refuse("ARG", "concentration not a whole number");
                    if (a.volume > p_.reservoir + Volume::from_ul(1e-6)) return refuse("RANGE", "volume above the reservoir size");
                    if (a.concentration < p_.concentration_min || a.concentration > p_.concentration_max)
                        return refuse("RANGE", "concentration outside the pump's range");
                    if (program_) {
                        auto why = program_range_problem(*program_, a.concentration);
                        if (!why.empty()) return refuse("RANGE", "program in force at the new concentration: " + why);
                    }
                } else if constexpr (std::is_same_v<A, PrimeStep>) {
                    if (!stopped) return refuse("STATE", "PRIME only while STOPPED");
                    if (a.volume < p_.prime_min || a.volume.ul > reservoir_ul_ - p_.empty_res.ul + 1e-6)
                        return refuse("RANGE", "priming volume outside 0.001 mL to the reservoir less 0.5 mL");
                } else if constexpr (std::is_same_v<A, ProgramStep>) {
                    // Item-level refusals (PROG.STEP/BOLUS/PTM) and commit-level ones are both RANGE.
                    if (!conc_) {
                        if (static_cast<int>(a.program.steps.size()) > p_.max_steps ||
                            static_cast<int>(a.program.boluses.size()) > p_.max_boluses)
                            return refuse("RANGE", "too many items");
                        return refuse("STATE", "no concentration set yet");
                    }
                    auto why = program_range_problem(a.program, *conc_);
                    if (!why.empty()) return refuse("RANGE", why);
                } else if constexpr (std::is_same_v<A, StartStep>) {
                    if (!program_) return refuse("STATE", "no program");
                    if (!conc_) return refuse("STATE", "no concentration");
                    if (empty_res_) return refuse("STATE", "EMPTY_RES is set");
                    if (!stopped) return refuse("STATE", "not STOPPED");
                } else if constexpr (std::is_same_v<A, ClinicianBolusStep>) {
                    if (!whole_minutes_in(a.duration, p_.bolus_duration_min)) return refuse("RANGE", "duration out of range");
                    if (!running()) return refuse("STATE", "not RUNNING");
                    if (empty_res_) return refuse("STATE", "EMPTY_RES is set");
                    if (bolus_) return refuse("STATE", "another bolus is under way");
                    if (!bolus_rate_ok(a.dose, a.duration, *conc_)) return refuse("RANGE", "bolus rate above the limit");
                } else if constexpr (std::is_same_v<A, PatientBolusStep>) {
                    if (!running()) return refuse("STATE", "not RUNNING");
                    if (!program_->patient_bolus) return refuse("STATE", "the program allows no patient bolus");
                    if (empty_res_) return refuse("STATE", "EMPTY_RES is set");
                    if (bolus_) return refuse("STATE", "another bolus is under way");
                    const auto& ptm = *program_->patient_bolus;
                    if (!ptm_starts_.empty() && now_ - ptm_starts_.back() < ptm.lockout.count())
                        return refuse("LOCKOUT", "less than " + std::to_string(ptm.lockout.count() / 60'000) +
                                                     " min since the last patient bolus started");
                    const auto in_day = std::count_if(ptm_starts_.begin(), ptm_starts_.end(),
                                                      [&](std::int64_t s) { return s > now_ - kDayMs; });
                    if (in_day >= ptm.max_per_day)
                        return refuse("LIMIT", std::to_string(in_day) + " patient boluses started in the last 24 h");
                } else if constexpr (std::is_same_v<A, AlarmThresholdStep>) {
                    if (a.low_reservoir < p_.low_res_min - Volume::from_ul(1e-6) ||
                        a.low_reservoir > p_.low_res_max + Volume::from_ul(1e-6))
                        return refuse("RANGE", "threshold outside the pump's range");
                } else if constexpr (std::is_same_v<A, ReadProgramStep>) {
                    // PROG.READ always answers (all zeros without a program).
                }
                return {};
            },
            step.action);
    }

    void command(std::size_t index, const StepExecution& exec) {
        const Step& step = sc_.steps[index];
        if (!is_command(step.action)) return;
        const Prediction predicted = predict(step);
        const std::string governing = exec.answer.value_or(step.expect);
        plan_.answers.push_back({index, at_ms(now_), predicted.code, governing, predicted.reason});
        if (governing != "OK" || predicted.code != "OK") return;
        apply(index, step, exec);
        mark_reservoir();
    }

    void apply(std::size_t index, const Step& step, const StepExecution& exec) {
        std::visit(
            [&](const auto& a) {
                using A = std::decay_t<decltype(a)>;
                if constexpr (std::is_same_v<A, SetClockStep>) {
                    if (exec.pump_offset) {
                        offset_ = exec.pump_offset->count();
                    } else {
                        // The pump's time of day at the scenario start becomes the wanted one.
                        const int want = a.time_of_day.value_or(sc_.settings.start_time_of_day).minutes;
                        offset_ = mod_day(want * 60'000LL - mod_day(ms(times_.start)));
                    }
                } else if constexpr (std::is_same_v<A, RefillStep>) {
                    reservoir_ul_ = a.volume.ul;
                    conc_ = a.concentration;
                    // Alarms are compared with the new estimate: set at or below, cleared above.
                    set_alarm("LOW_RES", reservoir_ul_ <= low_res_threshold_ul_ + kEpsUl);
                    set_alarm("EMPTY_RES", reservoir_ul_ <= p_.empty_res.ul + kEpsUl);
                } else if constexpr (std::is_same_v<A, PrimeStep>) {
                    plan_.primes.push_back({index, at_ms(now_), at_ms(now_), a.volume, a.volume});
                    prime_end_ms_ = now_ + static_cast<std::int64_t>(
                                               std::llround(a.volume.ul / p_.bolus_max_rate.ul_per_h * kMsPerHour));
                    plan_.primes.back().end = at_ms(prime_end_ms_);
                    set_state("PRIMING");
                } else if constexpr (std::is_same_v<A, ProgramStep>) {
                    program_ = a.program;
                    program_step_index_ = index;
                    if (running()) {
                        waiting_.clear();
                        current_step_ = step_in_force(now_);
                        announce_step();
                    }
                } else if constexpr (std::is_same_v<A, StartStep>) {
                    set_state("RUNNING");
                    current_step_ = step_in_force(now_);
                    announce_step();
                } else if constexpr (std::is_same_v<A, StopStep> || std::is_same_v<A, ResetStep>) {
                    halt();
                } else if constexpr (std::is_same_v<A, ClinicianBolusStep>) {
                    start_bolus(BolusKind::Clinician, 0, index, a.dose, a.duration, "clinician bolus");
                } else if constexpr (std::is_same_v<A, CancelBolusStep>) {
                    if (bolus_) end_bolus(true);
                } else if constexpr (std::is_same_v<A, PatientBolusStep>) {
                    ptm_starts_.push_back(now_);
                    start_bolus(BolusKind::Patient, 0, index, program_->patient_bolus->dose,
                                program_->patient_bolus->duration, "patient bolus");
                } else if constexpr (std::is_same_v<A, AlarmThresholdStep>) {
                    low_res_threshold_ul_ = a.low_reservoir.ul;
                    // Checked at ALARM.CFG: it can set LOW_RES; only a refill clears it.
                    if (reservoir_ul_ <= low_res_threshold_ul_ + kEpsUl) set_alarm("LOW_RES", true);
                }
            },
            step.action);
    }

    const Scenario& sc_;
    const ExecutionTimes& times_;
    const PumpProfile& p_;
    ExpectedPlan plan_;

    std::int64_t now_ = 0;
    std::int64_t last_tick_ = 0;  // clock ticks up to here are handled
    std::int64_t offset_ = 0;  // pump clock minus bench clock, ms
    std::string state_ = "STOPPED";
    std::optional<Concentration> conc_;
    std::optional<Program> program_;
    std::size_t program_step_index_ = 0;
    std::size_t current_step_ = 0;
    double reservoir_ul_ = 0;
    double low_res_threshold_ul_ = 0;
    bool low_res_ = false;
    bool empty_res_ = false;
    std::optional<ActiveBolus> bolus_;
    std::deque<WaitingBolus> waiting_;
    std::int64_t prime_end_ms_ = 0;
    std::vector<std::int64_t> ptm_starts_;
};

// The first time after `after` at which the plan expects an event matching `m`.
std::optional<BenchTime> expected_event_time(const ExpectedPlan& plan, const EventMatch& m, BenchTime after) {
    std::optional<BenchTime> best;
    auto take = [&](BenchTime t) {
        if (t >= after && (!best || t < *best)) best = t;
    };
    auto kind_ok = [&](BolusKind k) { return m.kind.empty() || m.kind == to_string(k); };
    if (m.type == "ALARM")
        for (const auto& a : plan.alarms)
            if ((m.code.empty() || m.code == a.code) && (m.state.empty() || m.state == (a.set ? "SET" : "CLEARED")))
                take(a.t);
    if (m.type == "STATE")
        for (const auto& s : plan.states)
            if (m.state.empty() || m.state == s.state) take(s.t);
    if (m.type == "STEP")
        for (const auto& s : plan.step_changes)
            if (!m.step || *m.step == s.step) take(s.t);
    if (m.type == "BOLUS_START")
        for (const auto& b : plan.boluses)
            if (kind_ok(b.kind)) take(b.start);
    if (m.type == "BOLUS_END")
        for (const auto& b : plan.boluses)
            if (kind_ok(b.kind) && b.end <= plan.end) take(b.end);
    if (m.type == "PRIME_END")
        for (const auto& p : plan.primes)
            if (p.end <= plan.end) take(p.end);
    return best;
}

}  // namespace

const char* to_string(BolusKind kind) {
    switch (kind) {
        case BolusKind::Periodic: return "PERIODIC";
        case BolusKind::Clinician: return "CLINICIAN";
        case BolusKind::Patient: return "PTM";
    }
    return "";
}

ExpectedPlan expand(const Scenario& scenario, const ExecutionTimes& times) {
    return Model(scenario, times).run();
}

ExecutionTimes nominal_execution(const Scenario& scenario, BenchTime start, Millis initial_pump_offset) {
    ExecutionTimes times;
    times.start = start;
    times.end = start;
    times.initial_pump_offset = initial_pump_offset;
    BenchTime t = start;
    for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
        const Step& step = scenario.steps[i];
        times.steps.push_back({t, std::nullopt, std::nullopt});
        times.end = t;
        const auto* wait = std::get_if<WaitStep>(&step.action);
        if (!wait) continue;
        if (wait->duration) {
            t += *wait->duration;
        } else if (wait->until || wait->until_event) {
            // The pump clock offset (and the events) follow from the steps so far.
            ExecutionTimes so_far = times;
            if (wait->until) {
                so_far.end = t;
                Model model(scenario, so_far);
                model.run();
                const std::int64_t tod = mod_day(ms(t) + model.pump_offset_ms());
                t += Millis{mod_day(wait->until->minutes * 60'000LL - tod)};
            } else {
                so_far.end = t + wait->timeout;
                const ExpectedPlan plan = expand(scenario, so_far);
                const auto ev = expected_event_time(plan, *wait->until_event, t);
                t = ev ? *ev : t + wait->timeout;
            }
        }
        times.end = t;
    }
    return times;
}

Volume ExpectedPlan::volume_between(BenchTime from, BenchTime to) const {
    Volume v;
    for (const auto& s : segments) {
        const BenchTime a = std::max(from, s.start);
        const BenchTime b = std::min(to, s.end);
        if (b > a) v += volume_over(s.rate, b - a);
    }
    return v;
}

FlowRate ExpectedPlan::rate_at(BenchTime t) const {
    for (const auto& s : segments)
        if (t >= s.start && t < s.end) return s.rate;
    return {};
}

Volume ExpectedPlan::reservoir_at(BenchTime t) const {
    if (reservoir.empty()) return {};
    if (t <= reservoir.front().t) return reservoir.front().volume;
    for (std::size_t i = 1; i < reservoir.size(); ++i) {
        const auto& a = reservoir[i - 1];
        const auto& b = reservoir[i];
        if (t <= b.t) {
            if (b.t == a.t) return b.volume;
            const double f = to_seconds(t - a.t) / to_seconds(b.t - a.t);
            return Volume::from_ul(std::max(0.0, a.volume.ul + (b.volume.ul - a.volume.ul) * f));
        }
    }
    return reservoir.back().volume;
}

}  // namespace pumprig::scenario
