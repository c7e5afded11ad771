// The results history as the end-of-line tests read it back.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "history/results_store.hpp"

namespace pumprig::test {

// The runs `history` holds for `serial`, each checked to have spent no retest, with the unit's
// count of tested runs 0: a bench ERROR or an ABORTED run says nothing about the unit (issue 15).
inline std::vector<history::RunRecord> untested_runs(const std::string& history, const std::string& serial, bool with_measurements) {
    auto store = history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_for(serial, with_measurements);
    REQUIRE(runs);
    for (const auto& run : *runs) CHECK_FALSE(run.tested);
    CHECK(*(*store)->tested_runs(serial) == 0);
    return *runs;
}

}  // namespace pumprig::test
