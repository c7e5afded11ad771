// JSON for the run record: checks, summaries, IEC curves and the recorded pump data, so a run
// can be stored and re-loaded (and re-judged). Times are Unix milliseconds (integers); a
// non-finite number is written as null (JSON has no infinity) and read back as +-infinity for
// limits and NaN for other values.
#pragma once
#include <nlohmann/json.hpp>

#include "verify/checks.hpp"
#include "verify/iec60601.hpp"
#include "verify/records.hpp"

namespace pumprig::verify {

void to_json(nlohmann::json& j, Verdict v);
void from_json(const nlohmann::json& j, Verdict& v);

void to_json(nlohmann::json& j, const CheckResult& r);
void from_json(const nlohmann::json& j, CheckResult& r);

void to_json(nlohmann::json& j, const RunSummary& s);
void from_json(const nlohmann::json& j, RunSummary& s);

void to_json(nlohmann::json& j, const FlowPoint& p);
void from_json(const nlohmann::json& j, FlowPoint& p);

void to_json(nlohmann::json& j, const TrumpetPoint& p);
void from_json(const nlohmann::json& j, TrumpetPoint& p);

void to_json(nlohmann::json& j, const IecAnalysis& a);
void from_json(const nlohmann::json& j, IecAnalysis& a);

void to_json(nlohmann::json& j, const PumpEventRecord& e);
void from_json(const nlohmann::json& j, PumpEventRecord& e);

void to_json(nlohmann::json& j, const PumpStatusRecord& s);
void from_json(const nlohmann::json& j, PumpStatusRecord& s);

void to_json(nlohmann::json& j, const CommandRecord& c);
void from_json(const nlohmann::json& j, CommandRecord& c);

}  // namespace pumprig::verify
