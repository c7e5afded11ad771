#include "core/calendar.hpp"

#include <cctype>

namespace pumprig {

std::optional<std::chrono::year_month_day> parse_calendar_date(std::string_view t) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    auto num = [&](std::size_t from, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    const auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
    if (!y || !m || !d) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                                          std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

bool date_is_past(std::chrono::year_month_day due, std::chrono::system_clock::time_point now) {
    const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
    return today > due;
}

}  // namespace pumprig
