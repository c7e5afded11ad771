#include "record/json.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <stdexcept>

namespace pumprig::record {

using nlohmann::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json number(double v) { return json_number(v); }
double number_from(const json& j, const char* key, double missing) { return json_number_from(j, key, missing); }
json time_ms(BenchTime t) { return json_time_ms(t); }
BenchTime time_from(const json& j, const char* key) { return json_time_from(j, key); }
std::optional<BenchTime> opt_time(const json& j, const char* key) {
    if (!j.contains(key) || !j.at(key).is_number()) return std::nullopt;
    return BenchTime{Millis{j.at(key).get<Millis::rep>()}};
}
std::optional<Millis> opt_ms(const json& j, const char* key) {
    if (!j.contains(key) || !j.at(key).is_number()) return std::nullopt;
    return Millis{j.at(key).get<Millis::rep>()};
}
template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}
json opt(const std::optional<BenchTime>& v) { return v ? time_ms(*v) : json(nullptr); }
json opt(const std::optional<Millis>& v) { return v ? json(v->count()) : json(nullptr); }

RunState state_from(const std::string& s) {
    if (s == "COMPLETE") return RunState::Complete;
    if (s == "INCOMPLETE") return RunState::Incomplete;
    if (s == "RUNNING") return RunState::Running;
    throw std::invalid_argument("state: expected RUNNING, COMPLETE or INCOMPLETE, got \"" + s + "\"");
}

}  // namespace

// JSON has no infinity or NaN: write null, and read null back as `missing`.
json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double json_number_from(const json& j, const char* key, double missing) {
    if (!j.contains(key) || j.at(key).is_null()) return missing;
    return j.at(key).get<double>();
}
json json_time_ms(BenchTime t) { return t.time_since_epoch().count(); }
BenchTime json_time_from(const json& j, const char* key) { return BenchTime{Millis{j.at(key).get<Millis::rep>()}}; }

const char* to_string(RunState s) {
    switch (s) {
        case RunState::Running: return "RUNNING";
        case RunState::Complete: return "COMPLETE";
        case RunState::Incomplete: return "INCOMPLETE";
    }
    return "RUNNING";
}

std::string iso_time(BenchTime t) {
    const auto ms = t.time_since_epoch().count();
    std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const long long frac = ((ms % 1000) + 1000) % 1000;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, frac);
    return buf;
}

Result<BenchTime> parse_iso_time(std::string_view text) {
    std::tm tm{};
    int ms = 0;
    const std::string s(text);
    char z = 0;
    const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                              &tm.tm_sec, &ms, &z);
    if (n < 6) return fail(ErrorKind::BadInput, "expected an ISO 8601 UTC time like 2026-01-01T08:00:00.000Z, got \"" + s + "\"");
    if (n < 7) ms = 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t secs = timegm(&tm);
    return BenchTime{Millis{static_cast<long long>(secs) * 1000 + ms}};
}

void to_json(json& j, Verdict v) { j = to_string(v); }
void from_json(const json& j, Verdict& v) {
    const auto text = j.get<std::string>();
    auto parsed = verdict_from_string(text);
    if (!parsed) throw std::invalid_argument("verdict: expected PASS, FAIL or INCONCLUSIVE, got \"" + text + "\"");
    v = *parsed;
}

void to_json(json& j, Outcome o) { j = to_string(o); }
void from_json(const json& j, Outcome& o) {
    const auto text = j.get<std::string>();
    auto parsed = outcome_from_string(text);
    if (!parsed) throw std::invalid_argument("outcome: expected PASS, FAIL, INCONCLUSIVE, ERROR or ABORTED, got \"" + text + "\"");
    o = *parsed;
}

void to_json(json& j, const CheckResult& r) {
    j = json{{"id", r.id},
             {"name", r.name},
             {"kind", r.kind},
             {"measured", number(r.measured)},
             {"expected", number(r.expected)},
             {"unit", r.unit},
             {"lower", number(r.lower)},
             {"upper", number(r.upper)},
             {"tolerance", r.tolerance},
             {"tolerance_source", r.tolerance_source},
             {"verdict", r.verdict},
             {"requirements", r.requirements},
             {"detail", r.detail},
             {"window_start_ms", time_ms(r.window_start)},
             {"window_end_ms", time_ms(r.window_end)}};
}
void from_json(const json& j, CheckResult& r) {
    r.id = j.at("id").get<std::string>();
    r.name = j.value("name", "");
    r.kind = j.value("kind", "");
    r.measured = number_from(j, "measured", kNaN);
    r.expected = number_from(j, "expected", kNaN);
    r.unit = j.value("unit", "");
    r.lower = number_from(j, "lower", -kInf);
    r.upper = number_from(j, "upper", kInf);
    r.tolerance = j.value("tolerance", "");
    r.tolerance_source = j.value("tolerance_source", "");
    r.verdict = j.at("verdict").get<Verdict>();
    r.requirements = j.value("requirements", std::vector<std::string>{});
    r.detail = j.value("detail", "");
    r.window_start = time_from(j, "window_start_ms");
    r.window_end = time_from(j, "window_end_ms");
}

void to_json(json& j, const RunSummary& s) {
    j = json{{"pass", s.pass}, {"fail", s.fail}, {"inconclusive", s.inconclusive}, {"overall", s.overall}};
}
void from_json(const json& j, RunSummary& s) {
    s.pass = j.at("pass").get<std::size_t>();
    s.fail = j.at("fail").get<std::size_t>();
    s.inconclusive = j.at("inconclusive").get<std::size_t>();
    // Records of schema 0 counted without the overall verdict.
    s.overall = j.contains("overall") ? j.at("overall").get<Verdict>() : Verdict::Inconclusive;
}

void to_json(json& j, const PumpEventRecord& e) {
    j = json{{"bench_ms", time_ms(e.bench_t)}, {"pump_t", e.pump_t}, {"n", e.n}, {"type", e.type}, {"values", e.values}};
}
void from_json(const json& j, PumpEventRecord& e) {
    e.bench_t = time_from(j, "bench_ms");
    e.pump_t = j.at("pump_t").get<double>();
    e.n = j.at("n").get<std::uint32_t>();
    e.type = j.at("type").get<std::string>();
    e.values = j.value("values", std::map<std::string, std::string>{});
}

void to_json(json& j, const PumpStatusRecord& s) {
    j = json{{"bench_ms", time_ms(s.bench_t)}, {"pump_t", s.pump_t}, {"state", s.state}, {"res_ml", s.res_ml},
             {"conc_ug_ml", s.conc_ug_ml}, {"rate_ml_day", s.rate_ml_day}, {"deliv_ml", s.deliv_ml}, {"step", s.step},
             {"batt_pct", s.batt_pct}, {"alarms", s.alarms}, {"bolus", s.bolus}};
}
void from_json(const json& j, PumpStatusRecord& s) {
    s.bench_t = time_from(j, "bench_ms");
    s.pump_t = j.at("pump_t").get<double>();
    s.state = j.at("state").get<std::string>();
    s.res_ml = j.at("res_ml").get<double>();
    s.conc_ug_ml = j.at("conc_ug_ml").get<double>();
    s.rate_ml_day = j.at("rate_ml_day").get<double>();
    s.deliv_ml = j.at("deliv_ml").get<double>();
    s.step = j.at("step").get<int>();
    s.batt_pct = j.at("batt_pct").get<int>();
    s.alarms = j.value("alarms", std::vector<std::string>{});
    s.bolus = j.value("bolus", "NONE");
}

void to_json(json& j, const Answer& a) {
    j = json{{"kind", to_string(a.kind)}};
    if (a.kind == Answer::Kind::Error) j["code"] = a.code;
    if (!a.values.empty()) j["values"] = a.values;
}
void from_json(const json& j, Answer& a) {
    const auto kind = j.at("kind").get<std::string>();
    if (kind == "OK") a.kind = Answer::Kind::Ok;
    else if (kind == "ERR") a.kind = Answer::Kind::Error;
    else if (kind == "NONE") a.kind = Answer::Kind::None;
    else throw std::invalid_argument("answer kind: expected OK, ERR or NONE, got \"" + kind + "\"");
    a.code = a.kind == Answer::Kind::Error ? j.at("code").get<std::string>() : std::string();
    a.values = j.value("values", std::map<std::string, std::string>{});
}

void to_json(json& j, const CommandRecord& c) {
    j = json{{"bench_ms", time_ms(c.bench_t)}, {"step", c.step_label}, {"verb", c.verb},
             {"expected", c.expected ? json(*c.expected) : json(nullptr)}, {"answer", c.answer}};
}

CommandRecord command_from_json(const json& j, int schema_version) {
    CommandRecord c;
    c.bench_t = time_from(j, "bench_ms");
    c.verb = j.at("verb").get<std::string>();
    if (schema_version >= 1) {
        c.step_label = j.at("step").get<std::string>();
        if (!j.at("expected").is_null()) c.expected = j.at("expected").get<Answer>();
        c.answer = j.at("answer").get<Answer>();
        return c;
    }
    // pumprig 0.1.0: the recorder's keys (step, expected) or verify's (step_label,
    // expected_answer), answers as ICD text, "" for none expected.
    c.step_label = j.contains("step") ? j.at("step").get<std::string>() : j.value("step_label", "");
    const std::string expected = j.contains("expected") ? j.at("expected").get<std::string>() : j.value("expected_answer", "");
    if (!expected.empty()) c.expected = Answer::parse(expected);
    c.answer = Answer::parse(j.value("answer", ""));
    return c;
}

nlohmann::json to_json(const RunRecord& r) {
    json j;
    j["schema_version"] = r.schema_version;
    j["tool"] = {{"name", r.tool.name}, {"version", r.tool.version}};
    j["rig"] = {{"name", r.rig.name}, {"channel", r.rig.channel}, {"file", r.rig.file}, {"simulated", r.rig.simulated},
                {"virtual_time", r.rig.virtual_time}, {"pump_link", r.rig.pump_link}, {"meter_link", r.rig.meter_link}};
    j["identity"] = {{"pump", r.pump ? json{{"model", r.pump->model}, {"serial", r.pump->serial}, {"firmware", r.pump->firmware},
                                            {"proto", r.pump->proto}}
                                     : json(nullptr)},
                     {"meter", opt(r.meter)}};
    j["scenario"] = {{"name", r.scenario.name}, {"file", r.scenario.file}, {"sha256", r.scenario.sha256}, {"tags", r.scenario.tags},
                     {"requirements", r.scenario.requirements}};
    j["seed"] = r.seed;
    j["realtime_priority"] = r.realtime_priority ? json{{"requested", r.realtime_priority->requested},
                                                        {"active", r.realtime_priority->active},
                                                        {"detail", r.realtime_priority->detail}}
                                                 : json(nullptr);
    j["state"] = to_string(r.state);
    j["start"] = iso_time(r.start);
    j["start_ms"] = time_ms(r.start);
    if (r.end) {
        j["end"] = iso_time(*r.end);
        j["end_ms"] = time_ms(*r.end);
    }
    j["initial_pump_offset_ms"] = r.initial_pump_offset.count();
    j["pump_offset_ms"] = r.pump_offset.count();
    j["line_tau_ms"] = r.line_tau.count();
    j["line_tau_uncertainty"] = r.line_tau_uncertainty;
    if (r.simulated_unit) {
        json unit = json::object();
        for (const auto& [name, value] : *r.simulated_unit) unit[name] = number(value);
        j["simulated_unit"] = unit;
    }
    json steps = json::array();
    for (const auto& s : r.steps)
        steps.push_back({{"index", s.index}, {"do", s.action}, {"label", s.label}, {"at_ms", opt(s.at)}, {"answer", opt(s.answer)},
                         {"pump_offset_ms", opt(s.pump_offset)}});
    j["steps"] = steps;
    json gaps = json::array();
    for (const auto& g : r.gaps) {
        json gj = {{"from_ms", time_ms(g.from)}, {"reason", g.reason}};
        if (g.to) gj["to_ms"] = time_ms(*g.to);
        if (g.recovered) gj["recovered"] = *g.recovered;
        if (g.program_unchanged) gj["program_unchanged"] = *g.program_unchanged;
        gaps.push_back(gj);
    }
    j["gaps"] = gaps;
    if (r.max_sample_gap) j["max_sample_gap_ms"] = r.max_sample_gap->count();
    if (r.horizon) j["horizon_ms"] = time_ms(*r.horizon);
    if (r.outcome) j["outcome"] = *r.outcome;
    if (!r.error.empty()) j["error"] = r.error;
    if (r.initial_state)
        j["initial_state"] = {{"state", r.initial_state->state.empty() ? json(nullptr) : json(r.initial_state->state)},
                              {"stop_sent", r.initial_state->stop_sent}, {"confirmed_stopped", r.initial_state->confirmed_stopped},
                              {"settled_ms", r.initial_state->settled.count()}, {"detail", r.initial_state->detail}};
    if (r.safe_stop) {
        j["safe_stop"] = {{"attempted", r.safe_stop->attempted}, {"stop_answered", r.safe_stop->stop_answered},
                          {"confirmed_stopped", r.safe_stop->confirmed_stopped}, {"detail", r.safe_stop->detail}};
        if (!r.safe_stop->refusal.empty()) j["safe_stop"]["refusal"] = r.safe_stop->refusal;
    }
    if (r.links) {
        const auto& l = *r.links;
        j["links"] = {{"pump", {{"requests", l.requests}, {"retries", l.retries}, {"busy", l.busy}, {"crc_errors", l.crc_errors},
                                {"timeouts", l.timeouts}, {"events", l.events}, {"duplicate_events", l.duplicate_events},
                                {"discarded_lines", l.discarded_lines}}},
                      {"meter", {{"reads", l.meter_reads}, {"retries", l.meter_retries}, {"errors", l.meter_errors}}}};
    }
    if (r.judged) {
        j["summary"] = summarise(r.checks);
        j["checks"] = r.checks;
    }
    if (r.rebuilt)
        j["rebuilt"] = {{"by", r.rebuilt->by}, {"original_state", r.rebuilt->original_state},
                        {"tolerance_pct", opt(r.rebuilt->tolerance_pct)}, {"notes", r.rebuilt->notes}};
    return j;
}

Result<RunRecord> run_record_from_json(const json& j, std::string_view where) {
    const std::string file(where);
    if (!j.is_object()) return fail(ErrorKind::BadInput, file + ": expected a JSON object");
    RunRecord r;
    const char* at = "";
    try {
        at = "/schema_version";
        r.schema_version = j.value("schema_version", 0);
        if (r.schema_version < 0 || r.schema_version > kSchemaVersion)
            return fail(ErrorKind::BadInput, file + ": /schema_version: expected 0 to " + std::to_string(kSchemaVersion) + ", got " +
                                                 std::to_string(r.schema_version) + " (written by a newer pumprig?)");
        const json none = json::object();
        at = "/tool";
        const json& tool = j.contains("tool") ? j.at("tool") : none;
        r.tool.name = tool.value("name", "pumprig");
        r.tool.version = tool.value("version", "");
        at = "/rig";
        const json& rig = j.contains("rig") ? j.at("rig") : none;
        r.rig.name = rig.value("name", "");
        r.rig.channel = rig.value("channel", "");
        r.rig.file = rig.value("file", "");
        r.rig.simulated = rig.value("simulated", false);
        r.rig.virtual_time = rig.value("virtual_time", false);
        r.rig.pump_link = rig.value("pump_link", "");
        r.rig.meter_link = rig.value("meter_link", "");
        at = "/identity";
        if (j.contains("identity") && j.at("identity").is_object()) {
            const json& id = j.at("identity");
            if (id.contains("pump") && id.at("pump").is_object()) {
                const json& p = id.at("pump");
                r.pump = PumpIdentity{p.value("model", ""), p.value("serial", ""), p.value("firmware", ""), p.value("proto", std::uint32_t{0})};
            }
            if (id.contains("meter") && id.at("meter").is_string()) r.meter = id.at("meter").get<std::string>();
        }
        at = "/scenario";
        const json& sc = j.contains("scenario") ? j.at("scenario") : none;
        r.scenario.name = sc.value("name", "");
        r.scenario.file = sc.value("file", "");
        r.scenario.sha256 = sc.value("sha256", "");
        r.scenario.tags = sc.value("tags", std::vector<std::string>{});
        r.scenario.requirements = sc.value("requirements", std::vector<std::string>{});
        at = "/seed";
        r.seed = j.value("seed", std::uint64_t{0});
        at = "/realtime_priority";
        if (j.contains("realtime_priority") && j.at("realtime_priority").is_object()) {
            const json& rt = j.at("realtime_priority");
            r.realtime_priority = RealtimeInfo{rt.value("requested", 0), rt.value("active", false), rt.value("detail", "")};
        }
        at = "/state";
        r.state = state_from(j.value("state", std::string("RUNNING")));
        at = "/start_ms";
        if (auto t = opt_time(j, "start_ms")) {
            r.start = *t;
        } else {
            at = "/start";
            auto t2 = parse_iso_time(j.value("start", ""));
            if (!t2) return fail(ErrorKind::BadInput, file + ": /start: " + t2.error().message);
            r.start = *t2;
        }
        at = "/end_ms";
        r.end = opt_time(j, "end_ms");
        at = "/pump_offset_ms";
        r.pump_offset = opt_ms(j, "pump_offset_ms").value_or(Millis{0});
        at = "/initial_pump_offset_ms";
        r.initial_pump_offset = opt_ms(j, "initial_pump_offset_ms").value_or(Millis{0});
        at = "/line_tau_ms";
        r.line_tau = opt_ms(j, "line_tau_ms").value_or(Millis{0});
        at = "/line_tau_uncertainty";
        if (auto u = j.find("line_tau_uncertainty"); u != j.end() && u->is_number()) r.line_tau_uncertainty = u->get<double>();
        at = "/simulated_unit";
        if (auto u = j.find("simulated_unit"); u != j.end() && !u->is_null()) {
            if (!u->is_object()) throw std::invalid_argument("expected an object of numbers by parameter name");
            std::map<std::string, double> unit;
            for (const auto& [name, value] : u->items()) {
                if (!value.is_number()) throw std::invalid_argument(name + ": expected a number");
                unit[name] = value.get<double>();
            }
            r.simulated_unit = std::move(unit);
        }
        at = "/steps";
        if (j.contains("steps") && j.at("steps").is_array())
            for (const auto& s : j.at("steps")) {
                StepRecord st;
                st.index = s.value("index", std::size_t{0});
                st.action = s.value("do", "");
                st.label = s.value("label", "");
                st.at = opt_time(s, "at_ms");
                if (s.contains("answer") && s.at("answer").is_string()) st.answer = s.at("answer").get<std::string>();
                st.pump_offset = opt_ms(s, "pump_offset_ms");
                r.steps.push_back(std::move(st));
            }
        at = "/gaps";
        if (j.contains("gaps") && j.at("gaps").is_array())
            for (const auto& g : j.at("gaps")) {
                Gap gap;
                gap.from = time_from(g, "from_ms");
                gap.to = opt_time(g, "to_ms");
                gap.reason = g.value("reason", "");
                if (g.contains("recovered")) gap.recovered = g.at("recovered").get<bool>();
                if (g.contains("program_unchanged")) gap.program_unchanged = g.at("program_unchanged").get<bool>();
                r.gaps.push_back(std::move(gap));
            }
        at = "/max_sample_gap_ms";
        r.max_sample_gap = opt_ms(j, "max_sample_gap_ms");
        at = "/horizon_ms";
        r.horizon = opt_time(j, "horizon_ms");
        at = "/outcome";
        if (j.contains("outcome") && !j.at("outcome").is_null()) r.outcome = j.at("outcome").get<Outcome>();
        r.error = j.value("error", "");
        at = "/initial_state";
        if (j.contains("initial_state") && j.at("initial_state").is_object()) {
            const json& s = j.at("initial_state");
            InitialStateInfo i;
            if (s.contains("state") && s.at("state").is_string()) i.state = s.at("state").get<std::string>();
            i.stop_sent = s.value("stop_sent", false);
            i.confirmed_stopped = s.value("confirmed_stopped", false);
            i.settled = opt_ms(s, "settled_ms").value_or(Millis{0});
            i.detail = s.value("detail", "");
            r.initial_state = i;
        }
        at = "/safe_stop";
        if (j.contains("safe_stop") && j.at("safe_stop").is_object()) {
            const json& s = j.at("safe_stop");
            r.safe_stop = SafeStopInfo{s.value("attempted", false), s.value("stop_answered", false), s.value("confirmed_stopped", false),
                                       s.value("detail", ""), s.value("refusal", "")};
        }
        at = "/links";
        if (j.contains("links") && j.at("links").is_object()) {
            const json& p = j.at("links").contains("pump") ? j.at("links").at("pump") : none;
            const json& m = j.at("links").contains("meter") ? j.at("links").at("meter") : none;
            LinkCounters l;
            l.requests = p.value("requests", std::uint64_t{0});
            l.retries = p.value("retries", std::uint64_t{0});
            l.busy = p.value("busy", std::uint64_t{0});
            l.crc_errors = p.value("crc_errors", std::uint64_t{0});
            l.timeouts = p.value("timeouts", std::uint64_t{0});
            l.events = p.value("events", std::uint64_t{0});
            l.duplicate_events = p.value("duplicate_events", std::uint64_t{0});
            l.discarded_lines = p.value("discarded_lines", std::uint64_t{0});
            l.meter_reads = m.value("reads", std::uint64_t{0});
            l.meter_retries = m.value("retries", std::uint64_t{0});
            l.meter_errors = m.value("errors", std::uint64_t{0});
            r.links = l;
        }
        at = "/checks";
        if (j.contains("checks") && j.at("checks").is_array()) {
            r.checks = j.at("checks").get<std::vector<CheckResult>>();
            r.judged = true;
        }
        at = "/rebuilt";
        if (j.contains("rebuilt") && j.at("rebuilt").is_object()) {
            const json& b = j.at("rebuilt");
            RebuiltInfo info;
            info.by = b.value("by", "pumprig report");
            info.original_state = b.value("original_state", "");
            if (b.contains("tolerance_pct") && b.at("tolerance_pct").is_number()) info.tolerance_pct = b.at("tolerance_pct").get<double>();
            info.notes = b.value("notes", std::vector<std::string>{});
            r.rebuilt = info;
        }
    } catch (const std::exception& e) {
        return fail(ErrorKind::BadInput, file + ": " + at + ": " + e.what());
    }
    return r;
}

}  // namespace pumprig::record
