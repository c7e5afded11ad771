#include "pty.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pumprig::sim {

Pty open_pty() {
    Pty p;
    p.master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (p.master < 0 || grantpt(p.master) != 0 || unlockpt(p.master) != 0)
        throw std::runtime_error(std::string("cannot create a pseudo-terminal: ") + std::strerror(errno));
    p.slave_path = ptsname(p.master);
    p.slave_keepalive = open(p.slave_path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (p.slave_keepalive < 0)
        throw std::runtime_error("cannot open " + p.slave_path + ": " + std::strerror(errno));
    // Raw from the start: a host that writes before setting its own termios must not get an
    // echo back or have CR turned into LF.
    termios t{};
    tcgetattr(p.slave_keepalive, &t);
    cfmakeraw(&t);
    tcsetattr(p.slave_keepalive, TCSANOW, &t);
    return p;
}

void close_pty(Pty& p) {
    if (p.slave_keepalive >= 0) close(p.slave_keepalive);
    if (p.master >= 0) close(p.master);
    p = Pty{};
}

}  // namespace pumprig::sim
