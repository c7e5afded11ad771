// Options every bench command shares: which rig, which seed.
#pragma once
#include <boost/program_options.hpp>
#include <string>

#include "cli/option_checks.hpp"

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
};

}  // namespace pumprig::cli
