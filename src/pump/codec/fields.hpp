// Pump ICD section 2, bodies: comma-separated fields, leading fields then key=value pairs,
// and the ICD's number formats. Locale-free: std::from_chars / std::to_chars only.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pumprig::pump::codec {

struct Fields {
    std::vector<std::string> leading;                          // fields before the first key=value
    std::vector<std::pair<std::string, std::string>> values;   // in order of appearance

    // The value of key, if present (first occurrence).
    std::optional<std::string_view> get(std::string_view key) const;
    bool has(std::string_view key) const { return get(key).has_value(); }
    // Build a body: leading fields, then key=value pairs, joined by ','.
    std::string join() const;
};

// Split a body into fields. Returns nullopt when a field after the first key=value is not
// key=value, a key is empty or not lower case [a-z0-9_], or a field is empty.
std::optional<Fields> split_fields(std::string_view body);

// "one or more digits, optionally '.' and 1 to 6 digits"; no sign, exponent or spaces.
std::optional<double> parse_decimal(std::string_view text);
// Whole number: digits only, at most 9 of them (every count in the ICD fits).
std::optional<std::uint32_t> parse_whole(std::string_view text);
// "HH:MM", 00:00 to 23:59, two digits each; returns minutes after midnight.
std::optional<int> parse_time_of_day(std::string_view text);

// Fixed decimals as the pump prints them (times 3, mL 3, ug 1); never locale-dependent.
std::string format_fixed(double value, int decimals);
std::string format_time_of_day(int minutes_after_midnight);

}  // namespace pumprig::pump::codec
