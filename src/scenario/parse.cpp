// Scenario parsing and validation: JSON text -> Scenario, or every diagnostic found, each with
// file, line, column and JSON pointer (docs/scenarios.md).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"
#include "scenario/scenario.hpp"

namespace pumprig::scenario {
namespace {

using nlohmann::json;
using pumprig::pointer_child;

std::string describe_json(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
        case json::value_t::string: return "\"" + v.get<std::string>() + "\"";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return v.dump() + " (a number without unit)";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        default: return "a value of another kind";
    }
}

std::string join(const std::vector<std::string_view>& items) {
    std::string out;
    for (auto s : items) out += (out.empty() ? "" : ", ") + std::string(s);
    return out;
}

std::string fixed(double v, int decimals) {
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s.setf(std::ios::fixed);
    s.precision(decimals);
    s << v;
    return s.str();
}

// ICD section 10 codes a scenario may expect. CRC, SYNTAX, SEQ and BUSY belong to the link
// (the driver handles them), so a scenario cannot ask for them.
const std::vector<std::string_view> kExpectable{"OK", "ARG", "AUTH", "LOCKED", "UNKNOWN", "STATE",
                                                "RANGE", "LOCKOUT", "LIMIT"};
const std::vector<std::string_view> kEventTypes{"BOOT", "STATE", "STEP", "BOLUS_START",
                                                "BOLUS_END", "PRIME_END", "ALARM"};
const std::vector<std::string_view> kAlarmCodes{"LOW_RES", "EMPTY_RES", "ERI", "EOS", "MOTOR_STALL"};

bool valid_label(std::string_view s) {
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

class Parser {
public:
    Parser(std::string_view text, std::filesystem::path file, std::filesystem::path fixtures)
        : text_(text), file_(std::move(file)), fixtures_(std::move(fixtures)) {}

    ParseResult run() {
        // Syntax, a key written twice, a number beyond a double, nesting: the core reader.
        auto doc = read_json_text(text_);
        if (!doc) {
            const auto& p = doc.error();
            diags_.push_back({file_, p.at.line, p.at.column, p.pointer, p.message});
            return std::unexpected(std::move(diags_));
        }
        positions_ = &*doc;
        parse_document(doc->root());
        if (!diags_.empty()) return std::unexpected(std::move(diags_));
        return std::move(scenario_);
    }

private:
    // ------------------------------------------------------------------ diagnostics

    void error_at_value(const std::string& ptr, std::string msg) {
        const auto pos = positions_->value_at(ptr);
        diags_.push_back({file_, pos.line, pos.column, ptr, std::move(msg)});
    }
    void error_at_key(const std::string& ptr, std::string msg) {
        const auto pos = positions_->key_at(ptr);
        diags_.push_back({file_, pos.line, pos.column, ptr, std::move(msg)});
    }

    // ------------------------------------------------------------------ generic readers

    bool object(const json& v, const std::string& ptr, std::string_view what,
                const std::vector<std::string_view>& allowed) {
        if (!v.is_object()) {
            error_at_value(ptr, "expected " + std::string(what) + " (an object), got " + describe_json(v));
            return false;
        }
        for (const auto& [key, _] : v.items())
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
                error_at_key(pointer_child(ptr, key), "unknown key \"" + key + "\" in " +
                                                          std::string(what) + "; expected one of: " +
                                                          join(allowed));
        return true;
    }

    const json* member(const json& obj, const std::string& ptr, std::string_view key, bool required,
                       std::string_view expected) {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required)
                error_at_value(ptr, "missing \"" + std::string(key) + "\": expected " + std::string(expected));
            return nullptr;
        }
        return &*it;
    }

    template <class T>
    std::optional<T> quantity(const json& obj, const std::string& ptr, std::string_view key,
                              Result<T> (*parse)(std::string_view), bool required,
                              std::string_view expected) {
        const json* v = member(obj, ptr, key, required, expected);
        if (!v) return std::nullopt;
        const auto child = pointer_child(ptr, key);
        if (!v->is_string()) {
            error_at_value(child, "expected " + std::string(expected) + " written with its unit as a string, got " +
                                      describe_json(*v));
            return std::nullopt;
        }
        auto r = parse(v->get<std::string>());
        if (!r) {
            error_at_value(child, r.error().message);
            return std::nullopt;
        }
        return *r;
    }

    std::optional<std::string> string(const json& obj, const std::string& ptr, std::string_view key,
                                      bool required, std::string_view expected) {
        const json* v = member(obj, ptr, key, required, expected);
        if (!v) return std::nullopt;
        if (!v->is_string()) {
            error_at_value(pointer_child(ptr, key), "expected " + std::string(expected) + ", got " + describe_json(*v));
            return std::nullopt;
        }
        return v->get<std::string>();
    }

    std::optional<std::string> one_of(const json& obj, const std::string& ptr, std::string_view key,
                                      bool required, const std::vector<std::string_view>& allowed) {
        const std::string expected = "one of " + join(allowed);
        auto s = string(obj, ptr, key, required, expected);
        if (s && std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
            error_at_value(pointer_child(ptr, key), "expected " + expected + ", got \"" + *s + "\"");
            return std::nullopt;
        }
        return s;
    }

    std::vector<std::string> strings(const json& obj, const std::string& ptr, std::string_view key,
                                     std::string_view expected) {
        std::vector<std::string> out;
        const json* v = member(obj, ptr, key, false, expected);
        if (!v) return out;
        const auto child = pointer_child(ptr, key);
        if (!v->is_array()) {
            error_at_value(child, "expected " + std::string(expected) + " (an array of strings), got " + describe_json(*v));
            return out;
        }
        for (std::size_t i = 0; i < v->size(); ++i) {
            const json& item = (*v)[i];
            if (!item.is_string() || item.get<std::string>().empty())
                error_at_value(pointer_child(child, i), "expected a non-empty string, got " + describe_json(item));
            else
                out.push_back(item.get<std::string>());
        }
        return out;
    }

    std::optional<bool> boolean(const json& obj, const std::string& ptr, std::string_view key) {
        const json* v = member(obj, ptr, key, false, "true or false");
        if (!v) return std::nullopt;
        if (!v->is_boolean()) {
            error_at_value(pointer_child(ptr, key), "expected true or false, got " + describe_json(*v));
            return std::nullopt;
        }
        return v->get<bool>();
    }

    std::optional<int> whole(const json& obj, const std::string& ptr, std::string_view key,
                             bool required, IntRange range, std::string_view expected) {
        const json* v = member(obj, ptr, key, required, expected);
        if (!v) return std::nullopt;
        const auto child = pointer_child(ptr, key);
        if (!v->is_number_integer() || v->get<long long>() < range.min || v->get<long long>() > range.max) {
            error_at_value(child, "expected " + std::string(expected) + ", a whole number from " +
                                      std::to_string(range.min) + " to " + std::to_string(range.max) +
                                      ", got " + describe_json(*v));
            return std::nullopt;
        }
        return static_cast<int>(v->get<long long>());
    }

    // A duration the pump takes in whole minutes (dur_min, lockout_min).
    std::optional<Millis> minutes(const json& obj, const std::string& ptr, std::string_view key,
                                  IntRange range, bool& out_of_range) {
        auto d = quantity(obj, ptr, key, parse_duration, true, "a duration in whole minutes");
        if (!d) return std::nullopt;
        const auto child = pointer_child(ptr, key);
        if (d->count() % 60'000 != 0) {
            error_at_value(child, "expected a whole number of minutes (the pump takes minutes), got " +
                                      fixed(d->count() / 60'000.0, 3) + " min");
            return std::nullopt;
        }
        const int m = static_cast<int>(d->count() / 60'000);
        if (!range.contains(m)) {
            out_of_range = true;
            range_problem(child, "a duration of " + std::to_string(m) + " min is outside " +
                                     std::to_string(range.min) + " to " + std::to_string(range.max) + " min");
        }
        return d;
    }

    // ------------------------------------------------------------------ pump limits

    // Range problems of the step being parsed: reported unless it expects the refusal.
    void range_problem(const std::string& ptr, std::string msg) {
        pending_range_.push_back({ptr, std::move(msg)});
    }

    void flush_range_problems(const Step& step, std::string_view refusal = "RANGE") {
        // The pump answers the first broken rule in the ICD's order (ARG, STATE, RANGE, ...):
        // a step expecting ARG or STATE is refused before its limits are looked at.
        const bool refused_anyway = step.expect == refusal || step.expect == "ARG" || step.expect == "STATE";
        if (!refused_anyway)
            for (auto& [ptr, msg] : pending_range_)
                error_at_value(ptr, msg + "; the pump answers " + std::string(refusal) +
                                        " (write \"expect\": \"" + std::string(refusal) +
                                        "\" if the refusal is what the step tests)");
        pending_range_.clear();
    }

    std::string at_concentration(Concentration c) const {
        return " at " + fixed(c.ug_per_ml, 0) + " ug/mL";
    }

    // Basal rate of a schedule step against the profile.
    void check_basal(const ScheduleStep& s, Concentration c, const std::string& ptr) {
        const FlowRate r = to_flow_rate(s.dose, c);
        const auto& p = scenario_.pump;
        // Compared in the pump's printed resolution (mL/day, 3 decimals), with a margin far below
        // it so that 0.048 mL/day written as ug/day is not refused for a rounding error.
        constexpr double eps = 1e-9;
        if (r.ml_per_day() < p.basal_min.ml_per_day() - eps || r.ml_per_day() > p.basal_max.ml_per_day() + eps)
            range_problem(ptr, "basal rate " + fixed(s.dose.ug_per_day, 1) + " ug/day" + at_concentration(c) +
                                   " is " + fixed(r.ml_per_day(), 4) + " mL/day, outside the " + p.model +
                                   " range " + fixed(p.basal_min.ml_per_day(), 3) + " to " +
                                   fixed(p.basal_max.ml_per_day(), 3) + " mL/day");
    }

    void check_bolus_rate(Dose dose, Millis duration, Concentration c, const std::string& ptr) {
        const auto& p = scenario_.pump;
        const double ml = dose.ug / c.ug_per_ml;
        const double hours = duration.count() / 3'600'000.0;
        if (hours <= 0) return;
        if (ml / hours > p.bolus_max_rate.ml_per_h() + 1e-9)
            range_problem(ptr, "bolus of " + fixed(dose.ug, 1) + " ug" + at_concentration(c) + " over " +
                                   std::to_string(duration.count() / 60'000) + " min runs at " +
                                   fixed(ml / hours, 4) + " mL/h, above the " + p.model + " bolus rate of " +
                                   fixed(p.bolus_max_rate.ml_per_h(), 3) + " mL/h");
    }

    // The rates of a program at a concentration (PROG.COMMIT, or REFILL with a new one).
    void check_program_rates(const Program& prog, Concentration c, const std::string& ptr,
                             bool pointers_into_program) {
        for (std::size_t i = 0; i < prog.steps.size(); ++i)
            check_basal(prog.steps[i], c,
                        pointers_into_program ? pointer_child(pointer_child(ptr, "schedule"), i) + "/dose" : ptr);
        for (std::size_t i = 0; i < prog.boluses.size(); ++i)
            check_bolus_rate(prog.boluses[i].dose, prog.boluses[i].duration, c,
                             pointers_into_program ? pointer_child(pointer_child(ptr, "periodic_boluses"), i) + "/dose" : ptr);
        if (prog.patient_bolus)
            check_bolus_rate(prog.patient_bolus->dose, prog.patient_bolus->duration, c,
                             pointers_into_program ? ptr + "/patient_bolus/dose" : ptr);
    }

    bool concentration_in_profile(Concentration c, const std::string& ptr) {
        const auto& p = scenario_.pump;
        if (c.ug_per_ml != std::floor(c.ug_per_ml)) {
            error_at_value(ptr, "expected a whole number of ug/mL (the pump takes whole ug/mL), got " +
                                    fixed(c.ug_per_ml, 3) + " ug/mL");
            return false;
        }
        if (c < p.concentration_min || c > p.concentration_max) {
            range_problem(ptr, "concentration " + fixed(c.ug_per_ml, 0) + " ug/mL is outside the " + p.model +
                                   " range " + fixed(p.concentration_min.ug_per_ml, 0) + " to " +
                                   fixed(p.concentration_max.ug_per_ml, 0) + " ug/mL");
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ document

    void parse_document(const json& doc) {
        if (!object(doc, "", "a scenario",
                    {"$schema", "name", "description", "requirements", "tags", "pump_profile", "drug",
                     "concentration", "settings", "simulator", "steps", "checks"}))
            return;
        scenario_.file = file_;
        if (auto s = string(doc, "", "name", true, "the scenario's name (a string)")) {
            if (s->empty()) error_at_value("/name", "expected a non-empty name");
            scenario_.name = *s;
        }
        scenario_.description = string(doc, "", "description", false, "a string").value_or("");
        scenario_.requirements = strings(doc, "", "requirements", "requirement ids");
        scenario_.tags = strings(doc, "", "tags", "tags");
        scenario_.drug = string(doc, "", "drug", false, "the drug's name (a string)").value_or("");
        scenario_.concentration =
            quantity(doc, "", "concentration", parse_concentration, false, "a concentration such as \"500 ug/mL\"");

        bool have_profile = false;
        if (auto id = string(doc, "", "pump_profile", true, "a pump profile id such as \"itb-40\"")) {
            auto p = find_pump_profile(fixtures_, *id);
            if (!p) error_at_value("/pump_profile", p.error().message);
            else {
                scenario_.pump = *p;
                have_profile = true;
            }
        }
        if (const json* s = member(doc, "", "settings", false, "")) parse_settings(*s);
        if (const json* s = member(doc, "", "simulator", false, "")) parse_simulator(*s);

        // Labels first, so that checks may refer to any step.
        if (const json* steps = member(doc, "", "steps", true, "an array of steps")) {
            if (!steps->is_array() || steps->empty())
                error_at_value("/steps", "expected a non-empty array of steps, got " + describe_json(*steps));
            else if (have_profile)
                for (std::size_t i = 0; i < steps->size(); ++i) parse_step((*steps)[i], pointer_child("/steps", i));
        }
        if (const json* checks = member(doc, "", "checks", false, "")) {
            if (!checks->is_array())
                error_at_value("/checks", "expected an array of checks, got " + describe_json(*checks));
            else
                for (std::size_t i = 0; i < checks->size(); ++i) parse_check((*checks)[i], pointer_child("/checks", i));
        }
        add_default_checks();
    }

    // Preconditions only a simulated bench can set up (a real pump's battery cannot be drained
    // on demand); pumprig refuses to run such a scenario on a real bench.
    void parse_simulator(const json& s) {
        if (!object(s, "/simulator", "simulated-bench preconditions", {"battery_pct", "motor_stall_after"})) return;
        if (auto d = quantity(s, "/simulator", "motor_stall_after", parse_duration, false, "a duration such as \"30 min\"")) {
            if (d->count() < 0) error_at_value("/simulator/motor_stall_after", "expected a duration of 0 or more");
            else scenario_.simulator.motor_stall_after = *d;
        }
        if (s.contains("battery_pct")) {
            const json& v = s.at("battery_pct");
            if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 100)
                error_at_value("/simulator/battery_pct", "expected the battery charge at the start, a number 0 to 100, got " + describe_json(v));
            else
                scenario_.simulator.battery_pct = v.get<double>();
        }
    }

    void parse_settings(const json& s) {
        if (!object(s, "/settings", "settings", {"sample_period", "status_period", "start_time_of_day"})) return;
        if (auto d = quantity(s, "/settings", "sample_period", parse_duration, false, "a duration such as \"1 s\"")) {
            if (d->count() <= 0) error_at_value("/settings/sample_period", "expected a duration above 0");
            else scenario_.settings.sample_period = *d;
        }
        if (auto d = quantity(s, "/settings", "status_period", parse_duration, false, "a duration such as \"10 s\"")) {
            if (d->count() <= 0) error_at_value("/settings/status_period", "expected a duration above 0");
            else scenario_.settings.status_period = *d;
        }
        if (auto t = quantity(s, "/settings", "start_time_of_day", parse_time_of_day, false, "a time of day such as \"08:00\""))
            scenario_.settings.start_time_of_day = *t;
    }

    // ------------------------------------------------------------------ steps

    void parse_step(const json& v, const std::string& ptr) {
        if (!v.is_object()) {
            error_at_value(ptr, "expected a step (an object with \"do\"), got " + describe_json(v));
            return;
        }
        static const std::vector<std::string_view> kinds{
            "set_clock", "refill", "prime", "program", "start", "stop", "clinician_bolus", "cancel_bolus",
            "patient_bolus", "alarm_threshold", "reset", "wait", "read_program", "status"};
        auto kind = one_of(v, ptr, "do", true, kinds);
        if (!kind) return;
        Step step;
        step.pointer = ptr;
        step.line = positions_->value_at(ptr).line;
        const bool is_wait = *kind == "wait";
        std::vector<std::string_view> allowed{"do", "label", "note"};
        if (!is_wait) allowed.push_back("expect");

        if (auto label = string(v, ptr, "label", false, "a label (a string)")) {
            if (!valid_label(*label) || *label == "start" || *label == "end")
                error_at_value(ptr + "/label", "expected a label: a letter, then letters, digits, '_', '-' or '.', "
                                               "and not \"start\" or \"end\"; got \"" + *label + "\"");
            else if (!labels_.emplace(*label, scenario_.steps.size()).second)
                error_at_value(ptr + "/label", "label \"" + *label + "\" is used by an earlier step; expected a unique label");
            step.label = *label;
        }
        if (!is_wait) step.expect = one_of(v, ptr, "expect", false, kExpectable).value_or("OK");
        string(v, ptr, "note", false, "a note (a string)");

        auto extend = [&](std::initializer_list<std::string_view> keys) {
            allowed.insert(allowed.end(), keys.begin(), keys.end());
        };
        const auto& p = scenario_.pump;
        const std::size_t diags_before = diags_.size();
        if (*kind == "set_clock") {
            extend({"time_of_day"});
            SetClockStep s;
            s.time_of_day = quantity(v, ptr, "time_of_day", parse_time_of_day, false, "a time of day such as \"08:00\"");
            step.action = s;
        } else if (*kind == "refill") {
            extend({"volume", "concentration"});
            RefillStep s;
            auto vol = quantity(v, ptr, "volume", parse_volume, true, "a volume such as \"20 mL\"");
            auto conc = quantity(v, ptr, "concentration", parse_concentration, true, "a concentration such as \"500 ug/mL\"");
            if (vol) {
                s.volume = *vol;
                if (*vol > p.reservoir + Volume::from_ul(1e-6))
                    range_problem(ptr + "/volume", "refill of " + fixed(vol->ml(), 3) + " mL is more than the " +
                                                       p.model + " reservoir of " + fixed(p.reservoir.ml(), 3) + " mL");
            }
            bool conc_ok = false;
            if (conc) {
                s.concentration = *conc;
                conc_ok = concentration_in_profile(*conc, ptr + "/concentration");
                // The program in force must stay within limits at the new concentration.
                if (conc_ok && program_in_force_) check_program_rates(*program_in_force_, *conc, ptr + "/concentration", false);
            }
            step.action = s;
            if (vol && conc && step.expects_ok() && pending_range_.empty() && diags_.size() == diags_before) {
                concentration_in_force_ = *conc;
                reservoir_at_refill_ = *vol;
            }
        } else if (*kind == "prime") {
            extend({"volume"});
            PrimeStep s;
            if (auto vol = quantity(v, ptr, "volume", parse_volume, true, "a volume such as \"0.2 mL\"")) {
                s.volume = *vol;
                // The pump's limit is its estimate less 0.5 mL; the estimate is at most what the
                // last refill put in, so that bound is checked here and the rest at run time.
                if (*vol < p.prime_min)
                    range_problem(ptr + "/volume", "priming volume " + fixed(vol->ml(), 4) + " mL is below " +
                                                       fixed(p.prime_min.ml(), 3) + " mL");
                else if (reservoir_at_refill_ && *vol > *reservoir_at_refill_ - p.empty_res + Volume::from_ul(1e-6))
                    range_problem(ptr + "/volume", "priming volume " + fixed(vol->ml(), 3) +
                                                       " mL is more than the reservoir (" +
                                                       fixed(reservoir_at_refill_->ml(), 3) + " mL at the last refill) less " +
                                                       fixed(p.empty_res.ml(), 3) + " mL");
            }
            step.action = s;
        } else if (*kind == "program") {
            extend({"schedule", "periodic_boluses", "patient_bolus"});
            step.action = ProgramStep{parse_program(v, ptr, step)};
        } else if (*kind == "clinician_bolus") {
            extend({"dose", "duration"});
            ClinicianBolusStep s;
            bool out_of_range = false;
            auto dose = quantity(v, ptr, "dose", parse_dose, true, "a dose such as \"50 ug\"");
            auto dur = minutes(v, ptr, "duration", p.bolus_duration_min, out_of_range);
            if (dose) s.dose = *dose;
            if (dur) s.duration = *dur;
            if (dose && dur && !out_of_range && concentration_in_force_)
                check_bolus_rate(*dose, *dur, *concentration_in_force_, ptr + "/dose");
            step.action = s;
        } else if (*kind == "alarm_threshold") {
            extend({"low_reservoir"});
            AlarmThresholdStep s;
            if (auto vol = quantity(v, ptr, "low_reservoir", parse_volume, true, "a volume such as \"2 mL\"")) {
                s.low_reservoir = *vol;
                if (*vol < p.low_res_min - Volume::from_ul(1e-6) || *vol > p.low_res_max + Volume::from_ul(1e-6))
                    range_problem(ptr + "/low_reservoir", "low-reservoir threshold " + fixed(vol->ml(), 3) +
                                                              " mL is outside " + fixed(p.low_res_min.ml(), 1) +
                                                              " to " + fixed(p.low_res_max.ml(), 1) + " mL");
            }
            step.action = s;
        } else if (*kind == "wait") {
            extend({"for", "until", "until_event", "timeout"});
            step.action = parse_wait(v, ptr);
        } else if (*kind == "start") step.action = StartStep{};
        else if (*kind == "stop") step.action = StopStep{};
        else if (*kind == "cancel_bolus") step.action = CancelBolusStep{};
        else if (*kind == "patient_bolus") step.action = PatientBolusStep{};
        else if (*kind == "reset") step.action = ResetStep{};
        else if (*kind == "read_program") step.action = ReadProgramStep{};
        else if (*kind == "status") step.action = StatusStep{};

        object(v, ptr, "a \"" + *kind + "\" step", allowed);
        flush_range_problems(step);
        scenario_.steps.push_back(std::move(step));
    }

    Program parse_program(const json& v, const std::string& ptr, const Step& step) {
        const auto& p = scenario_.pump;
        Program prog;
        bool complete = true;  // every item parsed (so the whole can be checked)
        const std::size_t diags_before = diags_.size();
        if (const json* sched = member(v, ptr, "schedule", true, "an array of schedule steps")) {
            const auto sp = ptr + "/schedule";
            if (!sched->is_array() || sched->empty()) {
                // No step at all is a RANGE refusal at commit; an empty array is almost surely a slip.
                error_at_value(sp, "expected an array of 1 to " + std::to_string(p.max_steps) +
                                       " schedule steps ({\"start\": \"00:00\", \"dose\": \"250 ug/day\"}), got " +
                                       describe_json(*sched));
                complete = false;
            } else {
                if (static_cast<int>(sched->size()) > p.max_steps)
                    range_problem(sp, std::to_string(sched->size()) + " schedule steps, more than the " + p.model +
                                          " maximum of " + std::to_string(p.max_steps));
                for (std::size_t i = 0; i < sched->size(); ++i) {
                    const auto ip = pointer_child(sp, i);
                    const json& item = (*sched)[i];
                    if (!object(item, ip, "a schedule step", {"start", "dose"})) { complete = false; continue; }
                    auto start = quantity(item, ip, "start", parse_time_of_day, true, "a time of day such as \"08:00\"");
                    auto dose = quantity(item, ip, "dose", parse_dose_rate, true, "a dose rate such as \"250 ug/day\"");
                    if (!start || !dose) { complete = false; continue; }
                    if (i == 0 && start->minutes != 0)
                        range_problem(ip + "/start", "the first schedule step starts at " + format_time_of_day(*start) +
                                                         "; the pump requires 00:00");
                    if (i > 0 && !prog.steps.empty() && *start <= prog.steps.back().start)
                        range_problem(ip + "/start", "start " + format_time_of_day(*start) +
                                                         " does not come after the previous step's " +
                                                         format_time_of_day(prog.steps.back().start) +
                                                         "; starts must strictly increase");
                    prog.steps.push_back({*start, *dose});
                }
            }
        }
        if (const json* bol = member(v, ptr, "periodic_boluses", false, "")) {
            const auto bp = ptr + "/periodic_boluses";
            if (!bol->is_array()) {
                error_at_value(bp, "expected an array of periodic boluses, got " + describe_json(*bol));
                complete = false;
            } else {
                if (static_cast<int>(bol->size()) > p.max_boluses)
                    range_problem(bp, std::to_string(bol->size()) + " periodic boluses, more than the " + p.model +
                                          " maximum of " + std::to_string(p.max_boluses));
                for (std::size_t i = 0; i < bol->size(); ++i) {
                    const auto ip = pointer_child(bp, i);
                    const json& item = (*bol)[i];
                    if (!object(item, ip, "a periodic bolus", {"start", "dose", "duration"})) { complete = false; continue; }
                    bool out_of_range = false;
                    auto start = quantity(item, ip, "start", parse_time_of_day, true, "a time of day such as \"12:00\"");
                    auto dose = quantity(item, ip, "dose", parse_dose, true, "a dose such as \"50 ug\"");
                    auto dur = minutes(item, ip, "duration", p.bolus_duration_min, out_of_range);
                    if (!start || !dose || !dur) { complete = false; continue; }
                    prog.boluses.push_back({*start, *dose, *dur});
                }
            }
        }
        if (const json* ptm = member(v, ptr, "patient_bolus", false, "")) {
            const auto pp = ptr + "/patient_bolus";
            if (object(*ptm, pp, "patient bolus settings", {"dose", "duration", "lockout", "max_per_day"})) {
                bool out_of_range = false;
                auto dose = quantity(*ptm, pp, "dose", parse_dose, true, "a dose such as \"25 ug\"");
                auto dur = minutes(*ptm, pp, "duration", p.bolus_duration_min, out_of_range);
                auto lockout = minutes(*ptm, pp, "lockout", p.ptm_lockout_min, out_of_range);
                auto max_day = whole(*ptm, pp, "max_per_day", true, IntRange{1, 1000}, "the most patient boluses per 24 h");
                if (max_day && !p.ptm_max_per_day.contains(*max_day))
                    range_problem(pp + "/max_per_day", "max_per_day " + std::to_string(*max_day) + " is outside " +
                                                           std::to_string(p.ptm_max_per_day.min) + " to " +
                                                           std::to_string(p.ptm_max_per_day.max));
                if (dose && dur && lockout && max_day)
                    prog.patient_bolus = PatientBolusSettings{*dose, *dur, *lockout, *max_day};
                else
                    complete = false;
            } else {
                complete = false;
            }
        }
        if (complete && diags_.size() == diags_before) {
            if (!concentration_in_force_) {
                if (step.expect == "OK")
                    error_at_value(ptr, "no refill before this program: the pump answers STATE at PROG.COMMIT "
                                        "(it checks rates in mL/day, so a program needs a concentration); "
                                        "expected a refill step earlier, or \"expect\": \"STATE\"");
            } else {
                check_program_rates(prog, *concentration_in_force_, ptr, true);
            }
            if (step.expects_ok() && pending_range_.empty()) program_in_force_ = prog;
        }
        return prog;
    }

    EventMatch parse_event_match(const json& v, const std::string& ptr) {
        EventMatch m;
        if (!object(v, ptr, "an event", {"type", "code", "state", "kind", "step"})) return m;
        m.type = one_of(v, ptr, "type", true, kEventTypes).value_or("");
        if (v.contains("code")) m.code = one_of(v, ptr, "code", false, kAlarmCodes).value_or("");
        if (v.contains("state"))
            m.state = one_of(v, ptr, "state", false, {"SET", "CLEARED", "STOPPED", "RUNNING", "PRIMING", "SUSPENDED"}).value_or("");
        if (v.contains("kind")) m.kind = one_of(v, ptr, "kind", false, {"CLINICIAN", "PERIODIC", "PTM"}).value_or("");
        m.step = whole(v, ptr, "step", false, IntRange{1, scenario_.pump.max_steps}, "a schedule step number");
        return m;
    }

    WaitStep parse_wait(const json& v, const std::string& ptr) {
        WaitStep w;
        const int how = int(v.contains("for")) + int(v.contains("until")) + int(v.contains("until_event"));
        if (how != 1) {
            error_at_value(ptr, "expected exactly one of \"for\" (a duration), \"until\" (a time of day) or "
                                "\"until_event\" (an event) in a wait step, got " + std::to_string(how));
        }
        w.duration = quantity(v, ptr, "for", parse_duration, false, "a duration such as \"2 h 30 min\"");
        w.until = quantity(v, ptr, "until", parse_time_of_day, false, "a time of day such as \"08:00\"");
        if (const json* ev = member(v, ptr, "until_event", false, "")) {
            w.until_event = parse_event_match(*ev, ptr + "/until_event");
            if (auto t = quantity(v, ptr, "timeout", parse_duration, true, "a timeout duration such as \"10 min\" with until_event"))
                w.timeout = *t;
        } else if (v.contains("timeout")) {
            error_at_key(ptr + "/timeout", "\"timeout\" belongs with \"until_event\" only");
        }
        if (w.duration && w.duration->count() <= 0) error_at_value(ptr + "/for", "expected a duration above 0");
        // A single wait is bounded so that a typo ("100000 d") is an error, not a run that
        // never ends: 400 days is past any refill interval (1 to 3 months) and, in virtual
        // time, about an hour of wall time at 1 s sampling. Longer stretches take several waits.
        if (w.duration && *w.duration > kMaxWait)
            error_at_value(ptr + "/for", "expected a duration up to 400 d (split a longer stretch into several waits)");
        return w;
    }

    // ------------------------------------------------------------------ checks

    static constexpr Millis kMaxWait{400LL * 24 * 3600 * 1000};

    // A window whose end comes before its start measures nothing (or a negative volume): said
    // where it is written, for what can be ordered without running (labels by their steps'
    // order, offsets from the start, "end"). A label against an offset is left to the run.
    void window_order(const TimeRef& from, const TimeRef& to, const std::string& ptr, bool strictly_after) {
        using K = TimeRef::Kind;
        const std::string to_ptr = ptr + "/to";
        const char* want = strictly_after ? "expected a point after \"from\"" : "expected a point at or after \"from\"";
        if (from.kind == K::End && to.kind != K::End) {
            error_at_value(to_ptr, std::string(want) + " (\"from\" is \"end\")");
        } else if (from.kind == K::Label && to.kind == K::Label && labels_.count(from.label) && labels_.count(to.label)) {
            const auto a = labels_.at(from.label), b = labels_.at(to.label);
            if (b < a || (strictly_after && a == b))
                error_at_value(to_ptr, std::string(want) + ": step \"" + to.label + "\" is " + (a == b ? "the same step as" : "before") +
                                           " step \"" + from.label + "\"");
        } else if (from.kind == K::FromStart && to.kind == K::FromStart) {
            if (to.offset < from.offset || (strictly_after && to.offset == from.offset))
                error_at_value(to_ptr, std::string(want) + " (" + std::to_string(to.offset.count()) + " ms from the start is not after " +
                                           std::to_string(from.offset.count()) + " ms)");
        } else if (strictly_after && from.kind == K::End && to.kind == K::End) {
            error_at_value(to_ptr, std::string(want) + " (both are \"end\")");
        }
    }

    std::optional<TimeRef> time_ref(const json& obj, const std::string& ptr, std::string_view key) {
        const std::string expected =
            "a step label, a duration from the start such as \"2 h\", \"start\" or \"end\"";
        auto s = string(obj, ptr, key, false, expected);
        if (!s) return std::nullopt;
        if (*s == "start") return TimeRef{TimeRef::Kind::FromStart, Millis{0}, {}};
        if (*s == "end") return TimeRef{TimeRef::Kind::End, Millis{0}, {}};
        if (!s->empty() && std::isdigit(static_cast<unsigned char>((*s)[0]))) {
            auto d = parse_duration(*s);
            if (!d) {
                error_at_value(pointer_child(ptr, key), d.error().message);
                return std::nullopt;
            }
            return TimeRef{TimeRef::Kind::FromStart, *d, {}};
        }
        if (!labels_.contains(*s)) {
            error_at_value(pointer_child(ptr, key), "no step has the label \"" + *s + "\"; expected " + expected);
            return std::nullopt;
        }
        return TimeRef{TimeRef::Kind::Label, Millis{0}, *s};
    }

    Tolerance tolerance(const json& obj, const std::string& ptr) {
        Tolerance t;
        const json* v = member(obj, ptr, "tolerance", false, "");
        if (!v) return t;
        const auto tp = ptr + "/tolerance";
        if (!object(*v, tp, "a tolerance", {"percent", "absolute"})) return t;
        t.percent = quantity(*v, tp, "percent", parse_percent, false, "a percentage such as \"15 %\"");
        t.absolute = quantity(*v, tp, "absolute", parse_volume, false, "a volume such as \"2 uL\"");
        if (t.percent && t.percent->value < 0) error_at_value(tp + "/percent", "expected a percentage of 0 or more");
        return t;
    }

    void parse_check(const json& v, const std::string& ptr) {
        if (!v.is_object()) {
            error_at_value(ptr, "expected a check (an object with \"check\"), got " + describe_json(v));
            return;
        }
        auto kind = one_of(v, ptr, "check", true,
                           {"volume", "rate", "bolus", "event", "no_unexpected_alarms", "reservoir", "accuracy"});
        if (!kind) return;
        Check c;
        c.pointer = ptr;
        std::vector<std::string_view> allowed{"check", "name", "requirements", "enabled", "note"};
        c.name = string(v, ptr, "name", false, "a name (a string)").value_or("");
        string(v, ptr, "note", false, "a note (a string)");
        c.requirements = v.contains("requirements") ? strings(v, ptr, "requirements", "requirement ids")
                                                    : scenario_.requirements;
        c.enabled = boolean(v, ptr, "enabled").value_or(true);
        auto extend = [&](std::initializer_list<std::string_view> keys) {
            allowed.insert(allowed.end(), keys.begin(), keys.end());
        };
        if (*kind == "volume") {
            extend({"from", "to", "tolerance"});
            VolumeCheck s;
            s.from = time_ref(v, ptr, "from").value_or(s.from);
            s.to = time_ref(v, ptr, "to").value_or(s.to);
            window_order(s.from, s.to, ptr, true);
            s.tolerance = tolerance(v, ptr);
            c.spec = s;
        } else if (*kind == "rate") {
            extend({"tolerance"});
            c.spec = RateCheck{tolerance(v, ptr)};
        } else if (*kind == "bolus") {
            extend({"tolerance"});
            c.spec = BolusCheck{tolerance(v, ptr)};
        } else if (*kind == "event") {
            extend({"event", "from", "to"});
            EventCheck s;
            if (const json* ev = member(v, ptr, "event", true, "the event expected ({\"type\": \"ALARM\", ...})"))
                s.event = parse_event_match(*ev, ptr + "/event");
            s.from = time_ref(v, ptr, "from").value_or(s.from);
            s.to = time_ref(v, ptr, "to").value_or(s.to);
            window_order(s.from, s.to, ptr, false);
            c.spec = s;
        } else if (*kind == "no_unexpected_alarms") {
            extend({"allowed"});
            NoUnexpectedAlarmsCheck s;
            s.allowed = strings(v, ptr, "allowed", "alarm codes");
            for (std::size_t i = 0; i < s.allowed.size(); ++i)
                if (std::find(kAlarmCodes.begin(), kAlarmCodes.end(), s.allowed[i]) == kAlarmCodes.end())
                    error_at_value(pointer_child(ptr + "/allowed", i), "expected one of " + join(kAlarmCodes) +
                                                                           ", got \"" + s.allowed[i] + "\"");
            c.spec = s;
        } else if (*kind == "reservoir") {
            extend({"tolerance"});
            c.spec = ReservoirCheck{quantity(v, ptr, "tolerance", parse_volume, false, "a volume such as \"0.1 mL\"")};
        } else if (*kind == "accuracy") {
            extend({"sample_interval", "windows", "from", "startup_period", "analysis_period", "limits"});
            AccuracyCheck s;
            s.sample_interval = quantity(v, ptr, "sample_interval", parse_duration, false, "a duration such as \"30 s\"")
                                    .value_or(s.sample_interval);
            if (const json* w = member(v, ptr, "windows", false, "")) {
                if (!w->is_array() || w->empty()) {
                    error_at_value(ptr + "/windows", "expected a non-empty array of durations, got " + describe_json(*w));
                } else {
                    s.windows.clear();
                    for (std::size_t i = 0; i < w->size(); ++i) {
                        const auto ip = pointer_child(ptr + "/windows", i);
                        if (!(*w)[i].is_string()) {
                            error_at_value(ip, "expected a duration such as \"2 min\", got " + describe_json((*w)[i]));
                            continue;
                        }
                        auto d = parse_duration((*w)[i].get<std::string>());
                        if (!d) error_at_value(ip, d.error().message);
                        else if (d->count() <= 0) error_at_value(ip, "expected a window above 0");
                        else s.windows.push_back(*d);
                    }
                }
            }
            s.from = time_ref(v, ptr, "from").value_or(s.from);
            s.startup_period = quantity(v, ptr, "startup_period", parse_duration, false, "a duration such as \"2 h\"")
                                   .value_or(s.startup_period);
            s.analysis_period = quantity(v, ptr, "analysis_period", parse_duration, false, "a duration such as \"1 h\"")
                                    .value_or(s.analysis_period);
            if (s.sample_interval.count() <= 0) error_at_value(ptr + "/sample_interval", "expected a duration above 0");
            if (s.analysis_period.count() <= 0) error_at_value(ptr + "/analysis_period", "expected a duration above 0");
            if (const json* l = member(v, ptr, "limits", false, "")) {
                const auto lp = ptr + "/limits";
                if (object(*l, lp, "accuracy limits", {"mean_error", "trumpet_max", "trumpet_min"})) {
                    s.mean_error_limit = quantity(*l, lp, "mean_error", parse_percent, false, "a percentage such as \"5 %\"");
                    s.trumpet_max_limit = quantity(*l, lp, "trumpet_max", parse_percent, false, "a percentage such as \"10 %\"");
                    s.trumpet_min_limit = quantity(*l, lp, "trumpet_min", parse_percent, false, "a percentage such as \"-10 %\"");
                }
            }
            c.spec = s;
        }
        object(v, ptr, "a \"" + *kind + "\" check", allowed);
        if (c.name.empty()) c.name = *kind + " " + std::to_string(scenario_.checks.size() + 1);
        scenario_.checks.push_back(std::move(c));
    }

    void add_default_checks() {
        const std::vector<CheckSpec> defaults{RateCheck{}, BolusCheck{}, NoUnexpectedAlarmsCheck{}, ReservoirCheck{}};
        for (const auto& spec : defaults) {
            const bool declared = std::any_of(scenario_.checks.begin(), scenario_.checks.end(), [&](const Check& c) {
                return c.spec.index() == spec.index();
            });
            if (declared) continue;
            Check c;
            c.spec = spec;
            c.name = std::string(check_name(spec));
            c.requirements = scenario_.requirements;
            c.declared = false;
            scenario_.checks.push_back(std::move(c));
        }
    }

    std::string_view text_;
    std::filesystem::path file_;
    std::filesystem::path fixtures_;
    const JsonDocument* positions_ = nullptr;  // the document being read
    std::vector<Diagnostic> diags_;
    Scenario scenario_;
    std::map<std::string, std::size_t> labels_;  // label -> index of its step, for window order
    std::vector<std::pair<std::string, std::string>> pending_range_;
    // What the pump holds at this point of the scenario, following steps expected to succeed.
    std::optional<Concentration> concentration_in_force_;
    std::optional<Volume> reservoir_at_refill_;
    std::optional<Program> program_in_force_;
};

}  // namespace

std::string format(const Diagnostic& d) {
    return d.file.string() + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
           (d.pointer.empty() ? std::string("(document)") : d.pointer) + ": " + d.message;
}

std::string_view step_name(const StepAction& action) {
    static constexpr std::string_view names[] = {"set_clock", "refill", "prime", "program", "start",
                                                 "stop", "clinician_bolus", "cancel_bolus", "patient_bolus",
                                                 "alarm_threshold", "reset", "wait", "read_program", "status"};
    static_assert(std::size(names) == std::variant_size_v<StepAction>);
    return names[action.index()];
}

bool is_command(const StepAction& action) { return !std::holds_alternative<WaitStep>(action); }

std::string_view check_name(const CheckSpec& spec) {
    static constexpr std::string_view names[] = {"volume", "rate", "bolus", "event",
                                                 "no_unexpected_alarms", "reservoir", "accuracy"};
    static_assert(std::size(names) == std::variant_size_v<CheckSpec>);
    return names[spec.index()];
}

std::optional<std::size_t> Scenario::find_label(std::string_view label) const {
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (steps[i].label == label) return i;
    return std::nullopt;
}

ParseResult parse_scenario_text(std::string_view text, const std::filesystem::path& file,
                                const std::filesystem::path& fixtures_dir) {
    return Parser(text, file, fixtures_dir).run();
}

ParseResult parse_scenario_file(const std::filesystem::path& file, const std::filesystem::path& fixtures_dir) {
    auto text = read_text_file(file);  // refuses a file beyond the size limit before reading it
    if (!text)
        return std::unexpected(std::vector<Diagnostic>{
            {file, 0, 0, "",
             text.error().kind == ErrorKind::Io ? "cannot read the file; expected a readable scenario file"
                                                : text.error().message.substr(file.string().size() + 2)}});
    return parse_scenario_text(*text, file, fixtures_dir);
}

std::vector<std::filesystem::path> scenario_files(const std::filesystem::path& path, std::vector<Diagnostic>& problems) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path, ec)) {
        for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
        std::sort(files.begin(), files.end());
        if (files.empty()) problems.push_back({path, 0, 0, "", "no *.json scenario files in this directory"});
    } else if (std::filesystem::exists(path, ec)) {
        files.push_back(path);
    } else {
        problems.push_back({path, 0, 0, "", "no such file or directory; expected a scenario file or a directory of them"});
    }
    return files;
}

std::vector<Diagnostic> validate_path(const std::filesystem::path& path, const std::filesystem::path& fixtures_dir) {
    std::vector<Diagnostic> all;
    const auto files = scenario_files(path, all);
    for (const auto& f : files) {
        auto r = parse_scenario_file(f, fixtures_dir);
        if (!r) all.insert(all.end(), r.error().begin(), r.error().end());
    }
    return all;
}

}  // namespace pumprig::scenario
