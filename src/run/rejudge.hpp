// From a run folder back to judged results and every report: `pumprig report` (re-judge, maybe
// with another tolerance) and `pumprig run` (the views of a fresh record) both come here. The
// raw files are the truth (samples.csv, events/statuses/commands.jsonl, scenario.json as run);
// record.json is never modified: a re-judged record is written beside it as
// record.rebuilt.json. Works for runs that were cut short: the files are read up to the
// horizon every one of them reached (record/folder.hpp), with the steps and the pump clock
// mapping as record.json had them; a record of pumprig 0.1.0 left RUNNING (no step times) is
// rebuilt from the command log and the statuses. Either is marked INCOMPLETE.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "record/run_record.hpp"
#include "report/html_report.hpp"
#include "report/junit.hpp"
#include "run/engine.hpp"
#include "scenario/scenario.hpp"
#include "verify/iec60601.hpp"

namespace pumprig::run {

struct LoadedRun {
    std::filesystem::path dir;
    record::RunRecord record;       // record.json as found (steps and gaps cut to the horizon)
    scenario::Scenario scenario;    // parsed from the folder's scenario.json
    RecordedRun data;
    bool complete = false;          // record state COMPLETE
    std::vector<std::string> notes; // what had to be reconstructed or ignored
};

// fixtures_dir holds pumps/<profile>.json (as for pumprig run). BadInput naming the file for a
// folder that is not a run folder, a scenario that no longer parses, or a malformed line.
Result<LoadedRun> load_run(const std::filesystem::path& dir, const std::filesystem::path& fixtures_dir);

// Replaces the delivery accuracy (percent of programmed volume) everywhere the scenario uses
// one: the pump profile's figure, every volume/rate/bolus tolerance and a declared IEC mean
// error limit. Trumpet limits and absolute tolerances stay as declared.
void override_tolerance(scenario::Scenario& scenario, double percent);

// The IEC 60601-2-24 analyses of the scenario's accuracy checks, with the same parameters
// judge() uses, for the plots (judge() returns only their checks).
std::vector<verify::IecAnalysis> iec_analyses(const scenario::Scenario& scenario, const RecordedRun& run);

struct ReportOptions {
    bool rejudge = true;                  // false: take the checks from a COMPLETE record
    std::optional<double> tolerance_pct;  // re-judge with this delivery accuracy
    std::filesystem::path fixtures_dir;
};

struct BuiltReports {
    std::filesystem::path html;            // <dir>/report.html
    std::filesystem::path junit;           // <dir>/junit.xml
    std::filesystem::path rebuilt_record;  // <dir>/record.rebuilt.json (only when re-judged)
    std::string outcome;                   // PASS FAIL INCONCLUSIVE ERROR ABORTED
    bool incomplete = false;
    std::vector<verify::CheckResult> checks;
    report::JUnitSuite junit_suite;        // for a suite-wide junit file
    report::SuiteEntry suite_entry;        // report_href is "<dir name>/report.html"
};

// Loads the folder, judges (or takes the record's checks) and writes report.html and
// junit.xml (and record.rebuilt.json when re-judged) into it.
Result<BuiltReports> build_reports(const std::filesystem::path& dir, const ReportOptions& options);

}  // namespace pumprig::run
