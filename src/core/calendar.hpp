// Calendar dates as rig files and reports write them: "YYYY-MM-DD" (ISO 8601, UTC).
#pragma once
#include <chrono>
#include <optional>
#include <string_view>

namespace pumprig {

// The date, when text is a valid calendar date "YYYY-MM-DD" (2027-02-30 is not).
std::optional<std::chrono::year_month_day> parse_calendar_date(std::string_view text);

// Whether a due date is past: the day `now` falls on (UTC) is after it. Due today is not past.
bool date_is_past(std::chrono::year_month_day due, std::chrono::system_clock::time_point now);

}  // namespace pumprig
