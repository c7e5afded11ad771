#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "report/run_folder.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::report;
namespace fs = std::filesystem;
using pumprig::test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

}  // namespace

TEST_CASE("samples.csv reads back, and a partial last line is ignored and reported") {
    TempDir tmp;
    write(tmp.path / "samples.csv",
          "bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale\n"
          "1767225600000,2026-01-01T00:00:00.000Z,0.0000,0.000,1,7,1,0\n"
          "1767225601000,2026-01-01T00:00:01.000Z,0.1389,500.123,1,8,1,0\n"
          "1767225602000,2026-01-01T00:00:02.000Z,0.27");
    auto r = read_samples_csv(tmp.path / "samples.csv");
    REQUIRE(r);
    CHECK(r->partial_last_line);
    REQUIRE(r->items.size() == 2);
    CHECK(r->items[1].t.time_since_epoch().count() == 1767225601000);
    CHECK(r->items[1].total.ul == doctest::Approx(0.1389));
    CHECK(r->items[1].flow.ul_per_h == doctest::Approx(500.123));
    CHECK(r->items[1].counter == 8);
    CHECK(r->items[1].valid);
    CHECK_FALSE(r->items[1].stale);
}

TEST_CASE("a malformed line inside samples.csv is an error naming the file, line and field") {
    TempDir tmp;
    write(tmp.path / "samples.csv",
          "bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale\n"
          "1767225600000,2026-01-01T00:00:00.000Z,zero,0.000,1,7,1,0\n"
          "1767225601000,2026-01-01T00:00:01.000Z,0.1389,500.123,1,8,1,0\n");
    auto r = read_samples_csv(tmp.path / "samples.csv");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::BadInput);
    CHECK(r.error().message.find("samples.csv:2: total_ul: expected a number, got \"zero\"") != std::string::npos);
    CHECK_FALSE(parse_sample_line("1,2,3"));
    CHECK(parse_sample_line("1,2,3").error().message.find("expected 8 fields") != std::string::npos);
}

TEST_CASE("JSON lines files read back with a partial last line ignored, and a missing file is empty") {
    TempDir tmp;
    write(tmp.path / "events.jsonl",
          "{\"bench_ms\":1000,\"pump_t\":1.5,\"n\":1,\"type\":\"BOOT\",\"values\":{}}\n"
          "{\"bench_ms\":2000,\"pump_t\":2.5,\"n\":2,\"type\":\"ALARM\",\"values\":{\"code\":\"LOW_RES\"}}\n"
          "{\"bench_ms\":3000,\"pum");
    auto e = read_events(tmp.path / "events.jsonl");
    REQUIRE(e);
    CHECK(e->partial_last_line);
    REQUIRE(e->items.size() == 2);
    CHECK(e->items[1].values.at("code") == "LOW_RES");
    auto none = read_statuses(tmp.path / "statuses.jsonl");
    REQUIRE(none);
    CHECK(none->items.empty());
}

TEST_CASE("commands.jsonl accepts the recorder's keys and verify's keys") {
    TempDir tmp;
    write(tmp.path / "commands.jsonl",
          "{\"bench_ms\":1000,\"step\":\"started\",\"verb\":\"START\",\"expected\":\"OK\",\"answer\":\"OK\"}\n"
          "{\"bench_ms\":2000,\"step_label\":\"bolus\",\"verb\":\"BOLUS\",\"expected_answer\":\"ERR,code=LOCKOUT\",\"answer\":\"OK\"}\n");
    auto c = read_commands(tmp.path / "commands.jsonl");
    REQUIRE(c);
    REQUIRE(c->items.size() == 2);
    CHECK(c->items[0].step_label == "started");
    CHECK(c->items[0].expected_answer == "OK");
    CHECK(c->items[1].step_label == "bolus");
    CHECK(c->items[1].expected_answer == "ERR,code=LOCKOUT");
}

TEST_CASE("a broken line in the middle of a JSON lines file is an error with its line number") {
    TempDir tmp;
    write(tmp.path / "statuses.jsonl", "{\"bench_ms\":1}\nnot json\n");
    auto s = read_statuses(tmp.path / "statuses.jsonl");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("statuses.jsonl:1:") != std::string::npos);  // first line lacks keys
}

TEST_CASE("record.json must exist and be a JSON object") {
    TempDir tmp;
    auto missing = read_record(tmp.path / "record.json");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("no run record") != std::string::npos);
    write(tmp.path / "record.json", "[1,2]");
    CHECK_FALSE(read_record(tmp.path / "record.json"));
    write(tmp.path / "record.json", "{\"state\": \"RUNNING\"}");
    REQUIRE(read_record(tmp.path / "record.json"));
}

TEST_CASE("parse_iso_time reads what iso_time writes") {
    auto t = parse_iso_time("2026-01-01T08:00:00.250Z");
    REQUIRE(t);
    CHECK(t->time_since_epoch().count() == 1767225600000 + 8 * 3600'000 + 250);
    CHECK(parse_iso_time("2026-01-01T08:00:00Z")->time_since_epoch().count() == 1767225600000 + 8 * 3600'000);
    auto bad = parse_iso_time("noon");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("expected an ISO 8601 UTC time") != std::string::npos);
}

TEST_CASE("write_file_atomic replaces a file and leaves no temporary behind") {
    TempDir tmp;
    const auto f = tmp.path / "report.html";
    REQUIRE(write_file_atomic(f, "one"));
    REQUIRE(write_file_atomic(f, "two"));
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text == "two");
    CHECK_FALSE(fs::exists(tmp.path / "report.html.tmp"));
}
