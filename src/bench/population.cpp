#include "bench/population.hpp"

#include <charconv>
#include <cmath>
#include <random>

namespace pumprig::bench {

namespace {

using P = UnitParam;

constexpr std::array<UnitParamInfo, static_cast<std::size_t>(P::kCount)> kParams{{
    {P::DeliveryErrorPct, "delivery_error_pct", "%", -15, 15, 0, "normal, sigma 5 %, within +-14.9 %"},
    {P::StrokeJitterMs, "stroke_jitter_ms", "ms", 0, 100, 0, "uniform 0 to 50 ms (each stroke uniform up to it)"},
    {P::ClockPpm, "clock_ppm", "ppm", -50, 50, 0, "uniform -50 to +50 ppm"},
    {P::LineTauErrorPct, "line_tau_error_pct", "%", -90, 300, 0, "uniform within the rig's line.tau_uncertainty_pct"},
    {P::MeterGainErrorPct, "meter_gain_error_pct", "%", -0.5, 0.5, 0, "uniform -0.25 to +0.25 %"},
    {P::MeterOffsetUlH, "meter_offset_ul_h", "uL/h", -0.1, 0.1, 0, "uniform -0.05 to +0.05 uL/h"},
    {P::AnswerLatencyMs, "answer_latency_ms", "ms", 0, 100, 0, "uniform 0 to 100 ms (each answer uniform up to it)"},
    {P::EventLatencyMs, "event_latency_ms", "ms", 0, 1000, 0, "uniform 0 to 100 ms (each event uniform up to it)"},
    {P::ResetDurationMs, "reset_duration_ms", "ms", 0, 2000, 1000, "uniform 200 to 2000 ms"},
}};

// FNV-1a of the serial, so that each channel (its own serial) is its own unit.
std::uint64_t serial_hash(std::string_view serial) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : serial) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::string number_text(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

std::span<const UnitParamInfo> unit_params() { return kParams; }

std::optional<UnitParam> unit_param_from_name(std::string_view name) {
    for (const auto& p : kParams)
        if (p.name == name) return p.param;
    return std::nullopt;
}

std::string UnitValues::describe(std::string_view key_prefix) const {
    std::string s;
    for (const auto& p : kParams)
        s += (s.empty() ? "" : " ") + std::string(key_prefix) + std::string(p.name) + "=" + number_text((*this)[p.param]);
    return s;
}

std::optional<std::pair<std::string, double>> parse_unit_pin(std::string_view text, std::string* why) {
    auto refuse = [&](std::string reason) -> std::optional<std::pair<std::string, double>> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    std::string names;
    for (const auto& p : kParams) names += (names.empty() ? "" : ", ") + std::string(p.name);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) return refuse("'" + std::string(text) + "': expected NAME=VALUE, NAME one of " + names);
    const std::string name(text.substr(0, eq));
    const auto param = unit_param_from_name(name);
    if (!param) return refuse("'" + name + "' is not a unit parameter; expected one of " + names);
    const auto& info = kParams[static_cast<std::size_t>(*param)];
    const std::string_view value = text.substr(eq + 1);
    double v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || end != value.data() + value.size() || !(v >= info.min && v <= info.max))
        return refuse("'" + std::string(text) + "': " + name + " takes a number from " + number_text(info.min) + " to " +
                      number_text(info.max) + " " + std::string(info.unit));
    return std::pair{name, v};
}

UnitValues draw_unit(std::uint64_t seed, std::string_view serial, const UnitPins& pins, bool ideal,
                     double line_tau_uncertainty_pct) {
    UnitValues u;
    // Every parameter is drawn, in table order, even when pinned or ideal: a pin then changes
    // nothing else about the unit.
    std::mt19937_64 rng(seed ^ serial_hash(serial));
    auto uniform = [&rng](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
    std::normal_distribution<double> normal(0.0, 5.0);
    double delivery = 0;
    do delivery = normal(rng);  // a production population inside its +-15 % requirement
    while (std::abs(delivery) > 14.9);
    u[P::DeliveryErrorPct] = delivery;
    u[P::StrokeJitterMs] = std::round(uniform(0, 50));
    u[P::ClockPpm] = uniform(-50, 50);
    const double tau_u = std::max(0.0, line_tau_uncertainty_pct);
    u[P::LineTauErrorPct] = tau_u > 0 ? uniform(-tau_u, tau_u) : (uniform(0, 1), 0.0);
    u[P::MeterGainErrorPct] = uniform(-0.25, 0.25);
    u[P::MeterOffsetUlH] = uniform(-0.05, 0.05);
    u[P::AnswerLatencyMs] = std::round(uniform(0, 100));
    u[P::EventLatencyMs] = std::round(uniform(0, 100));
    u[P::ResetDurationMs] = std::round(uniform(200, 2000));
    u.meter_total_noise = !ideal;
    if (ideal)
        for (const auto& p : kParams) u[p.param] = p.ideal;
    for (const auto& [name, value] : pins)
        if (const auto p = unit_param_from_name(name)) u[*p] = value;
    return u;
}

}  // namespace pumprig::bench
