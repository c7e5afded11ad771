// Pump ICD section 2, framing: '$' BODY '*' CRC CR LF. Pure code: bytes in, lines out, and
// back. No file descriptor, no clock, so the same codec serves the driver, the simulator and
// the fuzzer, and is tested byte for byte against the ICD's example frames.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace pumprig::pump::codec {

inline constexpr std::size_t kMaxLineBytes = 256;  // from '$' to LF, both included
inline constexpr std::size_t kMaxBodyBytes = 240;

// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR.
std::uint16_t crc16_ccitt_false(std::string_view bytes);

// True when body is 1 to 240 printable bytes other than '$' and '*'.
bool is_valid_body(std::string_view body);

// "$" body "*" CRC (upper case) CR LF. The body must be valid (checked by the caller).
std::string encode_frame(std::string_view body);

// One complete line taken off the stream.
struct DecodedLine {
    enum class Status {
        Ok,       // CRC matched: body holds the frame's body
        BadCrc,   // complete frame, CRC mismatch (a request is answered 0,ERR,code=CRC)
        Dropped,  // broken by the receiving rules (raw only); given only when asked for
    };
    Status status = Status::Ok;
    std::string body;
    std::string raw;  // the line as received from '$' (without CR LF), for traces
};

// Streaming decoder with the ICD's receiving rules: bytes before '$' are discarded; a '$'
// restarts the frame; CR before LF is optional; a line over 256 bytes, without '*', with a
// malformed CRC field or with a byte outside 0x20..0x7E is discarded silently.
class FrameDecoder {
public:
    // With report_dropped, a line the receiving rules drop is also queued (status Dropped): a
    // host may take a broken line as the damaged answer to its request (docs/reliability.md).
    explicit FrameDecoder(bool report_dropped = false) : report_dropped_(report_dropped) {}
    // Feed bytes; complete lines are queued and returned by next().
    void feed(std::string_view bytes);
    std::optional<DecodedLine> next();
    // Lines dropped by the receiving rules since construction (diagnostics only).
    std::size_t discarded() const { return discarded_; }
    // True while a partial line ('$' seen, no LF yet) is buffered.
    bool in_line() const { return in_line_; }
    void reset();

private:
    void finish_line();
    void drop(std::string line);
    bool report_dropped_ = false;
    std::string line_;
    bool in_line_ = false;
    bool overflow_ = false;
    bool bad_byte_ = false;
    std::size_t discarded_ = 0;
    std::deque<DecodedLine> queue_;
};

}  // namespace pumprig::pump::codec
