#include "report/recorder.hpp"

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <utility>

namespace pumprig::report {

std::string iso_time(BenchTime t) {
    const auto ms = t.time_since_epoch().count();
    std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const long long frac = ((ms % 1000) + 1000) % 1000;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

nlohmann::json to_json(const verify::PumpEventRecord& e) {
    return {{"bench_ms", e.bench_t.time_since_epoch().count()}, {"pump_t", e.pump_t}, {"n", e.n},
            {"type", e.type}, {"values", e.values}};
}

nlohmann::json to_json(const verify::PumpStatusRecord& s) {
    return {{"bench_ms", s.bench_t.time_since_epoch().count()}, {"pump_t", s.pump_t}, {"state", s.state},
            {"res_ml", s.res_ml}, {"conc_ug_ml", s.conc_ug_ml}, {"rate_ml_day", s.rate_ml_day},
            {"deliv_ml", s.deliv_ml}, {"step", s.step}, {"batt_pct", s.batt_pct}, {"alarms", s.alarms},
            {"bolus", s.bolus}};
}

nlohmann::json to_json(const verify::CommandRecord& c) {
    return {{"bench_ms", c.bench_t.time_since_epoch().count()}, {"step", c.step_label}, {"verb", c.verb},
            {"expected", c.expected_answer}, {"answer", c.answer}};
}

Result<RunRecorder> RunRecorder::create(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorKind::Io, "cannot create the run folder " + dir.string() + ": " + ec.message());
    RunRecorder r;
    r.dir_ = dir;
    auto open = [&](const char* name, std::FILE*& f) -> bool {
        f = std::fopen((dir / name).c_str(), "w");
        return f != nullptr;
    };
    if (!open("samples.csv", r.samples_) || !open("events.jsonl", r.events_) || !open("statuses.jsonl", r.statuses_) ||
        !open("commands.jsonl", r.commands_) || !open("trace.log", r.trace_))
        return fail(ErrorKind::Io, "cannot create the run files in " + dir.string());
    std::fputs("bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale\n", r.samples_);
    r.flush(true);
    return r;
}

RunRecorder::RunRecorder(RunRecorder&& o) noexcept { *this = std::move(o); }

RunRecorder& RunRecorder::operator=(RunRecorder&& o) noexcept {
    if (this != &o) {
        close_all();
        dir_ = std::move(o.dir_);
        samples_ = std::exchange(o.samples_, nullptr);
        events_ = std::exchange(o.events_, nullptr);
        statuses_ = std::exchange(o.statuses_, nullptr);
        commands_ = std::exchange(o.commands_, nullptr);
        trace_ = std::exchange(o.trace_, nullptr);
        last_flush_ = o.last_flush_;
    }
    return *this;
}

RunRecorder::~RunRecorder() { close_all(); }

void RunRecorder::close_all() {
    for (std::FILE** f : {&samples_, &events_, &statuses_, &commands_, &trace_}) {
        if (*f) std::fclose(*f);
        *f = nullptr;
    }
}

void RunRecorder::sample(const verify::Sample& s) {
    std::fprintf(samples_, "%lld,%s,%.4f,%.3f,%u,%u,%d,%d\n", static_cast<long long>(s.t.time_since_epoch().count()),
                 iso_time(s.t).c_str(), s.total.ul, s.flow.ul_per_h, s.status, s.counter, s.valid ? 1 : 0, s.stale ? 1 : 0);
    flush();
}

void RunRecorder::event(const verify::PumpEventRecord& e) {
    std::fprintf(events_, "%s\n", to_json(e).dump().c_str());
    flush();
}

void RunRecorder::status(const verify::PumpStatusRecord& s) {
    std::fprintf(statuses_, "%s\n", to_json(s).dump().c_str());
    flush();
}

void RunRecorder::command(const verify::CommandRecord& c) {
    std::fprintf(commands_, "%s\n", to_json(c).dump().c_str());
    flush();
}

void RunRecorder::trace(BenchTime t, std::string_view link, bool to_device, std::string_view bytes) {
    std::string esc;
    for (unsigned char c : bytes) {
        if (c == '\r') esc += "\\r";
        else if (c == '\n') esc += "\\n";
        else if (c == '\\') esc += "\\\\";
        else if (c < 0x20 || c > 0x7E) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            esc += b;
        } else esc += static_cast<char>(c);
    }
    std::fprintf(trace_, "%s %s %s %s\n", iso_time(t).c_str(), std::string(link).c_str(), to_device ? ">" : "<", esc.c_str());
    flush();
}

void RunRecorder::flush(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_flush_ < std::chrono::seconds(1)) return;
    last_flush_ = now;
    for (std::FILE* f : {samples_, events_, statuses_, commands_, trace_})
        if (f) std::fflush(f);
}

Result<void> RunRecorder::write_record(const nlohmann::json& record) {
    const auto tmp = dir_ / "record.json.tmp";
    {
        std::ofstream out(tmp);
        out << record.dump(2) << "\n";
        out.flush();
        if (!out) return fail(ErrorKind::Io, "cannot write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, dir_ / "record.json", ec);
    if (ec) return fail(ErrorKind::Io, "cannot replace " + (dir_ / "record.json").string() + ": " + ec.message());
    return {};
}

}  // namespace pumprig::report
