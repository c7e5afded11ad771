// Synthetic bench data for the verify tests, built independently of the code under test: a
// stroke pump (0.25 uL strokes) feeding a first-order line, stepped numerically, read by a
// meter once a second with seeded noise on the total.
#pragma once
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/units.hpp"
#include "verify/samples.hpp"

namespace pumprig::verify::test {

using namespace std::chrono_literals;

inline constexpr BenchTime kT0{Millis{1767225600000LL}};  // 2026-01-01 00:00 UTC

struct SeriesSpec {
    BenchTime from = kT0;
    BenchTime to = kT0 + 1h;
    Millis sample_every = 1s;
    Millis sim_step = 100ms;   // pump and line model step
    double tau_s = 0;          // line time constant
    double stroke_ul = 0.25;   // 0: continuous delivery
    double noise_ul = 0.002;   // sd of the meter total's noise
    std::uint64_t seed = 1;
    // Actual delivery rate (uL/h) at a bench time: what the "pump" really does.
    std::function<double(BenchTime)> rate;
};

inline std::vector<Sample> make_series(const SeriesSpec& spec) {
    std::mt19937_64 rng(spec.seed);
    std::normal_distribution<double> noise(0.0, spec.noise_ul);
    std::vector<Sample> out;
    double pumped = 0;     // volume the pump has accumulated toward its next stroke
    double delivered = 0;  // volume out of the pump (whole strokes)
    double metered = 0;    // volume through the meter (delivered through the line)
    const double dt_s = static_cast<double>(spec.sim_step.count()) / 1000.0;
    const double alpha = spec.tau_s > 0 ? -std::expm1(-dt_s / spec.tau_s) : 1.0;
    std::uint16_t counter = 0;
    BenchTime next_sample = spec.from;
    for (BenchTime t = spec.from; t <= spec.to; t += spec.sim_step) {
        if (t >= next_sample) {
            Sample s;
            s.t = t;
            s.total = Volume{metered + (spec.noise_ul > 0 ? noise(rng) : 0.0)};
            s.flow = FlowRate{spec.rate(t)};
            s.status = 1;
            counter = static_cast<std::uint16_t>(counter + 10);
            s.counter = counter;
            s.valid = true;
            out.push_back(s);
            next_sample += spec.sample_every;
        }
        pumped += spec.rate(t) * dt_s / 3600.0;
        if (spec.stroke_ul > 0) {
            while (pumped >= spec.stroke_ul) {
                pumped -= spec.stroke_ul;
                delivered += spec.stroke_ul;
            }
        } else {
            delivered += pumped;
            pumped = 0;
        }
        // A first-order line: the metered cumulative volume follows the delivered one.
        metered += (delivered - metered) * alpha;
    }
    return out;
}

// Rate function of piecewise-constant steps: {from, rate} pairs in time order, 0 before.
inline std::function<double(BenchTime)> steps(std::vector<std::pair<BenchTime, double>> s) {
    return [s](BenchTime t) {
        double r = 0;
        for (const auto& [from, rate] : s)
            if (t >= from) r = rate;
        return r;
    };
}

}  // namespace pumprig::verify::test
