// SQLite backend of the results store: one file, for a single station.
#include <sqlite3.h>

#include <charconv>
#include <filesystem>

#include "history/sql_connection.hpp"

namespace pumprig::history {

namespace {

class SqliteConnection final : public SqlConnection {
public:
    SqliteConnection(sqlite3* db, std::string file) : db_(db), file_(std::move(file)) {}
    ~SqliteConnection() override { sqlite3_close_v2(db_); }

    Result<std::vector<SqlRow>> query(std::string_view sql, std::span<const SqlValue> params) override {
        // The store writes $N placeholders (PostgreSQL's); SQLite's numbered form is ?N.
        std::string text(sql);
        for (auto& c : text)
            if (c == '$') c = '?';
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &stmt, nullptr) != SQLITE_OK)
            return error("preparing a statement");
        struct Finalize {
            sqlite3_stmt* s;
            ~Finalize() { sqlite3_finalize(s); }
        } finalize{stmt};
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int index = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            if (std::holds_alternative<std::monostate>(params[i])) rc = sqlite3_bind_null(stmt, index);
            else if (auto* n = std::get_if<std::int64_t>(&params[i])) rc = sqlite3_bind_int64(stmt, index, *n);
            else if (auto* d = std::get_if<double>(&params[i])) rc = sqlite3_bind_double(stmt, index, *d);
            else {
                const auto& s = std::get<std::string>(params[i]);
                rc = sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
            }
            if (rc != SQLITE_OK) return error("binding a value");
        }
        std::vector<SqlRow> rows;
        for (;;) {
            const int rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) return error("running a statement");
            SqlRow row;
            const int n = sqlite3_column_count(stmt);
            for (int c = 0; c < n; ++c) {
                if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
                    row.emplace_back();
                } else if (sqlite3_column_type(stmt, c) == SQLITE_FLOAT) {
                    // Text of a REAL is rounded to 15 digits by SQLite: take the double itself.
                    char buf[64];
                    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, sqlite3_column_double(stmt, c));
                    row.emplace_back(std::string(buf, end));
                } else {
                    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                    row.emplace_back(std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
                }
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }

    Result<void> exec_script(std::string_view sql) override {
        const std::string text(sql);
        if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return error("creating the schema");
        return {};
    }

    std::string_view id_column_type() const override { return "INTEGER PRIMARY KEY AUTOINCREMENT"; }
    std::string describe() const override { return "sqlite:" + file_; }

private:
    std::unexpected<Error> error(const std::string& what) const {
        return fail(ErrorKind::Io, "results history " + describe() + ": " + what + ": " + sqlite3_errmsg(db_));
    }
    sqlite3* db_;
    std::string file_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& file, bool create) {
    if (file.empty()) return fail(ErrorKind::BadInput, "results history: expected a file after sqlite:, got nothing");
    if (!create && file != ":memory:") {
        // Reading a history that is not there: the path is wrong; nothing is created.
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec))
            return fail(ErrorKind::BadInput, "results history sqlite:" + file + ": no such file (pumprig eol creates it; check --history or $PUMPRIG_HISTORY)");
    }
    if (create && file != ":memory:") {
        const auto parent = std::filesystem::path(file).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec) return fail(ErrorKind::Io, "results history sqlite:" + file + ": cannot create folder " + parent.string() + ": " + ec.message());
    }
    sqlite3* db = nullptr;
    const int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    const int rc = sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return fail(ErrorKind::Io, "results history sqlite:" + file + ": cannot open: " + msg);
    }
    // Two commands on one station may write at once (eol and history export): wait for the
    // other's transaction rather than fail.
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
    return std::make_unique<SqliteConnection>(db, file);
}

}  // namespace pumprig::history
