#include "run/engine.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <variant>

#include "core/realtime.hpp"
#include "core/text.hpp"
#include "run/sampler.hpp"
#include "meter/total_tracker.hpp"
#include "record/folder.hpp"
#include "record/json.hpp"
#include "record/manifest.hpp"
#include "record/recorder.hpp"
#include "record/version.hpp"
#include "scenario/expected.hpp"
#include "verify/iec60601.hpp"
#include "verify/report_checks.hpp"

namespace pumprig::run {

std::string step_label(const scenario::Scenario& sc, std::size_t i) {
    const auto& step = sc.steps[i];
    return step.label.empty() ? std::string(scenario::step_name(step.action)) + " (step " + std::to_string(i + 1) + ")" : step.label;
}

std::vector<record::StepRecord> step_records(const scenario::Scenario& sc, const scenario::ExecutionTimes& times) {
    std::vector<record::StepRecord> out;
    for (std::size_t i = 0; i < times.steps.size() && i < sc.steps.size(); ++i) {
        const auto& s = times.steps[i];
        out.push_back({i, std::string(scenario::step_name(sc.steps[i].action)), sc.steps[i].label, s.at, s.answer, s.pump_offset});
    }
    return out;
}

verify::Sample to_sample(BenchTime t, const meter::MeterReading& reading, const meter::TotalTracker::Update& total) {
    verify::Sample s;
    s.t = t;
    s.total = total.total;
    s.flow = reading.flow;
    s.status = reading.status;
    s.counter = reading.sample;
    s.stale = total.stale;
    s.valid = reading.valid && !total.stale;
    return s;
}

namespace {

constexpr long long kDayMs = 86'400'000LL;

template <class... Ts>
struct overloaded : Ts... { using Ts::operator()...; };

std::string safe_name(const std::string& s) {
    std::string out;
    for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    // A folder name has at most 255 bytes; the time stamp and seed take about 40 of them.
    if (out.size() > 120) out.resize(120);
    return out.empty() ? "scenario" : out;
}

std::string wall_stamp() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

long long tod_ms(BenchTime t, Millis offset) {
    return (((t.time_since_epoch() + offset).count() % kDayMs) + kDayMs) % kDayMs;
}

verify::PumpEventRecord to_record(const pump::PumpEvent& e, BenchTime fallback) {
    verify::PumpEventRecord r;
    r.bench_t = e.received_at.value_or(fallback);
    r.pump_t = e.event.t;
    r.n = e.event.n;
    r.type = e.event.type;
    for (const auto& [k, v] : e.event.values.values)
        if (k != "n" && k != "t" && k != "type") r.values[k] = v;
    return r;
}

verify::PumpStatusRecord to_record(const pump::PumpStatus& s, BenchTime t) {
    verify::PumpStatusRecord r;
    r.bench_t = t;
    r.pump_t = s.pump_t;
    r.state = pump::to_string(s.state);
    r.res_ml = s.res_ml;
    r.conc_ug_ml = s.conc_ug_ml;
    r.rate_ml_day = s.rate_ml_day;
    r.deliv_ml = s.deliv_ml;
    r.step = static_cast<int>(s.step);
    r.batt_pct = static_cast<int>(s.batt_pct);
    r.alarms = s.alarms;
    r.bolus = pump::to_string(s.bolus);
    return r;
}

bool event_matches(const verify::PumpEventRecord& e, const scenario::EventMatch& m) {
    if (e.type != m.type) return false;
    auto has = [&](const char* key, const std::string& want) {
        if (want.empty()) return true;
        auto it = e.values.find(key);
        return it != e.values.end() && it->second == want;
    };
    if (!has("code", m.code) || !has("state", m.state) || !has("kind", m.kind)) return false;
    if (m.step) {
        auto it = e.values.find("step");
        if (it == e.values.end() || it->second != std::to_string(*m.step)) return false;
    }
    return true;
}

class Runner {
public:
    Runner(bench::Bench& b, const scenario::Scenario& sc, const RunOptions& opt, record::RunRecorder& rec)
        : b_(b), sc_(sc), opt_(opt), rec_(rec), tracker_(b.meter().profile()) {}

    RunResult run();

private:
    void log(const std::string& s) {
        if (opt_.log) opt_.log(s);
    }
    Result<void> sample_once();
    void record_reading(BenchTime t, const Result<meter::MeterReading>& r);
    // Real time: the readings the sampler thread took since the last call go into the record
    // (this thread is the record's only writer). Returns the bench time before which every
    // reading is recorded: the stamp of a read still under way, else the end of time.
    BenchTime record_samples();
    std::unique_ptr<Sampler> sampler_;               // real-time benches only (run/sampler.hpp)
    Result<void> drain_events();
    Result<void> status_once();
    // Samples, reads events and statuses on the bench clock until t, or until `done` says so.
    Result<void> run_until(BenchTime t, const std::function<bool()>& done = {});
    Result<void> exec_step(std::size_t i);
    Result<std::string> command(std::size_t i, const std::string& verb, const std::function<Result<void>()>& call);
    void progress();
    std::optional<BenchPlan> plan_;  // for progress: the bench time the scenario needs
    bool stop_requested() const { return opt_.stop_requested && opt_.stop_requested->load(); }
    // Scenario tags "probe-retry", "probe-resend" and "probe-overflow" arm the pump link probes
    // (bench/probe_stream.hpp).
    bool has_tag(std::string_view tag) const { return std::find(sc_.tags.begin(), sc_.tags.end(), tag) != sc_.tags.end(); }

    bench::Bench& b_;
    const scenario::Scenario& sc_;
    const RunOptions& opt_;
    record::RunRecorder& rec_;
    meter::TotalTracker tracker_;
    RecordedRun data_;
    BenchTime next_sample_{}, next_status_{};
    std::string step_name_;
    std::size_t new_events_since_wait_ = 0;
    std::optional<std::uint16_t> last_counter_;
    BenchTime started_{};
    std::string abort_reason_;
    // Riding out link faults and pump resets.
    Result<void> recover(const Error& why);
    std::string pump_serial_;
    std::optional<pump::ProgramSummary> committed_;  // what PROG.COMMIT answered, last good one
    bool reset_requested_ = false;                   // a BOOT after our own RESET is expected
    bool resync_needed_ = false;                     // the pump restarted by itself
    int status_timeouts_ = 0;                        // STATUS readings lost in a row
    std::optional<verify::Sample> last_sample_;      // for progress and the end of the data
    std::size_t sample_count_ = 0;
    bool meter_answered_ = false;                    // the last sample_once() got an answer
    const scenario::Program* sent_program_ = nullptr;  // the last program committed OK
    Result<void> resync();
    std::vector<record::Gap> gaps_;                  // link outages and pump resets, with times
    // The record: record.json is rewritten around every step, and the files are committed
    // together up to a bench-time horizon (record/recorder.hpp).
    record::RunRecord header_;
    BenchTime next_commit_{};
    void write_header();
    void commit(BenchTime horizon);
};

void Runner::write_header() {
    header_.steps = step_records(sc_, data_.times);
    header_.gaps = gaps_;
    header_.pump_offset = data_.pump_offset;
    if (auto w = rec_.write_record(header_); !w) log(w.error().describe());
}

// Everything stamped before `horizon` is recorded: a real-time bench commits every bench second
// (what a kill may lose), a virtual one every bench minute (it replays in seconds).
void Runner::commit(BenchTime horizon) {
    if (sampler_) horizon = std::min(horizon, record_samples());
    rec_.commit(horizon);
    next_commit_ = horizon + (b_.virtual_time() ? Millis{60'000} : Millis{1000});
}

// The pump restarted by itself: authenticate again at once (as an operator would) and check
// that the program in force is still the one pumprig sent. The restart itself is the pump's
// doing and the checks judge its consequences (delivery stopped).
Result<void> Runner::resync() {
    resync_needed_ = false;
    auto id = b_.authenticate_pump();
    if (!id) return recover(id.error());
    if (committed_) {
        auto p = b_.pump().prog_read();
        const bool same = p && p->steps == committed_->steps && p->boluses == committed_->boluses &&
                          std::fabs(p->daily_ug - committed_->daily_ug) < 0.05;
        if (!gaps_.empty()) gaps_.back().program_unchanged = same;
        log(same ? "pump restarted by itself: authenticated again, program unchanged"
                 : "pump restarted by itself: the program in force is not the one pumprig sent");
    }
    return {};
}

// A lost link or a pump that reset itself: reconnect with back-off, authenticate again, check
// that it is the same pump and that the program in force is still the one pumprig sent, and
// record the gap so the checks over it are judged INCONCLUSIVE, never PASS.
Result<void> Runner::recover(const Error& why) {
    if (why.kind != ErrorKind::LinkLost && why.kind != ErrorKind::Timeout && why.code != "AUTH") return std::unexpected(why);
    const BenchTime from = b_.clock().now();
    log("pump link trouble (" + why.describe() + "): reconnecting");
    auto id = b_.reconnect_pump();
    record::Gap gap{from, std::nullopt, why.describe(), std::nullopt, std::nullopt};
    if (!id) {
        gap.recovered = false;
        gaps_.push_back(gap);
        return std::unexpected(id.error());
    }
    if (!pump_serial_.empty() && id->serial != pump_serial_)
        return fail(ErrorKind::Protocol, "after reconnecting, the pump reports serial " + id->serial + ", not " + pump_serial_);
    gap.to = b_.clock().now();
    gap.recovered = true;
    if (committed_) {
        auto p = b_.pump().prog_read();
        const bool same = p && p->steps == committed_->steps && p->boluses == committed_->boluses &&
                          std::fabs(p->daily_ug - committed_->daily_ug) < 0.05;
        gap.program_unchanged = same;
        if (!same) log("after reconnecting, the program in force is not the one pumprig sent");
    }
    gaps_.push_back(gap);
    log("pump link recovered");
    return {};
}

Result<void> Runner::sample_once() {
    const BenchTime t = b_.clock().now();
    auto r = b_.meter().read();
    meter_answered_ = r.has_value();
    record_reading(t, r);
    return {};
}

BenchTime Runner::record_samples() {
    auto batch = sampler_->take();
    for (const auto& taken : batch.readings) record_reading(taken.t, taken.reading);
    return batch.in_flight.value_or(BenchTime::max());
}

void Runner::record_reading(BenchTime t, const Result<meter::MeterReading>& r) {
    if (!r) {
        // A missing reading is a gap in the record, judged by the checks (INCONCLUSIVE), not
        // a reason to stop the run.
        log("meter: " + r.error().describe());
        rec_.trace_note(t, "meter", "read failed: " + r.error().describe());
        return;
    }
    const verify::Sample s = to_sample(t, *r, tracker_.update(*r));
    // Samples go to disk only: a run of days keeps its memory flat, and the checks read the
    // samples back from the record at the end, exactly as `pumprig report` does.
    last_sample_ = s;
    ++sample_count_;
    rec_.sample(s);
}

Result<void> Runner::drain_events() {
    if (auto p = b_.pump().poll_events(Millis{0}); !p) return p;
    for (const auto& e : b_.pump().take_events()) {
        auto r = to_record(e, b_.clock().now());
        data_.events.push_back(r);
        rec_.event(r);
        ++new_events_since_wait_;
        if (r.type == "BOOT") {
            if (reset_requested_) {
                reset_requested_ = false;
            } else if (r.values.count("reason") && r.values.at("reason") != "POWER") {
                // The pump restarted by itself: the session is gone. Note it; the next call that
                // needs a session authenticates again through recover().
                gaps_.push_back({r.bench_t, std::nullopt, "pump reset (BOOT reason=" + r.values.at("reason") + ")", std::nullopt, std::nullopt});
                resync_needed_ = true;
            }
        }
        std::string line = "event " + r.type;
        for (const auto& [k, v] : r.values) line += " " + k + "=" + v;
        log(line);
    }
    return {};
}

Result<void> Runner::status_once() {
    auto s = b_.pump().status();
    if (!s) return std::unexpected(s.error());
    auto r = to_record(*s, b_.clock().now());
    data_.statuses.push_back(r);
    rec_.status(r);
    return {};
}

void Runner::progress() {
    if (!opt_.progress) return;
    if (!plan_) plan_ = plan_bench_time(sc_, data_.times.initial_pump_offset);
    // The step under way: the last one the engine reached.
    std::size_t index = sc_.steps.size();
    for (std::size_t k = 0; k < data_.times.steps.size(); ++k)
        if (data_.times.steps[k].at) index = k;
    const BenchTime now = b_.clock().now();
    const auto step_at = index < data_.times.steps.size() ? data_.times.steps[index].at : std::nullopt;
    auto state = progress_at(*plan_, index, step_at ? now - *step_at : Millis{0}, now - data_.times.start);
    state.channel = b_.rig().channel;
    state.scenario = printable(sc_.name);
    state.step_name = step_name_;
    state.real_time = !b_.virtual_time();
    opt_.progress->update(state);
}

Result<void> Runner::run_until(BenchTime t, const std::function<bool()>& done) {
    while (true) {
        if (stop_requested()) return fail(ErrorKind::Io, "stopped by signal", "ABORTED");
        if (opt_.max_bench_duration && b_.clock().now() - started_ > *opt_.max_bench_duration)
            return fail(ErrorKind::Io, "the run exceeded its maximum duration", "ABORTED");
        if (done && done()) return {};
        const BenchTime now = b_.clock().now();
        if (now >= t) return {};
        // Real time: the meter is the sampler thread's; the engine wakes to commit its readings.
        const BenchTime next = std::min({t, sampler_ ? next_commit_ : next_sample_, next_status_});
        if (b_.virtual_time()) {
            // Unconfirmed: the simulator applies the move before the meter request below, so a
            // sample costs one round trip, not two (docs/simulator.md, "Control channel").
            if (auto w = b_.wait_until_unconfirmed(next); !w) return w;
        } else {
            // Real time: listen for pump events until shortly before the due instant, then sleep
            // to it on an absolute deadline. poll() counts whole milliseconds and would wake up
            // to a millisecond early or late; the last stretch is a clock_nanosleep.
            const auto deadline = b_.wall_deadline(next);
            constexpr auto kLastStretch = std::chrono::milliseconds(2);
            while (!stop_requested()) {
                const auto left = deadline - std::chrono::steady_clock::now();
                if (left <= kLastStretch) {
                    pumprig::sleep_until(deadline);
                    break;
                }
                const auto listen = std::chrono::duration_cast<Millis>(left - kLastStretch);
                if (auto p = b_.pump().poll_events(std::min(listen, Millis{100})); !p) {
                    if (auto r = recover(p.error()); !r) return r;
                }
            }
        }
        const BenchTime at = b_.clock().now();
        // The sample first: it is the one reading due at an exact instant; events and STATUS
        // can wait the few milliseconds it takes.
        bool meter_answered = false;
        if (!sampler_ && at >= next_sample_) {
            if (auto s = sample_once(); !s) return s;
            meter_answered = meter_answered_;
            while (next_sample_ <= at) next_sample_ += sc_.settings.sample_period;
        }
        // Pump events come unasked: all of them are on the link once the simulator has moved,
        // which a meter answer proves (it answers only after applying the move) and
        // confirm_time() waits for.
        if (b_.virtual_time() && !meter_answered)
            if (auto c = b_.confirm_time(); !c) return c;
        if (auto e = drain_events(); !e) {
            if (auto r = recover(e.error()); !r) return r;
        }
        if (resync_needed_) {
            if (auto r = resync(); !r) return r;
        }
        if (at >= next_status_) {
            if (auto s = status_once(); !s) {
                // A STATUS lost to line noise after all its retries (unanswered, or refused as
                // corrupted) is one missing reading, not a lost link: only a hang-up, or three
                // silent ones in a row, calls for reconnecting.
                const bool refused_as_corrupted = s.error().kind == ErrorKind::DeviceError && pump::lost_reading(s.error());
                if (refused_as_corrupted || (s.error().kind == ErrorKind::Timeout && ++status_timeouts_ < 3)) {
                    log("STATUS reading lost: " + s.error().message);
                } else if (auto r = recover(s.error()); !r) {
                    return r;
                } else {
                    status_timeouts_ = 0;
                }
            } else {
                status_timeouts_ = 0;
            }
            while (next_status_ <= at) next_status_ += sc_.settings.status_period;
        }
        // Events read before `at` are drained by now; what came later is stamped at or after it.
        if (at >= next_commit_) commit(at);
        progress();
    }
}

// Sends one command of a step, records it with the scenario's expected answer.
Result<std::string> Runner::command(std::size_t i, const std::string& verb, const std::function<Result<void>()>& call) {
    const auto& step = sc_.steps[i];
    const BenchTime t = b_.clock().now();
    auto r = call();
    std::string answer;
    if (r) {
        answer = "OK";
    } else if (r.error().kind == ErrorKind::DeviceError && r.error().code != "AUTH") {
        answer = r.error().code;
    } else {
        // Timeout or lost link after the driver's retries (same SEQ, same frame): whether the
        // pump acted is unknown. Reconnect, but never send the command again under a new SEQ
        // (a second bolus is worse than a failed check): record it as unanswered.
        if (auto rec = recover(r.error()); !rec) return std::unexpected(rec.error());
        answer = "NO_ANSWER";
    }
    record::CommandRecord c;
    c.bench_t = t;
    c.step_label = step_label(sc_, i);
    c.verb = verb;
    c.expected = record::Answer::from_code(step.expect);
    c.answer = record::Answer::from_code(answer);
    data_.commands.push_back(c);
    rec_.command(c);
    log("step " + std::to_string(i + 1) + " " + verb + " -> " + c.answer.text() + (c.answer == *c.expected ? "" : " (expected " + c.expected->text() + ")"));
    return answer;
}

Result<void> Runner::exec_step(std::size_t i) {
    const auto& step = sc_.steps[i];
    auto& exec = data_.times.steps[i];
    step_name_ = std::string(scenario::step_name(step.action));
    auto& pump = b_.pump();
    using namespace scenario;
    auto record_answer = [&](Result<std::string> a) -> Result<void> {
        if (!a) return std::unexpected(a.error());
        exec.answer = *a;
        return {};
    };
    return std::visit(
        overloaded{
            [&](const SetClockStep& s) -> Result<void> {
                const int minutes = s.time_of_day ? s.time_of_day->minutes : sc_.settings.start_time_of_day.minutes;
                // Offset so that the pump's time of day at the scenario start is `minutes`.
                long long offset = minutes * 60'000LL - tod_ms(data_.times.start, Millis{0});
                offset = ((offset % kDayMs) + kDayMs) % kDayMs;
                const double pump_s = to_seconds((b_.clock().now() + Millis{offset}).time_since_epoch());
                auto a = command(i, "CLOCK,set", [&] { return pump.set_clock(pump_s); });
                if (a && *a == "OK") {
                    exec.pump_offset = Millis{offset};
                    data_.pump_offset = Millis{offset};
                }
                return record_answer(a);
            },
            [&](const RefillStep& s) -> Result<void> {
                return record_answer(command(i, "REFILL", [&] {
                    return pump.refill(s.volume.ml(), static_cast<int>(std::lround(s.concentration.ug_per_ml)));
                }));
            },
            [&](const PrimeStep& s) -> Result<void> {
                return record_answer(command(i, "PRIME", [&] { return pump.prime(s.volume.ml()); }));
            },
            [&](const ProgramStep& s) -> Result<void> {
                // The edit as a whole: the first refused item (or the commit) is the answer.
                return record_answer(command(i, "PROG", [&]() -> Result<void> {
                    if (auto r = pump.prog_begin(); !r) return r;
                    for (const auto& st : s.program.steps)
                        if (auto r = pump.prog_step(st.start.minutes, st.dose.ug_per_day); !r) return r;
                    for (const auto& bo : s.program.boluses)
                        if (auto r = pump.prog_bolus(bo.start.minutes, bo.dose.ug, static_cast<int>(bo.duration.count() / 60000)); !r) return r;
                    if (s.program.patient_bolus) {
                        const auto& p = *s.program.patient_bolus;
                        if (auto r = pump.prog_ptm(p.dose.ug, static_cast<int>(p.duration.count() / 60000),
                                                   static_cast<int>(p.lockout.count() / 60000), p.max_per_day);
                            !r)
                            return r;
                    }
                    auto c = pump.prog_commit();
                    if (!c) return std::unexpected(c.error());
                    committed_ = *c;
                    sent_program_ = &s.program;
                    return {};
                }));
            },
            [&](const StartStep&) -> Result<void> {
                if (has_tag("probe-resend") && b_.probes()) b_.probes()->arm_resend();
                if (has_tag("probe-overflow") && b_.probes()) b_.probes()->arm_overflow();
                return record_answer(command(i, "START", [&] { return pump.start(); }));
            },
            [&](const StopStep&) -> Result<void> { return record_answer(command(i, "STOP", [&] { return pump.stop(); })); },
            [&](const ClinicianBolusStep& s) -> Result<void> {
                if (has_tag("probe-retry") && b_.probes()) b_.probes()->arm_retry();
                return record_answer(command(i, "BOLUS", [&] { return pump.bolus(s.dose.ug, static_cast<int>(s.duration.count() / 60000)); }));
            },
            [&](const CancelBolusStep&) -> Result<void> {
                return record_answer(command(i, "BOLUS.CANCEL", [&] { return pump.bolus_cancel(); }));
            },
            [&](const PatientBolusStep&) -> Result<void> {
                if (has_tag("probe-retry") && b_.probes()) b_.probes()->arm_retry();
                return record_answer(command(i, "PTM", [&] { return pump.ptm(); }));
            },
            [&](const AlarmThresholdStep& s) -> Result<void> {
                return record_answer(command(i, "ALARM.CFG", [&] { return pump.alarm_cfg(s.low_reservoir.ml()); }));
            },
            [&](const ResetStep&) -> Result<void> {
                reset_requested_ = true;
                auto a = command(i, "RESET", [&] { return pump.reset(); });
                if (!a) return std::unexpected(a.error());
                exec.answer = *a;
                // The reset ended the session: authenticate again, as an operator would.
                if (auto id = b_.authenticate_pump(); !id) return std::unexpected(id.error());
                return {};
            },
            [&](const WaitStep& w) -> Result<void> {
                const BenchTime now = b_.clock().now();
                if (w.duration) return run_until(now + *w.duration);
                if (w.until) {
                    long long delta = w.until->minutes * 60'000LL - tod_ms(now, data_.pump_offset);
                    delta = ((delta % kDayMs) + kDayMs) % kDayMs;
                    return run_until(now + Millis{delta});
                }
                const auto first_new = data_.events.size();
                const auto match = *w.until_event;
                auto r = run_until(now + w.timeout, [&] {
                    for (std::size_t k = first_new; k < data_.events.size(); ++k)
                        if (event_matches(data_.events[k], match)) return true;
                    return false;
                });
                return r;
            },
            [&](const ReadProgramStep&) -> Result<void> {
                // The program read back, part by part, against the one pumprig last committed:
                // a difference is answered MISMATCH (the command check fails and says where).
                return record_answer(command(i, "PROG.READ", [&]() -> Result<void> {
                    auto r = pump.prog_read();
                    if (!r) return std::unexpected(r.error());
                    if (!sent_program_) return {};
                    const auto& prog = *sent_program_;
                    auto mismatch = [](std::string what) {
                        return fail(ErrorKind::DeviceError, "program read back differs: " + what, "MISMATCH");
                    };
                    if (r->steps != prog.steps.size() || r->boluses != prog.boluses.size() || r->ptm != prog.patient_bolus.has_value())
                        return mismatch("counts");
                    for (std::size_t k = 0; k < prog.steps.size(); ++k) {
                        auto st = pump.prog_read_step(static_cast<int>(k + 1));
                        if (!st) return std::unexpected(st.error());
                        if (st->start_min != prog.steps[k].start.minutes || std::fabs(st->dose_ug_day - prog.steps[k].dose.ug_per_day) > 0.05)
                            return mismatch("step " + std::to_string(k + 1));
                    }
                    for (std::size_t k = 0; k < prog.boluses.size(); ++k) {
                        auto bo = pump.prog_read_bolus(static_cast<int>(k + 1));
                        if (!bo) return std::unexpected(bo.error());
                        const auto& want = prog.boluses[k];
                        if (bo->start_min != want.start.minutes || std::fabs(bo->dose_ug - want.dose.ug) > 0.05 ||
                            static_cast<long long>(bo->dur_min) * 60000 != want.duration.count())
                            return mismatch("bolus " + std::to_string(k + 1));
                    }
                    if (prog.patient_bolus) {
                        auto pt = pump.prog_read_ptm();
                        if (!pt) return std::unexpected(pt.error());
                        const auto& want = *prog.patient_bolus;
                        if (std::fabs(pt->dose_ug - want.dose.ug) > 0.05 || static_cast<long long>(pt->dur_min) * 60000 != want.duration.count() ||
                            static_cast<long long>(pt->lockout_min) * 60000 != want.lockout.count() ||
                            static_cast<int>(pt->max_day) != want.max_per_day)
                            return mismatch("patient bolus settings");
                    }
                    return {};
                }));
            },
            [&](const StatusStep&) -> Result<void> {
                auto s = status_once();
                exec.answer = s ? "OK" : "";
                if (!s && pump::lost_reading(s.error())) {
                    log("STATUS reading lost: " + s.error().message);
                    return {};
                }
                return s;
            },
        },
        step.action);
}

RunResult Runner::run() {
    RunResult result;
    result.dir = rec_.dir();
    data_.line_tau = Millis{static_cast<long long>(b_.rig().line_tau_s * 1000.0)};
    data_.line_tau_uncertainty = b_.rig().line_tau_uncertainty_pct / 100.0;  // rig "line" (docs/benches.md)
    data_.times.steps.resize(sc_.steps.size());

    std::optional<record::EarlyEnd> ended_early;
    auto fail_run = [&](const Error& e, Outcome o) {
        ended_early = record::EarlyEnd{o, e.describe()};
        log("run ended early: " + ended_early->why);
    };

    // Real-time benches: the meter is read by a thread of its own, on its own schedule, whatever
    // the pump link is doing; it waits for start() below (the engine identifies and zeroes the
    // meter first). --rt-priority puts it and the engine thread, which stamps pump events and
    // STATUS answers, at SCHED_FIFO.
    std::optional<RealtimePriority> priority;
    if (!b_.virtual_time() && opt_.realtime_priority > 0) priority.emplace(opt_.realtime_priority);
    if (!b_.virtual_time()) {
        sampler_ = std::make_unique<Sampler>(Sampler::Options{[this] { return b_.meter().read(); }, &b_.clock(),
                                                              [this](BenchTime at) { return b_.wall_deadline(at); },
                                                              sc_.settings.sample_period, opt_.realtime_priority});
        if (opt_.realtime_priority > 0) log(sampler_->priority_detail());
    }

    bool ok = true;
    // Connect: authenticate, make sure the pump is stopped, identify the meter, zero its
    // total, take the first readings.
    auto id = b_.authenticate_pump();
    if (!id) {
        fail_run(id.error(), Outcome::Error);
        ok = false;
    }
    if (ok) {
        pump_serial_ = id->serial;
        header_.pump = record::PumpIdentity{id->model, id->serial, id->firmware, id->proto};
    }
    if (ok) {
        // A run starts from a stopped pump: one left running (a run before it killed) is
        // stopped and confirmed before anything is sent, or the run does not start.
        const auto initial = b_.stop_at_start();
        header_.initial_state = record::InitialStateInfo{initial.state, initial.stop_sent, initial.confirmed_stopped, initial.settled,
                                                         initial.detail};
        log("initial state: " + initial.detail);
        if (!initial.confirmed_stopped) {
            fail_run(Error{ErrorKind::DeviceError, "NOT_STOPPED", "the pump could not be stopped at the start of the run: " + initial.detail, {}, {}},
                     Outcome::Error);
            ok = false;
        }
    }
    if (ok) {
        auto mid = b_.meter().identify();
        if (mid) header_.meter = *mid;
        if (!mid) log("meter identification failed: " + mid.error().describe());
        if (auto r = b_.meter().reset_total(); !r) {
            fail_run(r.error(), Outcome::Error);
            ok = false;
        }
    }
    started_ = b_.clock().now();
    data_.times.start = started_;
    if (ok) {
        // The meter zeroes its total at its next measurement: let that happen before sampling.
        if (auto w = b_.wait_until(started_ + Millis{200}); !w) { fail_run(w.error(), Outcome::Error); ok = false; }
        tracker_.restart();
    }
    if (ok) {
        auto st = b_.pump().status();
        // The first reading sets the clock offset: one lost to line noise is asked again.
        for (int again = 0; again < 3 && !st && pump::lost_reading(st.error()); ++again) st = b_.pump().status();
        if (st) {
            data_.pump_offset = Millis{std::llround(st->pump_t * 1000.0)} - b_.clock().now().time_since_epoch();
            data_.times.initial_pump_offset = data_.pump_offset;
            auto rec = to_record(*st, b_.clock().now());
            data_.statuses.push_back(rec);
            rec_.status(rec);
        } else {
            fail_run(st.error(), Outcome::Error);
            ok = false;
        }
    }
    data_.times.start = b_.clock().now();
    // The first reading is taken right below; the sampler goes on one period later.
    next_sample_ = data_.times.start + sc_.settings.sample_period;
    next_status_ = data_.times.start + sc_.settings.status_period;
    if (ok && !(id->model == sc_.pump.model)) log("warning: the scenario assumes a " + sc_.pump.model + ", the pump is a " + id->model);

    header_.tool.version = kToolVersion;
    header_.rig = {b_.rig().name, b_.rig().channel, opt_.rig_file, b_.rig().simulator.enabled, b_.virtual_time(),
                   b_.pump().describe_link(), b_.meter().describe()};
    header_.scenario = {sc_.name, sc_.file.string(), record::sha256_file_hex(sc_.file).value_or(std::string()), sc_.tags, sc_.requirements};
    header_.seed = opt_.seed;
    if (sampler_ && opt_.realtime_priority > 0)
        header_.realtime_priority = record::RealtimeInfo{opt_.realtime_priority, sampler_->priority_active(), sampler_->priority_detail()};
    header_.start = data_.times.start;
    header_.line_tau = data_.line_tau;
    header_.line_tau_uncertainty = data_.line_tau_uncertainty;
    header_.simulated_unit = b_.simulated_unit();
    header_.initial_pump_offset = data_.times.initial_pump_offset;
    // The record stands alone: the scenario and the rig as run are copied beside it, so that
    // `pumprig report` can re-judge the run even after the files changed.
    std::error_code copy_ec;
    std::filesystem::copy_file(sc_.file, rec_.dir() / "scenario.json", std::filesystem::copy_options::overwrite_existing, copy_ec);
    if (copy_ec) log("cannot copy the scenario into the run folder: " + copy_ec.message());
    if (!opt_.rig_file.empty())
        std::filesystem::copy_file(opt_.rig_file, rec_.dir() / "rig.json", std::filesystem::copy_options::overwrite_existing, copy_ec);
    write_header();

    // The first reading is taken here, before any step, so that every window (the first starts
    // at step 1) has a sample at or before its start; a real-time bench's sampler thread takes
    // the rest, from one period later (its first read could come after step 1 has begun).
    if (ok) {
        if (auto s = sample_once(); !s) { fail_run(s.error(), Outcome::Error); ok = false; }
    }
    if (ok && sampler_) sampler_->start(data_.times.start + sc_.settings.sample_period);
    for (std::size_t i = 0; ok && i < sc_.steps.size(); ++i) {
        if (stop_requested()) {
            fail_run(Error{ErrorKind::Io, "ABORTED", "stopped by signal", {}, {}}, Outcome::Aborted);
            ok = false;
            break;
        }
        // The step's start is on record before it runs, and everything before it on disk.
        data_.times.steps[i].at = b_.clock().now();
        write_header();
        commit(*data_.times.steps[i].at);
        if (auto r = exec_step(i); !r) {
            fail_run(r.error(), r.error().code == "ABORTED" ? Outcome::Aborted : Outcome::Error);
            ok = false;
            break;
        }
        if (auto e = drain_events(); !e) {
            fail_run(e.error(), Outcome::Error);
            ok = false;
        }
        write_header();
    }
    // Let the line settle so the meter counts what the pump delivered at the end.
    if (ok) {
        if (auto r = run_until(b_.clock().now() + sc_.settings.sample_period); !r) {
            fail_run(r.error(), Outcome::Error);
            ok = false;
        }
    }
    // Real time: the sampler ends here (a read under way is finished), and every reading it
    // took is recorded before the run's end is.
    if (sampler_) {
        sampler_->stop();
        (void)record_samples();
        result.sampler_cpu_s = sampler_->cpu_seconds();
    }
    if (opt_.progress) opt_.progress->finish(b_.rig().channel, printable(sc_.name));
    data_.times.end = b_.clock().now();
    data_.last_data = last_sample_ ? last_sample_->t : data_.times.end;

    if (b_.probes())
        for (auto& c : b_.probes()->take_records()) {
            rec_.command(c);
            data_.commands.push_back(std::move(c));
        }
    // Safety first: whatever happened, try to leave the pump stopped, and say so.
    result.safe_stop = b_.safe_stop();
    log(std::string("safe stop: ") + result.safe_stop.detail);
    (void)drain_events();
    // Everything is recorded: the files are complete up to now.
    header_.horizon = b_.clock().now() + Millis{1};
    rec_.commit(*header_.horizon);

    if (auto back = record::read_samples_csv(rec_.dir() / "samples.csv"); back) {
        data_.samples = std::move(back->items);
        header_.max_sample_gap = record::max_sample_gap(data_.samples);
    } else {
        log("cannot read the samples back for judging: " + back.error().describe());
    }
    data_.complete = ok;
    header_.safe_stop = result.safe_stop;
    data_.safe_stop = result.safe_stop;  // judged as recorded, as a rebuilt report judges it
    result.checks = judge(sc_, data_);
    // The outcome rule, shared with `pumprig report` (record/outcome.hpp).
    const auto decision = record::decide_outcome(result.checks, ended_early);
    result.outcome = decision.outcome;
    result.error = decision.error;
    if (!ended_early && !result.error.empty()) log("run ended as ERROR: " + result.error);
    header_.state = ok ? record::RunState::Complete : record::RunState::Incomplete;
    header_.end = data_.times.end;
    header_.outcome = result.outcome;
    header_.error = result.error;
    const auto& pc = b_.pump().counters();
    const auto& mc = b_.meter().counters();
    header_.links = record::LinkCounters{pc.requests, pc.retries, pc.busy, pc.crc_errors, pc.timeouts, pc.events, pc.duplicate_events,
                                         pc.discarded_lines, mc.reads, mc.retries, mc.errors};
    header_.judged = true;
    header_.checks = result.checks;
    write_header();
    return result;
}

}  // namespace

RunResult run_scenario(bench::Bench& bench, const scenario::Scenario& scenario, const RunOptions& options) {
    // A channel of a multi-channel bench: its name in the folder keeps parallel runs apart.
    const std::string channel = bench.rig().channel.empty() ? "" : "-" + safe_name(bench.rig().channel);
    const std::string base = wall_stamp() + "-" + safe_name(scenario.name) + channel + "-s" + std::to_string(options.seed);
    auto dir = options.out_root / base;
    // Claimed by creating it, so runs at once (run --jobs) never take the same folder.
    std::error_code ec;
    std::filesystem::create_directories(options.out_root, ec);
    for (int k = 2; !std::filesystem::create_directory(dir, ec) && !ec; ++k) dir = options.out_root / (base + "-" + std::to_string(k));
    auto rec = record::RunRecorder::create(dir);
    if (!rec) {
        RunResult r;
        r.outcome = Outcome::Error;
        r.error = rec.error().describe();
        r.safe_stop = bench.safe_stop();
        return r;
    }
    if (options.trace) {
        options.trace->recorder = &*rec;
        options.trace->clock = &bench.clock();
    }
    Runner runner(bench, scenario, options, *rec);
    auto result = runner.run();
    if (options.trace) options.trace->recorder = nullptr;
    return result;
}

}  // namespace pumprig::run
