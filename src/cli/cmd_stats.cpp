// pumprig stats: the line's health from the results history: units tested, first-pass and
// final yield, failures by check, and for each numeric measurement its capability (Cp, Cpk)
// and an individuals control chart with run rules. Text on stdout; --html and --csv write the
// page and the figures. docs/stats.md.
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/history_option.hpp"
#include "cli/parse_args.hpp"
#include "history/results_store.hpp"
#include "record/recorder.hpp"
#include "stats/stats_page.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

namespace {

// YYYY-MM-DD, optionally followed by THH:MM[:SS[.mmm]][Z]: what started_at holds.
bool plausible_time(const std::string& s) {
    auto digits = [&](std::size_t at, std::size_t n) {
        if (at + n > s.size()) return false;
        for (std::size_t i = at; i < at + n; ++i)
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        return true;
    };
    if (s.size() < 10 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2)) return false;
    if (s.size() == 10) return true;
    return s.size() >= 16 && s[10] == 'T' && digits(11, 2) && s[13] == ':' && digits(14, 2);
}

}  // namespace

int cmd_stats(int argc, char** argv) {
    history::RunFilter filter;
    std::string html_file, csv_file;
    std::string history_conn = default_history();
    po::options_description desc(
        "pumprig stats: yield, failures by check, capability and control charts from the results history\nOptions");
    desc.add_options()("help,h", "show this help");
    add_history_option(desc, history_conn);
    desc.add_options()("station", po::value(&filter.station), "only runs of this station")
        ("model", po::value(&filter.model), "only runs of this pump model (the product, as the pump reports it, e.g. ITB-40)")
        ("from", po::value(&filter.from), "only runs started on or after this UTC date or time (2026-01-31, 2026-01-31T08:00)")
        ("to", po::value(&filter.to), "only runs started on or before this UTC date (the whole day) or time")
        ("html", po::value(&html_file), "write the page (self-contained HTML with SVG plots) to this file")
        ("csv", po::value(&csv_file), "write every measurement's figures to this CSV file");
    std::vector<std::string> positional;
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "stats", desc, positional, vm, 0)) return *done;
    for (const auto* t : {&filter.from, &filter.to})
        if (!t->empty() && !plausible_time(*t)) {
            std::cerr << "pumprig stats: --" << (t == &filter.from ? "from" : "to") << " " << *t
                      << ": expected a UTC date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS]\n";
            return kExitBadInput;
        }
    // Statistics read a history; they never start an empty one (opening a SQLite file creates it).
    if (auto where = history::parse_location(history_conn);
        where && where->kind == history::StoreLocation::Kind::Sqlite && where->target != ":memory:" && !std::filesystem::exists(where->target)) {
        std::cerr << "pumprig stats: no results history at " << where->target << " (give it with --history or $PUMPRIG_HISTORY)\n";
        return kExitBadInput;
    }
    auto store = open_history("stats", history_conn);
    if (!store) return store.error();
    auto runs = (*store)->runs_matching(filter, true);
    if (!runs) {
        std::cerr << "pumprig stats: " << runs.error().message << "\n";
        return kExitBenchError;
    }
    const auto line = stats::analyse(*runs, {(*store)->describe(), filter.station, filter.model, filter.from, filter.to});
    std::cout << stats::render_text(line);
    auto write = [](const std::string& what, const std::string& file, const std::string& text) {
        if (file.empty()) return true;
        if (auto w = record::write_file_atomic(file, text); !w) {
            std::cerr << "pumprig stats: " << w.error().message << "\n";
            return false;
        }
        std::cout << what << " " << file << "\n";
        return true;
    };
    if (!write("html", html_file, stats::render_html(line)) || !write("csv", csv_file, stats::render_csv(line))) return kExitBenchError;
    return kExitPass;
}

}  // namespace pumprig::cli
