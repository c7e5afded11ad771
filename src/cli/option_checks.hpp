// Checks of option values the parser's types let through: run as boost notifiers, so a bad
// value is bad input (exit 2) naming the option, before anything is started.
#pragma once
#include <sched.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace pumprig::cli {

inline boost::program_options::error bad_option(const std::string& option, const std::string& expected, const std::string& got) {
    return boost::program_options::error("--" + option + ": expected " + expected + ", got '" + got + "'");
}

// A seed: a whole number from 0 to 2^64-1 (a "-1" must not wrap around to 2^64-1).
inline std::uint64_t parse_seed(const std::string& text) {
    std::uint64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || p != end) throw bad_option("seed", "a whole number from 0 to 18446744073709551615", text);
    return v;
}

// Bench hours: a number above 0.
inline void check_max_hours(double hours) {
    if (!(std::isfinite(hours) && hours > 0)) throw bad_option("max-hours", "a number of bench hours above 0", std::to_string(hours));
}

// Scenarios at once (run --jobs): a whole number from 1.
inline void check_jobs(int jobs) {
    if (jobs < 1) throw bad_option("jobs", "a whole number of scenarios at once from 1", std::to_string(jobs));
}

// A SCHED_FIFO priority within what this system allows (1 to 99 on Linux), or 0 for none.
inline void check_rt_priority(int priority) {
    const int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
    if (priority != 0 && (priority < lo || priority > hi))
        throw bad_option("rt-priority", "0 (normal priority) or a SCHED_FIFO priority from " + std::to_string(lo) + " to " + std::to_string(hi),
                         std::to_string(priority));
}

}  // namespace pumprig::cli
