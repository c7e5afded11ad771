// pumprig validate FILE|DIR...: scenario files checked without a bench.
#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "core/text.hpp"
#include "scenario/scenario.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_validate(int argc, char** argv) {
    std::vector<std::string> paths;
    std::string fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    po::options_description desc("pumprig validate FILE|DIR...: check scenario files without a bench\nOptions");
    desc.add_options()("help,h", "show this help")(
        "fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json (default: the source tree's fixtures/)");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "validate", desc, paths, vm)) return *done;
    if (paths.empty()) {
        std::cerr << "pumprig validate: give at least one scenario file or folder\n";
        return kExitBadInput;
    }
    std::size_t errors = 0;
    for (const auto& p : paths) {
        for (const auto& d : scenario::validate_path(p, fixtures)) {
            std::cerr << printable(scenario::format(d)) << "\n";
            ++errors;
        }
    }
    if (errors) {
        std::cerr << errors << " error(s)\n";
        return kExitBadInput;
    }
    std::cout << "all scenarios valid\n";
    return kExitPass;
}

}  // namespace pumprig::cli
