#include <iostream>
#include "cli/commands.hpp"
namespace pumprig::cli {
int cmd_probe(int, char**) { std::cerr << "pumprig probe: not built yet\n"; return kExitBenchError; }
int cmd_run(int, char**) { std::cerr << "pumprig run: not built yet\n"; return kExitBenchError; }
}
