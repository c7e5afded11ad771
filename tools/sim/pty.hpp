// Pseudo-terminal pairs for the simulated bench: the simulator keeps the master side and
// publishes the slave path, which pumprig opens exactly as it would open a USB adapter.
#pragma once
#include <string>

namespace pumprig::sim {

struct Pty {
    int master = -1;
    int slave_keepalive = -1;  // held open so the master never sees EIO while no host is attached
    std::string slave_path;
};

// Creates a raw (no echo, no line editing) pseudo-terminal pair; throws std::runtime_error.
Pty open_pty();
void close_pty(Pty& pty);

}  // namespace pumprig::sim
