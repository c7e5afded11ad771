// Pump link bytes as a misbehaving pump (or line noise) could send them: the frame decoder,
// the field splitter, the number parsers and the message parsers, plus the properties the
// driver relies on (a decoded body is always a valid body; encode then decode gives it back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "pump/codec/fields.hpp"
#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"

using namespace pumprig::pump::codec;

namespace {

void exercise_body(std::string_view body) {
    if (auto f = split_fields(body)) {
        for (const auto& field : f->leading) {
            (void)parse_decimal(field);
            (void)parse_whole(field);
            (void)parse_time_of_day(field);
        }
        for (const auto& [key, value] : f->values) {
            if (auto d = parse_decimal(value)) (void)format_fixed(*d, 3);
            if (auto t = parse_time_of_day(value)) FUZZ_CHECK(format_time_of_day(*t) == value);
            (void)parse_whole(value);
        }
        // join() rebuilds the body it was split from.
        FUZZ_CHECK(f->join() == body);
    }
    (void)classify(body);
    if (auto r = parse_request(body)) FUZZ_CHECK(r->seq >= 1 && r->seq <= kMaxSeq);
    if (auto r = parse_response(body)) {
        FUZZ_CHECK(r->seq <= kMaxSeq);
        FUZZ_CHECK(r->ok || !r->code.empty());
    }
    if (auto e = parse_event(body)) FUZZ_CHECK(!e->type.empty());
    // Redaction never leaves a mac value in the text.
    const std::string redacted = redact(body);
    if (body.starts_with("mac=") || body.find(",mac=") != std::string_view::npos)
        FUZZ_CHECK(redacted.find("<redacted>") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // The first byte sets the chunk size, so lines split across reads are covered too.
    const std::size_t chunk = 1 + data[0] % 64;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

    FrameDecoder decoder;
    for (std::size_t pos = 0; pos < bytes.size(); pos += chunk) {
        decoder.feed(bytes.substr(pos, chunk));
        while (auto line = decoder.next()) {
            FUZZ_CHECK(is_valid_body(line->body));
            FUZZ_CHECK(line->raw.size() <= kMaxLineBytes);
            exercise_body(line->body);
            if (line->status == DecodedLine::Status::Ok) {
                // The driver re-sends and traces frames it decoded: they must encode back.
                FrameDecoder again;
                again.feed(encode_frame(line->body));
                const auto back = again.next();
                FUZZ_CHECK(back && back->status == DecodedLine::Status::Ok && back->body == line->body);
            }
        }
    }
    // Bodies the host builds from device text must never crash the parsers either.
    exercise_body(bytes);
    return 0;
}
