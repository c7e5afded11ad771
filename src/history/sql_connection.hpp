// The little the results store needs from a database: run one statement with bound values and
// read rows back as text. One implementation per backend (SQLite, libpq); the store's queries
// are written once, with $1..$n placeholders, so both backends run the same SQL.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace pumprig::history {

// A bound value: NULL, an integer, a real or text.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;
// A row as text; NULL is an empty optional.
using SqlRow = std::vector<std::optional<std::string>>;

class SqlConnection {
public:
    virtual ~SqlConnection() = default;
    // Runs one statement with $1..$n bound to params; returns the rows it produced.
    virtual Result<std::vector<SqlRow>> query(std::string_view sql, std::span<const SqlValue> params = {}) = 0;
    // Several statements without parameters (schema creation).
    virtual Result<void> exec_script(std::string_view sql) = 0;
    // The type of an auto-numbered primary key column, with its PRIMARY KEY clause.
    virtual std::string_view id_column_type() const = 0;
    virtual std::string describe() const = 0;
};

// create: make the file (and its folder) if missing; else open an existing file read-only.
Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& file, bool create = true);
Result<std::unique_ptr<SqlConnection>> open_postgres(const std::string& conninfo);

}  // namespace pumprig::history
