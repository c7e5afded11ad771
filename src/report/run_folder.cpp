#include "report/run_folder.hpp"

#include <charconv>
#include <ctime>
#include <fstream>
#include <sstream>

#include "verify/json.hpp"

namespace pumprig::report {

namespace {

std::string read_all(const std::filesystem::path& file, bool& exists) {
    std::ifstream in(file, std::ios::binary);
    exists = static_cast<bool>(in);
    if (!in) return {};
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Complete lines of a file (each ended by '\n'); the tail after the last '\n' is a line cut
// short by a killed run.
std::vector<std::string_view> complete_lines(std::string_view text, bool& partial) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (true) {
        const auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) break;
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    partial = pos < text.size();
    return lines;
}

template <class T, class Parse>
Result<Lines<T>> read_jsonl(const std::filesystem::path& file, Parse parse) {
    bool exists = false;
    const std::string text = read_all(file, exists);
    Lines<T> out;
    if (!exists) return out;
    const auto lines = complete_lines(text, out.partial_last_line);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        try {
            out.items.push_back(parse(nlohmann::json::parse(lines[i])));
        } catch (const std::exception& e) {
            return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(i + 1) + ": expected one JSON record per line: " + e.what());
        }
    }
    return out;
}

template <class N>
bool parse_num(std::string_view s, N& v) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

Result<nlohmann::json> read_record(const std::filesystem::path& file) {
    bool exists = false;
    const std::string text = read_all(file, exists);
    if (!exists) return fail(ErrorKind::BadInput, "no run record " + file.string() + " (expected a run folder written by pumprig run)");
    try {
        auto j = nlohmann::json::parse(text);
        if (!j.is_object()) return fail(ErrorKind::BadInput, file.string() + ": expected a JSON object");
        return j;
    } catch (const std::exception& e) {
        return fail(ErrorKind::BadInput, file.string() + ": not valid JSON: " + e.what());
    }
}

Result<verify::Sample> parse_sample_line(std::string_view line) {
    std::vector<std::string_view> f;
    std::size_t pos = 0;
    while (true) {
        const auto c = line.find(',', pos);
        f.push_back(line.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
        if (c == std::string_view::npos) break;
        pos = c + 1;
    }
    if (!line.empty() && line.back() == '\r') f.back().remove_suffix(1);
    if (f.size() != 8) return fail(ErrorKind::BadInput, "expected 8 fields (bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale), got " + std::to_string(f.size()));
    verify::Sample s;
    long long ms = 0;
    double total = 0, flow = 0;
    unsigned status = 0, counter = 0;
    int valid = 0, stale = 0;
    if (!parse_num(f[0], ms)) return fail(ErrorKind::BadInput, "bench_ms: expected whole milliseconds, got \"" + std::string(f[0]) + "\"");
    if (!parse_num(f[2], total)) return fail(ErrorKind::BadInput, "total_ul: expected a number, got \"" + std::string(f[2]) + "\"");
    if (!parse_num(f[3], flow)) return fail(ErrorKind::BadInput, "flow_ul_h: expected a number, got \"" + std::string(f[3]) + "\"");
    if (!parse_num(f[4], status) || status > 0xFFFF) return fail(ErrorKind::BadInput, "status: expected 0..65535, got \"" + std::string(f[4]) + "\"");
    if (!parse_num(f[5], counter) || counter > 0xFFFF) return fail(ErrorKind::BadInput, "sample: expected 0..65535, got \"" + std::string(f[5]) + "\"");
    if (!parse_num(f[6], valid) || valid < 0 || valid > 1) return fail(ErrorKind::BadInput, "valid: expected 0 or 1, got \"" + std::string(f[6]) + "\"");
    if (!parse_num(f[7], stale) || stale < 0 || stale > 1) return fail(ErrorKind::BadInput, "stale: expected 0 or 1, got \"" + std::string(f[7]) + "\"");
    s.t = BenchTime{Millis{ms}};
    s.total = Volume{total};
    s.flow = FlowRate{flow};
    s.status = static_cast<std::uint16_t>(status);
    s.counter = static_cast<std::uint16_t>(counter);
    s.valid = valid == 1;
    s.stale = stale == 1;
    return s;
}

Result<Lines<verify::Sample>> read_samples_csv(const std::filesystem::path& file) {
    bool exists = false;
    const std::string text = read_all(file, exists);
    if (!exists) return fail(ErrorKind::BadInput, "no samples file " + file.string());
    Lines<verify::Sample> out;
    const auto lines = complete_lines(text, out.partial_last_line);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i == 0 && lines[i].starts_with("bench_ms,")) continue;
        if (lines[i].empty()) continue;
        auto s = parse_sample_line(lines[i]);
        if (!s) return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(i + 1) + ": " + s.error().message);
        out.items.push_back(*s);
    }
    return out;
}

Result<Lines<verify::PumpEventRecord>> read_events(const std::filesystem::path& file) {
    return read_jsonl<verify::PumpEventRecord>(file, [](const nlohmann::json& j) { return j.get<verify::PumpEventRecord>(); });
}

Result<Lines<verify::PumpStatusRecord>> read_statuses(const std::filesystem::path& file) {
    return read_jsonl<verify::PumpStatusRecord>(file, [](const nlohmann::json& j) { return j.get<verify::PumpStatusRecord>(); });
}

Result<Lines<verify::CommandRecord>> read_commands(const std::filesystem::path& file) {
    return read_jsonl<verify::CommandRecord>(file, [](const nlohmann::json& j) {
        verify::CommandRecord c;
        c.bench_t = BenchTime{Millis{j.at("bench_ms").get<long long>()}};
        c.step_label = j.contains("step") ? j.at("step").get<std::string>() : j.value("step_label", "");
        c.verb = j.at("verb").get<std::string>();
        c.expected_answer = j.contains("expected") ? j.at("expected").get<std::string>() : j.value("expected_answer", "");
        c.answer = j.value("answer", "");
        return c;
    });
}

Result<BenchTime> parse_iso_time(std::string_view text) {
    std::tm tm{};
    int ms = 0;
    const std::string s(text);
    char z = 0;
    const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                              &tm.tm_sec, &ms, &z);
    if (n < 6) return fail(ErrorKind::BadInput, "expected an ISO 8601 UTC time like 2026-01-01T08:00:00.000Z, got \"" + s + "\"");
    if (n < 7) ms = 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t secs = timegm(&tm);
    return BenchTime{Millis{static_cast<long long>(secs) * 1000 + ms}};
}

Result<void> write_file_atomic(const std::filesystem::path& file, std::string_view text) {
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << text;
        out.flush();
        if (!out) return fail(ErrorKind::Io, "cannot write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) return fail(ErrorKind::Io, "cannot replace " + file.string() + ": " + ec.message());
    return {};
}

}  // namespace pumprig::report
