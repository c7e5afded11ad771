#include "pump/codec/fields.hpp"

#include <charconv>

namespace pumprig::pump::codec {

std::optional<std::string_view> Fields::get(std::string_view key) const {
    for (const auto& [k, v] : values)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::string Fields::join() const {
    std::string out;
    for (const auto& f : leading) {
        if (!out.empty()) out += ',';
        out += f;
    }
    for (const auto& [k, v] : values) {
        if (!out.empty()) out += ',';
        out += k;
        out += '=';
        out += v;
    }
    return out;
}

static bool is_key(std::string_view k) {
    if (k.empty()) return false;
    for (char c : k)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

std::optional<Fields> split_fields(std::string_view body) {
    Fields out;
    std::size_t pos = 0;
    while (true) {
        const auto comma = body.find(',', pos);
        const std::string_view field = body.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        if (field.empty()) return std::nullopt;
        const auto eq = field.find('=');
        if (eq == std::string_view::npos) {
            if (!out.values.empty()) return std::nullopt;  // leading fields come first
            out.leading.emplace_back(field);
        } else {
            const auto key = field.substr(0, eq);
            if (!is_key(key)) return std::nullopt;
            out.values.emplace_back(std::string(key), std::string(field.substr(eq + 1)));
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

static bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

std::optional<double> parse_decimal(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = text.substr(0, dot);
    if (!all_digits(whole)) return std::nullopt;
    if (dot != std::string_view::npos) {
        const auto frac = text.substr(dot + 1);
        if (frac.size() < 1 || frac.size() > 6 || !all_digits(frac)) return std::nullopt;
    }
    if (whole.size() > 15) return std::nullopt;  // beyond what a double holds exactly
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<std::uint32_t> parse_whole(std::string_view text) {
    if (!all_digits(text) || text.size() > 9) return std::nullopt;
    std::uint32_t v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc()) return std::nullopt;
    return v;
}

std::optional<int> parse_time_of_day(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    const auto h = parse_whole(text.substr(0, 2));
    const auto m = parse_whole(text.substr(3, 2));
    if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
    return static_cast<int>(*h * 60 + *m);
}

std::string format_fixed(double value, int decimals) {
    char buf[64];
    // Round half away from zero at the printed precision, then print exactly that.
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
    std::string out(buf, r.ptr);
    if (out.starts_with("-") && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
    return out;
}

std::string format_time_of_day(int minutes) {
    minutes = ((minutes % 1440) + 1440) % 1440;
    char buf[6];
    buf[0] = static_cast<char>('0' + minutes / 600);
    buf[1] = static_cast<char>('0' + (minutes / 60) % 10);
    buf[2] = ':';
    buf[3] = static_cast<char>('0' + (minutes % 60) / 10);
    buf[4] = static_cast<char>('0' + minutes % 10);
    buf[5] = 0;
    return std::string(buf, 5);
}

}  // namespace pumprig::pump::codec
