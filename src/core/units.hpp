// Small strong types for the quantities that cross module lines, so a volume is never passed
// where a rate belongs. Volumes are kept in microlitres, rates in microlitres per hour: the
// meter's own units, and exact enough in double for a 40 mL reservoir at 0.25 uL strokes.
#pragma once
#include <chrono>
#include <compare>

namespace pumprig {

struct Volume {
    double ul = 0.0;
    static constexpr Volume from_ul(double v) { return {v}; }
    static constexpr Volume from_ml(double v) { return {v * 1000.0}; }
    static constexpr Volume from_nl(double v) { return {v / 1000.0}; }
    constexpr double ml() const { return ul / 1000.0; }
    constexpr double nl() const { return ul * 1000.0; }
    constexpr Volume operator+(Volume o) const { return {ul + o.ul}; }
    constexpr Volume operator-(Volume o) const { return {ul - o.ul}; }
    constexpr Volume operator*(double k) const { return {ul * k}; }
    constexpr Volume& operator+=(Volume o) { ul += o.ul; return *this; }
    constexpr Volume& operator-=(Volume o) { ul -= o.ul; return *this; }
    constexpr auto operator<=>(const Volume&) const = default;
};

struct FlowRate {
    double ul_per_h = 0.0;
    static constexpr FlowRate from_ul_per_h(double v) { return {v}; }
    static constexpr FlowRate from_ml_per_day(double v) { return {v * 1000.0 / 24.0}; }
    static constexpr FlowRate from_ml_per_h(double v) { return {v * 1000.0}; }
    constexpr double ml_per_day() const { return ul_per_h * 24.0 / 1000.0; }
    constexpr double ml_per_h() const { return ul_per_h / 1000.0; }
    constexpr double ul_per_min() const { return ul_per_h / 60.0; }
    constexpr FlowRate operator+(FlowRate o) const { return {ul_per_h + o.ul_per_h}; }
    constexpr FlowRate operator-(FlowRate o) const { return {ul_per_h - o.ul_per_h}; }
    constexpr FlowRate operator*(double k) const { return {ul_per_h * k}; }
    constexpr auto operator<=>(const FlowRate&) const = default;
};

// Volume delivered at a rate over a duration.
template <class Rep, class Period>
constexpr Volume volume_over(FlowRate rate, std::chrono::duration<Rep, Period> d) {
    return {rate.ul_per_h * std::chrono::duration<double, std::ratio<3600>>(d).count()};
}

// Bench time: milliseconds on the bench clock, in Unix time (UTC), the same epoch as the
// pump clock so that a bench instant and a pump clock reading compare directly.
using Millis = std::chrono::milliseconds;
using BenchTime = std::chrono::sys_time<Millis>;

constexpr double to_seconds(Millis d) { return static_cast<double>(d.count()) / 1000.0; }
constexpr double to_unix_seconds(BenchTime t) { return to_seconds(t.time_since_epoch()); }

}  // namespace pumprig
