// End-of-line policy (docs/eol.md): what makes a unit PASS or FAIL on a production station, apart
// from the command line that drives it (src/cli/cmd_eol.cpp). A unit is tested at most once plus
// the retests allowed; the pump must report the serial the operator gave; a FAIL is reported
// before an INCONCLUSIVE; a bench problem is ERROR (or ABORTED), never a tested FAIL, and spends
// no retest; every check becomes a measurement of the results history.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "history/results_store.hpp"
#include "run/engine.hpp"
#include "verify/checks.hpp"

namespace pumprig::eol {

// A serial as a scanner types it: printable ASCII without spaces, at most 64 characters. The
// pump ICD gives no format for sn=, so nothing stricter is assumed.
bool plausible_serial(const std::string& s);
std::string trim(std::string s);
std::string one_line(std::string s);  // newlines and tabs as spaces: one line of output

// One unit under test (one per channel of the bench) and what happened to it so far.
struct Unit {
    std::size_t index = 0;
    std::string channel;   // empty on a single-channel bench
    std::string serial;    // as the operator gave it
    bool present = true;   // false: the channel was given as empty ("-")
    history::RunRecord record;
    std::vector<std::string> dirs;                                     // run folders
    std::vector<std::string> manifests;  // digest of each folder's MANIFEST.sha256 ("" if not written)
    std::vector<std::pair<std::string, verify::CheckResult>> checks;  // scenario, check
    std::optional<std::string> station_error;  // the bench failed, or the run was stopped
    bool aborted = false;
    std::optional<std::pair<std::string, std::string>> failed_early;  // what, reason (serial mismatch, retest limit)

    // Nothing more is run for a unit that is absent, failed early or met a bench problem.
    bool finished() const { return !present || station_error || failed_early; }
};

// One unit per channel of the bench (`channels`: the channels' names, a single empty name on a
// bench of one channel).
std::vector<Unit> units_for(const std::vector<std::string>& channels);

// The --serial values given: SERIAL on a bench of one channel; CHANNEL=SERIAL on a bench of
// several, CHANNEL=- for an empty channel. BadInput saying what was expected (`rig`: the rig
// file, for the message).
Result<void> assign_serials(std::vector<Unit>& units, const std::vector<std::string>& given, const std::string& rig);

// Every serial as the unit will be tested under: trimmed, plausible, on one channel only, and
// at least one unit present. BadInput saying what was expected.
Result<void> check_serials(std::vector<Unit>& units);

// The retest limit: `tested_runs` tested runs are in the history (`where`); at most one test and
// `max_retests` retests. A unit over it fails at once ("retest-limit") and gets no history row.
void apply_retest_limit(Unit& unit, int tested_runs, int max_retests, const std::string& where);

// The serial check, on the pump's own HELLO answer: true when the pump reports the unit's serial
// (the unit is then being tested), false on a mismatch ("serial-mismatch", a FAIL that spends
// no retest: the wrong unit or a mistyped serial).
bool check_serial(Unit& unit, const std::string& reported_serial, const std::string& model, const std::string& firmware);
// The pump did not answer HELLO: a station problem.
void identification_failed(Unit& unit, const std::string& why);

// One scenario's run of the unit: its folder and checks kept; a run that ended ERROR or
// ABORTED is a station problem of the unit, which runs nothing more.
// `manifest`: the digest of the run folder's MANIFEST.sha256 (run::ScenarioRun::manifest).
void add_run(Unit& unit, const std::string& scenario, const run::RunResult& result, const std::string& manifest = {});
// A stop (signal) before `next_scenario` ended the test of a unit still going.
void stopped_before(Unit& unit, const std::string& next_scenario);

struct Conclusion {
    std::string verdict;     // PASS FAIL ERROR ABORTED
    std::string what;        // the first check not passed, or serial-mismatch, retest-limit, no-checks, bench, run
    std::string reason;      // PASS: "<scenarios> N/N checks"; otherwise why, in one line
    int exit_code = 0;       // run::kExit*
    bool tested = false;     // counts towards the retest limit: a PASS or FAIL of a unit that was tested
    bool recorded = true;    // written to the history (not when the retest limit refused the unit)
};

// The verdict of a unit whose scenarios are done.
Conclusion conclude(const Unit& unit);

// The one line a unit's test ends with: "PASS SN0001 eol-basic 20/20 checks" or
// "FAIL SN0001 <what>: <reason>".
std::string final_line(const Unit& unit, const Conclusion& conclusion);

// Every check as a measurement of the results history (non-finite numbers left empty).
std::vector<history::Measurement> measurements(const std::vector<std::pair<std::string, verify::CheckResult>>& checks);

// The history row of a concluded unit.
history::RunRecord history_record(const Unit& unit, const Conclusion& conclusion, const std::string& ended_at);

}  // namespace pumprig::eol
