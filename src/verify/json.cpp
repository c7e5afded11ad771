#include "verify/json.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace pumprig::verify {

using nlohmann::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON has no infinity or NaN: write null, and read null back as `missing`.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_from(const json& j, const char* key, double missing) {
    if (!j.contains(key) || j.at(key).is_null()) return missing;
    return j.at(key).get<double>();
}

json time_ms(BenchTime t) { return t.time_since_epoch().count(); }
BenchTime time_from(const json& j, const char* key) {
    return BenchTime{Millis{j.at(key).get<Millis::rep>()}};
}

}  // namespace

void to_json(json& j, Verdict v) { j = to_string(v); }
void from_json(const json& j, Verdict& v) {
    const auto text = j.get<std::string>();
    auto parsed = verdict_from_string(text);
    if (!parsed)
        throw std::invalid_argument("verdict: expected PASS, FAIL or INCONCLUSIVE, got \"" + text + "\"");
    v = *parsed;
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
    s.overall = j.at("overall").get<Verdict>();
}

void to_json(json& j, const FlowPoint& p) {
    j = json{{"t_min", p.t_min}, {"flow_ul_h", number(p.flow_ul_h)}, {"valid", p.valid}};
}
void from_json(const json& j, FlowPoint& p) {
    p.t_min = j.at("t_min").get<double>();
    p.flow_ul_h = number_from(j, "flow_ul_h", kNaN);
    p.valid = j.value("valid", true);
}

void to_json(json& j, const TrumpetPoint& p) {
    j = json{{"window_min", p.window_min},
             {"ep_max_pct", number(p.ep_max_pct)},
             {"ep_min_pct", number(p.ep_min_pct)},
             {"window_count", p.window_count}};
}
void from_json(const json& j, TrumpetPoint& p) {
    p.window_min = j.at("window_min").get<double>();
    p.ep_max_pct = number_from(j, "ep_max_pct", kNaN);
    p.ep_min_pct = number_from(j, "ep_min_pct", kNaN);
    p.window_count = j.value("window_count", std::size_t{0});
}

void to_json(json& j, const IecAnalysis& a) {
    j = json{{"start_ms", time_ms(a.start)},
             {"set_rate_ul_h", a.set_rate.ul_per_h},
             {"sample_interval_ms", a.sample_interval.count()},
             {"startup", a.startup},
             {"analysis", a.analysis},
             {"mean_flow_ul_h", number(a.mean_flow_ul_h)},
             {"mean_error_pct", number(a.mean_error_pct)},
             {"trumpet", a.trumpet},
             {"complete", a.complete},
             {"checks", a.checks}};
}
void from_json(const json& j, IecAnalysis& a) {
    a.start = time_from(j, "start_ms");
    a.set_rate = FlowRate{j.at("set_rate_ul_h").get<double>()};
    a.sample_interval = Millis{j.at("sample_interval_ms").get<Millis::rep>()};
    a.startup = j.value("startup", std::vector<FlowPoint>{});
    a.analysis = j.value("analysis", std::vector<FlowPoint>{});
    a.mean_flow_ul_h = number_from(j, "mean_flow_ul_h", kNaN);
    a.mean_error_pct = number_from(j, "mean_error_pct", kNaN);
    a.trumpet = j.value("trumpet", std::vector<TrumpetPoint>{});
    a.complete = j.value("complete", false);
    a.checks = j.value("checks", std::vector<CheckResult>{});
}

void to_json(json& j, const PumpEventRecord& e) {
    j = json{{"bench_ms", time_ms(e.bench_t)}, {"pump_t", e.pump_t}, {"n", e.n},
             {"type", e.type}, {"values", e.values}};
}
void from_json(const json& j, PumpEventRecord& e) {
    e.bench_t = time_from(j, "bench_ms");
    e.pump_t = j.at("pump_t").get<double>();
    e.n = j.at("n").get<std::uint32_t>();
    e.type = j.at("type").get<std::string>();
    e.values = j.value("values", std::map<std::string, std::string>{});
}

void to_json(json& j, const PumpStatusRecord& s) {
    j = json{{"bench_ms", time_ms(s.bench_t)}, {"pump_t", s.pump_t}, {"state", s.state},
             {"res_ml", s.res_ml}, {"conc_ug_ml", s.conc_ug_ml}, {"rate_ml_day", s.rate_ml_day},
             {"deliv_ml", s.deliv_ml}, {"step", s.step}, {"batt_pct", s.batt_pct},
             {"alarms", s.alarms}, {"bolus", s.bolus}};
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

void to_json(json& j, const CommandRecord& c) {
    j = json{{"bench_ms", time_ms(c.bench_t)}, {"step_label", c.step_label}, {"verb", c.verb},
             {"expected_answer", c.expected_answer}, {"answer", c.answer}};
}
void from_json(const json& j, CommandRecord& c) {
    c.bench_t = time_from(j, "bench_ms");
    c.step_label = j.value("step_label", "");
    c.verb = j.at("verb").get<std::string>();
    c.expected_answer = j.value("expected_answer", "");
    c.answer = j.value("answer", "");
}

}  // namespace pumprig::verify
