// A scenario on every channel of a bench at once (like a multi-channel infusion analyzer):
// one thread and one run record per channel. A channel's fault, its lost link or its failed
// checks end that channel's run only; the others go on.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "run/engine.hpp"

namespace pumprig::run {

struct ChannelRun {
    std::string channel;  // empty on a single-channel bench
    bool ran = false;     // false: no bench (let go before), or the gate said no
    RunResult result;
};

// Runs `scenario` on each opened channel; `relays` holds one trace relay per channel (the
// benches were opened with BenchOptions::channel_pump_trace pointing at them). `log` gets
// each channel's log lines with its name. A channel whose bench did not open is an Error; one
// whose bench was already let go (reset) is skipped. `gate`, if given, is asked first on the
// channel's own thread (pumprig eol checks the unit's serial there); false skips the channel.
// Each channel's bench is let go as soon as that channel is done.
std::vector<ChannelRun> run_on_channels(std::vector<bench::ChannelBench>& benches, const scenario::Scenario& scenario,
                                        const RunOptions& options, std::vector<TraceRelay>& relays,
                                        const std::function<void(const std::string& channel, const std::string& line)>& log,
                                        const std::function<bool(std::size_t channel, bench::Bench& bench)>& gate = {});

}  // namespace pumprig::run
