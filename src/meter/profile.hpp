// A flow meter's Modbus register map as data (fixtures/meters/*.json), and the pure
// decode/encode between registers and a typed reading. No I/O here: the driver (host side) and
// the simulated meter (server side) both go through these functions, so they cannot disagree.
// Another make of meter needs only a new profile file.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"

namespace pumprig::meter {

enum class RegType { Float32, Uint32, Int32, Uint16, Int16 };
enum class WordOrder { HighFirst, LowFirst };

const char* to_string(RegType type);
int register_count(RegType type);  // 2 for 32-bit types, 1 otherwise

// One value in registers: where, how it is packed, and how a raw number becomes the profile's
// unit (value_in_unit = raw * scale). `unit_factor` converts that unit to pumprig's unit for the
// quantity (uL for volumes, uL/h for flows, ms for periods, degC for temperatures).
struct Field {
    int address = 0;
    RegType type = RegType::Uint16;
    WordOrder word_order = WordOrder::HighFirst;
    double scale = 1.0;
    std::string unit;          // as written in the profile ("nL", "mL/h", "0.01 degC" is scale+unit)
    double unit_factor = 1.0;  // profile unit -> pumprig unit

    int count() const { return register_count(type); }
    // raw * scale * unit_factor; for 32-bit types the words are combined in word_order.
    double decode(std::span<const std::uint16_t> words) const;
    // The inverse: rounds integer types to the nearest raw step and clamps to the type's range.
    void encode(double value, std::span<std::uint16_t> words) const;
    // Raw integer as on the wire (two's complement for signed types), for modulo arithmetic.
    std::uint64_t raw_bits(std::span<const std::uint16_t> words) const;
};

struct TotalField : Field {
    bool wraps = false;  // integer total shown modulo 2^bits: a host takes signed deltas
};

struct StatusBits {
    std::optional<int> valid, air, overrange, fault;  // bit numbers; absent: the meter has none
};

// A holding register with a range (filter time, zero trim).
struct SettingField : Field {
    double min_raw = 0, max_raw = 0, step_raw = 1;  // on raw register values
    double default_raw = 0;
};

struct CommandField : Field {
    std::uint32_t reset_total = 1;  // value that resets the total
    std::uint32_t idle = 0;         // value that does nothing, and what the register reads
};

struct Identification {
    int function = 17;
    std::string prefix;  // the text answered must start with this
    std::uint8_t server_id = 0;
    std::uint8_t run_indicator = 0xFF;
};

struct MeterProfile {
    std::string source;  // file it came from, for messages
    std::string make;
    Millis measurement_period{100};
    FlowRate range_min, range_max;
    double accuracy_percent_of_reading = 0.0;
    FlowRate accuracy_offset;
    FlowRate resolution;
    int max_read_registers = 125;
    int max_write_registers = 123;

    // The contiguous block read in one request; every quantity lies inside it.
    int block_function = 4;  // 4: input registers, 3: holding registers
    int block_address = 0;
    int block_count = 0;

    Field flow;
    TotalField total;
    std::optional<Field> status, temperature, sample, period;
    StatusBits status_bits;

    std::optional<CommandField> command;
    std::optional<SettingField> filter;
    std::optional<SettingField> zero_trim;
    Identification identification;

    // Meter accuracy at a reading: +-(percent of |reading| + offset).
    FlowRate accuracy_at(FlowRate reading) const;
};

// Loads and validates a profile; errors name the file and the JSON pointer of the bad field.
Result<MeterProfile> load_meter_profile(const std::string& path);
// The same from JSON text (tests, embedded defaults); `source` names it in messages.
Result<MeterProfile> parse_meter_profile(const std::string& json_text, const std::string& source);

// One reading as the meter shows it (one measurement: one block read).
struct MeterReading {
    FlowRate flow;
    Volume total;                 // as shown: a wrapping integer total is NOT unwrapped here
    std::uint64_t total_raw = 0;  // integer totals: the raw count on the wire; float: 0
    std::uint16_t status = 0;     // raw status word (0 when the meter has no status register)
    bool valid = true, air = false, overrange = false, fault = false;
    double temperature_c = 0.0;
    std::uint16_t sample = 0;
    Millis period{100};
};

// Status word from flags, with the profile's bit numbers (flags the meter lacks are dropped).
std::uint16_t status_word(const MeterProfile& p, bool valid, bool air, bool overrange, bool fault);

// Registers of the block (profile.block_count words, from block_address) -> reading.
// Fails (Protocol) when the number of words is not the block's.
Result<MeterReading> decode_reading(const MeterProfile& p, std::span<const std::uint16_t> block);
// Reading -> registers of the block. The status word is reading.status; the total is encoded
// from reading.total (integer totals: whole raw steps, rounded down, modulo 2^bits when wrapping).
std::vector<std::uint16_t> encode_reading(const MeterProfile& p, const MeterReading& reading);

}  // namespace pumprig::meter
