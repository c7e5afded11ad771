#include "run/channels.hpp"

#include <thread>

namespace pumprig::run {

std::vector<ChannelRun> run_on_channels(std::vector<bench::ChannelBench>& benches, const scenario::Scenario& scenario,
                                        const RunOptions& options, std::vector<TraceRelay>& relays,
                                        const std::function<void(const std::string& channel, const std::string& line)>& log,
                                        const std::function<bool(std::size_t channel, bench::Bench& bench)>& gate) {
    std::vector<ChannelRun> runs(benches.size());
    std::vector<RunOptions> per_channel(benches.size(), options);
    for (std::size_t i = 0; i < benches.size(); ++i) {
        runs[i].channel = benches[i].rig.channel;
        per_channel[i].trace = i < relays.size() ? &relays[i] : nullptr;
        if (log) per_channel[i].log = [&log, name = runs[i].channel](const std::string& line) { log(name, line); };
    }
    auto run_one = [&](std::size_t i) {
        auto& cb = benches[i];
        if (!cb.bench) {
            runs[i].ran = true;
            runs[i].result.outcome = Outcome::Error;
            runs[i].result.error = cb.bench.error().message;
            return;
        }
        if (!*cb.bench) return;
        try {
            if (gate && !gate(i, **cb.bench)) {
                cb.bench->reset();
                return;
            }
            runs[i].ran = true;
            runs[i].result = run_scenario(**cb.bench, scenario, per_channel[i]);
        } catch (const std::exception& e) {
            // Nothing a channel meets may end the process the other channels run in.
            runs[i].ran = true;
            runs[i].result.outcome = Outcome::Error;
            runs[i].result.error = std::string("internal error: ") + e.what();
        }
        // Done with this channel: its bench lets go of the simulator's clock for the others.
        cb.bench->reset();
    };
    // A channel is a thread of its own only when there are several.
    if (benches.size() == 1) {
        run_one(0);
        return runs;
    }
    std::vector<std::thread> threads;
    threads.reserve(benches.size());
    for (std::size_t i = 0; i < benches.size(); ++i) threads.emplace_back(run_one, i);
    for (auto& t : threads) t.join();
    return runs;
}

}  // namespace pumprig::run
