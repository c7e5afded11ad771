#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <fstream>
#include <vector>

#include "meter/profile.hpp"
#include "meter_test_support.hpp"

using namespace pumprig;
using namespace pumprig::meter;

namespace {

std::pair<std::uint16_t, std::uint16_t> float_words(float v) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    return {static_cast<std::uint16_t>(bits >> 16), static_cast<std::uint16_t>(bits)};
}

std::string lf2000_text() {
    std::ifstream in(test::fixture("lf-2000.json"));
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The LF-2000 profile text with one substring replaced, to test one bad field at a time.
Error load_error_with(const std::string& from, const std::string& to) {
    std::string text = lf2000_text();
    const auto at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "fixture no longer contains " << from);
    text.replace(at, from.size(), to);
    auto p = parse_meter_profile(text, "edited.json");
    REQUIRE_FALSE(p.has_value());
    return p.error();
}

}  // namespace

TEST_CASE("meter profile: the LF-2000 fixture describes the ICD register map") {
    const auto p = test::lf2000();
    CHECK(p.make == "LF-2000");
    CHECK(p.block_function == 4);
    CHECK(p.block_address == 0);
    CHECK(p.block_count == 8);
    CHECK(p.flow.address == 0);
    CHECK(p.flow.type == RegType::Float32);
    CHECK(p.flow.word_order == WordOrder::HighFirst);
    CHECK(p.total.address == 2);
    CHECK(p.total.type == RegType::Uint32);
    CHECK(p.total.wraps);
    CHECK(p.total.unit_factor == doctest::Approx(1e-3));
    REQUIRE(p.status);
    CHECK(p.status->address == 4);
    REQUIRE(p.temperature);
    CHECK(p.temperature->type == RegType::Int16);
    CHECK(p.temperature->scale == doctest::Approx(0.01));
    REQUIRE(p.sample);
    CHECK(p.sample->address == 6);
    REQUIRE(p.period);
    CHECK(p.period->address == 7);
    CHECK(p.status_bits.valid == 0);
    CHECK(p.status_bits.air == 1);
    CHECK(p.status_bits.overrange == 2);
    CHECK(p.status_bits.fault == 3);
    REQUIRE(p.command);
    CHECK(p.command->address == 100);
    CHECK(p.command->reset_total == 1);
    REQUIRE(p.filter);
    CHECK(p.filter->address == 101);
    CHECK(p.filter->min_raw == 100);
    CHECK(p.filter->max_raw == 10000);
    CHECK(p.filter->step_raw == 100);
    CHECK(p.filter->default_raw == 1000);
    REQUIRE(p.zero_trim);
    CHECK(p.zero_trim->address == 102);
    CHECK(p.zero_trim->min_raw == -1000);
    CHECK(p.zero_trim->max_raw == 1000);
    CHECK(p.identification.function == 17);
    CHECK(p.identification.prefix == "LF-2000");
    CHECK(p.identification.server_id == 0x4C);
    CHECK(p.identification.run_indicator == 0xFF);
    CHECK(p.range_min.ul_per_h == -2000);
    CHECK(p.range_max.ul_per_h == 2000);
    // ICD 2: +-0.5 % of reading +-0.1 uL/h.
    CHECK(p.accuracy_at(FlowRate::from_ul_per_h(100)).ul_per_h == doctest::Approx(0.6));
    CHECK(p.accuracy_at(FlowRate::from_ul_per_h(-200)).ul_per_h == doctest::Approx(1.1));
}

TEST_CASE("meter profile: LF-2000 registers decode to a typed reading") {
    const auto p = test::lf2000();
    const auto [fhi, flo] = float_words(12.5f);
    // flow 12.5 uL/h (ABCD), total 123456 nL, status VALID, 22.00 degC, sample 7, period 100.
    const std::vector<std::uint16_t> regs{fhi, flo, 0x0001, 0xE240, 0x0001, 2200, 7, 100};
    auto r = decode_reading(p, regs);
    REQUIRE(r.has_value());
    CHECK(r->flow.ul_per_h == doctest::Approx(12.5));
    CHECK(r->total_raw == 123456u);
    CHECK(r->total.ul == doctest::Approx(123.456));
    CHECK(r->status == 1);
    CHECK(r->valid);
    CHECK_FALSE(r->air);
    CHECK(r->temperature_c == doctest::Approx(22.0));
    CHECK(r->sample == 7);
    CHECK(r->period == Millis{100});
}

TEST_CASE("meter profile: status bits and a negative temperature decode") {
    const auto p = test::lf2000();
    std::vector<std::uint16_t> regs(8, 0);
    regs[4] = 0b1010;  // AIR and FAULT, VALID 0
    regs[5] = 0xFF9C;  // int16 -100 -> -1.00 degC
    auto r = decode_reading(p, regs);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->valid);
    CHECK(r->air);
    CHECK_FALSE(r->overrange);
    CHECK(r->fault);
    CHECK(r->temperature_c == doctest::Approx(-1.0));
    CHECK(status_word(p, false, true, false, true) == 0b1010);
    CHECK(status_word(p, true, false, false, false) == 0b0001);
}

TEST_CASE("meter profile: encode then decode gives the reading back") {
    const auto p = test::lf2000();
    MeterReading in;
    in.flow = FlowRate::from_ul_per_h(-3.25);
    in.total = Volume::from_ul(42.0);
    in.status = status_word(p, false, false, true, false);
    in.temperature_c = 21.37;
    in.sample = 65535;
    in.period = Millis{100};
    const auto regs = encode_reading(p, in);
    REQUIRE(regs.size() == 8);
    CHECK(regs[2] == 0);
    CHECK(regs[3] == 42000);
    auto out = decode_reading(p, regs);
    REQUIRE(out.has_value());
    CHECK(out->flow.ul_per_h == doctest::Approx(-3.25));
    CHECK(out->total.ul == doctest::Approx(42.0));
    CHECK(out->overrange);
    CHECK_FALSE(out->valid);
    CHECK(out->temperature_c == doctest::Approx(21.37));
    CHECK(out->sample == 65535);
}

TEST_CASE("meter profile: an integer total shows whole nL modulo 2^32") {
    const auto p = test::lf2000();
    auto total_words = [&](double ul) {
        MeterReading r;
        r.total = Volume::from_ul(ul);
        const auto regs = encode_reading(p, r);
        return static_cast<std::uint32_t>(regs[2]) << 16 | regs[3];
    };
    CHECK(total_words(0.25) == 250u);        // not 249 from unit conversion rounding
    CHECK(total_words(0.0009) == 0u);        // fractions kept by the meter, not shown
    CHECK(total_words(4294967.301) == 5u);   // 2^32 nL + 5.x nL wraps
    CHECK(total_words(-0.003) == 0xFFFFFFFDu);  // backward flow below zero
}

TEST_CASE("meter profile: another make with float32 mL totals and low word first") {
    const auto p = test::other_make();
    CHECK(p.block_address == 10);
    CHECK(p.block_count == 7);
    CHECK(p.total.type == RegType::Float32);
    CHECK(p.total.word_order == WordOrder::LowFirst);
    CHECK_FALSE(p.temperature.has_value());
    const auto [thi, tlo] = float_words(1.5f);    // 1.5 mL
    const auto [fhi, flo] = float_words(0.25f);   // 0.25 mL/h
    const std::vector<std::uint16_t> regs{tlo, thi, flo, fhi, 0x0001, 9, 100};
    auto r = decode_reading(p, regs);
    REQUIRE(r.has_value());
    CHECK(r->total.ul == doctest::Approx(1500.0));
    CHECK(r->flow.ul_per_h == doctest::Approx(250.0));
    CHECK(r->valid);
    CHECK(r->sample == 9);
    // FAULT is bit 7 in this make, and a reading with it set is not valid.
    std::vector<std::uint16_t> faulted = regs;
    faulted[4] = 0x0080;
    auto f = decode_reading(p, faulted);
    REQUIRE(f.has_value());
    CHECK(f->fault);
    CHECK_FALSE(f->valid);
    // And back: the words come out low first.
    const auto again = encode_reading(p, *r);
    CHECK(again == regs);
}

TEST_CASE("meter profile: a block of the wrong size is refused") {
    const auto p = test::lf2000();
    const std::vector<std::uint16_t> short_block(7, 0);
    auto r = decode_reading(p, short_block);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::Protocol);
    CHECK(r.error().message.find("expected 8 registers") != std::string::npos);
}

TEST_CASE("meter profile: errors name the file and the JSON pointer") {
    auto e = load_error_with(R"("type": "float32")", R"("type": "float")");
    CHECK(e.kind == ErrorKind::BadInput);
    CHECK(e.message.find("edited.json") != std::string::npos);
    CHECK(e.message.find("/quantities/flow/type") != std::string::npos);
    CHECK(e.message.find("float32") != std::string::npos);

    e = load_error_with(R"("unit": "nL")", R"("unit": "furlongs")");
    CHECK(e.message.find("/quantities/total/unit") != std::string::npos);
    CHECK(e.message.find("volume unit") != std::string::npos);

    e = load_error_with(R"("sample":      { "address": 6)", R"("sample":      { "address": 8)");
    CHECK(e.message.find("/quantities/sample") != std::string::npos);
    CHECK(e.message.find("inside the block 0..7") != std::string::npos);

    e = load_error_with(R"("word_order": "high_first", "scale": 1,    "unit": "uL/h")", R"("word_order": "middle", "scale": 1,    "unit": "uL/h")");
    CHECK(e.message.find("/quantities/flow/word_order") != std::string::npos);

    e = load_error_with(R"("make": "LF-2000",)", "");
    CHECK(e.message.find("/make: missing") != std::string::npos);

    auto bad_json = parse_meter_profile("{ not json", "broken.json");
    REQUIRE_FALSE(bad_json.has_value());
    // The core reader's message: file, line and column, what is wrong.
    CHECK(bad_json.error().message.starts_with("broken.json:1:4: invalid JSON: "));

    auto missing = load_meter_profile("/nonexistent/meter.json");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message.find("/nonexistent/meter.json") != std::string::npos);
}
