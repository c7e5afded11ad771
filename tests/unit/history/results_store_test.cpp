// Results history without a server: connection strings, CSV export, and the SQLite store in a
// temporary file (the same store against PostgreSQL: tests/integration/history_store_test.cpp).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "history/results_store.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::history;
namespace fs = std::filesystem;
using pumprig::test::TempDir;

namespace {

RunRecord sample_run(const std::string& serial) {
    RunRecord r;
    r.serial = serial;
    r.reported_serial = serial;
    r.model = "ITB-40";
    r.firmware = "2.4.1";
    r.station = "EOL-3";
    r.operator_name = "Ana";
    r.started_at = "2026-01-01T08:00:00.000Z";
    r.ended_at = "2026-01-01T08:09:00.000Z";
    r.verdict = "PASS";
    r.tested = true;
    Measurement m;
    m.scenario = "eol-basic";
    m.check_id = "volume.delivered";
    m.name = "volume delivered, \"basal\" and bolus";
    m.kind = "volume";
    m.measured = 101.25;
    m.expected = 100.0;
    m.unit = "uL";
    m.lower = 85.0;
    m.upper = std::nullopt;  // one-sided
    m.verdict = "PASS";
    m.detail = "line one\nline two";
    r.measurements.push_back(m);
    return r;
}

}  // namespace

TEST_CASE("history connection strings: sqlite, postgresql URI and libpq key=value, anything else refused") {
    auto s = parse_location("sqlite:reports/history.sqlite");
    REQUIRE(s);
    CHECK(s->kind == StoreLocation::Kind::Sqlite);
    CHECK(s->target == "reports/history.sqlite");
    auto u = parse_location("postgresql://eol@db.factory/results");
    REQUIRE(u);
    CHECK(u->kind == StoreLocation::Kind::Postgres);
    CHECK(u->target == "postgresql://eol@db.factory/results");
    auto k = parse_location("host=127.0.0.1 port=5433 dbname=results");
    REQUIRE(k);
    CHECK(k->kind == StoreLocation::Kind::Postgres);
    for (const char* bad : {"", "sqlite:", "mysql://x/y", "reports/history.sqlite", "some words = here"}) {
        auto r = parse_location(bad);
        INFO(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == ErrorKind::BadInput);
        CHECK(r.error().message.find("sqlite:") != std::string::npos);
    }
}

TEST_CASE("history CSV quotes commas, quotes and newlines, and leaves unknown numbers empty") {
    const std::vector<RunRecord> runs{sample_run("SN,1")};
    const auto csv = to_csv(runs);
    CHECK(csv.starts_with("run_id,serial,reported_serial,model,firmware,station,operator,"));
    CHECK(csv.find("\"SN,1\"") != std::string::npos);
    CHECK(csv.find("\"volume delivered, \"\"basal\"\" and bolus\"") != std::string::npos);
    CHECK(csv.find("\"line one\nline two\"") != std::string::npos);
    CHECK(csv.find(",101.25,100,uL,85,,") != std::string::npos);  // no upper limit: empty
    // A run without measurements (serial mismatch) still gives a row with every column.
    RunRecord mismatch = sample_run("SN2");
    mismatch.measurements.clear();
    const std::vector<RunRecord> one{mismatch};
    const auto row = to_csv(one).substr(to_csv(one).find("\r\n") + 2);
    const auto header = to_csv(one).substr(0, to_csv(one).find("\r\n"));
    CHECK(std::count(row.begin(), row.end(), ',') == std::count(header.begin(), header.end(), ','));
}

TEST_CASE("sqlite history keeps a hostile serial verbatim and its tables intact") {
    TempDir tmp;
    const std::string conn = "sqlite:" + (tmp.path / "sub" / "history.sqlite").string();
    auto store = open_store(conn);
    REQUIRE_MESSAGE(store, (store ? "" : store.error().message));
    const std::string hostile = "SN'); DROP TABLE runs; --";
    auto id = (*store)->record_run(sample_run(hostile));
    REQUIRE_MESSAGE(id, (id ? "" : id.error().message));
    auto again = (*store)->record_run(sample_run("SN0002"));
    REQUIRE(again);
    CHECK(*again > *id);
    auto runs = (*store)->runs_for(hostile, true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].serial == hostile);
    CHECK((*runs)[0].measurements.size() == 1);
    // Reopening finds the schema and the data (created only if missing).
    auto reopened = open_store(conn);
    REQUIRE(reopened);
    auto other = (*reopened)->runs_for("SN0002", false);
    REQUIRE(other);
    CHECK(other->size() == 1);
    CHECK((*other)[0].measurements.empty());  // not asked for
}

TEST_CASE("sqlite history refuses a schema made by a newer pumprig, and a file that is no database") {
    TempDir tmp;
    const auto file = tmp.path / "history.sqlite";
    {
        auto store = open_store("sqlite:" + file.string());
        REQUIRE(store);
    }
    // A later pumprig raised the schema version.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE pumprig_schema SET version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto newer = open_store("sqlite:" + file.string());
    REQUIRE_FALSE(newer);
    CHECK(newer.error().message.find("newer pumprig") != std::string::npos);
    // A file that is not a database is an I/O error naming the file.
    const auto junk = tmp.path / "junk.sqlite";
    { std::ofstream(junk) << "this is not a database, just text long enough to have a header page........"; }
    auto bad = open_store("sqlite:" + junk.string());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find(junk.string()) != std::string::npos);
}

TEST_CASE("history CSV defuses text that a spreadsheet would run as a formula") {
    const std::vector<RunRecord> runs{sample_run("=HYPERLINK(\"http://x\")")};
    const auto csv = to_csv(runs);
    CHECK(csv.find("\"'=HYPERLINK(\"\"http://x\"\")\"") != std::string::npos);
    CHECK(csv.find(",=HYPERLINK") == std::string::npos);
    const std::vector<RunRecord> plus{sample_run("+SN1")};
    CHECK(to_csv(plus).find(",'+SN1,") != std::string::npos);
}
