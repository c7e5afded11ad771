#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "record/folder.hpp"
#include "record/json.hpp"
#include "record/recorder.hpp"
#include "support/files.hpp"

using namespace pumprig;
using namespace pumprig::record;
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

TEST_CASE("commands.jsonl of pumprig 0.1.0 (schema 0) reads with both spellings and answers as text") {
    TempDir tmp;
    write(tmp.path / "commands.jsonl",
          "{\"bench_ms\":1000,\"step\":\"started\",\"verb\":\"START\",\"expected\":\"OK\",\"answer\":\"OK\"}\n"
          "{\"bench_ms\":2000,\"step_label\":\"bolus\",\"verb\":\"BOLUS\",\"expected_answer\":\"ERR,code=LOCKOUT\",\"answer\":\"OK\"}\n"
          "{\"bench_ms\":3000,\"step\":\"stop\",\"verb\":\"STOP\",\"expected\":\"OK\",\"answer\":\"ERR,code=NO_ANSWER\"}\n");
    auto c = read_commands(tmp.path / "commands.jsonl", 0);
    REQUIRE(c);
    REQUIRE(c->items.size() == 3);
    CHECK(c->items[0].step_label == "started");
    CHECK(c->items[0].expected == Answer::ok());
    CHECK(c->items[1].step_label == "bolus");
    CHECK(c->items[1].expected == Answer::error("LOCKOUT"));
    CHECK(c->items[2].answer == Answer::none());
    // Schema 1 has one spelling: the old one is an error naming the line.
    auto strict = read_commands(tmp.path / "commands.jsonl", 1);
    REQUIRE_FALSE(strict);
    CHECK(strict.error().message.find("commands.jsonl:1:") != std::string::npos);
}

TEST_CASE("a command record reads back as written, answers as values") {
    TempDir tmp;
    CommandRecord a{BenchTime{Millis{1000}}, "program", "PROG", Answer::ok(), Answer::ok()};
    a.answer.values["steps"] = "2";
    CommandRecord b{BenchTime{Millis{2000}}, "bolus", "BOLUS", Answer::error("LOCKOUT"), Answer::none()};
    CommandRecord c{BenchTime{Millis{3000}}, "probe", "probe.retry", std::nullopt, Answer::error("STATE")};
    write(tmp.path / "commands.jsonl", nlohmann::json(a).dump() + "\n" + nlohmann::json(b).dump() + "\n" + nlohmann::json(c).dump() + "\n");
    auto r = read_commands(tmp.path / "commands.jsonl", kSchemaVersion);
    REQUIRE(r);
    REQUIRE(r->items.size() == 3);
    CHECK(r->items[0].answer == a.answer);
    CHECK(r->items[0].answer.text() == "OK,steps=2");
    CHECK(r->items[1].expected == b.expected);
    CHECK(r->items[1].answer.kind == Answer::Kind::None);
    CHECK_FALSE(r->items[2].expected);
    CHECK(r->items[2].answer.text() == "ERR,code=STATE");
}

TEST_CASE("an answer's ICD text parses into the value it names") {
    CHECK(Answer::parse("12,OK,steps=2,daily_ug=333.3").values.at("daily_ug") == "333.3");
    CHECK(Answer::parse("OK") == Answer::ok());
    CHECK(Answer::parse("ERR,code=STATE,msg=not stopped").code == "STATE");
    CHECK(Answer::parse("") == Answer::none());
    CHECK(Answer::from_code("RANGE") == Answer::error("RANGE"));
    CHECK(Answer::from_code("NO_ANSWER").code_or_ok() == "NO_ANSWER");
}

TEST_CASE("a broken line in the middle of a JSON lines file is an error with its line number") {
    TempDir tmp;
    write(tmp.path / "statuses.jsonl", "{\"bench_ms\":1}\nnot json\n");
    auto s = read_statuses(tmp.path / "statuses.jsonl");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("statuses.jsonl:1:") != std::string::npos);  // first line lacks keys
}

TEST_CASE("record.json must exist, be a JSON object and a schema this pumprig knows") {
    TempDir tmp;
    auto missing = read_record(tmp.path / "record.json");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("no run record") != std::string::npos);
    write(tmp.path / "record.json", "[1,2]");
    CHECK_FALSE(read_record(tmp.path / "record.json"));
    write(tmp.path / "record.json", "{\"state\": \"RUNNING\", \"start\": \"2026-01-01T00:00:00.000Z\"}");
    auto old = read_record(tmp.path / "record.json");
    REQUIRE(old);
    CHECK(old->schema_version == 0);
    CHECK(old->state == RunState::Running);
    write(tmp.path / "record.json", "{\"schema_version\": 9, \"start_ms\": 0}");
    auto newer = read_record(tmp.path / "record.json");
    REQUIRE_FALSE(newer);
    CHECK(newer.error().message.find("/schema_version: expected 0 to 1, got 9") != std::string::npos);
    write(tmp.path / "record.json", "{\"schema_version\": 1, \"start_ms\": 0, \"state\": \"DONE\"}");
    auto bad = read_record(tmp.path / "record.json");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("record.json: /state: state: expected RUNNING, COMPLETE or INCOMPLETE") != std::string::npos);
}

TEST_CASE("a run record reads back as written") {
    RunRecord r;
    r.tool.version = "9.9.9";
    r.rig.name = "sim";
    r.pump = PumpIdentity{"ITB-40", "SIM0001", "2.4.1", 1};
    r.scenario.name = "continuous";
    r.seed = 7;
    r.state = RunState::Complete;
    r.start = BenchTime{Millis{1767225600000}};
    r.end = r.start + Millis{3600'000};
    r.initial_pump_offset = Millis{-5};
    r.pump_offset = Millis{1800'000};
    r.steps = {StepRecord{0, "set_clock", "clock", r.start, "OK", Millis{1800'000}}, StepRecord{1, "wait", "", std::nullopt, std::nullopt, std::nullopt}};
    r.gaps = {Gap{r.start + Millis{10}, r.start + Millis{20}, "link down", true, std::nullopt}};
    r.horizon = *r.end + Millis{1};
    r.outcome = Outcome::Error;
    r.error = "meter fault: meter.air";
    r.judged = true;
    r.checks = {CheckResult{}};
    r.checks[0].id = "volume.1";
    r.checks[0].tolerance_source = "pump ICD 9";
    r.safe_stop = SafeStopInfo{true, true, false, "gave up (51 attempts over 10.0 s)", "STOP answered OK but STATUS says state=RUNNING"};
    auto back = run_record_from_json(nlohmann::json::parse(to_json(r).dump()), "x");
    REQUIRE(back);
    CHECK(back->schema_version == kSchemaVersion);
    CHECK(back->tool.version == "9.9.9");
    CHECK(back->pump->serial == "SIM0001");
    CHECK(back->end == r.end);
    CHECK(back->initial_pump_offset == Millis{-5});
    CHECK(back->steps.size() == 2);
    CHECK(back->steps[0].pump_offset == Millis{1800'000});
    CHECK_FALSE(back->steps[1].at);
    CHECK(back->gaps[0].recovered == true);
    CHECK(back->horizon == r.horizon);
    CHECK(back->outcome == Outcome::Error);
    CHECK(back->checks.at(0).tolerance_source == "pump ICD 9");
    REQUIRE(back->safe_stop);
    CHECK(back->safe_stop->refusal == "STOP answered OK but STATUS says state=RUNNING");
    CHECK_FALSE(back->safe_stop->confirmed_stopped);
    // A pump that stopped has no refusal, and the record no such key.
    r.safe_stop = SafeStopInfo{true, true, true, "pump stopped (STATUS state=STOPPED)", ""};
    CHECK_FALSE(to_json(r)["safe_stop"].contains("refusal"));
}

TEST_CASE("a run cut short is read up to its horizon, steps after it not run") {
    TempDir tmp;
    auto rec = RunRecorder::create(tmp.path);
    REQUIRE(rec);
    const BenchTime t0{Millis{1767225600000}};
    RunRecord header;
    header.start = t0;
    header.steps = {StepRecord{0, "start", "", t0 + Millis{1000}, "OK", std::nullopt},
                    StepRecord{1, "stop", "", t0 + Millis{5000}, "OK", std::nullopt}};
    REQUIRE(rec->write_record(header));
    for (int k = 0; k < 8; ++k) {
        Sample s;
        s.t = t0 + Millis{1000 * k};
        rec->sample(s);
        if (k == 3) rec->commit(t0 + Millis{3000});
    }
    rec->command(CommandRecord{t0 + Millis{1000}, "start", "START", Answer::ok(), Answer::ok()});
    rec->command(CommandRecord{t0 + Millis{5000}, "stop", "STOP", Answer::ok(), Answer::ok()});
    // Killed here: the lines after the commit may be on disk (a buffer filled) or not; the
    // reader keeps what is stamped before the horizon.
    rec->commit(t0 + Millis{3000});
    auto f = read_run_folder(tmp.path);
    REQUIRE(f);
    REQUIRE(f->horizon);
    CHECK(*f->horizon == t0 + Millis{3000});
    CHECK(f->samples.size() == 3);  // 0, 1, 2 s
    REQUIRE(f->commands.size() == 1);
    CHECK(f->commands[0].verb == "START");
    CHECK(f->record.steps[0].at);
    CHECK_FALSE(f->record.steps[1].at);
    CHECK_FALSE(f->notes.empty());
}

TEST_CASE("a record whose run ended keeps all its data") {
    TempDir tmp;
    auto rec = RunRecorder::create(tmp.path);
    REQUIRE(rec);
    RunRecord header;
    header.state = RunState::Complete;
    header.start = BenchTime{Millis{0}};
    Sample s;
    s.t = BenchTime{Millis{5000}};
    rec->sample(s);
    rec->commit(BenchTime{Millis{1000}});
    header.horizon = BenchTime{Millis{1000}};
    REQUIRE(rec->write_record(header));
    auto f = read_run_folder(tmp.path);
    REQUIRE(f);
    CHECK(f->samples.size() == 1);
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
