// The results history keeps each eol run's manifest digest, also in a database made before the
// column existed (it is added when the store opens it; rows written before read as empty).
#include <doctest/doctest.h>

#include <sqlite3.h>

#include "history/results_store.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::history;
using pumprig::test::TempDir;

namespace {

RunRecord run_of(const std::string& serial, const std::string& manifest) {
    RunRecord r;
    r.serial = serial;
    r.station = "EOL-1";
    r.operator_name = "Ana";
    r.started_at = "2026-01-01T08:00:00.000Z";
    r.ended_at = "2026-01-01T08:09:00.000Z";
    r.verdict = "PASS";
    r.tested = true;
    r.run_dirs = "reports/a,reports/b";
    r.manifest_sha256 = manifest;
    return r;
}

void exec(const std::string& file, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("an eol run's manifest digests are stored and read back") {
    TempDir t;
    const std::string conn = "sqlite:" + (t.path / "h.sqlite").string();
    auto store = open_store(conn);
    REQUIRE(store);
    const std::string digests = std::string(64, 'a') + "," + std::string(64, 'b');
    REQUIRE((*store)->record_run(run_of("SN1", digests)));
    auto runs = (*store)->runs_for("SN1", false);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK((*runs)[0].manifest_sha256 == digests);
}

TEST_CASE("a history made before the manifest column gets it, and its old rows read as empty") {
    TempDir t;
    const std::string file = (t.path / "old.sqlite").string();
    {
        auto store = open_store("sqlite:" + file);
        REQUIRE(store);
        REQUIRE((*store)->record_run(run_of("SN1", "")));
    }
    // The table as pumprig made it before: no manifest_sha256 column.
    exec(file, "ALTER TABLE runs DROP COLUMN manifest_sha256");
    auto store = open_store("sqlite:" + file);
    REQUIRE(store);
    REQUIRE((*store)->record_run(run_of("SN1", std::string(64, 'c'))));
    auto runs = (*store)->runs_for("SN1", false);
    REQUIRE(runs);
    REQUIRE(runs->size() == 2);
    CHECK((*runs)[0].manifest_sha256.empty());
    CHECK((*runs)[1].manifest_sha256 == std::string(64, 'c'));
}
