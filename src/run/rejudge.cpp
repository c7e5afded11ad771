#include "run/rejudge.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <variant>

#include "report/recorder.hpp"
#include "report/run_folder.hpp"
#include "scenario/expected.hpp"
#include "verify/json.hpp"

namespace pumprig::run {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The step label the engine writes into commands.jsonl for step i.
std::string command_label(const scenario::Scenario& sc, std::size_t i) {
    const auto& step = sc.steps[i];
    return step.label.empty() ? std::string(scenario::step_name(step.action)) + " (step " + std::to_string(i + 1) + ")" : step.label;
}

// "OK" or the ICD code, from an answer as recorded ("OK", "ERR,code=STATE").
std::string answer_code(const std::string& answer) {
    const std::string prefix = "ERR,code=";
    return answer.starts_with(prefix) ? answer.substr(prefix.size()) : answer;
}

// Pump clock minus bench clock seen in a status (the pump prints its clock to limited
// precision, so this is an estimate within that precision).
Millis offset_of(const verify::PumpStatusRecord& s) {
    return Millis{std::llround(s.pump_t * 1000.0)} - s.bench_t.time_since_epoch();
}

std::optional<long long> opt_ms(const json& j, const char* key) {
    if (!j.contains(key) || !j.at(key).is_number()) return std::nullopt;
    return j.at(key).get<long long>();
}

// Step times of a run whose record has none (killed before the end): command steps from
// commands.jsonl (the first unused command carrying the step's label), waits and status reads
// from the step before them. The first command step without a command was not reached.
void reconstruct_steps(const scenario::Scenario& sc, LoadedRun& run) {
    auto& times = run.data.times;
    const auto& commands = run.data.commands;
    std::size_t cursor = 0;
    BenchTime previous = times.start;
    for (std::size_t i = 0; i < sc.steps.size(); ++i) {
        auto& exec = times.steps[i];
        const auto& action = sc.steps[i].action;
        const bool logs_command = !std::holds_alternative<scenario::WaitStep>(action) && !std::holds_alternative<scenario::StatusStep>(action);
        if (!logs_command) {
            exec.at = previous;
            continue;
        }
        const auto label = command_label(sc, i);
        std::size_t k = cursor;
        while (k < commands.size() && commands[k].step_label != label) ++k;
        if (k == commands.size()) break;
        exec.at = commands[k].bench_t;
        exec.answer = answer_code(commands[k].answer);
        previous = commands[k].bench_t;
        cursor = k + 1;
        if (std::holds_alternative<scenario::SetClockStep>(action) && exec.answer == "OK") {
            for (const auto& s : run.data.statuses)
                if (s.bench_t >= commands[k].bench_t) {
                    exec.pump_offset = offset_of(s);
                    run.data.pump_offset = *exec.pump_offset;
                    break;
                }
        }
    }
    run.notes.push_back("Step times were reconstructed from commands.jsonl and the pump clock offset from statuses.jsonl (the record has "
                        "no step times: the run was cut short).");
}

verify::AccuracySpec accuracy_of(const scenario::Scenario& sc) {
    verify::AccuracySpec a;
    a.delivery_pct = sc.pump.accuracy.value;
    a.stroke = sc.pump.stroke;
    return a;
}

BenchTime resolve(const scenario::Scenario& sc, const RecordedRun& run, const scenario::TimeRef& ref) {
    switch (ref.kind) {
        case scenario::TimeRef::Kind::FromStart: return run.times.start + ref.offset;
        case scenario::TimeRef::Kind::End: return run.times.end;
        case scenario::TimeRef::Kind::Label:
            if (auto i = sc.find_label(ref.label); i && *i < run.times.steps.size() && run.times.steps[*i].at)
                return *run.times.steps[*i].at + ref.offset;
            return run.times.end;
    }
    return run.times.end;
}

}  // namespace

Result<LoadedRun> load_run(const fs::path& dir, const fs::path& fixtures_dir) {
    if (!fs::is_directory(dir)) return fail(ErrorKind::BadInput, "no run folder " + dir.string() + " (expected a folder written by pumprig run)");
    LoadedRun run;
    run.dir = dir;
    auto record = report::read_record(dir / "record.json");
    if (!record) return std::unexpected(record.error());
    run.record = std::move(*record);
    run.complete = run.record.value("state", "") == "COMPLETE";

    auto sc = scenario::parse_scenario_file(dir / "scenario.json", fixtures_dir);
    if (!sc) {
        std::string msg = (dir / "scenario.json").string() + ": the scenario as run does not parse";
        for (const auto& d : sc.error()) msg += "\n  " + scenario::format(d);
        return fail(ErrorKind::BadInput, msg);
    }
    run.scenario = std::move(*sc);

    auto samples = report::read_samples_csv(dir / "samples.csv");
    if (!samples) return std::unexpected(samples.error());
    auto events = report::read_events(dir / "events.jsonl");
    if (!events) return std::unexpected(events.error());
    auto statuses = report::read_statuses(dir / "statuses.jsonl");
    if (!statuses) return std::unexpected(statuses.error());
    auto commands = report::read_commands(dir / "commands.jsonl");
    if (!commands) return std::unexpected(commands.error());
    for (const auto& [name, partial] : {std::pair{"samples.csv", samples->partial_last_line}, std::pair{"events.jsonl", events->partial_last_line},
                                        std::pair{"statuses.jsonl", statuses->partial_last_line},
                                        std::pair{"commands.jsonl", commands->partial_last_line}})
        if (partial) run.notes.push_back(std::string(name) + " ended inside a line (the run was cut short): that partial line was ignored.");
    auto& d = run.data;
    d.samples = std::move(samples->items);
    d.events = std::move(events->items);
    d.statuses = std::move(statuses->items);
    d.commands = std::move(commands->items);

    // Line time constant: the record's, else the rig copy's, else the rig default.
    if (auto tau = opt_ms(run.record, "line_tau_ms")) {
        d.line_tau = Millis{*tau};
    } else {
        std::ifstream rig(dir / "rig.json");
        const json r = rig ? json::parse(rig, nullptr, false) : json();
        const json::json_pointer p("/simulator/line_tau_s");
        if (r.is_object() && r.contains(p) && r.at(p).is_number())
            d.line_tau = Millis{std::llround(r.at(p).get<double>() * 1000.0)};
    }

    // Times: the record's, else from the "start" stamp and the last data.
    if (auto start = opt_ms(run.record, "start_ms")) {
        d.times.start = BenchTime{Millis{*start}};
    } else {
        auto start_text = report::parse_iso_time(run.record.value("start", ""));
        if (!start_text) return fail(ErrorKind::BadInput, (dir / "record.json").string() + ": start: " + start_text.error().message);
        d.times.start = *start_text;
    }
    BenchTime last = d.times.start;
    if (!d.samples.empty()) last = std::max(last, d.samples.back().t);
    if (!d.events.empty()) last = std::max(last, d.events.back().bench_t);
    if (!d.statuses.empty()) last = std::max(last, d.statuses.back().bench_t);
    if (!d.commands.empty()) last = std::max(last, d.commands.back().bench_t);
    d.times.end = opt_ms(run.record, "end_ms") ? BenchTime{Millis{*opt_ms(run.record, "end_ms")}} : last;
    d.last_data = d.samples.empty() ? d.times.end : d.samples.back().t;
    d.complete = run.complete;
    if (auto u = run.record.find("line_tau_uncertainty"); u != run.record.end() && u->is_number()) d.line_tau_uncertainty = u->get<double>();

    if (!d.statuses.empty()) d.times.initial_pump_offset = offset_of(d.statuses.front());
    d.pump_offset = d.times.initial_pump_offset;
    d.times.steps.assign(run.scenario.steps.size(), {});
    const json* steps = run.record.contains("steps") && run.record["steps"].is_array() ? &run.record["steps"] : nullptr;
    if (steps) {
        for (const auto& s : *steps) {
            const auto i = s.value("index", std::size_t{0});
            if (i >= d.times.steps.size()) continue;
            auto& exec = d.times.steps[i];
            if (auto at = opt_ms(s, "at_ms")) exec.at = BenchTime{Millis{*at}};
            if (s.contains("answer") && s["answer"].is_string()) exec.answer = s["answer"].get<std::string>();
            if (auto off = opt_ms(s, "pump_offset_ms")) exec.pump_offset = Millis{*off};
        }
        if (auto off = opt_ms(run.record, "pump_offset_ms")) d.pump_offset = Millis{*off};
    } else {
        reconstruct_steps(run.scenario, run);
    }
    if (!run.complete)
        run.notes.push_back("The record's state is " + run.record.value("state", std::string("unknown")) +
                            ", not COMPLETE: the report covers the data up to " + report::iso_time(d.last_data) + ".");
    return run;
}

void override_tolerance(scenario::Scenario& sc, double percent) {
    sc.pump.accuracy.value = percent;
    for (auto& c : sc.checks) {
        std::visit(
            [&](auto& spec) {
                using T = std::decay_t<decltype(spec)>;
                if constexpr (std::is_same_v<T, scenario::VolumeCheck> || std::is_same_v<T, scenario::RateCheck> ||
                              std::is_same_v<T, scenario::BolusCheck>)
                    spec.tolerance.percent = scenario::Percent{percent};
                if constexpr (std::is_same_v<T, scenario::AccuracyCheck>)
                    if (spec.mean_error_limit) spec.mean_error_limit = scenario::Percent{percent};
            },
            c.spec);
    }
}

std::vector<verify::IecAnalysis> iec_analyses(const scenario::Scenario& sc, const RecordedRun& run) {
    // The parameters judge() uses (iec_params), so the curves drawn are the ones judged.
    std::vector<verify::IecAnalysis> out;
    const auto plan = scenario::expand(sc, run.times);
    for (const auto& c : sc.checks) {
        const auto* a = std::get_if<scenario::AccuracyCheck>(&c.spec);
        if (!a || !c.enabled) continue;
        const verify::IecParams p = iec_params(sc, *a, c.requirements);
        const BenchTime start = resolve(sc, run, a->from);
        const FlowRate rate = plan.rate_at(start + Millis{1});
        if (rate.ul_per_h <= 0 || !verify::validate(p)) continue;
        out.push_back(verify::analyse_iec60601(run.samples, start, rate, p));
    }
    return out;
}

Result<BuiltReports> build_reports(const fs::path& dir, const ReportOptions& options) {
    auto loaded = load_run(dir, options.fixtures_dir);
    if (!loaded) return std::unexpected(loaded.error());
    auto& run = *loaded;
    if (options.tolerance_pct) {
        if (!(*options.tolerance_pct > 0) || !std::isfinite(*options.tolerance_pct))
            return fail(ErrorKind::BadInput, "--tolerance-pct: expected a percentage above 0, got " + std::to_string(*options.tolerance_pct));
        override_tolerance(run.scenario, *options.tolerance_pct);
        char note[160];
        std::snprintf(note, sizeof note, "Re-judged with a delivery accuracy of %g %% (the scenario's figures were replaced).", *options.tolerance_pct);
        run.notes.push_back(note);
    }

    BuiltReports out;
    out.incomplete = !run.complete;
    const bool use_record = !options.rejudge && !options.tolerance_pct && run.complete && run.record.contains("checks");
    if (use_record) {
        try {
            out.checks = run.record["checks"].get<std::vector<verify::CheckResult>>();
        } catch (const std::exception& e) {
            return fail(ErrorKind::BadInput, (dir / "record.json").string() + ": checks: " + e.what());
        }
    } else {
        out.checks = judge(run.scenario, run.data);
        if (options.rejudge) run.notes.push_back("Checks re-judged by pumprig report from the raw run files.");
    }
    const auto summary = verify::summarise(out.checks);
    const std::string original = run.record.value("outcome", "");
    if (original == "ERROR" || original == "ABORTED") out.outcome = original;
    else if (!run.complete) out.outcome = to_string(Outcome::Aborted);  // cut short without a word: treated as aborted
    else out.outcome = summary.overall == verify::Verdict::Pass ? "PASS" : summary.overall == verify::Verdict::Fail ? "FAIL" : "INCONCLUSIVE";

    report::RunView view;
    view.record = run.record;
    view.checks = out.checks;
    view.outcome = out.outcome;
    view.incomplete = out.incomplete;
    view.notes = run.notes;
    view.start = run.data.times.start;
    view.end = run.data.times.end;
    view.samples = run.data.samples;
    view.events = verify::dedupe_events(run.data.events);
    view.expected = scenario::expand(run.scenario, run.data.times).segments;
    view.line_tau = run.data.line_tau;
    view.accuracy = accuracy_of(run.scenario);
    try {
        view.iec = iec_analyses(run.scenario, run.data);
    } catch (const std::exception& e) {
        view.notes.push_back(std::string("IEC 60601-2-24 curves not drawn: ") + e.what());
    }

    out.html = dir / "report.html";
    if (auto w = report::write_file_atomic(out.html, report::render_run_html(view)); !w) return std::unexpected(w.error());

    // On a bench of several channels each channel's run is a suite of its own.
    const auto channel_ptr = json::json_pointer("/rig/channel");
    const std::string channel =
        run.record.contains(channel_ptr) && run.record.at(channel_ptr).is_string() ? run.record.at(channel_ptr).get<std::string>() : "";
    const std::string shown = channel.empty() ? run.scenario.name : run.scenario.name + " [" + channel + "]";
    auto& js = out.junit_suite;
    js.name = shown;
    js.package = "pumprig." + run.scenario.name + (channel.empty() ? "" : "." + channel);
    js.timestamp = report::iso_time(run.data.times.start);
    js.time_s = to_seconds(std::chrono::duration_cast<Millis>(run.data.times.end - run.data.times.start));
    js.checks = out.checks;
    js.outcome = out.outcome;
    js.incomplete = out.incomplete;
    js.error = run.record.value("error", "");
    if (js.error.empty() && out.incomplete && original.empty()) js.error = "the run was cut short (record left in state " + run.record.value("state", std::string("?")) + ")";
    js.run_dir = dir.string();
    out.junit = dir / "junit.xml";
    if (auto w = report::write_file_atomic(out.junit, report::render_junit(std::span(&js, 1))); !w) return std::unexpected(w.error());

    if (!use_record) {
        json rebuilt = run.record;
        rebuilt["checks"] = out.checks;
        rebuilt["summary"] = {{"pass", summary.pass}, {"fail", summary.fail}, {"inconclusive", summary.inconclusive}};
        rebuilt["outcome"] = out.outcome;
        rebuilt["start_ms"] = run.data.times.start.time_since_epoch().count();
        rebuilt["end_ms"] = run.data.times.end.time_since_epoch().count();
        rebuilt["pump_offset_ms"] = run.data.pump_offset.count();
        rebuilt["line_tau_ms"] = run.data.line_tau.count();
        json steps = json::array();
        for (std::size_t i = 0; i < run.data.times.steps.size(); ++i) {
            const auto& s = run.data.times.steps[i];
            steps.push_back({{"index", i}, {"do", scenario::step_name(run.scenario.steps[i].action)}, {"label", run.scenario.steps[i].label},
                             {"at_ms", s.at ? json(s.at->time_since_epoch().count()) : json(nullptr)},
                             {"answer", s.answer ? json(*s.answer) : json(nullptr)},
                             {"pump_offset_ms", s.pump_offset ? json(s.pump_offset->count()) : json(nullptr)}});
        }
        rebuilt["steps"] = steps;
        rebuilt["rebuilt"] = {{"by", "pumprig report"},
                              {"original_state", run.record.value("state", "")},
                              {"tolerance_pct", options.tolerance_pct ? json(*options.tolerance_pct) : json(nullptr)},
                              {"notes", run.notes}};
        out.rebuilt_record = dir / "record.rebuilt.json";
        if (auto w = report::write_file_atomic(out.rebuilt_record, rebuilt.dump(2) + "\n"); !w) return std::unexpected(w.error());
    }

    auto& e = out.suite_entry;
    e.scenario = shown;
    e.outcome = out.outcome;
    e.incomplete = out.incomplete;
    e.pass = summary.pass;
    e.fail = summary.fail;
    e.inconclusive = summary.inconclusive;
    e.run_dir = dir.filename().string();
    e.report_href = dir.filename().string() + "/report.html";
    return out;
}

}  // namespace pumprig::run
