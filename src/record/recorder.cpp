#include "record/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <utility>

#include "record/json.hpp"

namespace pumprig::record {

Result<RunRecorder> RunRecorder::create(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorKind::Io, "cannot create the run folder " + dir.string() + ": " + ec.message());
    RunRecorder r;
    r.dir_ = dir;
    auto open = [&](const char* name, std::FILE*& f) -> bool {
        f = std::fopen((dir / name).c_str(), "we");  // close-on-exec: simulators started meanwhile (--jobs) never hold them
        // Full buffering: the files go out together at each commit (or when a buffer fills,
        // which the reader's horizon makes harmless).
        if (f) std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
        return f != nullptr;
    };
    if (!open("samples.csv", r.samples_) || !open("events.jsonl", r.events_) || !open("statuses.jsonl", r.statuses_) ||
        !open("commands.jsonl", r.commands_) || !open("trace.log", r.trace_))
        return fail(ErrorKind::Io, "cannot create the run files in " + dir.string());
    r.horizon_fd_ = ::open((dir / "horizon.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r.horizon_fd_ < 0) return fail(ErrorKind::Io, "cannot create " + (dir / "horizon.txt").string());
    std::fputs("bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale\n", r.samples_);
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
        horizon_fd_ = std::exchange(o.horizon_fd_, -1);
    }
    return *this;
}

RunRecorder::~RunRecorder() { close_all(); }

void RunRecorder::close_all() {
    for (std::FILE** f : {&samples_, &events_, &statuses_, &commands_, &trace_}) {
        if (*f) std::fclose(*f);
        *f = nullptr;
    }
    if (horizon_fd_ >= 0) ::close(horizon_fd_);
    horizon_fd_ = -1;
}

void RunRecorder::sample(const Sample& s) {
    std::fprintf(samples_, "%lld,%s,%.4f,%.3f,%u,%u,%d,%d\n", static_cast<long long>(s.t.time_since_epoch().count()), iso_time(s.t).c_str(),
                 s.total.ul, s.flow.ul_per_h, s.status, s.counter, s.valid ? 1 : 0, s.stale ? 1 : 0);
}

void RunRecorder::event(const PumpEventRecord& e) { std::fprintf(events_, "%s\n", nlohmann::json(e).dump().c_str()); }

void RunRecorder::status(const PumpStatusRecord& s) { std::fprintf(statuses_, "%s\n", nlohmann::json(s).dump().c_str()); }

void RunRecorder::command(const CommandRecord& c) { std::fprintf(commands_, "%s\n", nlohmann::json(c).dump().c_str()); }

namespace {

void write_trace_line(std::FILE* f, BenchTime t, std::string_view link, std::string_view mark, std::string_view bytes) {
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
    std::fprintf(f, "%s %s %s %s\n", iso_time(t).c_str(), std::string(link).c_str(), std::string(mark).c_str(), esc.c_str());
}

}  // namespace

void RunRecorder::trace(BenchTime t, std::string_view link, bool to_device, std::string_view bytes) {
    write_trace_line(trace_, t, link, to_device ? ">" : "<", bytes);
}

void RunRecorder::trace_note(BenchTime t, std::string_view link, std::string_view text) { write_trace_line(trace_, t, link, "#", text); }

void RunRecorder::commit(BenchTime horizon) {
    for (std::FILE* f : {samples_, events_, statuses_, commands_, trace_})
        if (f) std::fflush(f);
    // One write of fixed width at the start of the file: a kill cannot leave half of it.
    char line[32];
    const int n = std::snprintf(line, sizeof line, "%20lld\n", static_cast<long long>(horizon.time_since_epoch().count()));
    if (horizon_fd_ >= 0 && n > 0) (void)::pwrite(horizon_fd_, line, static_cast<std::size_t>(n), 0);
}

Result<void> RunRecorder::write_record(const RunRecord& record) { return write_record_file(dir_ / "record.json", record); }

Result<void> write_record_file(const std::filesystem::path& file, const RunRecord& record) {
    return write_file_atomic(file, to_json(record).dump(2) + "\n");
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

}  // namespace pumprig::record
