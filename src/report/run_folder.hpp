// Reading a run folder back (the files RunRecorder writes), for `pumprig report` and
// `pumprig compare`. A run killed mid-write leaves a partial last line in each file: it is
// ignored and reported, never an error. A malformed line elsewhere is an error naming the file
// and the line. Nothing here judges: the run module turns this into a RecordedRun.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.hpp"
#include "verify/records.hpp"
#include "verify/samples.hpp"

namespace pumprig::report {

template <class T>
struct Lines {
    std::vector<T> items;
    bool partial_last_line = false;  // the file ended inside a line (run cut short)
};

// record.json; BadInput naming the file when missing or not JSON.
Result<nlohmann::json> read_record(const std::filesystem::path& file);

// samples.csv (header bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale).
Result<Lines<verify::Sample>> read_samples_csv(const std::filesystem::path& file);
// One CSV line (no newline) of samples.csv; BadInput saying what was expected.
Result<verify::Sample> parse_sample_line(std::string_view line);

// events.jsonl, statuses.jsonl, commands.jsonl. A missing file reads as empty (a run that died
// before writing any). Commands accept both the recorder's keys (step, expected) and
// verify/json.hpp's (step_label, expected_answer).
Result<Lines<verify::PumpEventRecord>> read_events(const std::filesystem::path& file);
Result<Lines<verify::PumpStatusRecord>> read_statuses(const std::filesystem::path& file);
Result<Lines<verify::CommandRecord>> read_commands(const std::filesystem::path& file);

// Parses an ISO 8601 UTC time as iso_time() writes it ("2026-01-01T08:00:00.000Z").
Result<BenchTime> parse_iso_time(std::string_view text);

// Writes text to a file atomically (temporary file, then rename).
Result<void> write_file_atomic(const std::filesystem::path& file, std::string_view text);

}  // namespace pumprig::report
