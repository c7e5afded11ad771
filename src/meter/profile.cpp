#include "meter/profile.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"

namespace pumprig::meter {

using json = nlohmann::json;

const char* to_string(RegType type) {
    switch (type) {
        case RegType::Float32: return "float32";
        case RegType::Uint32: return "uint32";
        case RegType::Int32: return "int32";
        case RegType::Uint16: return "uint16";
        case RegType::Int16: return "int16";
    }
    return "?";
}

int register_count(RegType type) {
    return (type == RegType::Float32 || type == RegType::Uint32 || type == RegType::Int32) ? 2 : 1;
}

namespace {

std::uint32_t combine(const Field& f, std::span<const std::uint16_t> w) {
    if (f.count() == 1) return w[0];
    const std::uint32_t first = w[0], second = w[1];
    return f.word_order == WordOrder::HighFirst ? (first << 16 | second) : (second << 16 | first);
}

void split(const Field& f, std::uint32_t bits, std::span<std::uint16_t> w) {
    if (f.count() == 1) {
        w[0] = static_cast<std::uint16_t>(bits);
        return;
    }
    const auto hi = static_cast<std::uint16_t>(bits >> 16), lo = static_cast<std::uint16_t>(bits);
    w[0] = f.word_order == WordOrder::HighFirst ? hi : lo;
    w[1] = f.word_order == WordOrder::HighFirst ? lo : hi;
}

double raw_value(const Field& f, std::uint32_t bits) {
    switch (f.type) {
        case RegType::Float32: return std::bit_cast<float>(bits);
        case RegType::Uint32: return bits;
        case RegType::Int32: return static_cast<std::int32_t>(bits);
        case RegType::Uint16: return static_cast<std::uint16_t>(bits);
        case RegType::Int16: return static_cast<std::int16_t>(static_cast<std::uint16_t>(bits));
    }
    return 0;
}

struct IntRange {
    double lo, hi;
};
IntRange int_range(RegType t) {
    switch (t) {
        case RegType::Uint32: return {0, 4294967295.0};
        case RegType::Int32: return {-2147483648.0, 2147483647.0};
        case RegType::Uint16: return {0, 65535};
        case RegType::Int16: return {-32768, 32767};
        case RegType::Float32: break;
    }
    return {0, 0};
}

// Raw number (already in raw steps) -> register bits; integer types clamp or wrap.
std::uint32_t raw_to_bits(const Field& f, double raw, bool wrap) {
    if (f.type == RegType::Float32) return std::bit_cast<std::uint32_t>(static_cast<float>(raw));
    if (wrap) {
        const double modulus = f.count() == 2 ? 4294967296.0 : 65536.0;
        double m = std::fmod(raw, modulus);
        if (m < 0) m += modulus;
        return static_cast<std::uint32_t>(m);
    }
    const auto r = int_range(f.type);
    raw = std::clamp(raw, r.lo, r.hi);
    return static_cast<std::uint32_t>(static_cast<std::int64_t>(raw));
}

// ---- loading ----------------------------------------------------------------------------

struct Loader {
    std::string source;
    const JsonDocument& doc;  // where each value begins, for the messages

    std::unexpected<Error> bad(const std::string& pointer, const std::string& what) const {
        return fail(ErrorKind::BadInput, describe_at(source, doc.value_at(pointer), pointer.empty() ? "/" : pointer, what));
    }

    static std::string shown(const json& j) {
        auto s = j.dump();
        return s.size() > 60 ? s.substr(0, 57) + "..." : s;
    }

    Result<const json*> member(const json& obj, const std::string& ptr, const char* key,
                               bool required) const {
        if (!obj.is_object()) return bad(ptr, "expected an object, got " + shown(obj));
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) return bad(ptr + "/" + key, "missing (required)");
            return nullptr;
        }
        return &*it;
    }

    Result<double> number(const json& obj, const std::string& ptr, const char* key,
                          std::optional<double> fallback = std::nullopt) const {
        auto m = member(obj, ptr, key, !fallback);
        if (!m) return std::unexpected(m.error());
        if (!*m) return *fallback;
        if (!(*m)->is_number()) return bad(ptr + "/" + key, "expected a number, got " + shown(**m));
        return (*m)->get<double>();
    }

    Result<int> integer(const json& obj, const std::string& ptr, const char* key, double lo,
                        double hi, std::optional<int> fallback = std::nullopt) const {
        auto v = number(obj, ptr, key, fallback ? std::optional<double>(*fallback) : std::nullopt);
        if (!v) return std::unexpected(v.error());
        if (*v != std::floor(*v) || *v < lo || *v > hi) {
            std::ostringstream os;
            os << "expected a whole number from " << lo << " to " << hi << ", got " << *v;
            return bad(ptr + "/" + key, os.str());
        }
        return static_cast<int>(*v);
    }

    Result<std::string> text(const json& obj, const std::string& ptr, const char* key,
                             std::optional<std::string> fallback = std::nullopt) const {
        auto m = member(obj, ptr, key, !fallback);
        if (!m) return std::unexpected(m.error());
        if (!*m) return *fallback;
        if (!(*m)->is_string()) return bad(ptr + "/" + key, "expected a string, got " + shown(**m));
        return (*m)->get<std::string>();
    }

    Result<bool> boolean(const json& obj, const std::string& ptr, const char* key, bool fallback) const {
        auto m = member(obj, ptr, key, false);
        if (!m) return std::unexpected(m.error());
        if (!*m) return fallback;
        if (!(*m)->is_boolean()) return bad(ptr + "/" + key, "expected true or false, got " + shown(**m));
        return (*m)->get<bool>();
    }

    // Units pumprig knows for a kind of quantity, with the factor to pumprig's unit.
    Result<double> unit_factor(const std::string& ptr, const std::string& unit, const std::string& kind) const {
        static const std::map<std::string, std::map<std::string, double>> units = {
            {"volume", {{"nL", 1e-3}, {"uL", 1.0}, {"mL", 1e3}}},
            {"flow", {{"nL/h", 1e-3}, {"uL/h", 1.0}, {"uL/min", 60.0}, {"mL/h", 1e3}, {"mL/min", 6e4}}},
            {"temperature", {{"degC", 1.0}}},
            {"time", {{"ms", 1.0}, {"s", 1e3}}},
            {"count", {{"", 1.0}}},
        };
        const auto& table = units.at(kind);
        auto it = table.find(unit);
        if (it != table.end()) return it->second;
        std::string names;
        for (const auto& [name, factor] : table) names += (names.empty() ? "" : ", ") + (name.empty() ? "no unit" : name);
        return bad(ptr + "/unit", "expected a " + kind + " unit (" + names + "), got \"" + unit + "\"");
    }

    Result<Field> field(const json& obj, const std::string& ptr, const std::string& kind) const {
        Field f;
        auto address = integer(obj, ptr, "address", 0, 65535);
        if (!address) return std::unexpected(address.error());
        f.address = *address;
        auto type = text(obj, ptr, "type");
        if (!type) return std::unexpected(type.error());
        static const std::map<std::string, RegType> types = {{"float32", RegType::Float32},
            {"uint32", RegType::Uint32}, {"int32", RegType::Int32}, {"uint16", RegType::Uint16},
            {"int16", RegType::Int16}};
        auto t = types.find(*type);
        if (t == types.end())
            return bad(ptr + "/type", "expected one of float32, uint32, int32, uint16, int16, got \"" + *type + "\"");
        f.type = t->second;
        auto order = text(obj, ptr, "word_order", "high_first");
        if (!order) return std::unexpected(order.error());
        if (*order == "high_first") f.word_order = WordOrder::HighFirst;
        else if (*order == "low_first") f.word_order = WordOrder::LowFirst;
        else return bad(ptr + "/word_order", "expected \"high_first\" or \"low_first\", got \"" + *order + "\"");
        auto scale = number(obj, ptr, "scale", 1.0);
        if (!scale) return std::unexpected(scale.error());
        if (!(*scale > 0) || !std::isfinite(*scale)) return bad(ptr + "/scale", "expected a positive number");
        f.scale = *scale;
        auto unit = text(obj, ptr, "unit", std::string{});
        if (!unit) return std::unexpected(unit.error());
        f.unit = *unit;
        auto factor = unit_factor(ptr, f.unit, kind);
        if (!factor) return std::unexpected(factor.error());
        f.unit_factor = *factor;
        return f;
    }

    Result<FlowRate> flow_value(const json& obj, const std::string& ptr, const char* key, double factor) const {
        auto v = number(obj, ptr, key);
        if (!v) return std::unexpected(v.error());
        return FlowRate::from_ul_per_h(*v * factor);
    }

    Result<SettingField> setting(const json& obj, const std::string& ptr, const std::string& kind) const {
        auto f = field(obj, ptr, kind);
        if (!f) return std::unexpected(f.error());
        SettingField s;
        static_cast<Field&>(s) = *f;
        auto lo = number(obj, ptr, "min"), hi = number(obj, ptr, "max"), step = number(obj, ptr, "step", 1.0),
             def = number(obj, ptr, "default");
        for (auto* r : {&lo, &hi, &step, &def})
            if (!*r) return std::unexpected(r->error());
        if (*lo > *hi) return bad(ptr + "/max", "expected max >= min");
        if (!(*step > 0)) return bad(ptr + "/step", "expected a positive step");
        if (*def < *lo || *def > *hi) return bad(ptr + "/default", "expected a default within min..max");
        s.min_raw = *lo;
        s.max_raw = *hi;
        s.step_raw = *step;
        s.default_raw = *def;
        return s;
    }

    Result<MeterProfile> load(const json& root) const {
        MeterProfile p;
        p.source = source;
        if (!root.is_object()) return bad("", "expected a JSON object (a meter profile)");
        auto make = text(root, "", "make");
        if (!make) return std::unexpected(make.error());
        p.make = *make;
        auto period = integer(root, "", "measurement_period_ms", 1, 60000, 100);
        if (!period) return std::unexpected(period.error());
        p.measurement_period = Millis{*period};

        auto range = member(root, "", "range", true);
        if (!range) return std::unexpected(range.error());
        auto range_unit = text(**range, "/range", "unit");
        if (!range_unit) return std::unexpected(range_unit.error());
        auto rf = unit_factor("/range", *range_unit, "flow");
        if (!rf) return std::unexpected(rf.error());
        auto rmin = flow_value(**range, "/range", "min", *rf), rmax = flow_value(**range, "/range", "max", *rf);
        if (!rmin) return std::unexpected(rmin.error());
        if (!rmax) return std::unexpected(rmax.error());
        if (*rmin >= *rmax) return bad("/range/max", "expected max > min");
        p.range_min = *rmin;
        p.range_max = *rmax;

        auto acc = member(root, "", "accuracy", true);
        if (!acc) return std::unexpected(acc.error());
        auto acc_unit = text(**acc, "/accuracy", "unit");
        if (!acc_unit) return std::unexpected(acc_unit.error());
        auto af = unit_factor("/accuracy", *acc_unit, "flow");
        if (!af) return std::unexpected(af.error());
        auto pct = number(**acc, "/accuracy", "percent_of_reading");
        if (!pct) return std::unexpected(pct.error());
        auto off = flow_value(**acc, "/accuracy", "offset", *af);
        if (!off) return std::unexpected(off.error());
        auto res = number(**acc, "/accuracy", "resolution", 0.0);
        if (!res) return std::unexpected(res.error());
        if (*pct < 0 || off->ul_per_h < 0) return bad("/accuracy", "expected non-negative accuracy terms");
        p.accuracy_percent_of_reading = *pct;
        p.accuracy_offset = *off;
        p.resolution = FlowRate::from_ul_per_h(*res * *af);

        auto limits = member(root, "", "limits", false);
        if (!limits) return std::unexpected(limits.error());
        if (*limits) {
            auto r = integer(**limits, "/limits", "max_read_registers", 1, 125, 125);
            auto w = integer(**limits, "/limits", "max_write_registers", 1, 123, 123);
            if (!r) return std::unexpected(r.error());
            if (!w) return std::unexpected(w.error());
            p.max_read_registers = *r;
            p.max_write_registers = *w;
        }

        auto block = member(root, "", "block", true);
        if (!block) return std::unexpected(block.error());
        auto bf = integer(**block, "/block", "function", 3, 4);
        auto ba = integer(**block, "/block", "address", 0, 65535);
        auto bc = integer(**block, "/block", "count", 1, p.max_read_registers);
        for (auto* r : {&bf, &ba, &bc})
            if (!*r) return std::unexpected(r->error());
        p.block_function = *bf;
        p.block_address = *ba;
        p.block_count = *bc;

        auto q = member(root, "", "quantities", true);
        if (!q) return std::unexpected(q.error());
        const json& qs = **q;
        auto in_block = [&](const Field& f, const std::string& ptr) -> Result<void> {
            if (f.address < p.block_address || f.address + f.count() > p.block_address + p.block_count) {
                std::ostringstream os;
                os << "expected the field inside the block " << p.block_address << ".."
                   << p.block_address + p.block_count - 1 << ", got " << f.address << ".."
                   << f.address + f.count() - 1;
                return bad(ptr, os.str());
            }
            return {};
        };
        struct Want {
            const char* name;
            const char* kind;
            bool required;
        };
        for (Want w : {Want{"flow", "flow", true}, Want{"total", "volume", true}, Want{"status", "count", false},
                       Want{"temperature", "temperature", false}, Want{"sample", "count", false},
                       Want{"period", "time", false}}) {
            const std::string ptr = std::string("/quantities/") + w.name;
            auto m = member(qs, "/quantities", w.name, w.required);
            if (!m) return std::unexpected(m.error());
            if (!*m) continue;
            auto f = field(**m, ptr, w.kind);
            if (!f) return std::unexpected(f.error());
            if (auto ok = in_block(*f, ptr); !ok) return std::unexpected(ok.error());
            const std::string name = w.name;
            if ((name == "status" || name == "sample") && f->type != RegType::Uint16)
                return bad(ptr + "/type", "expected uint16 for " + name);
            if (name == "flow") p.flow = *f;
            else if (name == "total") {
                static_cast<Field&>(p.total) = *f;
                auto wraps = boolean(**m, ptr, "wraps", false);
                if (!wraps) return std::unexpected(wraps.error());
                if (*wraps && f->type == RegType::Float32)
                    return bad(ptr + "/wraps", "a float32 total cannot wrap: expected false");
                p.total.wraps = *wraps;
            } else if (name == "status") p.status = *f;
            else if (name == "temperature") p.temperature = *f;
            else if (name == "sample") p.sample = *f;
            else p.period = *f;
        }

        auto bits = member(root, "", "status_bits", p.status.has_value());
        if (!bits) return std::unexpected(bits.error());
        if (*bits) {
            for (auto [key, slot] : {std::pair{"valid", &p.status_bits.valid}, std::pair{"air", &p.status_bits.air},
                                     std::pair{"overrange", &p.status_bits.overrange},
                                     std::pair{"fault", &p.status_bits.fault}}) {
                auto has = member(**bits, "/status_bits", key, false);
                if (!has) return std::unexpected(has.error());
                if (!*has) continue;
                auto b = integer(**bits, "/status_bits", key, 0, 15);
                if (!b) return std::unexpected(b.error());
                *slot = *b;
            }
        }

        auto holding = member(root, "", "holding", false);
        if (!holding) return std::unexpected(holding.error());
        if (*holding) {
            const json& h = **holding;
            auto cmd = member(h, "/holding", "command", false);
            if (!cmd) return std::unexpected(cmd.error());
            if (*cmd) {
                auto f = field(**cmd, "/holding/command", "count");
                if (!f) return std::unexpected(f.error());
                CommandField c;
                static_cast<Field&>(c) = *f;
                auto reset = integer(**cmd, "/holding/command", "reset_total", 0, 65535);
                auto idle = integer(**cmd, "/holding/command", "idle", 0, 65535, 0);
                if (!reset) return std::unexpected(reset.error());
                if (!idle) return std::unexpected(idle.error());
                c.reset_total = static_cast<std::uint32_t>(*reset);
                c.idle = static_cast<std::uint32_t>(*idle);
                p.command = c;
            }
            for (auto [key, kind, slot] : {std::tuple{"filter_ms", "time", &p.filter},
                                           std::tuple{"zero_trim", "flow", &p.zero_trim}}) {
                auto m = member(h, "/holding", key, false);
                if (!m) return std::unexpected(m.error());
                if (!*m) continue;
                auto s = setting(**m, std::string("/holding/") + key, kind);
                if (!s) return std::unexpected(s.error());
                *slot = *s;
            }
        }

        auto id = member(root, "", "identification", true);
        if (!id) return std::unexpected(id.error());
        auto fn = integer(**id, "/identification", "function", 17, 17, 17);
        auto prefix = text(**id, "/identification", "prefix");
        auto sid = integer(**id, "/identification", "server_id", 0, 255, 0);
        auto run = integer(**id, "/identification", "run_indicator", 0, 255, 0xFF);
        if (!fn) return std::unexpected(fn.error());
        if (!prefix) return std::unexpected(prefix.error());
        if (!sid) return std::unexpected(sid.error());
        if (!run) return std::unexpected(run.error());
        p.identification = {*fn, *prefix, static_cast<std::uint8_t>(*sid), static_cast<std::uint8_t>(*run)};
        return p;
    }
};

}  // namespace

double Field::decode(std::span<const std::uint16_t> words) const {
    return raw_value(*this, combine(*this, words)) * scale * unit_factor;
}

void Field::encode(double value, std::span<std::uint16_t> words) const {
    double raw = value / unit_factor / scale;
    if (type != RegType::Float32) raw = std::nearbyint(raw);
    split(*this, raw_to_bits(*this, raw, false), words);
}

std::uint64_t Field::raw_bits(std::span<const std::uint16_t> words) const { return combine(*this, words); }

FlowRate MeterProfile::accuracy_at(FlowRate reading) const {
    return FlowRate::from_ul_per_h(std::abs(reading.ul_per_h) * accuracy_percent_of_reading / 100.0 +
                                   accuracy_offset.ul_per_h);
}

Result<MeterProfile> parse_meter_profile(const std::string& json_text, const std::string& source) {
    auto doc = read_json_text(json_text);
    if (!doc) return fail(ErrorKind::BadInput, describe(source, doc.error()));
    return Loader{source, *doc}.load(doc->root());
}

Result<MeterProfile> load_meter_profile(const std::string& path) {
    auto text = read_text_file(path);
    if (!text) return fail(ErrorKind::BadInput, text.error().kind == ErrorKind::Io ? path + ": cannot open the meter profile" : text.error().message);
    return parse_meter_profile(*text, path);
}

std::uint16_t status_word(const MeterProfile& p, bool valid, bool air, bool overrange, bool fault) {
    std::uint16_t w = 0;
    auto set = [&](const std::optional<int>& bit, bool on) {
        if (bit && on) w = static_cast<std::uint16_t>(w | (1u << *bit));
    };
    set(p.status_bits.valid, valid);
    set(p.status_bits.air, air);
    set(p.status_bits.overrange, overrange);
    set(p.status_bits.fault, fault);
    return w;
}

Result<MeterReading> decode_reading(const MeterProfile& p, std::span<const std::uint16_t> block) {
    if (static_cast<int>(block.size()) != p.block_count)
        return fail(ErrorKind::Protocol, p.make + " reading: expected " + std::to_string(p.block_count) +
                                             " registers, got " + std::to_string(block.size()));
    auto at = [&](const Field& f) { return block.subspan(static_cast<std::size_t>(f.address - p.block_address), static_cast<std::size_t>(f.count())); };
    MeterReading r;
    r.flow = FlowRate::from_ul_per_h(p.flow.decode(at(p.flow)));
    r.total = Volume::from_ul(p.total.decode(at(p.total)));
    if (p.total.type != RegType::Float32) r.total_raw = p.total.raw_bits(at(p.total));
    if (p.status) {
        r.status = at(*p.status)[0];
        auto bit = [&](const std::optional<int>& b) { return b && (r.status >> *b & 1u); };
        r.air = bit(p.status_bits.air);
        r.overrange = bit(p.status_bits.overrange);
        r.fault = bit(p.status_bits.fault);
        // Conservative: a meter without a VALID bit is valid only while no error bit is set.
        r.valid = p.status_bits.valid ? bit(p.status_bits.valid) : !(r.air || r.overrange || r.fault);
    }
    if (p.temperature) r.temperature_c = p.temperature->decode(at(*p.temperature));
    if (p.sample) r.sample = at(*p.sample)[0];
    r.period = p.period ? Millis{static_cast<Millis::rep>(std::llround(p.period->decode(at(*p.period))))}
                        : p.measurement_period;
    return r;
}

std::vector<std::uint16_t> encode_reading(const MeterProfile& p, const MeterReading& r) {
    std::vector<std::uint16_t> block(static_cast<std::size_t>(p.block_count), 0);
    auto at = [&](const Field& f) { return std::span(block).subspan(static_cast<std::size_t>(f.address - p.block_address), static_cast<std::size_t>(f.count())); };
    p.flow.encode(r.flow.ul_per_h, at(p.flow));
    {
        // Integer totals show whole raw steps reached (rounded down: the meter keeps the
        // fractions), modulo 2^bits when the total wraps.
        double raw = r.total.ul / p.total.unit_factor / p.total.scale;
        // The epsilon absorbs unit conversion rounding (250 nL must not show as 249).
        if (p.total.type != RegType::Float32) raw = std::floor(raw + 1e-9 + std::abs(raw) * 1e-12);
        split(p.total, raw_to_bits(p.total, raw, p.total.wraps), at(p.total));
    }
    if (p.status) at(*p.status)[0] = r.status;
    if (p.temperature) p.temperature->encode(r.temperature_c, at(*p.temperature));
    if (p.sample) at(*p.sample)[0] = r.sample;
    if (p.period) p.period->encode(static_cast<double>(r.period.count()), at(*p.period));
    return block;
}

}  // namespace pumprig::meter
