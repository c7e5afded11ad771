#include "record/data.hpp"

#include <algorithm>
#include <cmath>

namespace pumprig::record {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<Millis> max_sample_gap(std::span<const Sample> samples) {
    std::optional<Millis> widest;
    for (std::size_t i = 1; i < samples.size(); ++i) {
        const Millis gap = samples[i].t - samples[i - 1].t;
        if (!widest || gap > *widest) widest = gap;
    }
    return widest;
}

const char* to_string(Answer::Kind kind) {
    switch (kind) {
        case Answer::Kind::Ok: return "OK";
        case Answer::Kind::Error: return "ERR";
        case Answer::Kind::None: return "NONE";
    }
    return "NONE";
}

Answer Answer::from_code(std::string_view code) {
    if (code == "OK") return ok();
    if (code == "NO_ANSWER" || code.empty()) return none();
    return error(std::string(code));
}

std::string Answer::code_or_ok() const {
    switch (kind) {
        case Kind::Ok: return "OK";
        case Kind::Error: return code;
        case Kind::None: return "NO_ANSWER";
    }
    return "NO_ANSWER";
}

std::string Answer::text() const {
    if (kind == Kind::None) return "no answer";
    std::string s = kind == Kind::Ok ? "OK" : "ERR,code=" + code;
    for (const auto& [k, v] : values) s += "," + k + (v.empty() ? "" : "=" + v);
    return s;
}

Answer Answer::parse(std::string_view text) {
    std::vector<std::string_view> fields;
    for (std::size_t from = 0;;) {
        const auto comma = text.find(',', from);
        fields.push_back(text.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
        if (comma == std::string_view::npos) break;
        from = comma + 1;
    }
    if (fields.size() > 1 && all_digits(fields.front())) fields.erase(fields.begin());
    Answer a;
    if (fields.front() == "OK") a.kind = Kind::Ok;
    else if (fields.front() == "ERR") a.kind = Kind::Error;
    else return none();
    for (std::size_t i = 1; i < fields.size(); ++i) {
        const auto eq = fields[i].find('=');
        const std::string key(fields[i].substr(0, eq));
        const std::string value(eq == std::string_view::npos ? std::string_view() : fields[i].substr(eq + 1));
        if (a.kind == Kind::Error && key == "code" && a.code.empty()) a.code = value;
        else a.values.emplace(key, value);
    }
    if (a.kind == Kind::Error && a.code == "NO_ANSWER") return none();
    return a;
}

namespace {
BenchTime pump_ms_to_bench(double pump_t, Millis offset) {
    // Round to the millisecond: the pump prints its clock with 3 decimals.
    const auto ms = static_cast<Millis::rep>(std::llround(pump_t * 1000.0));
    return BenchTime{Millis{ms}} + offset;
}
}  // namespace

BenchTime PumpClockMapping::to_bench(double pump_t, BenchTime received) const {
    // The settings as (from, offset), oldest first; the last one is the fields' own.
    const auto from_of = [&](std::size_t k) { return k < earlier.size() ? earlier[k].set_at : set_at.value_or(BenchTime{}); };
    const auto offset_of = [&](std::size_t k) { return k < earlier.size() ? earlier[k].pump_to_bench_offset : pump_to_bench_offset; };
    std::size_t k = earlier.size();
    while (k > 0 && received < from_of(k)) --k;
    const BenchTime t = pump_ms_to_bench(pump_t, offset_of(k));
    if (k > 0 && (t < from_of(k) - read_latency || t > received + read_latency)) {
        const BenchTime before = pump_ms_to_bench(pump_t, offset_of(k - 1));
        if (before >= from_of(k - 1) - read_latency && before <= received + read_latency) return before;
    }
    return t;
}

Millis PumpClockMapping::uncertainty_at(BenchTime t) const {
    std::optional<BenchTime> since = set_at;
    if (set_at && t < *set_at)
        for (auto e = earlier.rbegin(); e != earlier.rend(); ++e)
            if (since = e->set_at; t >= e->set_at) break;
    if (!since) return read_latency;
    const double since_ms = std::fabs(static_cast<double>((t - *since).count()));
    return read_latency + Millis{static_cast<Millis::rep>(std::ceil(since_ms * drift_ppm * 1e-6))};
}

const char* to_string(Verdict v) {
    switch (v) {
        case Verdict::Pass: return "PASS";
        case Verdict::Fail: return "FAIL";
        case Verdict::Inconclusive: return "INCONCLUSIVE";
    }
    return "INCONCLUSIVE";
}

std::optional<Verdict> verdict_from_string(std::string_view text) {
    if (text == "PASS") return Verdict::Pass;
    if (text == "FAIL") return Verdict::Fail;
    if (text == "INCONCLUSIVE") return Verdict::Inconclusive;
    return std::nullopt;
}

RunSummary summarise(std::span<const CheckResult> results) {
    RunSummary s;
    for (const auto& r : results) {
        switch (r.verdict) {
            case Verdict::Pass: ++s.pass; break;
            case Verdict::Fail: ++s.fail; break;
            case Verdict::Inconclusive: ++s.inconclusive; break;
        }
    }
    if (s.fail > 0) s.overall = Verdict::Fail;
    else if (s.inconclusive > 0 || s.pass == 0) s.overall = Verdict::Inconclusive;
    else s.overall = Verdict::Pass;
    return s;
}

}  // namespace pumprig::record
