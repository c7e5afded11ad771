#include "scenario/quantity.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace pumprig::scenario {
namespace {

struct UnitInfo {
    std::string_view name;  // lower case, 'u' for micro
    Dimension dimension;
    double factor;          // to the canonical unit of the dimension
};

// Canonical units: uL, uL/h, ms, minutes (time of day), ug, ug/day, ug/mL, %.
constexpr std::array kUnits{
    UnitInfo{"nl", Dimension::Volume, 0.001},
    UnitInfo{"ul", Dimension::Volume, 1.0},
    UnitInfo{"ml", Dimension::Volume, 1000.0},
    UnitInfo{"ul/h", Dimension::FlowRate, 1.0},
    UnitInfo{"ul/min", Dimension::FlowRate, 60.0},
    UnitInfo{"ul/day", Dimension::FlowRate, 1.0 / 24.0},
    UnitInfo{"ul/d", Dimension::FlowRate, 1.0 / 24.0},
    UnitInfo{"ml/h", Dimension::FlowRate, 1000.0},
    UnitInfo{"ml/min", Dimension::FlowRate, 60'000.0},
    UnitInfo{"ml/day", Dimension::FlowRate, 1000.0 / 24.0},
    UnitInfo{"ml/d", Dimension::FlowRate, 1000.0 / 24.0},
    UnitInfo{"ms", Dimension::Duration, 1.0},
    UnitInfo{"s", Dimension::Duration, 1000.0},
    UnitInfo{"min", Dimension::Duration, 60'000.0},
    UnitInfo{"h", Dimension::Duration, 3'600'000.0},
    UnitInfo{"d", Dimension::Duration, 86'400'000.0},
    UnitInfo{"ug", Dimension::Dose, 1.0},
    UnitInfo{"mg", Dimension::Dose, 1000.0},
    UnitInfo{"ug/day", Dimension::DoseRate, 1.0},
    UnitInfo{"ug/d", Dimension::DoseRate, 1.0},
    UnitInfo{"ug/h", Dimension::DoseRate, 24.0},
    UnitInfo{"mg/day", Dimension::DoseRate, 1000.0},
    UnitInfo{"mg/d", Dimension::DoseRate, 1000.0},
    UnitInfo{"ug/ml", Dimension::Concentration, 1.0},
    UnitInfo{"mg/ml", Dimension::Concentration, 1000.0},
    UnitInfo{"%", Dimension::Percent, 1.0},
};

const char* article(Dimension d) {
    return d == Dimension::Volume ? "a volume"
         : d == Dimension::FlowRate ? "a flow rate"
         : d == Dimension::Duration ? "a duration"
         : d == Dimension::TimeOfDay ? "a time of day"
         : d == Dimension::Dose ? "a dose"
         : d == Dimension::DoseRate ? "a dose rate"
         : d == Dimension::Concentration ? "a concentration"
                                         : "a percentage";
}

// People write micro as "u", "µ" (U+00B5) or "μ" (U+03BC), and litre as "L" or "l".
std::string normalise_unit(std::string_view unit) {
    std::string out;
    for (std::size_t i = 0; i < unit.size(); ++i) {
        const auto c = static_cast<unsigned char>(unit[i]);
        if (i + 1 < unit.size()) {
            const auto n = static_cast<unsigned char>(unit[i + 1]);
            if ((c == 0xC2 && n == 0xB5) || (c == 0xCE && n == 0xBC)) {
                out += 'u';
                ++i;
                continue;
            }
        }
        out += static_cast<char>(std::tolower(c));
    }
    return out;
}

const UnitInfo* find_unit(std::string_view normalised) {
    for (const auto& u : kUnits)
        if (u.name == normalised) return &u;
    return nullptr;
}

struct Term {
    double number;
    std::string unit_text;  // as written
    const UnitInfo* unit;   // null when unknown
};

std::unexpected<Error> expected_error(Dimension want, std::string_view text, std::string detail) {
    return fail(ErrorKind::BadInput, std::string("expected ") + article(want) + " (" +
                                         accepted_units(want) + "), got \"" + std::string(text) +
                                         "\"" + (detail.empty() ? "" : " (" + detail + ")"));
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// "<number> <unit>" terms, as many as written ("2 h 30 min" is two).
Result<std::vector<Term>> split_terms(std::string_view text, Dimension want, bool allow_sign) {
    std::vector<Term> terms;
    std::size_t i = 0;
    auto skip = [&] { while (i < text.size() && is_space(text[i])) ++i; };
    skip();
    if (i == text.size()) return expected_error(want, text, "empty");
    while (i < text.size()) {
        const std::size_t number_start = i;
        if (allow_sign && (text[i] == '-' || text[i] == '+')) ++i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
        std::string_view number_text = text.substr(number_start, i - number_start);
        if (!number_text.empty() && number_text.front() == '+') number_text.remove_prefix(1);
        double number = 0;
        const auto [end, ec] =
            std::from_chars(number_text.data(), number_text.data() + number_text.size(), number);
        if (number_text.empty() || ec != std::errc{} || end != number_text.data() + number_text.size() ||
            !std::isfinite(number))
            return expected_error(want, text, "no number where one belongs");
        skip();
        const std::size_t unit_start = i;
        while (i < text.size() && !is_space(text[i]) &&
               !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.')
            ++i;
        const std::string_view unit_text = text.substr(unit_start, i - unit_start);
        if (unit_text.empty()) return expected_error(want, text, "no unit");
        terms.push_back({number, std::string(unit_text), find_unit(normalise_unit(unit_text))});
        skip();
    }
    return terms;
}

// One "<number> <unit>" of the wanted dimension, in its canonical unit.
Result<double> parse_single(std::string_view text, Dimension want, bool allow_sign = false) {
    auto terms = split_terms(text, want, allow_sign);
    if (!terms) return std::unexpected(terms.error());
    if (terms->size() != 1) return expected_error(want, text, "more than one quantity");
    const Term& t = terms->front();
    if (!t.unit) return expected_error(want, text, "unknown unit \"" + t.unit_text + "\"");
    if (t.unit->dimension != want) return expected_error(want, text, t.unit_text + " is " + article(t.unit->dimension));
    return t.number * t.unit->factor;
}

}  // namespace

const char* to_string(Dimension d) {
    switch (d) {
        case Dimension::Volume: return "volume";
        case Dimension::FlowRate: return "flow rate";
        case Dimension::Duration: return "duration";
        case Dimension::TimeOfDay: return "time of day";
        case Dimension::Dose: return "dose";
        case Dimension::DoseRate: return "dose rate";
        case Dimension::Concentration: return "concentration";
        case Dimension::Percent: return "percentage";
    }
    return "quantity";
}

const char* accepted_units(Dimension d) {
    switch (d) {
        case Dimension::Volume: return "nL, uL, µL, mL";
        case Dimension::FlowRate: return "uL/h, uL/min, uL/day, mL/h, mL/min, mL/day";
        case Dimension::Duration: return "ms, s, min, h, d, or several as in \"2 h 30 min\"";
        case Dimension::TimeOfDay: return "HH:MM from 00:00 to 23:59";
        case Dimension::Dose: return "ug, µg, mg";
        case Dimension::DoseRate: return "ug/day, µg/day, ug/h, mg/day";
        case Dimension::Concentration: return "ug/mL, µg/mL, mg/mL";
        case Dimension::Percent: return "%";
    }
    return "";
}

Result<Volume> parse_volume(std::string_view text) {
    auto v = parse_single(text, Dimension::Volume);
    if (!v) return std::unexpected(v.error());
    return Volume::from_ul(*v);
}

Result<FlowRate> parse_flow_rate(std::string_view text) {
    auto v = parse_single(text, Dimension::FlowRate);
    if (!v) return std::unexpected(v.error());
    return FlowRate::from_ul_per_h(*v);
}

Result<Millis> parse_duration(std::string_view text) {
    auto terms = split_terms(text, Dimension::Duration, false);
    if (!terms) return std::unexpected(terms.error());
    double total_ms = 0;
    std::vector<const UnitInfo*> seen;
    for (const Term& t : *terms) {
        if (!t.unit)
            return expected_error(Dimension::Duration, text, "unknown unit \"" + t.unit_text + "\"");
        if (t.unit->dimension != Dimension::Duration)
            return expected_error(Dimension::Duration, text,
                                  t.unit_text + " is " + article(t.unit->dimension));
        for (const UnitInfo* s : seen)
            if (s == t.unit)
                return expected_error(Dimension::Duration, text,
                                      "unit \"" + t.unit_text + "\" written twice");
        seen.push_back(t.unit);
        total_ms += t.number * t.unit->factor;
    }
    // Bench time has millisecond resolution: finer fractions are rounded to the nearest ms.
    return Millis{static_cast<Millis::rep>(std::llround(total_ms))};
}

Result<TimeOfDay> parse_time_of_day(std::string_view text) {
    auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(text[i])) != 0; };
    if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
        return expected_error(Dimension::TimeOfDay, text, "");
    const int hours = (text[0] - '0') * 10 + (text[1] - '0');
    const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (hours > 23 || minutes > 59) return expected_error(Dimension::TimeOfDay, text, "out of range");
    return TimeOfDay{hours * 60 + minutes};
}

Result<Dose> parse_dose(std::string_view text) {
    auto v = parse_single(text, Dimension::Dose);
    if (!v) return std::unexpected(v.error());
    return Dose{*v};
}

Result<DoseRate> parse_dose_rate(std::string_view text) {
    auto v = parse_single(text, Dimension::DoseRate);
    if (!v) return std::unexpected(v.error());
    return DoseRate{*v};
}

Result<Concentration> parse_concentration(std::string_view text) {
    auto v = parse_single(text, Dimension::Concentration);
    if (!v) return std::unexpected(v.error());
    return Concentration{*v};
}

Result<Percent> parse_percent(std::string_view text) {
    // Signed: a trumpet minimum limit is a negative percentage.
    auto v = parse_single(text, Dimension::Percent, true);
    if (!v) return std::unexpected(v.error());
    return Percent{*v};
}

std::string format_time_of_day(TimeOfDay t) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d:%02d", t.minutes / 60 % 24, t.minutes % 60);
    return text;
}

}  // namespace pumprig::scenario
