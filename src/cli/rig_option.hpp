// Options every bench command shares: which rig, which seed.
#pragma once
#include <atomic>
#include <boost/program_options.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "cli/option_checks.hpp"
#include "run/suite.hpp"

namespace pumprig::cli {

struct BenchArgs {
    std::string rig = std::string(PUMPRIG_SOURCE_DIR) + "/rig/sim.json";
    std::uint64_t seed = 1;
    std::string sim_binary;

    void add_to(boost::program_options::options_description& desc) {
        desc.add_options()
            ("rig", boost::program_options::value(&rig), "bench description (default rig/sim.json: the simulated bench)")
            ("seed", boost::program_options::value<std::string>()->default_value("1")->notifier([this](const std::string& s) { seed = parse_seed(s); }),
             "seed of every random source (simulator, first SEQ): a whole number from 0")
            ("sim-binary", boost::program_options::value(&sim_binary), "pumprig-sim to start for a simulator rig (default: beside pumprig)");
    }

    // The options of a suite of runs on this bench (pumprig run, pumprig eol).
    run::SuiteOptions suite_options(const std::string& out, const std::string& fixtures, int rt_priority,
                                    const std::atomic<bool>* stop) const {
        run::SuiteOptions so;
        so.bench.seed = seed;
        so.bench.sim_binary = sim_binary;
        so.run.out_root = out;
        so.run.seed = seed;
        so.run.stop_requested = stop;
        so.run.rig_file = rig;
        so.run.realtime_priority = rt_priority;
        so.fixtures = fixtures;
        so.stop = stop;
        return so;
    }
};

// Lines of channels that run in threads, whole lines on stderr one at a time, each with its
// channel's name (none on a single-channel bench).
inline std::function<void(const std::string&, const std::string&)> channel_log() {
    auto mutex = std::make_shared<std::mutex>();
    return [mutex](const std::string& channel, const std::string& line) {
        std::lock_guard lock(*mutex);
        std::cerr << "  " << (channel.empty() ? "" : "[" + channel + "] ") << line << "\n";
    };
}

}  // namespace pumprig::cli
