// JSON of the IEC 60601-2-24 analysis (curves and their checks), for tools that store it. The
// run record's own JSON (checks, verdicts, recorded pump data) is record/json.hpp's. A
// non-finite number is written as null and read back as NaN.
#pragma once
#include <nlohmann/json.hpp>

#include "record/json.hpp"
#include "verify/iec60601.hpp"

namespace pumprig::verify {

void to_json(nlohmann::json& j, const FlowPoint& p);
void from_json(const nlohmann::json& j, FlowPoint& p);

void to_json(nlohmann::json& j, const TrumpetPoint& p);
void from_json(const nlohmann::json& j, TrumpetPoint& p);

void to_json(nlohmann::json& j, const IecAnalysis& a);
void from_json(const nlohmann::json& j, IecAnalysis& a);

}  // namespace pumprig::verify
