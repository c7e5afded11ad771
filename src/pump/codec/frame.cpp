#include "pump/codec/frame.hpp"

#include <cctype>

namespace pumprig::pump::codec {

std::uint16_t crc16_ccitt_false(std::string_view bytes) {
    std::uint16_t crc = 0xFFFF;
    for (unsigned char b : bytes) {
        crc ^= static_cast<std::uint16_t>(b) << 8;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                 : static_cast<std::uint16_t>(crc << 1);
    }
    return crc;
}

bool is_valid_body(std::string_view body) {
    if (body.empty() || body.size() > kMaxBodyBytes) return false;
    for (unsigned char c : body)
        if (c < 0x20 || c > 0x7E || c == '$' || c == '*') return false;
    return true;
}

std::string encode_frame(std::string_view body) {
    static constexpr char hex[] = "0123456789ABCDEF";
    const std::uint16_t crc = crc16_ccitt_false(body);
    std::string out;
    out.reserve(body.size() + 8);
    out += '$';
    out += body;
    out += '*';
    out += hex[(crc >> 12) & 0xF];
    out += hex[(crc >> 8) & 0xF];
    out += hex[(crc >> 4) & 0xF];
    out += hex[crc & 0xF];
    out += "\r\n";
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void FrameDecoder::reset() {
    line_.clear();
    in_line_ = overflow_ = bad_byte_ = false;
}

void FrameDecoder::feed(std::string_view bytes) {
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '$') {
            if (in_line_) drop(std::move(line_));  // a '$' inside a line discards what came before it
            reset();
            in_line_ = true;
            line_ += '$';
            continue;
        }
        if (!in_line_) continue;  // bytes before '$' are discarded, whatever they are
        if (c == '\n') {
            finish_line();
            continue;
        }
        // Count the byte towards the 256-byte limit ('$' .. LF) even if it is then dropped.
        if (line_.size() + 1 >= kMaxLineBytes) overflow_ = true;  // +1 leaves room for LF
        if (overflow_) continue;
        if (c != '\r' && (c < 0x20 || c > 0x7E)) bad_byte_ = true;
        line_ += static_cast<char>(c);
    }
}

void FrameDecoder::drop(std::string line) {
    ++discarded_;
    if (report_dropped_) queue_.push_back(DecodedLine{DecodedLine::Status::Dropped, {}, std::move(line)});
}

void FrameDecoder::finish_line() {
    std::string line = std::move(line_);
    const bool overflow = overflow_, bad = bad_byte_;
    reset();
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CR is optional before LF
    // A CR elsewhere in the line is a byte outside 0x20..0x7E.
    if (line.find('\r') != std::string::npos) {
        drop(std::move(line));
        return;
    }
    if (overflow || bad) {
        drop(std::move(line));
        return;
    }
    const auto star = line.find('*');
    // '$' BODY '*' then exactly four hexadecimal digits.
    if (star == std::string::npos || line.size() != star + 5 || star < 2) {
        drop(std::move(line));
        return;
    }
    std::uint16_t crc = 0;
    for (std::size_t i = star + 1; i < line.size(); ++i) {
        const int v = hex_value(line[i]);
        if (v < 0) {
            drop(std::move(line));
            return;
        }
        crc = static_cast<std::uint16_t>((crc << 4) | v);
    }
    std::string body = line.substr(1, star - 1);
    if (!is_valid_body(body)) {
        drop(std::move(line));
        return;
    }
    DecodedLine out;
    out.status = crc16_ccitt_false(body) == crc ? DecodedLine::Status::Ok : DecodedLine::Status::BadCrc;
    out.body = std::move(body);
    out.raw = std::move(line);
    queue_.push_back(std::move(out));
}

std::optional<DecodedLine> FrameDecoder::next() {
    if (queue_.empty()) return std::nullopt;
    DecodedLine out = std::move(queue_.front());
    queue_.pop_front();
    return out;
}

}  // namespace pumprig::pump::codec
