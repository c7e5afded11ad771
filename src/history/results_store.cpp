// The results store, written once over SqlConnection: the same schema and the same
// parameterised statements on SQLite and PostgreSQL.
#include "history/results_store.hpp"

#include <charconv>
#include <map>

#include "history/sql_connection.hpp"

namespace pumprig::history {

namespace {

constexpr int kSchemaVersion = 1;

// The one schema. Types are spelled so both databases read them alike (SQLite maps DOUBLE
// PRECISION to REAL and BIGINT to INTEGER); only the auto-numbered id differs, filled in.
// Times are ISO 8601 UTC text, which sorts in time order on both.
std::string schema_sql(std::string_view id_type) {
    return "CREATE TABLE IF NOT EXISTS pumprig_schema (version INTEGER NOT NULL);\n"
           "CREATE TABLE IF NOT EXISTS units (\n"
           "  serial TEXT PRIMARY KEY,\n"
           "  model TEXT,\n"
           "  firmware TEXT,\n"
           "  first_seen TEXT NOT NULL,\n"
           "  last_seen TEXT NOT NULL);\n"
           "CREATE TABLE IF NOT EXISTS runs (\n"
           "  id " + std::string(id_type) + ",\n"
           "  serial TEXT NOT NULL REFERENCES units (serial),\n"
           "  reported_serial TEXT,\n"
           "  model TEXT,\n"
           "  firmware TEXT,\n"
           "  station TEXT NOT NULL,\n"
           "  operator_name TEXT NOT NULL,\n"
           "  started_at TEXT NOT NULL,\n"
           "  ended_at TEXT NOT NULL,\n"
           "  verdict TEXT NOT NULL,\n"
           "  reason TEXT NOT NULL,\n"
           "  tested INTEGER NOT NULL,\n"
           "  rig TEXT,\n"
           "  scenarios TEXT,\n"
           "  run_dirs TEXT,\n"
           "  pumprig_version TEXT,\n"
           "  manifest_sha256 TEXT);\n"
           "CREATE INDEX IF NOT EXISTS runs_by_serial ON runs (serial, id);\n"
           "CREATE TABLE IF NOT EXISTS measurements (\n"
           "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
           "  seq INTEGER NOT NULL,\n"
           "  scenario TEXT NOT NULL,\n"
           "  check_id TEXT NOT NULL,\n"
           "  name TEXT,\n"
           "  kind TEXT,\n"
           "  measured DOUBLE PRECISION,\n"
           "  expected DOUBLE PRECISION,\n"
           "  unit TEXT,\n"
           "  lower_limit DOUBLE PRECISION,\n"
           "  upper_limit DOUBLE PRECISION,\n"
           "  tolerance TEXT,\n"
           "  verdict TEXT NOT NULL,\n"
           "  detail TEXT,\n"
           "  requirements TEXT,\n"
           "  PRIMARY KEY (run_id, seq));\n";
}

SqlValue opt(const std::optional<double>& v) { return v ? SqlValue{*v} : SqlValue{}; }
SqlValue text_or_null(const std::string& s) { return s.empty() ? SqlValue{} : SqlValue{s}; }

std::string col(const SqlRow& row, std::size_t i) { return i < row.size() && row[i] ? *row[i] : std::string(); }

std::optional<double> col_double(const SqlRow& row, std::size_t i) {
    if (i >= row.size() || !row[i]) return std::nullopt;
    double v = 0;
    const auto& s = *row[i];
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

std::int64_t col_int(const SqlRow& row, std::size_t i) {
    std::int64_t v = 0;
    const auto s = col(row, i);
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

class SqlResultsStore final : public ResultsStore {
public:
    explicit SqlResultsStore(std::unique_ptr<SqlConnection> db) : db_(std::move(db)) {}

    Result<void> create_schema() {
        if (auto r = db_->exec_script(schema_sql(db_->id_column_type())); !r) return r;
        // Columns added after schema version 1 was released, added to a database made before
        // them: nullable, so an older pumprig still reads and writes the table (the version
        // stays 1). Probing with a query works alike on SQLite and PostgreSQL.
        // Two stations upgrading one server at once: the loser's ALTER fails, the column is there.
        constexpr const char* probe = "SELECT manifest_sha256 FROM runs WHERE 1 = 0";
        if (!db_->query(probe))
            if (auto r = db_->exec_script("ALTER TABLE runs ADD COLUMN manifest_sha256 TEXT;\n"); !r && !db_->query(probe)) return r;
        auto v = db_->query("SELECT MAX(version) FROM pumprig_schema");
        if (!v) return std::unexpected(v.error());
        if (v->empty() || !(*v)[0][0]) {
            const SqlValue p[] = {std::int64_t{kSchemaVersion}};
            if (auto r = db_->query("INSERT INTO pumprig_schema (version) VALUES ($1)", p); !r) return std::unexpected(r.error());
        } else if (col_int((*v)[0], 0) > kSchemaVersion) {
            return fail(ErrorKind::BadInput, "results history " + db_->describe() + ": schema version " + col((*v)[0], 0) +
                                                 " was made by a newer pumprig (this one knows version " +
                                                 std::to_string(kSchemaVersion) + ")");
        }
        return {};
    }

    Result<std::int64_t> record_run(const RunRecord& run) override {
        if (run.serial.empty()) return fail(ErrorKind::BadInput, "results history: a run needs the unit's serial");
        if (auto b = db_->query("BEGIN"); !b) return std::unexpected(b.error());
        auto id = insert(run);
        if (!id) {
            (void)db_->query("ROLLBACK");
            return id;
        }
        if (auto c = db_->query("COMMIT"); !c) {
            (void)db_->query("ROLLBACK");
            return std::unexpected(c.error());
        }
        return id;
    }

    Result<std::vector<RunRecord>> runs_for(std::string_view serial, bool with_measurements) override {
        const SqlValue p[] = {std::string(serial)};
        return read_runs("r.serial = $1", p, "r.id", with_measurements);
    }

    Result<std::vector<RunRecord>> runs_matching(const RunFilter& f, bool with_measurements) override {
        std::string where = "1 = 1";
        std::vector<SqlValue> p;
        auto add = [&](const std::string& condition, std::string value) {
            p.emplace_back(std::move(value));
            where += " AND " + condition + " $" + std::to_string(p.size());
        };
        if (!f.station.empty()) add("r.station =", f.station);
        if (!f.model.empty()) add("r.model =", f.model);
        if (!f.from.empty()) add("r.started_at >=", f.from);
        // Inclusive at the precision given: every time stamp that starts with `to` ("2026-01-31",
        // "2026-01-31T08:00") sorts below it followed by '~'.
        if (!f.to.empty()) add("r.started_at <=", f.to + "~");
        return read_runs(where, p, "r.started_at, r.id", with_measurements);
    }

    Result<int> tested_runs(std::string_view serial) override {
        const SqlValue p[] = {std::string(serial)};
        auto rows = db_->query("SELECT COUNT(*) FROM runs WHERE serial = $1 AND tested = 1", p);
        if (!rows) return std::unexpected(rows.error());
        return rows->empty() ? 0 : static_cast<int>(col_int((*rows)[0], 0));
    }

    std::string describe() const override { return db_->describe(); }

private:
    // Runs (aliased r) where `where` holds, with their measurements when asked: the one reader
    // of runs_for and runs_matching.
    Result<std::vector<RunRecord>> read_runs(const std::string& where, std::span<const SqlValue> p, const std::string& order,
                                             bool with_measurements) {
        auto rows = db_->query(
            "SELECT r.id, r.serial, r.reported_serial, r.model, r.firmware, r.station, r.operator_name, r.started_at, r.ended_at, "
            "r.verdict, r.reason, r.tested, r.rig, r.scenarios, r.run_dirs, r.pumprig_version, r.manifest_sha256 FROM runs r WHERE " + where +
                " ORDER BY " + order,
            p);
        if (!rows) return std::unexpected(rows.error());
        std::vector<RunRecord> runs;
        std::map<std::int64_t, std::size_t> by_id;
        for (const auto& r : *rows) {
            RunRecord run;
            run.id = col_int(r, 0);
            run.serial = col(r, 1);
            run.reported_serial = col(r, 2);
            run.model = col(r, 3);
            run.firmware = col(r, 4);
            run.station = col(r, 5);
            run.operator_name = col(r, 6);
            run.started_at = col(r, 7);
            run.ended_at = col(r, 8);
            run.verdict = col(r, 9);
            run.reason = col(r, 10);
            run.tested = col_int(r, 11) != 0;
            run.rig = col(r, 12);
            run.scenarios = col(r, 13);
            run.run_dirs = col(r, 14);
            run.pumprig_version = col(r, 15);
            run.manifest_sha256 = col(r, 16);
            by_id[run.id] = runs.size();
            runs.push_back(std::move(run));
        }
        if (!with_measurements || runs.empty()) return runs;
        auto ms = db_->query(
            "SELECT m.run_id, m.scenario, m.check_id, m.name, m.kind, m.measured, m.expected, m.unit, m.lower_limit, "
            "m.upper_limit, m.tolerance, m.verdict, m.detail, m.requirements FROM measurements m JOIN runs r ON r.id = m.run_id "
            "WHERE " + where + " ORDER BY m.run_id, m.seq",
            p);
        if (!ms) return std::unexpected(ms.error());
        for (const auto& r : *ms) {
            auto it = by_id.find(col_int(r, 0));
            if (it == by_id.end()) continue;
            Measurement m;
            m.scenario = col(r, 1);
            m.check_id = col(r, 2);
            m.name = col(r, 3);
            m.kind = col(r, 4);
            m.measured = col_double(r, 5);
            m.expected = col_double(r, 6);
            m.unit = col(r, 7);
            m.lower = col_double(r, 8);
            m.upper = col_double(r, 9);
            m.tolerance = col(r, 10);
            m.verdict = col(r, 11);
            m.detail = col(r, 12);
            m.requirements = col(r, 13);
            runs[it->second].measurements.push_back(std::move(m));
        }
        return runs;
    }

    Result<std::int64_t> insert(const RunRecord& run) {
        const SqlValue unit[] = {run.serial, text_or_null(run.model), text_or_null(run.firmware), run.started_at};
        // Model and firmware as last seen; a run that never reached the pump leaves them as they were.
        if (auto r = db_->query("INSERT INTO units (serial, model, firmware, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4) "
                                "ON CONFLICT (serial) DO UPDATE SET model = COALESCE(excluded.model, units.model), "
                                "firmware = COALESCE(excluded.firmware, units.firmware), last_seen = excluded.last_seen",
                                unit);
            !r)
            return std::unexpected(r.error());
        const SqlValue values[] = {run.serial,           text_or_null(run.reported_serial),
                                   text_or_null(run.model), text_or_null(run.firmware),
                                   run.station,          run.operator_name,
                                   run.started_at,       run.ended_at,
                                   run.verdict,          run.reason,
                                   std::int64_t{run.tested ? 1 : 0}, text_or_null(run.rig),
                                   text_or_null(run.scenarios), text_or_null(run.run_dirs),
                                   text_or_null(run.pumprig_version), text_or_null(run.manifest_sha256)};
        auto id_rows = db_->query(
            "INSERT INTO runs (serial, reported_serial, model, firmware, station, operator_name, started_at, ended_at, verdict, "
            "reason, tested, rig, scenarios, run_dirs, pumprig_version, manifest_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
            "$9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
            values);
        if (!id_rows) return std::unexpected(id_rows.error());
        if (id_rows->empty()) return fail(ErrorKind::Io, "results history " + db_->describe() + ": no id returned for the run");
        const std::int64_t id = col_int((*id_rows)[0], 0);
        std::int64_t seq = 0;
        for (const auto& m : run.measurements) {
            const SqlValue mv[] = {id,          ++seq,         m.scenario,     m.check_id,         m.name,
                                   m.kind,      opt(m.measured), opt(m.expected), m.unit,           opt(m.lower),
                                   opt(m.upper), m.tolerance,  m.verdict,      m.detail,           m.requirements};
            if (auto r = db_->query("INSERT INTO measurements (run_id, seq, scenario, check_id, name, kind, measured, expected, "
                                    "unit, lower_limit, upper_limit, tolerance, verdict, detail, requirements) VALUES ($1, $2, "
                                    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                                    mv);
                !r)
                return std::unexpected(r.error());
        }
        return id;
    }

    std::unique_ptr<SqlConnection> db_;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

Result<StoreLocation> parse_location(std::string_view connection) {
    if (starts_with(connection, "sqlite:")) {
        std::string file(connection.substr(7));
        if (file.empty()) return fail(ErrorKind::BadInput, "--history sqlite: expected a file name after sqlite:, e.g. sqlite:reports/history.sqlite");
        return StoreLocation{StoreLocation::Kind::Sqlite, file};
    }
    if (starts_with(connection, "postgresql://") || starts_with(connection, "postgres://"))
        return StoreLocation{StoreLocation::Kind::Postgres, std::string(connection)};
    // libpq's key=value form; the first word must be a keyword followed by '='.
    const auto eq = connection.find('=');
    if (eq != std::string_view::npos && eq > 0 && connection.substr(0, eq).find(' ') == std::string_view::npos)
        return StoreLocation{StoreLocation::Kind::Postgres, std::string(connection)};
    return fail(ErrorKind::BadInput, "--history: expected sqlite:FILE, postgresql://HOST/DB or \"host=... dbname=...\", got \"" +
                                         std::string(connection) + "\"");
}

Result<std::unique_ptr<ResultsStore>> open_store(std::string_view connection, bool create) {
    auto where = parse_location(connection);
    if (!where) return std::unexpected(where.error());
    const bool sqlite = where->kind == StoreLocation::Kind::Sqlite;
    auto db = sqlite ? open_sqlite(where->target, create) : open_postgres(where->target);
    if (!db) return std::unexpected(db.error());
    auto store = std::make_unique<SqlResultsStore>(std::move(*db));
    // A read-only SQLite file cannot take the schema; a server database may (it changes nothing
    // that is there).
    if (create || !sqlite)
        if (auto s = store->create_schema(); !s) return std::unexpected(s.error());
    return std::unique_ptr<ResultsStore>(std::move(store));
}

}  // namespace pumprig::history
