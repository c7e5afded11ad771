// Typed errors shared by every module. One style across pumprig: fallible calls return
// Result<T> (std::expected); exceptions are kept for programming errors and start-up input.
#pragma once
#include <expected>
#include <string>

namespace pumprig {

enum class ErrorKind {
    DeviceError,  // the device answered with an error code (ICD code, Modbus exception)
    Timeout,      // no valid answer within the deadline, retries exhausted
    LinkLost,     // the link closed or failed (hang-up, unplugged adapter, refused socket)
    Protocol,     // the device answered, but not as its ICD says
    BadInput,     // a file or an argument is wrong (named in message)
    Io,           // local I/O failed (disk, process)
};

const char* to_string(ErrorKind kind);

struct Error {
    ErrorKind kind{};
    std::string code;      // device error code ("RANGE", "LOCKOUT", "MODBUS_02"), empty if none
    std::string message;   // human-readable, names what was expected
    std::string sent;      // what was sent (secrets redacted), empty if nothing
    std::string received;  // what came back, empty if nothing

    std::string describe() const;  // one line for logs and console
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message, std::string code = {},
                                   std::string sent = {}, std::string received = {}) {
    return std::unexpected(Error{kind, std::move(code), std::move(message), std::move(sent),
                                 std::move(received)});
}

}  // namespace pumprig
