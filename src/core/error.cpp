#include "core/error.hpp"

namespace pumprig {

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::DeviceError: return "device error";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::LinkLost: return "link lost";
        case ErrorKind::Protocol: return "protocol error";
        case ErrorKind::BadInput: return "bad input";
        case ErrorKind::Io: return "I/O error";
    }
    return "error";
}

std::string Error::describe() const {
    std::string out = to_string(kind);
    if (!code.empty()) out += " " + code;
    if (!message.empty()) out += ": " + message;
    if (!sent.empty()) out += " [sent " + sent + "]";
    if (!received.empty()) out += " [received " + received + "]";
    return out;
}

}  // namespace pumprig
