#include "run/suite.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "core/text.hpp"
#include "record/manifest.hpp"
#include "run/channels.hpp"
#include "run/progress.hpp"

namespace pumprig::run {

int exit_code(Outcome outcome) {
    switch (outcome) {
        case Outcome::Pass: return kExitPass;
        case Outcome::Fail:
        case Outcome::Inconclusive: return kExitCheckFailed;
        case Outcome::Error:
        case Outcome::Aborted: return kExitBenchError;
    }
    return kExitBenchError;
}

int worse_exit(int a, int b) {
    auto rank = [](int c) { return c == kExitBenchError ? 3 : c == kExitBadInput ? 2 : c == kExitCheckFailed ? 1 : 0; };
    return rank(b) > rank(a) ? b : a;
}

Result<bench::RigDescription> rig_for_scenario(const bench::RigDescription& rig, const scenario::Scenario& scenario) {
    bench::RigDescription out = rig;
    if (!scenario.simulator.any()) return out;
    if (!rig.simulator.enabled)
        return fail(ErrorKind::BadInput, scenario.file.string() +
                                             ": /simulator: this scenario sets up the pump through the simulated bench (battery charge, "
                                             "motor stall); expected a rig with a \"simulator\" section, got " + rig.file.string());
    if (scenario.simulator.battery_pct) out.simulator.battery_pct = *scenario.simulator.battery_pct;
    // A motor that stalls after a while: the simulator's scheduled fault (docs/scenarios.md).
    if (scenario.simulator.motor_stall_after)
        out.sim_args.insert(out.sim_args.end(),
                            {"--fault-at", std::to_string(to_seconds(*scenario.simulator.motor_stall_after)) + ":motor_stall"});
    return out;
}

namespace {

using LineSink = std::function<void(const std::string& channel, const std::string& line)>;

// One scenario on every channel still going: its bench opened (on a simulated bench, a simulator
// of its own), the scenario run, each run's reports and manifest written; `each` gets every
// channel's run as it is done. `log` takes how each run ended, `engine_log` the engine's lines.
void run_scenario_on_bench(const bench::RigDescription& rig, const scenario::Scenario& sc, const SuiteOptions& options,
                           const LineSink& log, const LineSink& engine_log, const std::function<void(const std::string&)>& heading,
                           const std::function<void(ScenarioRun&)>& each) {
    const std::size_t channels = std::max<std::size_t>(1, rig.channels.size());
    const auto channel_names = bench::channel_rigs(rig);
    auto done = [&](std::size_t i) { return options.channel_done && options.channel_done(i); };
    // A run that never started, on every channel still going.
    auto not_started = [&](const std::string& error) {
        for (std::size_t i = 0; i < channels; ++i) {
            if (done(i)) continue;
            ScenarioRun r{&sc, i, channel_names[i].channel, {}, std::nullopt};
            r.result.outcome = Outcome::Error;
            r.result.error = error;
            log(r.channel, "ERROR  " + error);
            each(r);
        }
    };
    if (!options.quiet)
        heading("== " + printable(sc.name) + " (" + printable(sc.file.string()) + ")" +
                (channels > 1 ? " on " + std::to_string(channels) + " channels" : ""));
    auto rig_for = rig_for_scenario(rig, sc);
    if (!rig_for) return not_started(rig_for.error().message);
    std::vector<TraceRelay> relays(channels);
    bench::BenchOptions bo = options.bench;
    bo.channel_pump_trace = [&relays](std::size_t i, pump::TraceKind kind, std::string_view bytes) { relays[i](kind, bytes); };
    auto benches = bench::Bench::open_channels(*rig_for, bo);
    if (!benches) return not_started(benches.error().message);
    // A channel that is done (or empty) lets go of the bench at once.
    for (std::size_t i = 0; i < benches->size(); ++i)
        if (done(i) && (*benches)[i].bench) (*benches)[i].bench->reset();

    auto runs = run_on_channels(*benches, sc, options.run, relays, engine_log, options.gate);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        auto& cr = runs[i];
        if (!cr.ran) continue;
        ScenarioRun r{&sc, i, cr.channel, std::move(cr.result), std::nullopt};
        if (r.result.dir.empty()) {
            // The channel never started (its links did not open): an error of its own.
            log(r.channel, "ERROR  " + r.result.error);
            each(r);
            continue;
        }
        for (const auto& c : r.result.checks) {
            if (c.verdict == verify::Verdict::Pass) continue;
            char head[160];
            std::snprintf(head, sizeof head, "%-13s %-36s measured %.4g ", verify::to_string(c.verdict), c.id.c_str(), c.measured);
            char expected[64];
            std::snprintf(expected, sizeof expected, ", expected %.4g (", c.expected);
            log(r.channel, head + c.unit + expected + c.tolerance + ") " + c.detail);
        }
        if (!options.quiet || r.result.outcome != Outcome::Pass)
            log(r.channel, std::string(to_string(r.result.outcome)) + "  " + r.result.dir.string());
        if (!r.result.error.empty()) log(r.channel, "error: " + r.result.error);
        ReportOptions rep;
        rep.rejudge = false;
        rep.fixtures_dir = options.fixtures;
        if (auto built = build_reports(r.result.dir, rep)) {
            if (!options.quiet) log(r.channel, "report " + built->html.string());
            r.reports = std::move(*built);
        } else {
            log(r.channel, "report not written: " + built.error().message);
        }
        // Last: the folder is final (docs/record.md, tamper evidence).
        if (auto manifest = record::write_manifest(r.result.dir)) r.manifest = *manifest;
        else log(r.channel, "manifest not written: " + manifest.error().message);
        if (!options.quiet || !r.result.safe_stop.confirmed_stopped)
            log(r.channel, "pump left " + (r.result.safe_stop.confirmed_stopped ? std::string("stopped (confirmed)")
                                                                              : "NOT confirmed stopped: " + r.result.safe_stop.detail));
        each(r);
    }
}

}  // namespace

void run_suite(const bench::RigDescription& rig, const std::vector<scenario::Scenario>& scenarios, const SuiteOptions& options,
               const std::function<void(ScenarioRun&)>& on_run) {
    const std::size_t channels = std::max<std::size_t>(1, rig.channels.size());
    auto done = [&](std::size_t i) { return options.channel_done && options.channel_done(i); };
    const LineSink log = [&](const std::string& channel, const std::string& line) {
        if (options.log) options.log(channel, line);
    };
    const std::function<void(const std::string&)> heading = [&](const std::string& line) {
        if (options.heading) options.heading(line);
        else std::cerr << line << "\n";
    };
    auto stopped = [&] { return options.stop && options.stop->load(); };
    const bool one_at_a_time = options.gate || options.channel_done;
    const std::size_t jobs = one_at_a_time ? 1 : std::min(options.jobs, scenarios.size());
    if (jobs <= 1) {
        for (const auto& sc : scenarios) {
            bool all_done = true;
            for (std::size_t i = 0; i < channels; ++i) all_done = all_done && done(i);
            if (all_done) break;
            if (stopped()) {
                if (options.on_stopped) options.on_stopped(sc);
                break;
            }
            run_scenario_on_bench(rig, sc, options, log, options.progress, heading, on_run);
        }
        return;
    }

    // Several at once: each worker takes the next scenario, the longest first (meter samples of
    // the planned bench time: a long one started last would run alone at the end); its lines
    // are held and written together when it ends, its runs kept in its slot.
    std::vector<std::size_t> order(scenarios.size());
    std::vector<double> samples(scenarios.size());
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        order[i] = i;
        const auto period = std::max<long long>(1, scenarios[i].settings.sample_period.count());
        samples[i] = static_cast<double>(plan_bench_time(scenarios[i], Millis{0}).total.count()) / static_cast<double>(period);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return samples[a] > samples[b]; });
    std::vector<std::vector<ScenarioRun>> runs(scenarios.size());
    std::atomic<std::size_t> next{0};
    std::size_t first_skipped = scenarios.size();  // the first scenario a stop kept from starting
    std::mutex out_mutex;
    auto worker = [&] {
        while (true) {
            const std::size_t taken = next.fetch_add(1);
            if (taken >= scenarios.size()) return;
            const std::size_t i = order[taken];
            if (stopped()) {
                std::lock_guard lock(out_mutex);
                first_skipped = std::min(first_skipped, i);
                continue;
            }
            struct Held { bool heading; std::string channel, line; };
            std::vector<Held> held;
            std::mutex held_mutex;  // the engine's lines come from the channels' threads
            const LineSink hold = [&](const std::string& channel, const std::string& line) {
                std::lock_guard lock(held_mutex);
                held.push_back({false, channel, line});
            };
            const auto hold_heading = [&](const std::string& line) {
                std::lock_guard lock(held_mutex);
                held.push_back({true, "", line});
            };
            try {
                run_scenario_on_bench(rig, scenarios[i], options, hold, options.progress ? hold : LineSink{}, hold_heading,
                                      [&](ScenarioRun& r) { runs[i].push_back(std::move(r)); });
            } catch (const std::exception& e) {
                // Nothing one scenario meets may end the process the others run in.
                if (runs[i].empty()) {
                    ScenarioRun r{&scenarios[i], 0, "", {}, std::nullopt};
                    r.result.outcome = Outcome::Error;
                    r.result.error = std::string("internal error: ") + e.what();
                    hold("", "ERROR  " + r.result.error);
                    runs[i].push_back(std::move(r));
                }
            }
            std::lock_guard lock(out_mutex);
            for (const auto& h : held) h.heading ? heading(h.line) : log(h.channel, h.line);
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(jobs);
    for (std::size_t j = 0; j < jobs; ++j) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    for (auto& scenario_runs : runs)
        for (auto& r : scenario_runs) on_run(r);
    if (first_skipped < scenarios.size() && options.on_stopped) options.on_stopped(scenarios[first_skipped]);
}

}  // namespace pumprig::run
