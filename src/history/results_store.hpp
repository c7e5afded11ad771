// Results history: every end-of-line run of a unit, with its verdict and every measurement,
// kept in SQLite (one station, a file under reports/) or PostgreSQL (a factory's stations
// sharing one server). One schema (units, runs, measurements) on both, created if missing;
// every query is parameterised: serials, operator names and check details are bound values,
// never SQL text. docs/eol.md.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pumprig::history {

// One check of a run, as recorded (a verify::CheckResult flattened; the CLI converts).
struct Measurement {
    std::string scenario;
    std::string check_id;
    std::string name;
    std::string kind;
    std::optional<double> measured;  // empty when not a finite number
    std::optional<double> expected;
    std::string unit;
    std::optional<double> lower;     // empty: no lower limit (one-sided check)
    std::optional<double> upper;
    std::string tolerance;
    std::string verdict;             // PASS FAIL INCONCLUSIVE
    std::string detail;
    std::string requirements;        // comma-separated requirement ids
};

struct RunRecord {
    std::int64_t id = 0;             // given by the store
    std::string serial;              // the unit's serial as the operator gave (or scanned) it
    std::string reported_serial;     // what the pump said in HELLO (empty if never reached)
    std::string model;
    std::string firmware;
    std::string station;
    std::string operator_name;
    std::string started_at;          // ISO 8601 UTC, "2026-01-01T08:00:00.000Z"
    std::string ended_at;
    std::string verdict;             // PASS FAIL ERROR ABORTED
    std::string reason;              // the final line's reason ("" for PASS)
    // The unit was tested (its scenarios started). Only tested runs count towards the retest
    // limit: a mistyped serial or a station that failed before testing does not use a retest.
    bool tested = false;
    std::string rig;
    std::string scenarios;           // comma-separated scenario names
    std::string run_dirs;            // comma-separated run folders
    // SHA-256 of each run folder's MANIFEST.sha256, comma-separated in run_dirs' order (empty
    // where none was written): ties a folder to this row (record/manifest.hpp).
    std::string manifest_sha256;
    std::string pumprig_version;
    std::vector<Measurement> measurements;
};

// Where the history lives, from a connection string.
struct StoreLocation {
    enum class Kind { Sqlite, Postgres };
    Kind kind = Kind::Sqlite;
    std::string target;  // the SQLite file, or the libpq connection string as given
};

// "sqlite:PATH" (PATH may be ":memory:"), "postgresql://..." / "postgres://..." (libpq URI) or
// libpq key=value ("host=... dbname=..."). BadInput naming the accepted forms otherwise.
Result<StoreLocation> parse_location(std::string_view connection);

// Which runs `pumprig stats` reads; an empty field does not filter. `from` and `to` compare
// with started_at as ISO 8601 text; `to` is inclusive at its precision: a date alone
// ("2026-01-31") covers that whole day, "2026-01-31T08:00" that whole minute.
struct RunFilter {
    std::string station;
    std::string model;
    std::string from;  // inclusive
    std::string to;    // inclusive
};

inline constexpr const char* kDefaultConnection = "sqlite:reports/history.sqlite";

class ResultsStore {
public:
    virtual ~ResultsStore() = default;
    // Stores one run and its measurements in one transaction, creating or updating the unit
    // (model and firmware as last seen). Returns the run's id.
    virtual Result<std::int64_t> record_run(const RunRecord& run) = 0;
    // A unit's runs, oldest first, with their measurements when asked.
    virtual Result<std::vector<RunRecord>> runs_for(std::string_view serial, bool with_measurements) = 0;
    // Every run the filter selects, in start order (then id), with their measurements when asked.
    virtual Result<std::vector<RunRecord>> runs_matching(const RunFilter& filter, bool with_measurements) = 0;
    // How many runs of this unit were tested (count towards the retest limit).
    virtual Result<int> tested_runs(std::string_view serial) = 0;
    // The store, for messages; never a password.
    virtual std::string describe() const = 0;
};

// Opens (and creates the schema of) the store a connection string names. A SQLite file's
// folder is created if missing. A PostgreSQL server that cannot be reached within 10 s (unless
// the connection string sets connect_timeout) is an Io error naming host and database.
// With create false (commands that only read, such as pumprig history) a SQLite file must
// exist: it is opened read-only, and a missing one is BadInput naming the path.
Result<std::unique_ptr<ResultsStore>> open_store(std::string_view connection, bool create = true);

// One CSV row per measurement, run columns repeated (a run without measurements, such as a
// serial mismatch, gives one row with empty measurement columns). RFC 4180 quoting.
std::string to_csv(std::span<const RunRecord> runs);
// One CSV field: quoted when needed, text that a spreadsheet would run as a formula guarded.
std::string csv_field(std::string_view text);
// A number as the shortest text that reads back the same; empty for no value.
std::string csv_number(const std::optional<double>& v);

}  // namespace pumprig::history
