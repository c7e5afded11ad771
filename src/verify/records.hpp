// What the run engine records from the pump, as the checks read it: the record's types
// (record/data.hpp), named here for the checks.
#pragma once
#include "record/data.hpp"

namespace pumprig::verify {

using record::CommandRecord;
using record::PumpClockMapping;
using record::PumpEventRecord;
using record::PumpStatusRecord;

}  // namespace pumprig::verify
