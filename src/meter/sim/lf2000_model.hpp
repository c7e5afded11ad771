// The LF-2000 flow meter's behaviour (docs/icd/flow-sensor-modbus.md), without I/O: one call
// per 100 ms measurement, registers read at any time. Registers are laid out by a MeterProfile,
// so the same model also stands in for another make's register map.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "meter/profile.hpp"

namespace pumprig::meter::sim {

struct Lf2000Options {
    std::string serial = "LF0001";
    std::string firmware = "1.00";
    std::uint64_t seed = 1;       // every random source of the model
    double temperature_c = 22.0;  // liquid temperature around which the reading varies
    bool noise = true;            // false: flow and temperature exactly as computed
    // This meter's calibration (docs/simulator.md, "A realistic bench"); 0: the exact meter.
    double gain_error = 0;        // fraction of reading, in the flow and the total alike
    double offset_ul_h = 0;       // zero offset, in the flow and the total alike
    bool total_noise = false;     // each measurement's volume gets the flow's noise too
};

// Answer of a holding-register write, as Modbus exception numbers (0: accepted).
enum class WriteOutcome : std::uint8_t { Accepted = 0, IllegalAddress = 2, IllegalValue = 3 };

class Lf2000Model {
public:
    explicit Lf2000Model(MeterProfile profile, Lf2000Options options = {});

    // One measurement: the true volume that passed during the last measurement period.
    void measure(Volume passed);

    // What the meter shows now (the last measurement).
    MeterReading reading() const;
    // The contiguous block as registers, from the profile's block address: one snapshot.
    std::vector<std::uint16_t> input_block() const;

    // A holding register by wire address; nullopt when no holding register is there.
    std::optional<std::uint16_t> read_holding(int address) const;
    // Writes consecutive holding registers, checked whole first (ICD 4): every address must
    // belong to a register (else IllegalAddress), every value be in range (else IllegalValue);
    // nothing is written unless all of it is accepted.
    WriteOutcome write_holding(int address, std::span<const std::uint16_t> values);

    // "LF-2000,SN=<serial>,FW=<version>" (the profile's identification prefix).
    std::string identification_text() const;

    // Injected faults.
    void inject_air(int measurements);      // AIR, VALID 0 for that many measurements
    void set_fault(bool on);                // FAULT, VALID 0 until cleared
    void set_frozen(bool on);               // measurements stop: sample counter and values freeze
    void set_zero_drift(FlowRate per_hour);  // sensor zero moves by this much per hour from now

    // The truth, for tests and the simulator's control channel.
    Volume exact_total() const { return total_; }  // with fractions, not wrapped
    Millis filter() const;
    FlowRate zero_trim() const;
    std::uint64_t measurements() const { return measurements_; }
    const MeterProfile& profile() const { return profile_; }

private:
    struct Holding {
        const Field* field;
        enum Kind { Command, Filter, ZeroTrim } kind;
    };
    std::vector<Holding> holding_fields() const;
    double holding_raw(const Holding& h) const;  // current raw value (command reads idle)
    double gaussian(double sigma);

    MeterProfile profile_;
    Lf2000Options options_;
    std::mt19937_64 rng_;
    std::normal_distribution<double> unit_normal_{0.0, 1.0};

    // Settings, as raw register values.
    double filter_raw_, zero_trim_raw_;
    bool reset_pending_ = false;

    // State.
    Volume total_;
    std::deque<std::optional<double>> window_;  // per-measurement flow (uL/h); nullopt: invalid
    FlowRate shown_flow_;
    double temperature_c_;
    std::uint16_t sample_ = 0;
    bool valid_ = true, air_ = false, overrange_ = false, fault_ = false;
    std::uint64_t measurements_ = 0;

    // Faults.
    int air_left_ = 0;
    bool fault_on_ = false, frozen_ = false;
    FlowRate drift_per_hour_;
    std::uint64_t drift_start_ = 0;  // measurement count when the drift began
};

}  // namespace pumprig::meter::sim
