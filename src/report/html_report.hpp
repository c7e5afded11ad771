// The HTML views of a run record: one self-contained page per run (inline CSS and SVG, no
// script, no network; prints on paper), the suite page of a multi-scenario run, and the side
// by side comparison of two runs. Pure: everything comes in as data (RunView), nothing is read
// from disk here. Every text that came from a device or a scenario is escaped (markup.hpp).
#pragma once
#include <string>
#include <vector>

#include "core/units.hpp"
#include "record/run_record.hpp"
#include "verify/checks.hpp"
#include "verify/iec60601.hpp"
#include "verify/records.hpp"
#include "verify/samples.hpp"

namespace pumprig::report {

// What a run report is drawn from: the record (identity, rig, scenario, times, outcome), the
// checks, and the raw data for the plots.
struct RunView {
    record::RunRecord record;                       // record.json (or the rebuilt one)
    std::vector<verify::CheckResult> checks;
    std::string outcome;                            // PASS FAIL INCONCLUSIVE ERROR ABORTED
    bool incomplete = false;                        // the record was not COMPLETE
    std::vector<std::string> notes;                 // how the report was made (re-judged, cut short, ...)
    BenchTime start{};                              // time axes are hours from here
    BenchTime end{};
    std::vector<verify::Sample> samples;
    std::vector<verify::PumpEventRecord> events;    // deduplicated; drawn at their bench time
    std::vector<verify::ExpectedSegment> expected;  // the programmed delivery
    Millis line_tau{0};                             // the expected meter total lags by the line
    verify::AccuracySpec accuracy{};                // for the cumulative volume's band
    std::vector<verify::IecAnalysis> iec;           // one per accuracy check
};

// The page, and its plots on their own (for tests and for other pages).
std::string render_run_html(const RunView& view);
std::string render_flow_plot(const RunView& view);
std::string render_volume_plot(const RunView& view);
std::string render_startup_plot(const verify::IecAnalysis& analysis);
std::string render_trumpet_plot(const verify::IecAnalysis& analysis);

// The interval of the flow plot's moving mean: the largest of 10 s, 30 s, 1, 2, 5, 10, 15,
// 30 min and 1 h not longer than 1/100 of the run (10 s for short runs), so an hour reads at
// 30 s and a day at 10 min: the meter's second-to-second noise averages out, steps stay sharp.
Millis flow_smoothing_interval(Millis run_length);
// "30 s", "5 min", "1 h".
std::string interval_text(Millis interval);

// The checks a reader of a run that did not pass must see first: every check whose verdict is
// not PASS, in the order of the check table.
std::vector<const verify::CheckResult*> checks_not_passed(const std::vector<verify::CheckResult>& checks);

// One row of the suite page.
struct SuiteEntry {
    std::string scenario;
    std::string outcome;
    bool incomplete = false;
    std::size_t pass = 0, fail = 0, inconclusive = 0;
    std::string report_href;  // relative link to the run's report.html
    std::string run_dir;
};
std::string render_suite_html(const std::string& title, const std::vector<SuiteEntry>& entries);

// The CSS every page shares (screen and print).
const char* report_css();

}  // namespace pumprig::report
