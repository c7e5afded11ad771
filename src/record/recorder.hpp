// The run record, written as the run goes: one folder per run holding
//   record.json     the run header, steps, clock mapping, gaps, outcome, every check (RunRecord)
//   samples.csv     every meter reading
//   events.jsonl    every pump event line as received (duplicates included)
//   statuses.jsonl  every STATUS answer, with the bench time it was read
//   commands.jsonl  every scenario command and its answer
//   trace.log       time-stamped bytes of the pump link (AUTH mac redacted), and pumprig's notes
//   horizon.txt     the bench time before which every file above is complete
// What belongs together is flushed together: commit(horizon) writes every file out, then the
// horizon, so a run killed at any instant leaves files that agree up to the last horizon
// (data after it may be there in part, and is ignored by the reader). record.json is replaced
// atomically (temporary file, then rename). HTML, JUnit and the console summary are views of
// this folder. docs/record.md.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "core/error.hpp"
#include "core/units.hpp"
#include "record/data.hpp"
#include "record/run_record.hpp"

namespace pumprig::record {

class RunRecorder {
public:
    static Result<RunRecorder> create(const std::filesystem::path& dir);
    RunRecorder(RunRecorder&&) noexcept;
    RunRecorder& operator=(RunRecorder&&) noexcept;
    RunRecorder(const RunRecorder&) = delete;
    ~RunRecorder();

    const std::filesystem::path& dir() const { return dir_; }

    void sample(const Sample& s);
    void event(const PumpEventRecord& e);
    void status(const PumpStatusRecord& s);
    void command(const CommandRecord& c);
    // Wire trace: link is "pump" or "meter"; bytes are escaped (\r, \n, \xNN). A line of
    // "TIME LINK > BYTES" (to the device) or "TIME LINK < BYTES" (from it) holds only bytes that
    // crossed the link; pumprig's own notes are "TIME LINK # TEXT" (trace_note, docs/record.md).
    void trace(BenchTime t, std::string_view link, bool to_device, std::string_view bytes);
    void trace_note(BenchTime t, std::string_view link, std::string_view text);
    // Everything recorded so far is written out, then horizon.txt says the files are complete
    // before `horizon` (nothing recorded later may carry an earlier bench time).
    void commit(BenchTime horizon);
    // record.json, replaced atomically.
    Result<void> write_record(const RunRecord& record);

private:
    RunRecorder() = default;
    void close_all();
    std::filesystem::path dir_;
    std::FILE* samples_ = nullptr;
    std::FILE* events_ = nullptr;
    std::FILE* statuses_ = nullptr;
    std::FILE* commands_ = nullptr;
    std::FILE* trace_ = nullptr;
    int horizon_fd_ = -1;
};

// A run record written atomically to `file` (record.json, record.rebuilt.json).
Result<void> write_record_file(const std::filesystem::path& file, const RunRecord& record);

// Writes text to a file atomically (temporary file, then rename).
Result<void> write_file_atomic(const std::filesystem::path& file, std::string_view text);

}  // namespace pumprig::record
