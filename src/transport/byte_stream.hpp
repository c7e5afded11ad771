// One byte-stream interface for the pump link, with a backend per kind of port, chosen once
// from the rig description (like libsigrok's serial layer): libserialport for serial hardware,
// POSIX termios for pseudo-terminals (libserialport cannot open them, see
// docs/platform.md), raw TCP for a serial port served by ser2net.
// Nothing above this interface knows which backend it talks to.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pumprig::transport {

struct SerialSettings {
    int baud = 115200;
    int data_bits = 8;
    char parity = 'N';  // 'N', 'E' or 'O'
    int stop_bits = 1;
};

class ByteStream {
public:
    virtual ~ByteStream() = default;
    // Writes all bytes or fails (LinkLost on hang-up).
    virtual Result<void> write(std::string_view bytes) = 0;
    // Returns the bytes available, waiting up to `timeout` (wall time) for the first one.
    // An empty string means nothing came in time; LinkLost means the peer hung up.
    virtual Result<std::string> read_some(std::chrono::milliseconds timeout) = 0;
    // Drops bytes received but not yet read.
    virtual void flush_input() = 0;
    // "termios:/dev/pts/3", "serial:/dev/ttyUSB0", "tcp:127.0.0.1:3001": for logs and errors.
    virtual std::string describe() const = 0;
};

// Backends. Each fails with LinkLost and a message naming the port when it cannot open.
Result<std::unique_ptr<ByteStream>> open_termios(const std::string& path, const SerialSettings& s);
Result<std::unique_ptr<ByteStream>> open_serialport(const std::string& path, const SerialSettings& s);
Result<std::unique_ptr<ByteStream>> open_tcp(const std::string& host, int port);

}  // namespace pumprig::transport
