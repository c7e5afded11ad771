// The same results-store tests on SQLite (a file) and on a real PostgreSQL server started for
// the test on loopback (history_postgres.hpp).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "history/results_store.hpp"
#include "history/sql_connection.hpp"
#include "history_postgres.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::history;
namespace fs = std::filesystem;

namespace {

struct SqliteBackend {
    test::TempDir tmp;
    bool ok() const { return true; }
    std::string problem() const { return {}; }
    std::string connection() const { return "sqlite:" + (tmp.path / "history.sqlite").string(); }
};

struct PostgresBackend {
    test::PostgresServer server;
    bool ok() const { return server.ok(); }
    std::string problem() const { return server.problem(); }
    std::string connection() const { return server.conninfo(); }
};

RunRecord make_run(const std::string& serial, bool tested, const std::string& verdict) {
    RunRecord r;
    r.serial = serial;
    r.reported_serial = serial;
    r.model = "ITB-40";
    r.firmware = "2.4.1";
    r.station = "EOL-1";
    r.operator_name = "Ana";
    r.started_at = "2026-01-01T08:00:00.000Z";
    r.ended_at = "2026-01-01T08:09:30.250Z";
    r.verdict = verdict;
    r.reason = verdict == "PASS" ? "" : "volume.delivered: measured low";
    r.tested = tested;
    r.rig = "bench-a";
    r.scenarios = "eol-basic";
    r.run_dirs = "reports/eol-basic-1";
    r.pumprig_version = "0.1.0";
    return r;
}

Measurement make_measurement(const std::string& id, double measured, std::optional<double> lower, std::optional<double> upper) {
    Measurement m;
    m.scenario = "eol-basic";
    m.check_id = id;
    m.name = "check " + id;
    m.kind = "volume";
    m.measured = measured;
    m.expected = 100.0;
    m.unit = "uL";
    m.lower = lower;
    m.upper = upper;
    m.tolerance = "15 % + 0.25 uL";
    m.verdict = "PASS";
    m.detail = "";
    m.requirements = "EOL-001,EOL-002";
    return m;
}

template <class Backend>
std::unique_ptr<ResultsStore> open_for(const Backend& b) {
    REQUIRE_MESSAGE(b.ok(), b.problem());
    auto store = open_store(b.connection());
    REQUIRE_MESSAGE(store, (store ? "" : store.error().message));
    return std::move(*store);
}

}  // namespace

// Case names end in <SQLite> or <PostgreSQL>.
TYPE_TO_STRING_AS("SQLite", SqliteBackend);
TYPE_TO_STRING_AS("PostgreSQL", PostgresBackend);

TEST_CASE_TEMPLATE("results store keeps a run with every measurement exactly", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    auto store = open_for(backend);
    auto run = make_run("SN0001", true, "PASS");
    run.measurements.push_back(make_measurement("volume.delivered", 0.1 + 0.2, 85.0, 115.0));  // not a short decimal
    run.measurements.push_back(make_measurement("alarms.unexpected", 0, std::nullopt, 0.0));   // one-sided
    run.measurements.push_back(make_measurement("timing.step-1", -1.0e-300, std::nullopt, std::nullopt));
    run.measurements[2].verdict = "INCONCLUSIVE";
    run.measurements[2].measured = std::nullopt;  // not a number (NaN in the check)
    run.measurements[2].detail = "no samples after 10:03";
    auto id = store->record_run(run);
    REQUIRE_MESSAGE(id, (id ? "" : id.error().message));
    CHECK(*id > 0);

    auto runs = store->runs_for("SN0001", true);
    REQUIRE_MESSAGE(runs, (runs ? "" : runs.error().message));
    REQUIRE(runs->size() == 1);
    const auto& got = (*runs)[0];
    CHECK(got.id == *id);
    CHECK(got.serial == "SN0001");
    CHECK(got.reported_serial == "SN0001");
    CHECK(got.model == "ITB-40");
    CHECK(got.firmware == "2.4.1");
    CHECK(got.station == "EOL-1");
    CHECK(got.operator_name == "Ana");
    CHECK(got.started_at == "2026-01-01T08:00:00.000Z");
    CHECK(got.ended_at == "2026-01-01T08:09:30.250Z");
    CHECK(got.verdict == "PASS");
    CHECK(got.tested);
    CHECK(got.rig == "bench-a");
    CHECK(got.run_dirs == "reports/eol-basic-1");
    REQUIRE(got.measurements.size() == 3);
    CHECK(got.measurements[0].check_id == "volume.delivered");
    CHECK(got.measurements[0].measured == 0.1 + 0.2);  // bit for bit
    CHECK(got.measurements[0].lower == 85.0);
    CHECK(got.measurements[0].upper == 115.0);
    CHECK(got.measurements[0].requirements == "EOL-001,EOL-002");
    CHECK_FALSE(got.measurements[1].lower.has_value());
    CHECK(got.measurements[1].upper == 0.0);
    CHECK_FALSE(got.measurements[2].measured.has_value());
    CHECK(got.measurements[2].verdict == "INCONCLUSIVE");
    CHECK(got.measurements[2].detail == "no samples after 10:03");
    // Without measurements asked for, none are read.
    auto bare = store->runs_for("SN0001", false);
    REQUIRE(bare);
    CHECK((*bare)[0].measurements.empty());
    CHECK(store->runs_for("SN9999", true)->empty());
}

TEST_CASE_TEMPLATE("results store counts tested runs per unit oldest first and keeps units apart", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    auto store = open_for(backend);
    REQUIRE(store->record_run(make_run("SN0001", true, "FAIL")));
    auto mismatch = make_run("SN0001", false, "FAIL");  // wrong unit on the bench: not a test of SN0001
    mismatch.reported_serial = "SN0002";
    mismatch.model.clear();
    mismatch.firmware.clear();
    REQUIRE(store->record_run(mismatch));
    REQUIRE(store->record_run(make_run("SN0001", true, "PASS")));
    REQUIRE(store->record_run(make_run("SN0002", true, "PASS")));
    CHECK(*store->tested_runs("SN0001") == 2);
    CHECK(*store->tested_runs("SN0002") == 1);
    CHECK(*store->tested_runs("SN0003") == 0);
    auto runs = store->runs_for("SN0001", true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 3);
    CHECK((*runs)[0].verdict == "FAIL");
    CHECK((*runs)[1].reported_serial == "SN0002");
    CHECK_FALSE((*runs)[1].tested);
    CHECK((*runs)[1].model.empty());
    CHECK((*runs)[2].verdict == "PASS");
    CHECK((*runs)[0].id < (*runs)[1].id);
    CHECK((*runs)[1].id < (*runs)[2].id);
}

TEST_CASE_TEMPLATE("results store selects runs by station, model and dates for pumprig stats", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    auto store = open_for(backend);
    auto at = [](const std::string& serial, const std::string& station, const std::string& model, const std::string& started) {
        auto r = make_run(serial, true, "PASS");
        r.station = station;
        r.model = model;
        r.started_at = started;
        r.measurements.push_back(make_measurement("volume.delivered", 99.5, 85.0, 115.0));
        return r;
    };
    // Recorded out of time order: the selection comes back in start order.
    REQUIRE(store->record_run(at("SN3", "EOL-1", "ITB-40", "2026-01-31T23:59:59.999Z")));
    REQUIRE(store->record_run(at("SN1", "EOL-1", "ITB-40", "2026-01-30T08:00:00.000Z")));
    REQUIRE(store->record_run(at("SN2", "EOL-2", "ITB-20", "2026-01-31T00:00:00.000Z")));
    auto serials = [](const Result<std::vector<RunRecord>>& runs) {
        REQUIRE(runs);
        std::vector<std::string> s;
        for (const auto& r : *runs) s.push_back(r.serial);
        return s;
    };
    CHECK(serials(store->runs_matching({}, false)) == std::vector<std::string>{"SN1", "SN2", "SN3"});
    CHECK(serials(store->runs_matching({"EOL-1", "", "", ""}, false)) == std::vector<std::string>{"SN1", "SN3"});
    CHECK(serials(store->runs_matching({"", "ITB-20", "", ""}, false)) == std::vector<std::string>{"SN2"});
    // `to` is inclusive at its precision: a date its whole day (to the last millisecond), a time its minute.
    CHECK(serials(store->runs_matching({"", "", "2026-01-31", "2026-01-31"}, false)) == std::vector<std::string>{"SN2", "SN3"});
    CHECK(serials(store->runs_matching({"", "", "", "2026-01-30T08:00"}, false)) == std::vector<std::string>{"SN1"});
    CHECK(serials(store->runs_matching({"", "", "", "2026-01-29"}, false)).empty());
    CHECK(serials(store->runs_matching({"EOL-9", "", "", ""}, true)).empty());
    auto with = store->runs_matching({"EOL-1", "ITB-40", "2026-01-31", ""}, true);
    REQUIRE(serials(with) == std::vector<std::string>{"SN3"});
    REQUIRE((*with)[0].measurements.size() == 1);
    CHECK(*(*with)[0].measurements[0].measured == 99.5);
}

TEST_CASE_TEMPLATE("results store binds hostile serials and names as values, never as SQL", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    auto store = open_for(backend);
    REQUIRE(store->record_run(make_run("SN0001", true, "PASS")));
    for (const std::string hostile : {"SN'; DROP TABLE runs; --", "x' OR '1'='1", "SN$1\\\"?", "Zoë Ødegård"}) {
        auto run = make_run(hostile, true, "FAIL");
        run.operator_name = hostile;
        run.reason = hostile;
        run.measurements.push_back(make_measurement(hostile, 1, 0.0, 2.0));
        auto id = store->record_run(run);
        REQUIRE_MESSAGE(id, (id ? "" : id.error().message));
        auto back = store->runs_for(hostile, true);
        REQUIRE(back);
        REQUIRE(back->size() == 1);
        CHECK((*back)[0].serial == hostile);
        CHECK((*back)[0].operator_name == hostile);
        CHECK((*back)[0].measurements.at(0).check_id == hostile);
    }
    // The first unit's run is still there: nothing was dropped or matched by injection.
    auto first = store->runs_for("SN0001", false);
    REQUIRE(first);
    CHECK(first->size() == 1);
    CHECK(*store->tested_runs("x' OR '1'='1") == 1);
}

TEST_CASE_TEMPLATE("two stations on one results store see each other's runs", Backend, SqliteBackend, PostgresBackend) {
    Backend backend;
    auto station_a = open_for(backend);
    auto station_b = open_for(backend);  // schema exists: created only if missing
    auto a = make_run("SN0007", true, "FAIL");
    a.station = "EOL-A";
    auto b = make_run("SN0007", true, "PASS");
    b.station = "EOL-B";
    REQUIRE(station_a->record_run(a));
    REQUIRE(station_b->record_run(b));
    CHECK(*station_a->tested_runs("SN0007") == 2);
    auto runs = station_b->runs_for("SN0007", false);
    REQUIRE(runs);
    REQUIRE(runs->size() == 2);
    CHECK((*runs)[0].station == "EOL-A");
    CHECK((*runs)[1].station == "EOL-B");
}

TEST_CASE("a run PostgreSQL refuses part of leaves nothing behind (one transaction)") {
    PostgresBackend backend;
    REQUIRE_MESSAGE(backend.ok(), backend.problem());
    auto opened = open_store(backend.server.uri());  // the URI form of the connection string
    REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().message));
    auto& store = *opened;
    auto run = make_run("SN0042", true, "PASS");
    run.measurements.push_back(make_measurement("volume.delivered", 1, 0.0, 2.0));
    run.measurements.push_back(make_measurement("bad.text", 1, 0.0, 2.0));
    run.measurements[1].detail = "\xff\xfe not UTF-8";  // the server refuses this value
    auto id = store->record_run(run);
    REQUIRE_FALSE(id);
    CHECK(id.error().message.find("postgresql 127.0.0.1:") != std::string::npos);
    CHECK(*store->tested_runs("SN0042") == 0);
    CHECK(store->runs_for("SN0042", true)->empty());
    // The connection is usable afterwards.
    run.measurements.pop_back();
    CHECK(store->record_run(run));
    CHECK(*store->tested_runs("SN0042") == 1);
}

TEST_CASE("a PostgreSQL history that cannot be reached is an I/O error naming the host") {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    auto store = open_store("host=127.0.0.1 port=1 user=pumprig dbname=postgres connect_timeout=5");
    REQUIRE_FALSE(store);
    CHECK(store.error().kind == ErrorKind::Io);
    CHECK(store.error().message.find("cannot connect to PostgreSQL") != std::string::npos);
    CHECK(store.error().message.find("127.0.0.1") != std::string::npos);
}

TEST_CASE_TEMPLATE("a results store made before the manifest column gets it, old rows reading empty", Backend, SqliteBackend, PostgresBackend) {
    Backend b;
    REQUIRE(open_for(b)->record_run(make_run("SN-OLD", true, "PASS")));
    {
        // The runs table as pumprig made it before manifest_sha256 existed.
        const auto where = parse_location(b.connection()).value();
        auto db = where.kind == StoreLocation::Kind::Sqlite ? open_sqlite(where.target) : open_postgres(where.target);
        REQUIRE(db);
        REQUIRE((*db)->exec_script("ALTER TABLE runs DROP COLUMN manifest_sha256;\n"));
    }
    auto store = open_for(b);
    auto run = make_run("SN-OLD", true, "PASS");
    run.manifest_sha256 = std::string(64, 'd');
    REQUIRE(store->record_run(run));
    auto runs = store->runs_for("SN-OLD", false);
    REQUIRE(runs);
    REQUIRE(runs->size() == 2);
    CHECK((*runs)[0].manifest_sha256.empty());
    CHECK((*runs)[1].manifest_sha256 == std::string(64, 'd'));
    // Opened again, nothing more to add.
    CHECK(open_for(b)->runs_for("SN-OLD", false).value().size() == 2);
}
