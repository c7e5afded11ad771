// The run record says what happened on the simulated bench, and nothing that did not:
// trace.log's `>` and `<` lines are bytes that crossed the pump link, even while the link
// probes hold back an EVACK (answered by pumprig) and send a BOLUS or PTM again; and record.json
// names the unit of the population the simulator played (`simulated_unit`).
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "peer_support.hpp"  // only_run_dir
#include "pump/codec/fields.hpp"
#include "pump/codec/frame.hpp"
#include "support/files.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace pumprig;
using namespace pumprig::test;
using pumprig::peertest::only_run_dir;

namespace {

// A simulated bench like rig/sim.json, with the unit's clock and stroke error pinned.
fs::path pinned_rig(const fs::path& dir) {
    const auto rig = dir / "sim-pinned.json";
    write_file(rig, R"({"name": "sim-pinned", "simulator": {"unit": {"clock_ppm": 37.5, "delivery_error_pct": -14.9}},
        "pump": {"key": {"test_key": true}}, "meter": {"link": "rtu", "profile": ")" + kSource + R"(/fixtures/meters/lf-2000.json"}})");
    return rig;
}

// trace.log's escapes undone (\r \n \\ \xNN).
std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 >= text.size()) {
            out += text[i];
            continue;
        }
        const char c = text[++i];
        if (c == 'r') out += '\r';
        else if (c == 'n') out += '\n';
        else if (c == 'x' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else out += c;
    }
    return out;
}

// One pump frame as the trace shows it, in the order the frames were completed.
struct TracedFrame {
    bool sent = false;  // > (to the pump) or < (from it)
    std::string seq, verb;  // verb: the request's, "EV" for an event, "" for a response
    std::string body;
    pump::codec::Fields fields;
};

struct ParsedTrace {
    std::vector<TracedFrame> frames;
    std::vector<std::string> notes;  // pump # ...
    std::vector<std::string> bad_lines;
};

ParsedTrace parse_trace(const std::string& text) {
    ParsedTrace t;
    pump::codec::FrameDecoder to_pump, from_pump;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        // TIME LINK MARK TEXT
        const auto a = line.find(' '), b = line.find(' ', a + 1);
        if (a == std::string::npos || b == std::string::npos || b + 2 > line.size()) {
            t.bad_lines.push_back(line);
            continue;
        }
        const std::string link = line.substr(a + 1, b - a - 1), mark = line.substr(b + 1, 1);
        const std::string rest = b + 3 <= line.size() ? line.substr(b + 3) : "";
        if (link != "pump") continue;
        if (mark == "#") {
            t.notes.push_back(rest);
            continue;
        }
        if (mark != ">" && mark != "<") {
            t.bad_lines.push_back(line);
            continue;
        }
        auto& dec = mark == ">" ? to_pump : from_pump;
        dec.feed(unescape(rest));
        while (auto l = dec.next()) {
            // The AUTH frame keeps the CRC of the mac as sent: with the mac redacted it does not match.
            const bool redacted = l->raw.find("mac=<redacted>*") != std::string::npos;
            if (l->status != pump::codec::DecodedLine::Status::Ok && !redacted) continue;
            if (redacted) l->body = l->raw.substr(1, l->raw.rfind('*') - 1);
            auto f = pump::codec::split_fields(l->body);
            if (!f) continue;
            TracedFrame fr;
            fr.sent = mark == ">";
            fr.body = l->body;
            if (!f->leading.empty()) fr.seq = f->leading[0];
            if (fr.seq == "EV") {
                fr.verb = "EV";
                fr.seq.clear();
            } else if (fr.sent && f->leading.size() > 1) {
                fr.verb = f->leading[1];
            }
            fr.fields = std::move(*f);
            t.frames.push_back(std::move(fr));
        }
    }
    return t;
}

std::string field(const TracedFrame& f, std::string_view key) { return std::string(f.fields.get(key).value_or("")); }

}  // namespace

TEST_CASE("honest trace: the probed run's trace.log holds only frames that crossed the pump link, the probes' acts as notes") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    auto r = run_command({kPumprig, "run", "--out", out.string(), kSource + "/scenarios/functions/retry-and-resend.json"},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto dir = only_run_dir(out);
    const auto trace = parse_trace(read_file(dir / "trace.log"));
    CHECK(trace.bad_lines.empty());
    REQUIRE(trace.frames.size() > 20);

    // Every answer of the pump answers a request the pump got: as many answers with a SEQ as
    // requests sent with it (the pump answers each, a repeat included), never an answer more.
    std::map<std::string, int> requests, answers;
    for (const auto& f : trace.frames) {
        if (f.sent) ++requests[f.seq];
        else if (f.verb.empty()) ++answers[f.seq];
    }
    for (const auto& [seq, n] : answers) {
        CAPTURE(seq);
        CHECK(n <= requests[seq]);
    }

    // The retry probe: the clinician bolus and the PTM each went out twice, byte for byte.
    std::map<std::string, int> sent_bodies;
    for (const auto& f : trace.frames)
        if (f.sent && (f.verb == "BOLUS" || f.verb == "PTM")) ++sent_bodies[f.body];
    REQUIRE(sent_bodies.size() == 2);
    for (const auto& [body, n] : sent_bodies) {
        CAPTURE(body);
        CHECK(n == 2);
    }

    // The resend probe: an event came twice; no EVACK for it went out in between (a pump that
    // got one would not send the event again), and one did after.
    std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> event_at;  // (n, t) -> frame indices
    for (std::size_t i = 0; i < trace.frames.size(); ++i)
        if (!trace.frames[i].sent && trace.frames[i].verb == "EV") event_at[{field(trace.frames[i], "n"), field(trace.frames[i], "t")}].push_back(i);
    std::vector<std::string> resent;
    for (const auto& [event, at] : event_at) {
        if (at.size() < 2) continue;
        resent.push_back(event.first);
        CAPTURE(event.first);
        bool acked_between = false, acked_after = false;
        for (std::size_t i = 0; i < trace.frames.size(); ++i) {
            const auto& f = trace.frames[i];
            if (!f.sent || f.verb != "EVACK" || field(f, "n") != event.first) continue;
            if (i > at[0] && i < at[1]) acked_between = true;
            if (i > at[1]) acked_after = true;
        }
        CHECK_FALSE(acked_between);
        CHECK(acked_after);
    }
    REQUIRE(resent.size() == 1);

    // What the probes did is told as notes, naming the held EVACK's event.
    std::size_t held = 0, retried = 0;
    for (const auto& n : trace.notes) {
        held += n.starts_with("probe.resend: EVACK n=" + resent[0] + " ") && n.find("held back") != std::string::npos;
        retried += n.starts_with("probe.retry: ") && n.find("sent again") != std::string::npos;
    }
    CHECK(held == 1);
    CHECK(retried == 2);

    // The probes' verdicts are unchanged.
    const auto record = nlohmann::json::parse(read_file(dir / "record.json"));
    CHECK(record["outcome"] == "PASS");
}

TEST_CASE("honest trace: a run on a simulated bench records the unit played, pins included, and the record stays valid") {
    TempDir tmp;
    const auto out = tmp.path / "runs";
    auto r = run_command({kPumprig, "run", "--rig", pinned_rig(tmp.path).string(), "--out", out.string(),
                          kSource + "/scenarios/functions/retry-and-resend.json"},
                         std::chrono::seconds(300));
    INFO(r.err);
    REQUIRE(r.exit_code <= 1);  // a unit pinned at the edge may fail: what matters is the record
    const auto dir = only_run_dir(out);
    const auto record = nlohmann::json::parse(read_file(dir / "record.json"));
    REQUIRE(record.contains("simulated_unit"));
    const auto& unit = record["simulated_unit"];
    CHECK(unit["clock_ppm"] == 37.5);
    CHECK(unit["delivery_error_pct"] == -14.9);
    // Every parameter of the population, each a number; the unpinned ones drawn.
    CHECK(unit.size() == 9);
    for (const auto& [name, value] : unit.items()) {
        CAPTURE(name);
        CHECK(value.is_number());
    }
    CHECK(unit["reset_duration_ms"].get<double>() >= 200);
    // The same as the simulator says it plays for that seed and serial (--show-unit).
    auto shown = run_command({kSim, "--seed", std::to_string(record["seed"].get<long long>()), "--unit", "clock_ppm=37.5", "--unit",
                              "delivery_error_pct=-14.9", "--show-unit"},
                             std::chrono::seconds(30));
    REQUIRE(shown.exit_code == 0);
    INFO(shown.out);
    std::map<std::string, double> played;  // "unit.1 seed=S serial=SN name=value ..."
    std::istringstream words(shown.out.substr(0, shown.out.find('\n')));
    for (std::string word; words >> word;)
        if (const auto eq = word.find('='); eq != std::string::npos && word.substr(0, eq) != "seed" && word.substr(0, eq) != "serial")
            played[word.substr(0, eq)] = std::stod(word.substr(eq + 1));
    CHECK(played.size() == unit.size());
    for (const auto& [name, value] : unit.items()) {
        CAPTURE(name);
        CHECK(played[name] == value.get<double>());
    }
    // In the report's header, and valid against the schema.
    const auto html = read_file(dir / "report.html");
    CHECK(html.find("id=\"simulated-unit\"") != std::string::npos);
    CHECK(html.find("clock_ppm") != std::string::npos);
    auto check = run_command({kPython, kSource + "/tools/check_record.py", dir.string(), kSource + "/docs/record.schema.json"},
                             std::chrono::seconds(120));
    INFO(check.out);
    CHECK(check.exit_code == 0);
}
