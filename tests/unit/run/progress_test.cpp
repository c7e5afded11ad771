// Progress of long runs with an injected wall clock: the plan of a scenario's bench time, the
// steady plain lines of a CI log, the live terminal line, several channels, no sleeps.
#include <doctest/doctest.h>

#include <algorithm>

#include "run/progress.hpp"

using namespace pumprig;
using namespace pumprig::run;
using namespace std::chrono_literals;

namespace {

scenario::Scenario day_long() {
    // set_clock, start, wait 2 h, wait for an alarm (at most 30 min), stop, wait 10 min.
    const auto parsed = scenario::parse_scenario_text(R"({"name": "day-long", "pump_profile": "itb-40",
      "settings": {"sample_period": "1 s"},
      "steps": [ {"do": "set_clock"},
                 {"do": "refill", "volume": "20 mL", "concentration": "500 ug/mL"},
                 {"do": "program", "schedule": [{"start": "00:00", "dose": "6000 ug/day"}]},
                 {"do": "start"}, {"do": "wait", "for": "2 h"},
                 {"do": "wait", "until_event": {"type": "ALARM", "code": "LOW_RES"}, "timeout": "30 min"},
                 {"do": "stop"}, {"do": "wait", "for": "10 min"} ],
      "checks": []})",
                                                      "day-long.json", std::string(PUMPRIG_SOURCE_DIR) + "/fixtures");
    REQUIRE(parsed);
    return *parsed;
}

// A reporter on a wall clock the test moves, writing into `out`.
struct Capture {
    std::chrono::steady_clock::time_point now{};
    std::string out;
    ProgressReporter rep;
    explicit Capture(ProgressReporter::Mode mode, std::size_t columns = 120) : rep(options(mode, columns)) {}
    ProgressReporter::Options options(ProgressReporter::Mode mode, std::size_t columns) {
        ProgressReporter::Options o;
        o.mode = mode;
        o.write = [this](std::string_view t) { out += t; };
        o.wall = [this] { return now; };
        o.columns = columns;
        return o;
    }
    std::size_t count(char ch) const { return static_cast<std::size_t>(std::count(out.begin(), out.end(), ch)); }
};

ProgressState at(Millis done, Millis total, const std::string& channel = "", bool real_time = true) {
    ProgressState s;
    s.channel = channel;
    s.scenario = "day-long";
    s.done = done;
    s.total = total;
    s.step = 2;
    s.steps = 3;
    s.step_name = "wait";
    s.real_time = real_time;
    return s;
}

}  // namespace

TEST_CASE("progress plan: bench time per step, waits until an event at their timeout, plus the settling sample") {
    const auto plan = plan_bench_time(day_long(), Millis{0});
    REQUIRE(plan.step_start.size() == 8);
    CHECK(plan.step_start[4] == Millis{0});               // the 2 h wait starts at once
    CHECK(plan.step_start[5] == Millis{2 * 3600'000});    // the event wait after it
    CHECK(plan.step_start[6] == Millis{150 * 60'000});    // stop after at most 30 min more
    CHECK(plan.step_start[7] == Millis{150 * 60'000});
    CHECK(plan.total == Millis{160 * 60'000 + 1000});      // 2 h 40 min and one sample period
    CHECK(plan.waits_for_event == std::vector<bool>{false, false, false, false, false, true, false, false});
}

TEST_CASE("progress at a step: time left from the plan, at most while an event wait is under way or ahead") {
    const auto plan = plan_bench_time(day_long(), Millis{0});
    // One hour into the 2 h wait: 1 h of it left, then at most 30 min, 10 min and 1 s.
    const auto mid = progress_at(plan, 4, Millis{3600'000}, Millis{3600'000});
    CHECK(mid.done == Millis{3600'000});
    CHECK(mid.total == plan.total);
    CHECK(mid.at_most);
    CHECK(mid.step == 5);
    CHECK(mid.steps == 8);
    // The alarm came 5 min into its wait: from the stop on the plan is exact again.
    const Millis done = Millis{125 * 60'000};
    const auto after = progress_at(plan, 7, Millis{0}, done);
    CHECK(after.total == done + Millis{10 * 60'000 + 1000});
    CHECK_FALSE(after.at_most);
}

TEST_CASE("progress plain lines in a CI log: every 5 percent of bench time, first line at the start") {
    Capture c(ProgressReporter::Mode::Plain);
    // A simulated bench: 100 min of bench time, one bench minute per wall second.
    for (int m = 0; m <= 100; ++m) {
        c.rep.update(at(Millis{m * 60'000}, Millis{100 * 60'000}, "", false));
        c.now += 1s;
    }
    c.rep.finish("");
    const auto lines = c.count('\n');
    CHECK(lines == 21);  // 0 %, 5 %, ..., 100 %
    CHECK(c.out.find("progress day-long: 0 %, bench time 0s of 1h 40m, step 2/3 wait, time left unknown yet\n") == 0);
    // Halfway, 50 wall seconds for 50 bench minutes: about 50 s left.
    CHECK(c.out.find("progress day-long: 50 %, bench time 50m 00s of 1h 40m, step 2/3 wait, ~50s left\n") != std::string::npos);
    CHECK(c.out.find('\r') == std::string::npos);  // no terminal control in a log
}

TEST_CASE("progress plain lines on a real bench: a line every 60 s of wall time through a day-long wait") {
    Capture c(ProgressReporter::Mode::Plain);
    // 24 h of bench time at wall speed, updated every 10 s for the first 10 min (5 % is 72 min).
    for (int s = 0; s <= 600; s += 10) {
        c.rep.update(at(Millis{s * 1000LL}, Millis{24 * 3600'000LL}, "", true));
        c.now += 10s;
    }
    const auto lines = c.count('\n');
    CHECK(lines == 11);  // at the start, then once a minute
    CHECK(c.out.find("progress day-long: 0 %, bench time 0s of 24h 00m, step 2/3 wait, 24h 00m left\n") == 0);
    CHECK(c.out.find("bench time 1m 00s of 24h 00m, step 2/3 wait, 23h 59m left\n") != std::string::npos);
}

TEST_CASE("progress live line on a terminal: redrawn in place at most every 200 ms, cut to the width, ended once") {
    Capture c(ProgressReporter::Mode::Terminal, 60);
    for (int i = 0; i <= 20; ++i) {  // 1 s of wall time in 50 ms steps
        auto s = at(Millis{i * 60'000}, Millis{24 * 3600'000LL});
        s.at_most = true;
        c.rep.update(s);
        c.now += 50ms;
    }
    const auto draws = c.count('\r');
    CHECK(draws == 6);  // at 0, 200, 400, 600, 800 and 1000 ms
    CHECK(c.out.find('\n') == std::string::npos);
    // Each draw: carriage return, the line (at most 59 columns), erase to the end of the line.
    const auto first = c.out.substr(1, c.out.find("\x1b[K") - 1);
    CHECK(first == std::string("day-long  0s / <=24h 00m    0%  step 2/3 wait  at most 24h 00m left").substr(0, 59));
    c.rep.log_line("  event ALARM code=LOW_RES");
    CHECK(c.out.find("\r\x1b[K  event ALARM code=LOW_RES\n\r") != std::string::npos);  // the line is drawn again below
    c.rep.update(at(Millis{24 * 3600'000LL}, Millis{24 * 3600'000LL}));  // within 200 ms: not drawn yet
    CHECK(c.out.find("100%") == std::string::npos);
    c.rep.finish("");
    CHECK(c.out.find("100%") != std::string::npos);  // the end is drawn before the line is closed
    CHECK(c.out.back() == '\n');
}

TEST_CASE("progress on a terminal with several channels: one combined line until every channel is done") {
    Capture c(ProgressReporter::Mode::Terminal);
    c.rep.update(at(Millis{3600'000}, Millis{4 * 3600'000}, "A"));
    c.rep.update(at(Millis{7200'000}, Millis{4 * 3600'000}, "B"));
    CHECK(c.out.rfind("day-long  [A] 25% 2/3 wait  [B] 50% 2/3 wait  3h 00m left") != std::string::npos);
    c.rep.finish("B");
    CHECK(c.out.find("[B] done") != std::string::npos);
    CHECK(c.out.find('\n') == std::string::npos);
    c.rep.finish("A");
    CHECK(c.out.find("[A] done  [B] done  all done\x1b[K\n") != std::string::npos);  // the end drawn, then the line closed
}

TEST_CASE("progress on a terminal with scenarios run at once: one line naming each, a finished one leaves it") {
    Capture c(ProgressReporter::Mode::Terminal);
    auto other = at(Millis{600'000}, Millis{3600'000});
    other.scenario = "priming";
    c.rep.update(at(Millis{3600'000}, Millis{4 * 3600'000}));
    c.rep.update(other);
    CHECK(c.out.rfind("[day-long] 25% 2/3 wait  [priming] 16% 2/3 wait  3h 00m left") != std::string::npos);
    c.rep.finish("", "priming");
    c.now += 1s;
    c.rep.update(at(Millis{7200'000}, Millis{4 * 3600'000}));
    const auto last = c.out.substr(c.out.rfind('\r'));
    CHECK(last.find("day-long  2h 00m / 4h 00m") != std::string::npos);  // one run left: the single line
    CHECK(last.find("priming") == std::string::npos);
    CHECK(c.out.find('\n') == std::string::npos);
    c.rep.finish("", "day-long");
    CHECK(c.count('\n') == 1);  // the line closed once every run is over
}

TEST_CASE("progress plain lines of several channels: each channel its own line and pace") {
    Capture c(ProgressReporter::Mode::Plain);
    c.rep.update(at(Millis{0}, Millis{100 * 60'000}, "A"));
    c.rep.update(at(Millis{0}, Millis{100 * 60'000}, "B"));
    c.rep.update(at(Millis{6 * 60'000}, Millis{100 * 60'000}, "A"));  // A passed 5 %
    c.rep.update(at(Millis{1 * 60'000}, Millis{100 * 60'000}, "B"));  // B did not
    CHECK(c.out.find("progress day-long [A]: 0 %") != std::string::npos);
    CHECK(c.out.find("progress day-long [B]: 0 %") != std::string::npos);
    CHECK(c.out.find("progress day-long [A]: 6 %") != std::string::npos);
    CHECK(c.out.find("progress day-long [B]: 1 %") == std::string::npos);
}

TEST_CASE("progress durations are written in hours and minutes, minutes and seconds, or seconds") {
    CHECK(format_duration(Millis{0}) == "0s");
    CHECK(format_duration(Millis{59'999}) == "59s");
    CHECK(format_duration(Millis{185'000}) == "3m 05s");
    CHECK(format_duration(Millis{3720'000}) == "1h 02m");
    CHECK(format_duration(Millis{-5}) == "0s");
}
