// Checks over the pump's events and answers: dedupe, expected events, unexpected alarms,
// STEP event timing, command answers.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <tuple>

#include "verify/checks.hpp"
#include "verify/internal.hpp"

namespace pumprig::verify {

using internal::judge;
using internal::kInf;
using internal::make_result;
using internal::num;
using internal::seconds;

std::vector<PumpEventRecord> dedupe_events(std::span<const PumpEventRecord> events) {
    std::vector<PumpEventRecord> out;
    // (n, pump_t in ms) seen since the last BOOT. A re-sent BOOT repeats its own (n, t) and is
    // dropped before it could open another boot.
    std::set<std::pair<std::uint32_t, long long>> seen;
    for (const auto& e : events) {
        const auto key = std::make_pair(e.n, std::llround(e.pump_t * 1000.0));
        if (seen.contains(key)) continue;
        if (e.type == "BOOT") seen.clear();
        seen.insert(key);
        out.push_back(e);
    }
    return out;
}

namespace {

bool values_match(const PumpEventRecord& e, const std::map<std::string, std::string>& want) {
    for (const auto& [k, v] : want) {
        auto it = e.values.find(k);
        if (it == e.values.end() || it->second != v) return false;
    }
    return true;
}

std::string describe(const std::string& type, const std::map<std::string, std::string>& values) {
    std::string s = type;
    for (const auto& [k, v] : values) s += " " + k + "=" + v;
    return s;
}

}  // namespace

CheckResult check_expected_event(std::span<const PumpEventRecord> events,
                                 const ExpectedEvent& x, const PumpClockMapping& clock,
                                 BenchTime run_end) {
    auto r = make_result(x.id, x.name.empty() ? "event " + describe(x.type, x.values) : x.name,
                         "event", "count", x.window_start, x.window_end, x.requirements);
    r.expected = 1;
    r.lower = 1;
    r.upper = kInf;
    r.tolerance = "at least one within the window, its edges widened by the clock mapping's uncertainty";
    r.tolerance_source = internal::source::kClock;
    std::size_t count = 0;
    std::string first;
    for (const auto& e : dedupe_events(events)) {
        if (e.type != x.type || !values_match(e, x.values)) continue;
        const auto t = clock.to_bench(e.pump_t, e.bench_t);
        // The pump stamps an event with its own clock, mapped to bench time through an offset
        // read to the millisecond and a clock that may drift: an event caused by a command can
        // map a few ms before the command's bench time. Allow the mapping's uncertainty (the one
        // timing checks use) at both ends of the window.
        if (t < x.window_start - clock.uncertainty_at(x.window_start) || t > x.window_end + clock.uncertainty_at(x.window_end))
            continue;
        if (count++ == 0)
            first = "n=" + std::to_string(e.n) + " at " + num(seconds(t - x.window_start), 3) +
                    " s into the window";
    }
    r.measured = static_cast<double>(count);
    if (count == 0 && run_end < x.window_end) {
        r.verdict = Verdict::Inconclusive;
        r.detail = "not seen, and the run ended before the window did";
        return r;
    }
    judge(r);
    r.detail = count ? "first: " + first : "no " + describe(x.type, x.values) + " event in the window";
    return r;
}

CheckResult check_no_unexpected_alarms(std::span<const PumpEventRecord> events,
                                       const AlarmCheckParams& p) {
    auto r = make_result(p.id, "no unexpected alarm", "alarm", "count", BenchTime{}, BenchTime{},
                         p.requirements);
    r.expected = 0;
    r.lower = 0;
    r.upper = 0;
    r.tolerance = "none allowed";
    r.tolerance_source = "scenario (alarms it expects) and pump ICD 8 (alarm codes)";
    std::size_t count = 0;
    std::string list;
    bool first = true;
    for (const auto& e : dedupe_events(events)) {
        if (first) {
            r.window_start = r.window_end = e.bench_t;
            first = false;
        }
        r.window_start = std::min(r.window_start, e.bench_t);
        r.window_end = std::max(r.window_end, e.bench_t);
        if (e.type != "ALARM") continue;
        auto state = e.values.find("state");
        if (state == e.values.end() || state->second != "SET") continue;
        auto code_it = e.values.find("code");
        const std::string code = code_it == e.values.end() ? "" : code_it->second;
        const auto t = p.clock.to_bench(e.pump_t, e.bench_t);
        const bool allowed = std::any_of(p.allowed.begin(), p.allowed.end(), [&](const AllowedAlarm& a) {
            return a.code == code && (!a.from || t >= *a.from) && (!a.until || t <= *a.until);
        });
        if (allowed) continue;
        ++count;
        if (!list.empty()) list += ", ";
        list += (code.empty() ? std::string("(no code)") : code) + " (n=" + std::to_string(e.n) +
                ", t=" + num(e.pump_t, 3) + ")";
    }
    r.measured = static_cast<double>(count);
    judge(r);
    r.detail = count ? "unexpected ALARM SET: " + list : "every ALARM SET was expected";
    return r;
}

CheckResult check_change_time_event(std::span<const PumpEventRecord> events,
                                    const RateChange& change, const EventTimingParams& p) {
    auto r = make_result(change.id, change.name + " (STEP event)", "timing", "s",
                         change.expected_at - p.search, change.expected_at + p.search,
                         change.requirements);
    r.expected = 0;
    const Millis allowed = p.clock.uncertainty_at(change.expected_at);
    r.lower = -seconds(allowed);
    r.upper = seconds(allowed);
    r.tolerance = "+-" + num(seconds(allowed), 1) + " s (clock mapping: read latency + drift since set)";
    r.tolerance_source = internal::source::kClock;
    if (change.step <= 0) {
        r.detail = "no step number given: the STEP event cannot be matched";
        return r;
    }
    const std::string want = std::to_string(change.step);
    std::optional<Millis> best;
    std::uint32_t best_n = 0;
    for (const auto& e : dedupe_events(events)) {
        if (e.type != "STEP") continue;
        auto it = e.values.find("step");
        if (it == e.values.end() || it->second != want) continue;
        const Millis d = p.clock.to_bench(e.pump_t, e.bench_t) - change.expected_at;
        const Millis ad = d < Millis{0} ? -d : d;
        if (ad > p.search) continue;
        if (!best || ad < (*best < Millis{0} ? -*best : *best)) {
            best = d;
            best_n = e.n;
        }
    }
    if (!best) {
        if (p.run_end < change.expected_at + allowed) {
            r.detail = "no STEP event for step " + want + ", and the run ended before it was due";
        } else {
            r.verdict = Verdict::Fail;
            r.detail = "no STEP event for step " + want + " within " + num(seconds(p.search), 0) +
                       " s of the expected time";
        }
        return r;
    }
    r.measured = seconds(*best);
    judge(r);
    r.detail = "STEP n=" + std::to_string(best_n) + " step=" + want +
               ", pump time mapped to bench time";
    return r;
}

// 6. -----------------------------------------------------------------------------------------

namespace {

std::optional<double> as_number(std::string_view s) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

bool same_value(std::string_view a, std::string_view b) {
    if (a == b) return true;
    // The ICD: "compare numbers, not text" (0.5 and 0.500 are the same value).
    auto x = as_number(a), y = as_number(b);
    return x && y && std::abs(*x - *y) <= 1e-9 * std::max(1.0, std::abs(*x));
}

}  // namespace

bool answer_matches(const record::Answer& expected, const record::Answer& answer) {
    if (expected.kind != answer.kind || expected.code != answer.code) return false;
    for (const auto& [key, value] : expected.values) {
        auto it = answer.values.find(key);
        if (it == answer.values.end() || !same_value(value, it->second)) return false;
    }
    return true;
}

std::vector<CheckResult> check_command_answers(std::span<const CommandRecord> commands,
                                               std::string_view id_prefix,
                                               const std::vector<std::string>& requirements) {
    std::vector<CheckResult> out;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        const auto& c = commands[i];
        if (!c.expected) continue;
        auto r = make_result(std::string(id_prefix) + "." + std::to_string(i + 1),
                             (c.step_label.empty() ? std::string() : c.step_label + ": ") + c.verb +
                                 " answers " + c.expected->text(),
                             "command", "match", c.bench_t, c.bench_t, requirements);
        r.expected = 1;
        r.lower = 1;
        r.upper = 1;
        r.tolerance = "first field equal, listed keys equal (numbers as numbers)";
        r.tolerance_source = "pump ICD 2 (answers; compare numbers, not text)";
        r.measured = answer_matches(*c.expected, c.answer) ? 1 : 0;
        judge(r);
        r.detail = c.answer.kind == record::Answer::Kind::None ? "no answer" : "answer: " + c.answer.text();
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<CheckResult> check_probe_resends(std::span<const CommandRecord> probes, Millis limit, std::string_view id_prefix,
                                             const std::vector<std::string>& requirements) {
    std::vector<CheckResult> out;
    for (std::size_t i = 0; i < probes.size(); ++i) {
        const auto& c = probes[i];
        auto r = make_result(std::string(id_prefix) + "." + std::to_string(i + 1), c.step_label + ": sent again", "event", "s", c.bench_t,
                             c.bench_t + limit, requirements);
        r.expected = 10;
        r.lower = 0;
        r.upper = seconds(limit);
        r.tolerance = "the ICD's 10 s + 2 s to read it";
        r.tolerance_source = "pump ICD 2 (an unacknowledged event is sent again after 10 s); engineering choice: 2 s of reading";
        const auto after = c.answer.values.find("after_s");
        const std::optional<double> waited = after == c.answer.values.end() ? std::nullopt : as_number(after->second);
        r.measured = waited.value_or(internal::kNaN);
        if (c.answer.kind != record::Answer::Kind::Ok) {
            r.verdict = Verdict::Fail;
            r.detail = "not sent again" + (waited ? " within " + num(*waited, 1) + " s" : std::string());
        } else {
            judge(r);
            r.detail = "sent again after " + (waited ? num(*waited, 1) + " s" : std::string("?"));
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace pumprig::verify
