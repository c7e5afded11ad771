#include "run/suite.hpp"

#include <cstdio>
#include <iostream>

#include "core/text.hpp"
#include "record/manifest.hpp"
#include "run/channels.hpp"

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

void run_suite(const bench::RigDescription& rig, const std::vector<scenario::Scenario>& scenarios, const SuiteOptions& options,
               const std::function<void(ScenarioRun&)>& on_run) {
    const std::size_t channels = std::max<std::size_t>(1, rig.channels.size());
    const auto channel_names = bench::channel_rigs(rig);
    auto done = [&](std::size_t i) { return options.channel_done && options.channel_done(i); };
    auto log = [&](const std::string& channel, const std::string& line) {
        if (options.log) options.log(channel, line);
    };
    // A run that never started, on every channel still going.
    auto not_started = [&](const scenario::Scenario& sc, const std::string& error) {
        for (std::size_t i = 0; i < channels; ++i) {
            if (done(i)) continue;
            ScenarioRun r{&sc, i, channel_names[i].channel, {}, std::nullopt};
            r.result.outcome = Outcome::Error;
            r.result.error = error;
            log(r.channel, "ERROR  " + error);
            on_run(r);
        }
    };
    for (const auto& sc : scenarios) {
        bool all_done = true;
        for (std::size_t i = 0; i < channels; ++i) all_done = all_done && done(i);
        if (all_done) break;
        if (options.stop && options.stop->load()) {
            if (options.on_stopped) options.on_stopped(sc);
            break;
        }
        if (!options.quiet)
            std::cerr << "== " << printable(sc.name) << " (" << printable(sc.file.string()) << ")"
                      << (channels > 1 ? " on " + std::to_string(channels) + " channels" : "") << "\n";
        auto rig_for = rig_for_scenario(rig, sc);
        if (!rig_for) {
            not_started(sc, rig_for.error().message);
            continue;
        }
        std::vector<TraceRelay> relays(channels);
        bench::BenchOptions bo = options.bench;
        bo.channel_pump_trace = [&relays](std::size_t i, pump::TraceKind kind, std::string_view bytes) { relays[i](kind, bytes); };
        auto benches = bench::Bench::open_channels(*rig_for, bo);
        if (!benches) {
            not_started(sc, benches.error().message);
            continue;
        }
        // A channel that is done (or empty) lets go of the bench at once.
        for (std::size_t i = 0; i < benches->size(); ++i)
            if (done(i) && (*benches)[i].bench) (*benches)[i].bench->reset();

        auto runs = run_on_channels(*benches, sc, options.run, relays, options.progress, options.gate);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            auto& cr = runs[i];
            if (!cr.ran) continue;
            ScenarioRun r{&sc, i, cr.channel, std::move(cr.result), std::nullopt};
            if (r.result.dir.empty()) {
                // The channel never started (its links did not open): an error of its own.
                log(r.channel, "ERROR  " + r.result.error);
                on_run(r);
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
            on_run(r);
        }
    }
}

}  // namespace pumprig::run
