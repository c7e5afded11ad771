// pumprig validate FILE|DIR...: scenario files checked without a bench, and every requirement id
// they name checked against the requirements catalogue (trace/catalogue.hpp).
#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "core/text.hpp"
#include "scenario/scenario.hpp"
#include "trace/catalogue.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_validate(int argc, char** argv) {
    std::vector<std::string> paths;
    std::string fixtures = std::string(PUMPRIG_SOURCE_DIR) + "/fixtures";
    std::string requirements = std::string(PUMPRIG_SOURCE_DIR) + "/requirements";
    po::options_description desc("pumprig validate FILE|DIR...: check scenario files without a bench\nOptions");
    desc.add_options()("help,h", "show this help")(
        "fixtures", po::value(&fixtures), "folder holding pumps/<profile>.json (default: the source tree's fixtures/)")(
        "requirements", po::value(&requirements), "requirements catalogue the ids must be in: a file or a folder of *.json (default: the source tree's requirements/)");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "validate", desc, paths, vm)) return *done;
    if (paths.empty()) {
        std::cerr << "pumprig validate: give at least one scenario file or folder\n";
        return kExitBadInput;
    }
    auto catalogue = trace::read_catalogue(requirements);
    if (!catalogue) {
        std::cerr << "pumprig validate: " << catalogue.error().message << "\n";
        return kExitBadInput;
    }
    std::size_t errors = 0;
    for (const auto& p : paths) {
        for (const auto& d : scenario::validate_path(p, fixtures)) {
            std::cerr << printable(scenario::format(d)) << "\n";
            ++errors;
        }
        std::vector<scenario::Diagnostic> unreadable;  // already reported by validate_path
        for (const auto& file : scenario::scenario_files(p, unreadable))
            for (const auto& d : trace::unknown_requirement_ids(*catalogue, file)) {
                std::cerr << scenario::format(d) << "\n";
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
