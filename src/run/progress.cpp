#include "run/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "scenario/expected.hpp"

namespace pumprig::run {

BenchPlan plan_bench_time(const scenario::Scenario& sc, Millis initial_pump_offset) {
    // Every wait until an event at its timeout: the plan is the most the scenario can take.
    scenario::Scenario longest = sc;
    BenchPlan plan;
    for (auto& step : longest.steps) {
        auto* w = std::get_if<scenario::WaitStep>(&step.action);
        const bool event = w && w->until_event;
        if (event) *w = scenario::WaitStep{w->timeout, std::nullopt, std::nullopt, w->timeout};
        plan.waits_for_event.push_back(event);
    }
    const BenchTime start{Millis{0}};
    const auto times = scenario::nominal_execution(longest, start, initial_pump_offset);
    for (const auto& s : times.steps) plan.step_start.push_back(s.at ? *s.at - start : Millis{0});
    // The engine lets the line settle for one sample period after the last step.
    plan.total = (times.end - start) + sc.settings.sample_period;
    return plan;
}

ProgressState progress_at(const BenchPlan& plan, std::size_t index, Millis in_step, Millis done) {
    ProgressState s;
    s.steps = plan.step_start.size();
    s.step = index + 1;
    if (index >= plan.step_start.size()) {
        s.done = done;
        s.total = std::max(done, plan.total);
        return s;
    }
    const Millis next = index + 1 < plan.step_start.size() ? plan.step_start[index + 1] : plan.total;
    const Millis step_left = std::max(Millis{0}, next - plan.step_start[index] - in_step);
    const Millis left = step_left + (plan.total - next);
    s.done = done;
    s.total = done + left;
    s.at_most = std::any_of(plan.waits_for_event.begin() + static_cast<std::ptrdiff_t>(index), plan.waits_for_event.end(),
                            [](bool b) { return b; });
    return s;
}

std::string format_duration(Millis d) {
    const long long s = std::max<long long>(0, d.count() / 1000);
    char b[48];
    if (s >= 3600) std::snprintf(b, sizeof b, "%lldh %02lldm", s / 3600, (s / 60) % 60);
    else if (s >= 60) std::snprintf(b, sizeof b, "%lldm %02llds", s / 60, s % 60);
    else std::snprintf(b, sizeof b, "%llds", s);
    return b;
}

namespace {

double percent_of(const ProgressState& s) {
    if (s.total.count() <= 0) return 100.0;
    return std::clamp(100.0 * static_cast<double>(s.done.count()) / static_cast<double>(s.total.count()), 0.0, 100.0);
}

std::string left_text(const ProgressState& s, std::optional<Millis> wall_left) {
    if (!wall_left) return "time left unknown yet";
    return std::string(s.at_most ? "at most " : "") + (s.real_time ? "" : "~") + format_duration(*wall_left) + " left";
}

std::string step_text(const ProgressState& s) {
    if (s.step == 0) return "starting";
    return "step " + std::to_string(s.step) + "/" + std::to_string(s.steps) + (s.step_name.empty() ? "" : " " + s.step_name);
}

}  // namespace

ProgressReporter::ProgressReporter(Options options) : opt_(std::move(options)) {
    if (!opt_.write)
        opt_.write = [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stderr);
            std::fflush(stderr);
        };
    if (!opt_.wall) opt_.wall = [] { return std::chrono::steady_clock::now(); };
}

std::string ProgressReporter::plain_line(const ProgressState& s, std::optional<Millis> wall_left) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f %%", std::floor(percent_of(s)));
    return "progress " + s.scenario + (s.channel.empty() ? "" : " [" + s.channel + "]") + ": " + pct + ", bench time " +
           format_duration(s.done) + " of " + (s.at_most ? "at most " : "") + format_duration(s.total) + ", " + step_text(s) + ", " +
           left_text(s, wall_left);
}

std::optional<Millis> ProgressReporter::wall_left(const Channel& c, std::chrono::steady_clock::time_point now) const {
    const Millis bench_left = std::max(Millis{0}, c.state.total - c.state.done);
    if (c.state.real_time) return bench_left;
    // Faster than real time (a simulated bench): scale by the pace so far.
    const auto wall = std::chrono::duration_cast<Millis>(now - c.started_wall);
    if (c.state.done.count() <= 0 || wall.count() <= 0) return std::nullopt;
    return Millis{static_cast<long long>(static_cast<double>(bench_left.count()) * static_cast<double>(wall.count()) /
                                         static_cast<double>(c.state.done.count()))};
}

std::string ProgressReporter::live_line(std::chrono::steady_clock::time_point now) const {
    std::string line;
    if (channels_.size() == 1) {
        const auto& c = channels_.begin()->second;
        const auto& s = c.state;
        char pct[16];
        std::snprintf(pct, sizeof pct, "%3.0f%%", std::floor(percent_of(s)));
        line = s.scenario + (s.channel.empty() ? "" : " [" + s.channel + "]") + "  " + format_duration(s.done) + " / " +
               (s.at_most ? "<=" : "") + format_duration(s.total) + "  " + pct + "  " + step_text(s) + "  " + left_text(s, wall_left(c, now));
    } else {
        // Several channels (or scenarios at once): one combined line, each run's percent and
        // step, the longest time left. Runs of one scenario are named by channel alone.
        const bool one_scenario = std::all_of(channels_.begin(), channels_.end(), [&](const auto& c) {
            return c.first.second == channels_.begin()->first.second;
        });
        std::optional<Millis> longest;
        bool unknown = false, at_most = false, real_time = true, running = false;
        for (const auto& [key, c] : channels_) {
            const auto& s = c.state;
            if (line.empty() && one_scenario) line = s.scenario;
            const std::string name = one_scenario       ? s.channel
                                     : s.channel.empty() ? s.scenario
                                                         : s.scenario + " " + s.channel;
            char pct[16];
            std::snprintf(pct, sizeof pct, "%.0f%%", std::floor(percent_of(s)));
            line += std::string(line.empty() ? "" : "  ") + "[" + name + "] " + (c.finished ? std::string("done") : std::string(pct) + " " + std::to_string(s.step) + "/" +
                                                                               std::to_string(s.steps) + " " + s.step_name);
            if (c.finished) continue;
            running = true;
            const auto left = wall_left(c, now);
            if (!left) unknown = true;
            else longest = std::max(longest.value_or(Millis{0}), *left);
            at_most = at_most || s.at_most;
            real_time = real_time && s.real_time;
        }
        if (!running) line += "  all done";
        else if (unknown || !longest) line += "  time left unknown yet";
        else line += std::string("  ") + (at_most ? "at most " : "") + (real_time ? "" : "~") + format_duration(*longest) + " left";
    }
    if (opt_.columns > 1 && line.size() > opt_.columns - 1) line.resize(opt_.columns - 1);
    return line;
}

void ProgressReporter::draw(std::chrono::steady_clock::time_point now) {
    opt_.write("\r" + live_line(now) + "\x1b[K");
    line_shown_ = true;
    last_draw_ = now;
}

void ProgressReporter::update(const ProgressState& state) {
    std::lock_guard lock(mutex_);
    const auto now = opt_.wall();
    auto [it, added] = channels_.try_emplace({state.channel, state.scenario});
    auto& c = it->second;
    if (added || c.finished || c.state.scenario != state.scenario) {
        c = Channel{};
        c.started_wall = now;
        c.last_plain = now;
    }
    c.state = state;
    if (opt_.mode == Mode::Terminal) {
        if (!line_shown_ || added || now - last_draw_ >= opt_.redraw_period) draw(now);
        return;
    }
    const double bucket = std::floor(percent_of(state) / opt_.percent_step);
    if (bucket > c.last_percent_bucket || now - c.last_plain >= opt_.plain_period) {
        opt_.write(plain_line(state, wall_left(c, now)) + "\n");
        c.last_plain = now;
        c.last_percent_bucket = std::max(c.last_percent_bucket, bucket);
    }
}

void ProgressReporter::finish(const std::string& channel, const std::string& scenario) {
    std::lock_guard lock(mutex_);
    bool found = false;
    std::set<std::string> running;  // scenarios still under way on some channel
    for (auto& [key, c] : channels_) {
        if (key.first == channel && (scenario.empty() || key.second == scenario)) {
            c.finished = true;
            found = true;
        }
    }
    if (!found) return;
    for (const auto& [key, c] : channels_)
        if (!c.finished) running.insert(key.second);
    if (!running.empty()) {
        // A scenario done on every channel leaves the line while others go on (--jobs).
        std::erase_if(channels_, [&](const auto& c) { return !running.count(c.first.second); });
        if (opt_.mode == Mode::Terminal && line_shown_) draw(opt_.wall());
        return;
    }
    if (opt_.mode == Mode::Terminal && line_shown_) {
        draw(opt_.wall());  // where the run ended, not the last state the redraw pace let through
        opt_.write("\n");
    }
    line_shown_ = false;
    channels_.clear();
}

void ProgressReporter::log_line(const std::string& line) {
    std::lock_guard lock(mutex_);
    if (opt_.mode == Mode::Terminal && line_shown_) {
        opt_.write("\r\x1b[K" + line + "\n");
        draw(opt_.wall());
        return;
    }
    opt_.write(line + "\n");
}

}  // namespace pumprig::run
