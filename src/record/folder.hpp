// Reading a run folder back (the files RunRecorder writes), for `pumprig report` and
// `pumprig compare`. A run killed mid-write leaves a partial last line in each file: it is
// ignored and reported, never an error. A malformed line elsewhere is an error naming the file
// and the line. A run cut short is read up to its horizon, the bench time up to which every
// file is complete, so that no file is judged beyond another. Nothing here judges.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "record/data.hpp"
#include "record/run_record.hpp"

namespace pumprig::record {

template <class T>
struct Lines {
    std::vector<T> items;
    bool partial_last_line = false;  // the file ended inside a line (run cut short)
};

// record.json; BadInput naming the file when missing, not JSON, or not a run record.
Result<RunRecord> read_record(const std::filesystem::path& file);

// samples.csv (header bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale).
Result<Lines<Sample>> read_samples_csv(const std::filesystem::path& file);
// One CSV line (no newline) of samples.csv; BadInput saying what was expected.
Result<Sample> parse_sample_line(std::string_view line);

// events.jsonl, statuses.jsonl, commands.jsonl (of the record's schema version). A missing
// file reads as empty (a run that died before writing any).
Result<Lines<PumpEventRecord>> read_events(const std::filesystem::path& file);
Result<Lines<PumpStatusRecord>> read_statuses(const std::filesystem::path& file);
Result<Lines<CommandRecord>> read_commands(const std::filesystem::path& file, int schema_version);

// horizon.txt of a run folder; nullopt when absent or empty (a record of schema 0, or a run
// killed before its first commit).
std::optional<BenchTime> read_horizon(const std::filesystem::path& dir);

// A whole run folder: the record and its data, cut to the horizon when the run did not end.
struct RunFolder {
    std::filesystem::path dir;
    RunRecord record;
    std::vector<Sample> samples;
    std::vector<PumpEventRecord> events;
    std::vector<PumpStatusRecord> statuses;
    std::vector<CommandRecord> commands;
    std::optional<BenchTime> horizon;  // data after it was left out (unset: all data read)
    std::vector<std::string> notes;    // partial lines ignored, data cut at the horizon
};
Result<RunFolder> read_run_folder(const std::filesystem::path& dir);

}  // namespace pumprig::record
