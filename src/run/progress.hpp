// Progress of long runs. On a terminal: one live line (bench time done and total, percent,
// current step, time left; a channel each, side by side, on a bench of several). Elsewhere (a CI
// log): a plain line at a steady pace, every 5 % of the bench time or every 60 s of wall time,
// whichever comes first, so a day-long wait still shows life. Quiet: nothing.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"
#include "scenario/scenario.hpp"

namespace pumprig::run {

// The bench time a scenario needs, planned before it runs (scenario::nominal_execution with
// every wait until an event taken at its timeout, the most it can last), plus the settling
// sample the engine takes at the end.
struct BenchPlan {
    std::vector<Millis> step_start;    // each step's start, from the scenario start
    std::vector<bool> waits_for_event; // step i is a wait until an event (it may end sooner)
    Millis total{0};
};
BenchPlan plan_bench_time(const scenario::Scenario& scenario, Millis initial_pump_offset);

struct ProgressState {
    std::string channel;     // "" on a bench of one channel
    std::string scenario;
    Millis done{0};          // bench time since the scenario started
    Millis total{0};         // planned bench time: exact, or the most it can take (at_most)
    bool at_most = false;
    std::size_t step = 0;    // 1-based step under way (0: none yet)
    std::size_t steps = 0;
    std::string step_name;
    bool real_time = true;   // bench time runs at wall speed: time left is the bench time left
};

// Where a run stands: step `index` (0-based) started `in_step` ago, `done` since the start.
// The bench time left is the plan's from that step on, less what the step has already taken;
// "at most" while a wait until an event is under way or ahead.
ProgressState progress_at(const BenchPlan& plan, std::size_t index, Millis in_step, Millis done);

// "1h 02m", "3m 05s", "12s".
std::string format_duration(Millis d);

class ProgressReporter {
public:
    enum class Mode { Terminal, Plain };
    using WallClock = std::function<std::chrono::steady_clock::time_point()>;
    struct Options {
        Mode mode = Mode::Plain;
        std::function<void(std::string_view)> write;  // default: stderr
        WallClock wall;                                // default: steady_clock::now
        double percent_step = 5;                       // plain: a line every this many percent...
        std::chrono::seconds plain_period{60};         // ...or this much wall time
        std::chrono::milliseconds redraw_period{200};  // terminal: at most this often
        std::size_t columns = 120;                     // terminal width: the live line is cut to it
    };
    explicit ProgressReporter(Options options);

    // A channel's run is at `state` (thread-safe: channels, and scenarios run at once with
    // --jobs, run in threads). Runs are told apart by channel and scenario.
    void update(const ProgressState& state);
    // A channel's run of `scenario` is over (no scenario: whichever that channel runs). On a
    // terminal the live line ends once every run is over.
    void finish(const std::string& channel, const std::string& scenario = {});
    // A log line while runs go on: on a terminal the live line is cleared and drawn again below.
    void log_line(const std::string& line);

    static std::string plain_line(const ProgressState& state, std::optional<Millis> wall_left);

private:
    struct Channel {
        ProgressState state;
        bool finished = false;
        std::chrono::steady_clock::time_point started_wall{}, last_plain{};
        double last_percent_bucket = -1;
    };
    std::optional<Millis> wall_left(const Channel& c, std::chrono::steady_clock::time_point now) const;
    std::string live_line(std::chrono::steady_clock::time_point now) const;
    void draw(std::chrono::steady_clock::time_point now);

    Options opt_;
    std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, Channel> channels_;  // by channel, then scenario
    bool line_shown_ = false;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace pumprig::run
