// pumprig probe: opens both links, identifies and authenticates the pump, prints its status and
// a few meter readings. Any failure names the link and what was expected, and exits non-zero.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench/bench.hpp"
#include "bench/bench_lock.hpp"
#include "cli/commands.hpp"
#include "cli/lock_bench.hpp"
#include "cli/parse_args.hpp"
#include "cli/rig_option.hpp"
#include "core/text.hpp"
#include "meter/total_tracker.hpp"

namespace po = boost::program_options;

namespace pumprig::cli {

int cmd_probe(int argc, char** argv) {
    BenchArgs args;
    int readings = 3;
    po::options_description desc("pumprig probe: identify the pump and the meter of a bench\nOptions");
    desc.add_options()("help,h", "show this help")(
        "readings", po::value(&readings)->default_value(3), "meter readings to print, 1 s of bench time apart");
    args.add_to(desc);
    std::vector<std::string> positional;
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "probe", desc, positional, vm, 0)) return *done;
    auto rig = bench::load_rig(args.rig, PUMPRIG_SOURCE_DIR);
    if (!rig) {
        std::cerr << "pumprig probe: " << rig.error().message << "\n";
        return kExitBadInput;
    }
    if (auto keys = bench::check_pump_keys(*rig); !keys) {
        std::cerr << "pumprig probe: " << args.rig << ": " << keys.error().message << "\n";
        return kExitBadInput;
    }
    // A probe says HELLO, which ends the session of a run in progress: it takes the bench
    // lock like a run, and is refused at once (naming the holder) when the bench is busy.
    auto bench_lock = lock_bench("probe", *rig, argc, argv, false);
    if (!bench_lock) {
        std::cerr << "pumprig probe: " << bench_lock.error().message << "\n";
        return kExitBenchError;
    }
    bench::BenchOptions bo;
    bo.seed = args.seed;
    bo.sim_binary = args.sim_binary;
    auto benches = bench::Bench::open_channels(*rig, bo);
    if (!benches) {
        std::cerr << "pumprig probe: " << benches.error().message << "\n";
        return kExitBenchError;
    }
    // Every channel at once (on a simulated bench their clock moves only when all wait), each
    // writing to its own text; printed channel by channel afterwards.
    struct Probe {
        std::ostringstream out, err;
        int code = kExitPass;
    };
    std::vector<Probe> probes(benches->size());
    auto probe_one = [&](std::size_t i) {
        auto& p = probes[i];
        auto& cb = (*benches)[i];
        const std::string tag = cb.rig.channel.empty() ? "" : "channel " + cb.rig.channel + ": ";
        auto failed = [&](const std::string& what) {
            p.err << "pumprig probe: " << tag << printable(what) << "\n";
            p.code = kExitBenchError;
            if (cb.bench) cb.bench->reset();  // lets go of the simulator's clock for the other channels
        };
        if (!cb.bench) return failed(cb.bench.error().message);
        auto& b = **cb.bench;
        char line[512];
        if (!cb.rig.channel.empty()) p.out << "channel " << cb.rig.channel << "\n";
        p.out << "rig     " << printable(rig->name) << (b.virtual_time() ? " (simulated, virtual time)" : "") << "\n";
        p.out << "pump    link " << b.pump().describe_link() << "\n";
        auto id = b.authenticate_pump();
        if (!id) return failed("pump link " + b.pump().describe_link() + ": expected HELLO and AUTH answered OK: " + id.error().describe());
        p.out << "pump    model " << printable(id->model) << ", serial " << printable(id->serial) << ", firmware " << printable(id->firmware)
              << ", protocol " << id->proto << ", authenticated\n";
        auto st = b.pump().status();
        if (!st) return failed("pump link: expected a STATUS answer: " + st.error().describe());
        std::string alarms;
        for (const auto& a : st->alarms) alarms += (alarms.empty() ? "" : "+") + a;
        std::snprintf(line, sizeof line,
                      "pump    state %s, clock %.3f, reservoir %.3f mL, %u ug/mL, rate %.3f mL/day, delivered %.3f mL, battery %u %%, alarms %s\n",
                      pump::to_string(st->state), st->pump_t, st->res_ml, st->conc_ug_ml, st->rate_ml_day, st->deliv_ml, st->batt_pct,
                      alarms.empty() ? "NONE" : printable(alarms).c_str());
        p.out << line;
        // A pump not STOPPED before any run (one killed, or stopped by nothing): said plainly;
        // pumprig run and eol stop it before anything else, a probe only looks.
        const bool stopped = st->state == pump::PumpState::Stopped;
        if (!stopped)
            p.out << "pump    NOT STOPPED: state " << pump::to_string(st->state)
                  << " (left so by an earlier run?); pumprig run and eol send STOP first, and confirm it\n";
        p.out << "meter   link " << b.meter().describe() << "\n";
        auto mid = b.meter().identify();
        if (!mid) return failed("meter link " + b.meter().describe() + ": expected the identification (function 17): " + mid.error().describe());
        p.out << "meter   " << printable(*mid) << "\n";
        for (int k = 0; k < readings; ++k) {
            if (k > 0) {
                if (auto w = b.wait_until(b.clock().now() + Millis{1000}); !w) return failed("bench clock: " + w.error().describe());
            }
            auto r = b.meter().read();
            if (!r) return failed("meter link " + b.meter().describe() + ": expected a reading: " + r.error().describe());
            std::snprintf(line, sizeof line, "meter   flow %.2f uL/h, total %.3f uL, status 0x%04x%s, %.2f degC, sample %u\n", r->flow.ul_per_h,
                          r->total.ul, r->status, r->valid ? " (VALID)" : "", r->temperature_c, r->sample);
            p.out << line;
        }
        if (auto e = b.pump().poll_events(Millis{0}); !e) return failed("pump link: " + e.error().describe());
        p.out << (stopped ? "probe   OK\n" : "probe   OK, but the pump is not stopped\n");
        cb.bench->reset();
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < probes.size(); ++i) threads.emplace_back(probe_one, i);
    for (auto& t : threads) t.join();
    int code = kExitPass;
    for (auto& p : probes) {
        std::cout << p.out.str();
        std::cerr << p.err.str();
        if (p.code != kExitPass) code = p.code;
    }
    return code;
}

}  // namespace pumprig::cli
