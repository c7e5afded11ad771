// The --history option of the commands that read the results history (history, stats), and
// opening it with the error said once.
#pragma once
#include <boost/program_options.hpp>
#include <cstdlib>
#include <expected>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "history/results_store.hpp"

namespace pumprig::cli {

// $PUMPRIG_HISTORY, else sqlite:reports/history.sqlite.
inline std::string default_history() {
    const char* env = std::getenv("PUMPRIG_HISTORY");
    return env ? env : history::kDefaultConnection;
}

inline void add_history_option(boost::program_options::options_description& desc, std::string& conn) {
    desc.add_options()("history", boost::program_options::value(&conn),
                       "results history: sqlite:FILE (default sqlite:reports/history.sqlite, or $PUMPRIG_HISTORY), "
                       "postgresql://... or \"host=... dbname=...\"");
}

// The store, or the exit code after saying why it could not be opened (2: a connection string
// of no known form, or with create false a SQLite file that does not exist; 3: the database).
// Commands that only read (history, stats) pass create = false: they never make a database.
inline std::expected<std::unique_ptr<history::ResultsStore>, int> open_history(const std::string& command, const std::string& conn,
                                                                               bool create = true) {
    auto store = history::open_store(conn, create);
    if (store) return std::move(*store);
    std::cerr << "pumprig " << command << ": " << store.error().message << "\n";
    return std::unexpected(store.error().kind == ErrorKind::BadInput ? kExitBadInput : kExitBenchError);
}

}  // namespace pumprig::cli
