#include "run/rejudge.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <variant>

#include "record/folder.hpp"
#include "record/json.hpp"
#include "record/recorder.hpp"
#include "scenario/expected.hpp"

namespace pumprig::run {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Pump clock minus bench clock seen in a status (the pump prints its clock to limited
// precision, so this is an estimate within that precision).
Millis offset_of(const verify::PumpStatusRecord& s) {
    return Millis{std::llround(s.pump_t * 1000.0)} - s.bench_t.time_since_epoch();
}

// Step times of a run of pumprig 0.1.0 killed before the end (its record has none): command steps from
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
        const auto label = step_label(sc, i);
        std::size_t k = cursor;
        while (k < commands.size() && commands[k].step_label != label) ++k;
        if (k == commands.size()) break;
        exec.at = commands[k].bench_t;
        exec.answer = commands[k].answer.code_or_ok();
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
    auto folder = record::read_run_folder(dir);
    if (!folder) return std::unexpected(folder.error());
    LoadedRun run;
    run.dir = dir;
    run.record = std::move(folder->record);
    run.notes = std::move(folder->notes);
    run.complete = run.record.state == record::RunState::Complete;
    const bool schema0 = run.record.schema_version == 0;

    auto sc = scenario::parse_scenario_file(dir / "scenario.json", fixtures_dir);
    if (!sc) {
        std::string msg = (dir / "scenario.json").string() + ": the scenario as run does not parse";
        for (const auto& d : sc.error()) msg += "\n  " + scenario::format(d);
        return fail(ErrorKind::BadInput, msg);
    }
    run.scenario = std::move(*sc);

    auto& d = run.data;
    d.samples = std::move(folder->samples);
    d.events = std::move(folder->events);
    d.statuses = std::move(folder->statuses);
    d.commands = std::move(folder->commands);

    // Line time constant: the record's, else the rig copy's, else the rig default.
    if (run.record.line_tau > Millis{0}) {
        d.line_tau = run.record.line_tau;
    } else {
        std::ifstream rig(dir / "rig.json");
        const json r = rig ? json::parse(rig, nullptr, false) : json();
        const json::json_pointer p("/simulator/line_tau_s");
        if (r.is_object() && r.contains(p) && r.at(p).is_number())
            d.line_tau = Millis{std::llround(r.at(p).get<double>() * 1000.0)};
    }

    // Times: the record's; a run cut short ends at its horizon (schema 1) or its last data.
    d.times.start = run.record.start;
    BenchTime last = d.times.start;
    if (!d.samples.empty()) last = std::max(last, d.samples.back().t);
    if (!d.events.empty()) last = std::max(last, d.events.back().bench_t);
    if (!d.statuses.empty()) last = std::max(last, d.statuses.back().bench_t);
    if (!d.commands.empty()) last = std::max(last, d.commands.back().bench_t);
    d.times.end = run.record.end ? *run.record.end : folder->horizon ? std::max(last, *folder->horizon - Millis{1}) : last;
    d.last_data = d.samples.empty() ? d.times.end : d.samples.back().t;
    d.complete = run.complete;
    d.safe_stop = run.record.safe_stop;
    d.line_tau_uncertainty = run.record.line_tau_uncertainty;

    // The pump clock mapping: the record's (schema 1: the first offset, then each step's).
    d.times.initial_pump_offset = !schema0 ? run.record.initial_pump_offset : !d.statuses.empty() ? offset_of(d.statuses.front()) : Millis{0};
    d.pump_offset = d.times.initial_pump_offset;
    d.times.steps.assign(run.scenario.steps.size(), {});
    if (!run.record.steps.empty() || !schema0) {
        for (const auto& s : run.record.steps) {
            if (s.index >= d.times.steps.size()) continue;
            auto& exec = d.times.steps[s.index];
            exec.at = s.at;
            exec.answer = s.answer;
            exec.pump_offset = s.pump_offset;
            if (s.pump_offset) d.pump_offset = *s.pump_offset;
        }
        if (schema0 && run.record.pump_offset != Millis{0}) d.pump_offset = run.record.pump_offset;
    } else {
        reconstruct_steps(run.scenario, run);
    }
    if (!run.complete)
        run.notes.push_back(std::string("The record's state is ") + record::to_string(run.record.state) +
                            ", not COMPLETE: the report covers the data up to " + record::iso_time(d.last_data) + ".");
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
    const bool use_record = !options.rejudge && !options.tolerance_pct && run.complete && run.record.judged;
    if (use_record) {
        out.checks = run.record.checks;
    } else {
        out.checks = judge(run.scenario, run.data);
        if (options.rejudge) run.notes.push_back("Checks re-judged by pumprig report from the raw run files.");
    }
    const auto summary = verify::summarise(out.checks);
    // The live run's outcome rule (record/outcome.hpp): a run that did not complete ended early,
    // as its record says (ERROR, ABORTED), or cut short without a word: treated as aborted.
    std::optional<record::EarlyEnd> ended_early;
    if (!run.complete) {
        const auto original = run.record.outcome.value_or(Outcome::Aborted);
        ended_early = record::EarlyEnd{original == Outcome::Error ? Outcome::Error : Outcome::Aborted,
                                       !run.record.error.empty() ? run.record.error
                                                                 : std::string("the run was cut short (record left in state ") +
                                                                       record::to_string(run.record.state) + ")"};
    }
    const auto decision = record::decide_outcome(out.checks, ended_early);
    out.outcome = to_string(decision.outcome);

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
    if (auto w = record::write_file_atomic(out.html, report::render_run_html(view)); !w) return std::unexpected(w.error());

    // On a bench of several channels each channel's run is a suite of its own.
    const std::string& channel = run.record.rig.channel;
    const std::string shown = channel.empty() ? run.scenario.name : run.scenario.name + " [" + channel + "]";
    auto& js = out.junit_suite;
    js.name = shown;
    js.package = "pumprig." + run.scenario.name + (channel.empty() ? "" : "." + channel);
    js.timestamp = record::iso_time(run.data.times.start);
    js.time_s = to_seconds(std::chrono::duration_cast<Millis>(run.data.times.end - run.data.times.start));
    js.checks = out.checks;
    js.outcome = out.outcome;
    js.incomplete = out.incomplete;
    js.error = decision.error;
    js.run_dir = dir.string();
    out.junit = dir / "junit.xml";
    if (auto w = record::write_file_atomic(out.junit, report::render_junit(std::span(&js, 1))); !w) return std::unexpected(w.error());

    if (!use_record) {
        // The same record, re-judged: written by the same writer as the live one.
        record::RunRecord rebuilt = run.record;
        rebuilt.schema_version = record::kSchemaVersion;  // written by today's writer, whatever it was read from
        rebuilt.judged = true;
        rebuilt.checks = out.checks;
        rebuilt.outcome = decision.outcome;
        rebuilt.error = decision.error;
        rebuilt.start = run.data.times.start;
        rebuilt.end = run.data.times.end;
        rebuilt.initial_pump_offset = run.data.times.initial_pump_offset;
        rebuilt.pump_offset = run.data.pump_offset;
        rebuilt.line_tau = run.data.line_tau;
        rebuilt.max_sample_gap = record::max_sample_gap(run.data.samples);
        rebuilt.steps = step_records(run.scenario, run.data.times);
        rebuilt.rebuilt = record::RebuiltInfo{"pumprig report", record::to_string(run.record.state), options.tolerance_pct, run.notes};
        out.rebuilt_record = dir / "record.rebuilt.json";
        if (auto w = record::write_record_file(out.rebuilt_record, rebuilt); !w) return std::unexpected(w.error());
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
