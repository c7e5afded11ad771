#include "record/folder.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "record/json.hpp"

namespace pumprig::record {

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

// The horizon is exclusive: what is stamped at it may still have been on its way.
template <class T, class Time>
void cut_after(std::vector<T>& items, BenchTime horizon, Time time_of) {
    std::erase_if(items, [&](const T& x) { return time_of(x) >= horizon; });
}

}  // namespace

Result<RunRecord> read_record(const std::filesystem::path& file) {
    bool exists = false;
    const std::string text = read_all(file, exists);
    if (!exists) return fail(ErrorKind::BadInput, "no run record " + file.string() + " (expected a run folder written by pumprig run)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        return fail(ErrorKind::BadInput, file.string() + ": not valid JSON: " + e.what());
    }
    return run_record_from_json(j, file.string());
}

Result<Sample> parse_sample_line(std::string_view line) {
    std::vector<std::string_view> f;
    std::size_t pos = 0;
    while (true) {
        const auto c = line.find(',', pos);
        f.push_back(line.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
        if (c == std::string_view::npos) break;
        pos = c + 1;
    }
    if (!line.empty() && line.back() == '\r') f.back().remove_suffix(1);
    if (f.size() != 8)
        return fail(ErrorKind::BadInput, "expected 8 fields (bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale), got " + std::to_string(f.size()));
    Sample s;
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

Result<Lines<Sample>> read_samples_csv(const std::filesystem::path& file) {
    bool exists = false;
    const std::string text = read_all(file, exists);
    if (!exists) return fail(ErrorKind::BadInput, "no samples file " + file.string());
    Lines<Sample> out;
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

Result<Lines<PumpEventRecord>> read_events(const std::filesystem::path& file) {
    return read_jsonl<PumpEventRecord>(file, [](const nlohmann::json& j) { return j.get<PumpEventRecord>(); });
}

Result<Lines<PumpStatusRecord>> read_statuses(const std::filesystem::path& file) {
    return read_jsonl<PumpStatusRecord>(file, [](const nlohmann::json& j) { return j.get<PumpStatusRecord>(); });
}

Result<Lines<CommandRecord>> read_commands(const std::filesystem::path& file, int schema_version) {
    return read_jsonl<CommandRecord>(file, [&](const nlohmann::json& j) { return command_from_json(j, schema_version); });
}

std::optional<BenchTime> read_horizon(const std::filesystem::path& dir) {
    bool exists = false;
    const std::string text = read_all(dir / "horizon.txt", exists);
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos) return std::nullopt;
    long long ms = 0;
    const auto end = text.find('\n', first);
    if (end == std::string::npos || !parse_num(std::string_view(text).substr(first, end - first), ms)) return std::nullopt;
    return BenchTime{Millis{ms}};
}

Result<RunFolder> read_run_folder(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir))
        return fail(ErrorKind::BadInput, "no run folder " + dir.string() + " (expected a folder written by pumprig run)");
    RunFolder f;
    f.dir = dir;
    auto record = read_record(dir / "record.json");
    if (!record) return std::unexpected(record.error());
    f.record = std::move(*record);
    auto samples = read_samples_csv(dir / "samples.csv");
    if (!samples) return std::unexpected(samples.error());
    auto events = read_events(dir / "events.jsonl");
    if (!events) return std::unexpected(events.error());
    auto statuses = read_statuses(dir / "statuses.jsonl");
    if (!statuses) return std::unexpected(statuses.error());
    auto commands = read_commands(dir / "commands.jsonl", f.record.schema_version);
    if (!commands) return std::unexpected(commands.error());
    for (const auto& [name, partial] : {std::pair{"samples.csv", samples->partial_last_line}, std::pair{"events.jsonl", events->partial_last_line},
                                        std::pair{"statuses.jsonl", statuses->partial_last_line},
                                        std::pair{"commands.jsonl", commands->partial_last_line}})
        if (partial) f.notes.push_back(std::string(name) + " ended inside a line (the run was cut short): that partial line was ignored.");
    f.samples = std::move(samples->items);
    f.events = std::move(events->items);
    f.statuses = std::move(statuses->items);
    f.commands = std::move(commands->items);

    // A run that ended wrote its horizon into the record; one cut short left it in horizon.txt
    // (schema 1). Before the first commit nothing is known to be complete: the start.
    f.horizon = f.record.horizon;
    if (!f.horizon && f.record.schema_version >= 1) f.horizon = read_horizon(dir).value_or(f.record.start);
    if (f.horizon && f.record.state != RunState::Complete) {
        const BenchTime h = *f.horizon;
        const auto before = f.samples.size() + f.events.size() + f.statuses.size() + f.commands.size();
        cut_after(f.samples, h, [](const Sample& s) { return s.t; });
        cut_after(f.events, h, [](const PumpEventRecord& e) { return e.bench_t; });
        cut_after(f.statuses, h, [](const PumpStatusRecord& s) { return s.bench_t; });
        cut_after(f.commands, h, [](const CommandRecord& c) { return c.bench_t; });
        for (auto& s : f.record.steps)
            if (s.at && *s.at >= h) s = StepRecord{s.index, s.action, s.label, {}, {}, {}};
        std::erase_if(f.record.gaps, [&](const Gap& g) { return g.from >= h; });
        const auto after = f.samples.size() + f.events.size() + f.statuses.size() + f.commands.size();
        f.notes.push_back("The files were read up to " + iso_time(h) + ", the instant up to which every one of them was complete (" +
                          std::to_string(before - after) + " later lines left out).");
    }
    return f;
}

}  // namespace pumprig::record
