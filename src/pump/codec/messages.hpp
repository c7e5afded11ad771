// Pump ICD messages as types: request, response and event bodies (without framing).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pump/codec/fields.hpp"

namespace pumprig::pump::codec {

inline constexpr std::uint32_t kMaxSeq = 65535;

// SEQ,VERB[,key=value]...
struct Request {
    std::uint32_t seq = 0;
    std::string verb;
    Fields args;  // args.leading is empty
    std::string body() const;
};

// SEQ,OK[,key=value]...  or  SEQ,ERR,code=CODE[,msg=TEXT]
struct Response {
    std::uint32_t seq = 0;
    bool ok = true;
    std::string code;  // error code when !ok
    Fields values;     // key=value pairs (for an error: code and msg too)
    std::string body() const;
};

// EV,n=EVSEQ,t=PUMPTIME,type=TYPE[,key=value]...
struct Event {
    std::uint32_t n = 0;
    double t = 0;       // pump clock, Unix seconds
    std::string t_text; // as sent, so duplicates compare exactly
    std::string type;
    Fields values;      // every key=value, n, t and type included
    std::string body() const;
};

// A line from the pump is either a response or an event.
enum class LineKind { Response, Event, Malformed };
LineKind classify(std::string_view body);

std::optional<Request> parse_request(std::string_view body);
std::optional<Response> parse_response(std::string_view body);
std::optional<Event> parse_event(std::string_view body);

// The body with the values of secret keys ("mac") replaced, for logs and traces.
std::string redact(std::string_view body);

}  // namespace pumprig::pump::codec
