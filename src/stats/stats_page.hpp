// pumprig stats' views of the line statistics: a self-contained HTML page (inline SVG plots,
// no external file), a CSV of every measurement's figures, and a text summary. docs/stats.md.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "history/results_store.hpp"
#include "stats/line_stats.hpp"

namespace pumprig::stats {

// What was selected, as given, for the page's heading.
struct Selection {
    std::string store;  // the history, as ResultsStore::describe() names it
    std::string station, model, from, to;
};

struct MeasurementStats {
    Series series;
    Capability capability;
    ControlChart chart;
};

struct LineReport {
    Selection selection;
    std::size_t runs = 0;  // every run selected, attempts or not
    Yield yield;
    std::vector<ParetoBar> pareto;
    std::vector<MeasurementStats> measurements;
};

// `runs` in time order.
LineReport analyse(std::span<const history::RunRecord> runs, Selection selection);

std::string render_html(const LineReport& report);
// One row per numeric measurement: its figures, limits, capability and rule hits (RFC 4180).
std::string render_csv(const LineReport& report);
std::string render_text(const LineReport& report);

}  // namespace pumprig::stats
