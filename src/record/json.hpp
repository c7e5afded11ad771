// The one JSON form of the run record: record.json (RunRecord) and the lines of events.jsonl,
// statuses.jsonl and commands.jsonl. Times are Unix milliseconds (integers, keys ending in
// _ms) or ISO 8601 UTC text; a non-finite number is written as null (JSON has no infinity) and
// read back as +-infinity for limits and NaN for other values. docs/record.md.
#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.hpp"
#include "record/run_record.hpp"

namespace pumprig::record {

void to_json(nlohmann::json& j, Verdict v);
void from_json(const nlohmann::json& j, Verdict& v);
void to_json(nlohmann::json& j, Outcome o);
void from_json(const nlohmann::json& j, Outcome& o);

void to_json(nlohmann::json& j, const CheckResult& r);
void from_json(const nlohmann::json& j, CheckResult& r);

void to_json(nlohmann::json& j, const RunSummary& s);
void from_json(const nlohmann::json& j, RunSummary& s);

void to_json(nlohmann::json& j, const PumpEventRecord& e);
void from_json(const nlohmann::json& j, PumpEventRecord& e);

void to_json(nlohmann::json& j, const PumpStatusRecord& s);
void from_json(const nlohmann::json& j, PumpStatusRecord& s);

// An answer is {"kind": "OK"|"ERR"|"NONE", "code": ..., "values": {...}}.
void to_json(nlohmann::json& j, const Answer& a);
void from_json(const nlohmann::json& j, Answer& a);

void to_json(nlohmann::json& j, const CommandRecord& c);
// A commands.jsonl line of the given schema version: version 0 (pumprig 0.1.0) wrote answers
// as ICD text and the step under "step" or "step_label", the expectation under "expected" or
// "expected_answer".
CommandRecord command_from_json(const nlohmann::json& j, int schema_version);

nlohmann::json to_json(const RunRecord& r);
// record.json of any schema version up to kSchemaVersion; BadInput naming `where` (the file)
// and what was wrong. Version 0 records lack the version, the horizon and the first offset.
Result<RunRecord> run_record_from_json(const nlohmann::json& j, std::string_view where);

// The record's number and time forms, for other JSON of pumprig (verify/json.hpp): a
// non-finite number is written as null, and null (or absence) is read back as `missing`.
nlohmann::json json_number(double v);
double json_number_from(const nlohmann::json& j, const char* key, double missing);
nlohmann::json json_time_ms(BenchTime t);
BenchTime json_time_from(const nlohmann::json& j, const char* key);

// ISO 8601 UTC with milliseconds: 2026-01-01T00:00:00.000Z, and back.
std::string iso_time(BenchTime t);
Result<BenchTime> parse_iso_time(std::string_view text);

}  // namespace pumprig::record
