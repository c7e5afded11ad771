#include "meter/sim/lf2000_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace pumprig::meter::sim {

namespace {
constexpr double kTemperatureSigmaC = 0.02;

// Raw register value of words holding one field (integer types exact, float as float).
double raw_of(const Field& f, std::span<const std::uint16_t> words) {
    const double v = f.decode(words) / f.unit_factor / f.scale;
    return f.type == RegType::Float32 ? v : std::nearbyint(v);
}
}  // namespace

Lf2000Model::Lf2000Model(MeterProfile profile, Lf2000Options options)
    : profile_(std::move(profile)),
      options_(std::move(options)),
      rng_(options_.seed),
      filter_raw_(profile_.filter ? profile_.filter->default_raw : 0.0),
      zero_trim_raw_(profile_.zero_trim ? profile_.zero_trim->default_raw : 0.0),
      temperature_c_(options_.temperature_c) {}

double Lf2000Model::gaussian(double sigma) { return options_.noise ? sigma * unit_normal_(rng_) : 0.0; }

Millis Lf2000Model::filter() const {
    if (!profile_.filter) return profile_.measurement_period;
    const auto& f = *profile_.filter;
    return Millis{static_cast<Millis::rep>(std::llround(filter_raw_ * f.scale * f.unit_factor))};
}

FlowRate Lf2000Model::zero_trim() const {
    if (!profile_.zero_trim) return {};
    const auto& f = *profile_.zero_trim;
    return FlowRate::from_ul_per_h(zero_trim_raw_ * f.scale * f.unit_factor);
}

void Lf2000Model::measure(Volume passed) {
    if (frozen_) return;  // a hung sensor: nothing moves, not even the sample counter
    ++measurements_;
    const double period_h = static_cast<double>(profile_.measurement_period.count()) / 3.6e6;

    // A zero drift is a sensor error: it shows in the flow and in the counted volume alike.
    const double hours_drifting =
        static_cast<double>(measurements_ - drift_start_) * period_h;
    // So is this meter's calibration: a gain error and a zero offset within its accuracy.
    Volume measured = passed * (1.0 + options_.gain_error) +
                      volume_over(drift_per_hour_ * hours_drifting + FlowRate::from_ul_per_h(options_.offset_ul_h),
                                  profile_.measurement_period);
    if (options_.total_noise) {
        // The sensor's noise is in every measurement, so in the total too (averaging out over
        // many measurements); sigma a quarter of the accuracy at this flow, as for the flow.
        const double sigma_ul_h = 0.25 * profile_.accuracy_at(FlowRate::from_ul_per_h(measured.ul / period_h)).ul_per_h;
        measured = measured + Volume{gaussian(sigma_ul_h) * period_h};
    }
    const double flow_ul_h = measured.ul / period_h;

    air_ = air_left_ > 0;
    if (air_left_ > 0) --air_left_;
    fault_ = fault_on_;
    overrange_ = flow_ul_h < profile_.range_min.ul_per_h || flow_ul_h > profile_.range_max.ul_per_h;
    valid_ = !(air_ || overrange_ || fault_);

    if (reset_pending_) {
        // ICD 4: the reset takes effect at the next measurement. Conservative reading: the
        // total reads exactly 0 after it, this period's volume dropped with the old total.
        total_ = {};
        reset_pending_ = false;
    } else if (valid_) {
        total_ += measured;  // exact: true volume, no noise, fractions kept
    }

    const auto window = static_cast<std::size_t>(std::max<long long>(
        1, filter().count() / std::max<long long>(1, profile_.measurement_period.count())));
    window_.push_back(valid_ ? std::optional<double>(flow_ul_h) : std::nullopt);
    while (window_.size() > window) window_.pop_front();

    if (valid_) {
        // The mean of the valid measurements in the window, plus the trim (ICD 2).
        double sum = 0;
        int n = 0;
        for (const auto& v : window_)
            if (v) sum += *v, ++n;
        const double mean = sum / n;
        const double trimmed = mean + zero_trim().ul_per_h;
        // Noise well inside the accuracy: sigma a quarter of it.
        const double sigma = 0.25 * profile_.accuracy_at(FlowRate::from_ul_per_h(mean)).ul_per_h;
        double shown = trimmed + gaussian(sigma);
        if (profile_.resolution.ul_per_h > 0)
            shown = std::nearbyint(shown / profile_.resolution.ul_per_h) * profile_.resolution.ul_per_h;
        shown_flow_ = FlowRate::from_ul_per_h(shown);
    }  // else: flow holds its last valid value (ICD 3)

    temperature_c_ = std::nearbyint((options_.temperature_c + gaussian(kTemperatureSigmaC)) * 100.0) / 100.0;
    sample_ = static_cast<std::uint16_t>(sample_ + 1);  // wraps at 65536
}

MeterReading Lf2000Model::reading() const {
    MeterReading r;
    r.flow = shown_flow_;
    r.total = total_;
    r.valid = valid_;
    r.air = air_;
    r.overrange = overrange_;
    r.fault = fault_;
    r.status = status_word(profile_, valid_, air_, overrange_, fault_);
    r.temperature_c = temperature_c_;
    r.sample = sample_;
    r.period = profile_.measurement_period;
    return r;
}

std::vector<std::uint16_t> Lf2000Model::input_block() const { return encode_reading(profile_, reading()); }

std::vector<Lf2000Model::Holding> Lf2000Model::holding_fields() const {
    std::vector<Holding> out;
    if (profile_.command) out.push_back({&*profile_.command, Holding::Command});
    if (profile_.filter) out.push_back({&*profile_.filter, Holding::Filter});
    if (profile_.zero_trim) out.push_back({&*profile_.zero_trim, Holding::ZeroTrim});
    return out;
}

double Lf2000Model::holding_raw(const Holding& h) const {
    switch (h.kind) {
        case Holding::Command: return profile_.command->idle;  // ICD 4: command reads 0
        case Holding::Filter: return filter_raw_;
        case Holding::ZeroTrim: return zero_trim_raw_;
    }
    return 0;
}

std::optional<std::uint16_t> Lf2000Model::read_holding(int address) const {
    for (const auto& h : holding_fields()) {
        const Field& f = *h.field;
        if (address < f.address || address >= f.address + f.count()) continue;
        std::array<std::uint16_t, 2> words{};
        auto span = std::span(words).first(static_cast<std::size_t>(f.count()));
        f.encode(holding_raw(h) * f.scale * f.unit_factor, span);
        return words[static_cast<std::size_t>(address - f.address)];
    }
    return std::nullopt;
}

WriteOutcome Lf2000Model::write_holding(int address, std::span<const std::uint16_t> values) {
    const int end = address + static_cast<int>(values.size());
    // Addresses first: every register written belongs to a field, and a field is written whole.
    struct Pending {
        Holding h;
        double raw;
    };
    std::vector<Pending> pending;
    for (int a = address; a < end;) {
        const Holding* found = nullptr;
        const auto fields = holding_fields();
        for (const auto& h : fields)
            if (a == h.field->address) found = &h;
        if (!found || a + found->field->count() > end) return WriteOutcome::IllegalAddress;
        const Field& f = *found->field;
        pending.push_back({*found, raw_of(f, values.subspan(static_cast<std::size_t>(a - address),
                                                            static_cast<std::size_t>(f.count())))});
        a += f.count();
    }
    // Then values: all of them, before anything is written.
    for (const auto& p : pending) {
        if (p.h.kind == Holding::Command) {
            // Conservative: the ICD defines 1 (reset) and 0 (nothing); anything else is refused.
            if (p.raw != profile_.command->reset_total && p.raw != profile_.command->idle)
                return WriteOutcome::IllegalValue;
            continue;
        }
        const auto& s = p.h.kind == Holding::Filter ? *profile_.filter : *profile_.zero_trim;
        const double steps = (p.raw - s.min_raw) / s.step_raw;
        if (p.raw < s.min_raw || p.raw > s.max_raw || std::abs(steps - std::nearbyint(steps)) > 1e-9)
            return WriteOutcome::IllegalValue;
    }
    for (const auto& p : pending) {
        switch (p.h.kind) {
            case Holding::Command:
                if (p.raw == profile_.command->reset_total) reset_pending_ = true;
                break;
            case Holding::Filter: filter_raw_ = p.raw; break;
            case Holding::ZeroTrim: zero_trim_raw_ = p.raw; break;
        }
    }
    return WriteOutcome::Accepted;
}

std::string Lf2000Model::identification_text() const {
    return profile_.identification.prefix + ",SN=" + options_.serial + ",FW=" + options_.firmware;
}

void Lf2000Model::inject_air(int measurements) { air_left_ = std::max(0, measurements); }
void Lf2000Model::set_fault(bool on) { fault_on_ = on; }
void Lf2000Model::set_frozen(bool on) { frozen_ = on; }
void Lf2000Model::set_zero_drift(FlowRate per_hour) {
    drift_per_hour_ = per_hour;
    drift_start_ = measurements_;
}

}  // namespace pumprig::meter::sim
