#include "pump/codec/messages.hpp"

namespace pumprig::pump::codec {

std::string Request::body() const {
    Fields f = args;
    f.leading = {std::to_string(seq), verb};
    return f.join();
}

std::string Response::body() const {
    Fields f;
    f.leading = {std::to_string(seq), ok ? "OK" : "ERR"};
    f.values = values.values;
    return f.join();
}

std::string Event::body() const {
    Fields f;
    f.leading = {"EV"};
    f.values = values.values;
    return f.join();
}

LineKind classify(std::string_view body) {
    if (body.starts_with("EV,")) return LineKind::Event;
    const auto comma = body.find(',');
    if (comma != std::string_view::npos && comma > 0 && parse_whole(body.substr(0, comma)))
        return LineKind::Response;
    return LineKind::Malformed;
}

static bool valid_seq(std::uint32_t s) { return s >= 1 && s <= kMaxSeq; }

std::optional<Request> parse_request(std::string_view body) {
    auto f = split_fields(body);
    if (!f || f->leading.size() != 2) return std::nullopt;
    const auto seq = parse_whole(f->leading[0]);
    if (!seq || !valid_seq(*seq)) return std::nullopt;
    Request r;
    r.seq = *seq;
    r.verb = f->leading[1];
    r.args.values = std::move(f->values);
    return r;
}

std::optional<Response> parse_response(std::string_view body) {
    auto f = split_fields(body);
    if (!f || f->leading.size() != 2) return std::nullopt;
    const auto seq = parse_whole(f->leading[0]);
    if (!seq || *seq > kMaxSeq) return std::nullopt;  // 0 is the SEQ of CRC and SYNTAX errors
    Response r;
    r.seq = *seq;
    if (f->leading[1] == "OK") {
        r.ok = true;
    } else if (f->leading[1] == "ERR") {
        r.ok = false;
        const auto code = f->get("code");
        if (!code || code->empty()) return std::nullopt;
        r.code = std::string(*code);
    } else {
        return std::nullopt;
    }
    r.values.values = std::move(f->values);
    return r;
}

std::optional<Event> parse_event(std::string_view body) {
    auto f = split_fields(body);
    if (!f || f->leading.size() != 1 || f->leading[0] != "EV") return std::nullopt;
    const auto n = f->get("n");
    const auto t = f->get("t");
    const auto type = f->get("type");
    if (!n || !t || !type || type->empty()) return std::nullopt;
    const auto nv = parse_whole(*n);
    const auto tv = parse_decimal(*t);
    if (!nv || !tv) return std::nullopt;
    Event e;
    e.n = *nv;
    e.t = *tv;
    e.t_text = std::string(*t);
    e.type = std::string(*type);
    e.values.values = std::move(f->values);
    return e;
}

std::string redact(std::string_view body) {
    // The only secret on the wire is the AUTH mac (derived from the key); the key itself is
    // never sent. Replace the value of any mac= field.
    std::string out(body);
    std::size_t pos = 0;
    while ((pos = out.find("mac=", pos)) != std::string::npos) {
        if (pos != 0 && out[pos - 1] != ',') {
            pos += 4;
            continue;
        }
        const auto end = out.find_first_of(",*", pos + 4);
        out.replace(pos + 4, (end == std::string::npos ? out.size() : end) - pos - 4, "<redacted>");
        pos += 4;
    }
    return out;
}

}  // namespace pumprig::pump::codec
