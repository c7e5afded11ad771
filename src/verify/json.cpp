#include "verify/json.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace pumprig::verify {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const auto& number = record::json_number;
const auto& number_from = record::json_number_from;
const auto& time_ms = record::json_time_ms;
const auto& time_from = record::json_time_from;

}  // namespace

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

}  // namespace pumprig::verify
