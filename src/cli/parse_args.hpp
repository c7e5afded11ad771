// The command-line parsing every subcommand shares: its named options plus a list of
// positional arguments, --help, and errors named after the command.
#pragma once
#include <boost/program_options.hpp>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace pumprig::cli {

// Parses argv into `vm` (options of `desc`, the rest into `positional`, at most
// `max_positional` of them). Returns the exit code to return at once (help shown, or bad input
// reported), or nullopt to go on.
inline std::optional<int> parse_args(int argc, char** argv, const std::string& command,
                                     const boost::program_options::options_description& desc,
                                     std::vector<std::string>& positional, boost::program_options::variables_map& vm,
                                     std::size_t max_positional = SIZE_MAX) {
    namespace po = boost::program_options;
    po::options_description hidden;
    hidden.add_options()("positional-arguments", po::value(&positional));
    po::positional_options_description pos;
    pos.add("positional-arguments", -1);
    po::options_description all;
    all.add(desc).add(hidden);
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "pumprig " << command << ": " << e.what() << "\n";
        return kExitBadInput;
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return kExitPass;
    }
    if (positional.size() > max_positional) {
        std::cerr << "pumprig " << command << ": unexpected argument '" << positional[max_positional] << "'\n";
        return kExitBadInput;
    }
    return std::nullopt;
}

}  // namespace pumprig::cli
