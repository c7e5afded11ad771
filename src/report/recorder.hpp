// The run record, written as the run goes: one folder per run holding
//   record.json     identity, scenario and its hash, seed, times, outcome, every check
//   samples.csv     every meter reading
//   events.jsonl    every pump event line as received (duplicates included)
//   statuses.jsonl  every STATUS answer, with the bench time it was read
//   commands.jsonl  every scenario command and its answer
//   trace.log       time-stamped bytes of the pump link (AUTH mac redacted) and meter readings
// Files are flushed at least once a second of wall time, so a killed run loses at most that;
// record.json is replaced atomically (temporary file, then rename). HTML, JUnit and the
// console summary are views of this folder.
#pragma once
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/units.hpp"
#include "verify/records.hpp"
#include "verify/samples.hpp"

namespace pumprig::report {

class RunRecorder {
public:
    static Result<RunRecorder> create(const std::filesystem::path& dir);
    RunRecorder(RunRecorder&&) noexcept;
    RunRecorder& operator=(RunRecorder&&) noexcept;
    RunRecorder(const RunRecorder&) = delete;
    ~RunRecorder();

    const std::filesystem::path& dir() const { return dir_; }

    void sample(const verify::Sample& s);
    void event(const verify::PumpEventRecord& e);
    void status(const verify::PumpStatusRecord& s);
    void command(const verify::CommandRecord& c);
    // Wire trace: link is "pump" or "meter"; bytes are escaped (\r, \n, \xNN).
    void trace(BenchTime t, std::string_view link, bool to_device, std::string_view bytes);
    // record.json, replaced atomically.
    Result<void> write_record(const nlohmann::json& record);
    // Flushes every file if a second of wall time passed since the last flush (or if forced).
    void flush(bool force = false);

private:
    RunRecorder() = default;
    void close_all();
    std::filesystem::path dir_;
    std::FILE* samples_ = nullptr;
    std::FILE* events_ = nullptr;
    std::FILE* statuses_ = nullptr;
    std::FILE* commands_ = nullptr;
    std::FILE* trace_ = nullptr;
    std::chrono::steady_clock::time_point last_flush_{};
};

// ISO 8601 UTC with milliseconds: 2026-01-01T00:00:00.000Z.
std::string iso_time(BenchTime t);

// JSON forms of the recorded data, shared by the recorder and the readers.
nlohmann::json to_json(const verify::PumpEventRecord& e);
nlohmann::json to_json(const verify::PumpStatusRecord& s);
nlohmann::json to_json(const verify::CommandRecord& c);

}  // namespace pumprig::report
